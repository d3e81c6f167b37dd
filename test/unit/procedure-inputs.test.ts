/**
 * The procedure input schemas (domain/procedure-inputs.ts) on their own: what the workflows and the CLI
 * both refuse. A value is taken as written: a name with a blank around it is refused, never trimmed.
 * test/workflow/bad-input.test.ts sends such inputs through the real server.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, procedureInputSchemas, validateInput, type ProcedureName } from '../../domain/procedure-inputs';

const refusal = (name: ProcedureName, input: unknown): string => {
  try {
    validateInput(procedureInputSchemas[name], input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
};
const ok = { cluster: 'ocean', requestedBy: 'alice' };

/** A valid input of each procedure (the README's table). */
const VALID: Record<ProcedureName, Record<string, unknown>> = {
  clusterStatus: { cluster: 'ocean' },
  evacuateHost: { ...ok, host: 'xs1', reason: 'patching', threads: 5 },
  reintegrateHost: { ...ok, host: 'xs1' },
  evacuateHypervisor: { ...ok, host: 'worker1', reason: 'disk swap' },
  reintegrateHypervisor: { ...ok, host: 'worker1' },
  failback: { ...ok, maxMoves: 4 },
  clusterShutdown: { ...ok, reason: 'power maintenance' },
  clusterStartup: { ...ok, shutdownWorkflowId: 'hvflow-ocean-shutdown-ocean-20250705T020000000Z' },
  rollingReboot: { ...ok, hosts: 'xs[1-6]', threads: 5, approval: 'each-host', windows: [{ at: 'sat 02:00', for: '4h', tz: 'Europe/Paris' }] },
  rebootHost: {
    ...ok,
    host: 'xs2',
    step: { host: 'xs2', migrations: [{ vm: 'vm1', from: 'xs2', to: 'xs1', weight: 2048, final: true }], stranded: [], untouchable: [] },
    rest: ['xs3'],
    approvedRestMigrations: 4,
  },
};

describe('procedure inputs', () => {
  it('rollingReboot: hosts or order, not both; an order names each host once; approval and windows are checked', () => {
    expect(refusal('rollingReboot', { ...ok, hosts: 'xs1', order: ['xs1'] })).toBe('invalid input: order: give hosts (a nodeset) or order (a list), not both');
    expect(refusal('rollingReboot', { ...ok, order: ['xs1', 'xs2', 'xs1'] })).toMatch(/^invalid input: order: .* names a host twice$/);
    expect(refusal('rollingReboot', { ...ok, approval: 'each' })).toMatch(/^invalid input: approval: "each" must be 'plan'/);
    expect(refusal('rollingReboot', { ...ok, threads: 0 })).toBe('invalid input: threads: 0 must be a whole number from 1 to 64');
    expect(refusal('rollingReboot', { ...ok, windows: [{ at: 'sat 25:00', for: '4h' }] })).toMatch(/^invalid input: windows\[0\]\.at: /);
    expect(refusal('rollingReboot', { ...ok, hosts: 'xs1 ' })).toMatch(/hosts: "xs1 " must not contain blanks/);
  });

  it('every procedure takes "dryRun": true (the README: add it to any of them); clusterStatus is read-only, a dry run is the same read', () => {
    for (const [name, input] of Object.entries(VALID) as [ProcedureName, Record<string, unknown>][]) {
      expect(validateInput(procedureInputSchemas[name], input), name).toEqual(input);
      expect(validateInput(procedureInputSchemas[name], { ...input, dryRun: true }), name).toEqual({ ...input, dryRun: true });
    }
  });

  it('who fields are kept as written: a blank or a newline around a name is refused, not trimmed', () => {
    const cases: [string, string][] = [
      [' alice', 'must not start or end with a blank (it is kept as written)'],
      ['alice ', 'must not start or end with a blank (it is kept as written)'],
      ['alice\n', 'must not contain control characters'],
      ['\talice', 'must not contain control characters'],
    ];
    for (const [by, message] of cases) {
      expect(refusal('evacuateHypervisor', { ...ok, host: 'worker1', requestedBy: by })).toBe(`invalid input: requestedBy: ${JSON.stringify(by)} ${message}`);
      expect(refusal('failback', { ...ok, gatePolicy: { approvers: ['bob', by] } })).toBe(
        `invalid input: gatePolicy.approvers[1]: ${JSON.stringify(by)} ${message}`,
      );
    }
    expect(refusal('evacuateHypervisor', { ...ok, host: 'worker1', requestedBy: '   ' })).toMatch(/requestedBy: " {3}" must not be empty/);
    expect(refusal('evacuateHypervisor', { ...ok, host: 'worker1', requestedBy: 'al\u0007ice' })).toMatch(
      /requestedBy: "al\\u0007ice" must not contain control characters/,
    );
    expect(validateInput(procedureInputSchemas.evacuateHypervisor, { ...ok, host: 'worker1', requestedBy: 'Alice Martin' }).requestedBy).toBe('Alice Martin');
  });

  it('exclude is a nodeset of VM names, checked as written: no blank, no path, no group, every name a VM name', () => {
    const startup = (exclude: string) => ({ ...ok, vms: ['admin1'], exclude });
    for (const exclude of ['ns1 ', ' ns1', 'ns1\n', 'ns1, ns2']) {
      expect(refusal('clusterStartup', startup(exclude))).toContain(`exclude: ${JSON.stringify(exclude)} must not contain blanks`);
    }
    expect(refusal('clusterStartup', startup('../x'))).toMatch(/exclude: "\.\.\/x" names "\.\.\/x", which must be a lowercase letter, then/);
    expect(refusal('clusterStartup', startup('lnet[1-2],Ns1'))).toMatch(/exclude: "lnet\[1-2\],Ns1" names "Ns1", which must be a lowercase letter/);
    expect(refusal('clusterStartup', startup('ns1;reboot'))).toMatch(/exclude: "ns1;reboot" must be a nodeset expression/);
    expect(refusal('clusterStartup', startup('lnet[1-'))).toMatch(/exclude: invalid nodeset "lnet\[1-": missing bracket/);
    expect(refusal('clusterStartup', startup('@dns'))).toMatch(/exclude: "@dns" must list VM names, not @groups/);
    expect(validateInput(procedureInputSchemas.clusterStartup, startup('lnet[1-4],ns1')).exclude).toBe('lnet[1-4],ns1');
  });

  it("hosts is a nodeset of host names and @groups, checked as written (the groups are the inventory's: the workflow resolves them)", () => {
    expect(refusal('failback', { ...ok, hosts: 'top1 ' })).toContain('hosts: "top1 " must not contain blanks');
    expect(refusal('failback', { ...ok, hosts: '../x' })).toMatch(/hosts: "\.\.\/x" names "\.\.\/x", which must be a lowercase DNS label/);
    expect(refusal('reintegrateHypervisor', { ...ok, host: 'worker1', hosts: '@top,-x' })).toMatch(
      /hosts: "@top,-x" names "-x", which must be a lowercase DNS label/,
    );
    for (const hosts of ['@top,@worker', 'top[1-3],worker1', '@top!top2', '@top&@worker']) {
      expect(validateInput(procedureInputSchemas.failback, { ...ok, hosts }).hosts).toBe(hosts);
    }
  });

  it('VM names in vms are taken as written', () => {
    expect(refusal('clusterStartup', { ...ok, vms: ['ns1', 'worker1 '] })).toMatch(/vms\[1\]: "worker1 " must be a lowercase letter/);
    expect(refusal('clusterStartup', { ...ok, vms: ['ns1\n'] })).toMatch(/vms\[0\]: "ns1\\n" must be a lowercase letter/);
    expect(refusal('clusterStartup', { ...ok, vms: [''] })).toMatch(/vms\[0\]: "" must be a lowercase letter/);
  });

  it('numbers say what they must be', () => {
    expect(refusal('failback', { ...ok, maxMoves: 'lots' })).toMatch(/maxMoves: "lots" must be a whole number from 1 to 10000/);
    expect(refusal('failback', { ...ok, maxMoves: ' 2' })).toMatch(/maxMoves: " 2" must be a whole number from 1 to 10000/);
    expect(refusal('failback', { ...ok, parallelism: 9 })).toMatch(/parallelism: 9 must be a whole number from 1 to 8/);
    expect(refusal('failback', { ...ok, maxMoves: 1.5 })).toMatch(/maxMoves: 1\.5 must be a whole number from 1 to 10000/);
    expect(refusal('clusterStartup', { ...ok, vms: ['a'], maxRttMs: -1 })).toMatch(/maxRttMs: -1 must be a number from 0 to 60000/);
    expect(refusal('clusterStartup', { ...ok, vms: ['a'], maxRttMs: '5' })).toMatch(/maxRttMs: "5" must be a number from 0 to 60000/);
  });
});
