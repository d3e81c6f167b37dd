/**
 * What the CLI makes of its arguments and options (client/procedures.ts `buildInput`): each option
 * becomes its input field as written, and only the procedure's schema (the one the workflow applies)
 * decides whether it is valid; a refusal names the field and the flag. test/e2e/cli.test.ts runs the
 * same refusals through the real CLI process.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../domain/procedure-inputs';
import { buildInput, procedureByName, type StartArgs } from '../../client/procedures';

const spec = (name: string) => procedureByName(name)!;
const build = (name: string, a: Partial<StartArgs>) => buildInput(spec(name), { cluster: 'ocean', values: {}, requestedBy: 'alice', ...a });
const refusal = (name: string, a: Partial<StartArgs>): string => {
  try {
    build(name, a);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(a)}`);
};

describe('CLI options become input fields as written', () => {
  it('--vms is split at commas only: a blank, a newline or an empty name is refused, naming vms[i] and the flag', () => {
    expect(build('startup', { values: { vms: 'ns1,ns2' } }).vms).toEqual(['ns1', 'ns2']);
    expect(refusal('startup', { values: { vms: 'worker1 ' } })).toMatch(/^invalid input: vms\[0\] \(--vms\): "worker1 " must be a lowercase letter/);
    expect(refusal('startup', { values: { vms: 'ns1,ns2\n' } })).toMatch(/vms\[1\] \(--vms\): "ns2\\n" must be a lowercase letter/);
    expect(refusal('startup', { values: { vms: 'ns1, ns2' } })).toMatch(/vms\[1\] \(--vms\): " ns2"/);
    expect(refusal('startup', { values: { vms: 'ns1,,ns2' } })).toMatch(/vms\[1\] \(--vms\): ""/);
  });

  it('--exclude is checked by the schema the workflow applies: a path, a blank, a group are refused', () => {
    expect(refusal('startup', { values: { vms: 'ns1', exclude: '../x' } })).toMatch(
      /exclude \(--exclude\): "\.\.\/x" names "\.\.\/x", which must be a lowercase letter/,
    );
    expect(refusal('startup', { values: { vms: 'ns1', exclude: 'ns1 ' } })).toMatch(/exclude \(--exclude\): "ns1 " must not contain blanks/);
    expect(build('startup', { values: { vms: 'ns1', exclude: 'lnet[1-4]' } }).exclude).toBe('lnet[1-4]');
  });

  it('numbers are read as written: " 2" is not 2', () => {
    expect(build('failback', { values: { maxMoves: '2' } }).maxMoves).toBe(2);
    expect(build('startup', { values: { vms: 'ns1', maxRttMs: '2.5' } }).maxRttMs).toBe(2.5);
    expect(refusal('failback', { values: { maxMoves: ' 2' } })).toMatch(/maxMoves \(--max-moves\): " 2" must be a whole number from 1 to 10000/);
    expect(refusal('failback', { values: { maxMoves: 'lots' } })).toMatch(/maxMoves \(--max-moves\): "lots" must be a whole number/);
    expect(refusal('startup', { values: { vms: 'ns1', maxRttMs: '5ms' } })).toMatch(/maxRttMs \(--max-rtt-ms\): "5ms" must be a number from 0 to 60000/);
  });

  it('the target and host options are checked by the schema; who fields are never trimmed', () => {
    expect(refusal('evacuate', { target: '-oFoo=bar' })).toMatch(/^invalid input: host: "-oFoo=bar" must be a lowercase DNS label/);
    expect(refusal('evacuate', { target: 'worker1 ' })).toMatch(/host: "worker1 " must be a lowercase DNS label/);
    expect(refusal('failback', { values: { prefer: 'worker1 ' } })).toMatch(/prefer \(--prefer\): "worker1 " must be a lowercase DNS label/);
    expect(refusal('evacuate', { target: 'worker1', requestedBy: 'alice ' })).toMatch(/requestedBy \(--by\): "alice " must not start or end with a blank/);
    expect(refusal('evacuate', { target: 'worker1', gatePolicy: { approvers: ['bob', ' carol'] } })).toMatch(
      /gatePolicy\.approvers\[1\] \(--approvers\): " carol" must not start/,
    );
    expect(build('evacuate', { target: 'worker1', reason: ' disk swap ' }).reason).toBe(' disk swap ');
  });
});
