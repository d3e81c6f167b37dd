/**
 * The lab's Xen pool (lab/xen.ts) and its xe (lab/tools/xe.ts), on the manual clock:
 *
 * 1. xe prints test/fixtures/xe byte for byte (stdout, stderr, exit status), the pool put in the
 *    fixture's state (test/fixtures/xe/pool.json; SOURCES.md "xe/" says each command and state);
 * 2. the parsers of activities/xe-parse.ts read what xe prints back into the pool's state, in
 *    several states;
 * 3. the pool behaves as xapi: migration timing (1, 5, 8 at once), host-reboot, members while the
 *    master reboots, faults, the migration record, and memory never exceeded (a property).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SshPool, type SshTarget } from '../../activities/ssh';
import {
  parseXeBootTime,
  parseXeComputeFreeMemory,
  parseXeError,
  parseXeHosts,
  parseXeMinimal,
  parseXePools,
  parseXeRecords,
  parseXeVms,
  XeError,
} from '../../activities/xe-parse';
import { type Lab as RunningLab, startLab } from '../../lab';
import { ManualClock } from '../../lab/clock';
import { LabModel } from '../../lab/model';
import { XEN_HOST_TOOLS } from '../../lab/tools';
import { runTool } from '../../lab/tools/run';
import type { Topology, TopoXenPool } from '../../lab/topology';
import { attachXenPool, evacuationBoundMs, GiB, type MigrationRecord, XEN_DEFAULTS, type XenParams, type XenPool, XapiError } from '../../lab/xen';
import { xenPoolTopology } from '../../lab/xen-topology';

// ---- fixtures and pools ----------------------------------------------------------------------

const FIXTURES = join(__dirname, '..', 'fixtures', 'xe');
const text = (file: string) => readFileSync(join(FIXTURES, file), 'utf8');
const fixture = (base: string, code: number) => ({ stdout: text(`${base}.stdout.txt`), stderr: text(`${base}.stderr.txt`), code });
const POOL = JSON.parse(text('pool.json')) as TopoXenPool;

/** The fixtures' pool as a lab topology: its hosts as the model's machines. */
function fixtureTopology(): Topology {
  return {
    cluster: POOL.name,
    controlHost: POOL.master,
    hosts: POOL.hosts.map((h, i) => ({
      name: h.name,
      role: 'worker',
      machineId: `${i}`.padStart(32, '0'),
      ip: h.address,
      metadata: { hostname: h.name },
      bmc: h.address.replace(/^10\.1\./, '10.2.'),
      capacity: 0,
    })),
    units: [],
    etcdMembers: [],
    volumes: [],
    glusterClients: [],
    groups: {},
    xen: structuredClone(POOL),
  };
}

function lab(topology: Topology = fixtureTopology(), params: Partial<XenParams> = {}) {
  const clock = new ManualClock();
  const model = new LabModel(topology, { clock });
  const xen = attachXenPool(model, params);
  return { clock, model, xen };
}

type Lab = ReturnType<typeof lab>;
type Run = { stdout: string; stderr: string; code: number };
const xe = (l: Lab, host: string, ...args: string[]): Promise<Run> => runTool(l.model, host, ['xe', ...args]);
const uuid = (x: XenPool, name: string) => (x.findHost(name) ?? x.vm(name)).uuid;

/** Runs the clock (in steps, letting promises settle between them) until `p` settles or `maxMs` passed. */
async function drive<T>(l: Lab, p: Promise<T>, maxMs = 3_600_000, step = 500): Promise<T> {
  let done = false;
  const q = p.finally(() => void (done = true));
  q.catch(() => undefined); // the caller awaits q: its rejection is handled there
  for (let t = 0; t < maxMs && !done; t += step) {
    await new Promise((r) => setImmediate(r));
    if (!done) l.clock.advance(step);
  }
  return q;
}

// ---- 1. byte for byte ------------------------------------------------------------------------

describe('xe prints the fixtures byte for byte', () => {
  const haOff = (l: Lab) => l.xen.haDisable();
  const disable = (h: string) => (l: Lab) => l.xen.disable(l.xen.host(h));
  const cases: [base: string, code: number, host: string, args: (x: XenPool) => string[], setUp?: (l: Lab) => void][] = [
    ['pool-list', 0, 'xs1', () => ['pool-list']],
    ['pool-list-ha', 0, 'xs1', () => ['pool-list', 'params=uuid,master,ha-enabled,ha-host-failures-to-tolerate,ha-plan-exists-for,ha-statefiles']],
    [
      'pool-list-ha-disabled',
      0,
      'xs1',
      () => ['pool-list', 'params=uuid,master,ha-enabled,ha-host-failures-to-tolerate,ha-plan-exists-for,ha-statefiles'],
      haOff,
    ],
    // on a member: forwarded to the master, the same answer
    [
      'host-list-snapshot',
      0,
      'xs2',
      () => ['host-list', 'params=uuid,name-label,address,enabled,host-metrics-live,memory-total,memory-overhead,memory-free,memory-free-computed'],
    ],
    ['host-list-minimal', 0, 'xs1', () => ['host-list', 'params=name-label,enabled,address', '--minimal']],
    ['host-list-disabled-minimal', 0, 'xs1', () => ['host-list', 'enabled=false', 'params=uuid', '--minimal'], disable('xs3')],
    ['vm-list', 0, 'xs1', () => ['vm-list']],
    [
      'vm-list-snapshot',
      0,
      'xs3',
      () => [
        'vm-list',
        'is-control-domain=false',
        'params=uuid,name-label,power-state,resident-on,memory-overhead,memory-static-max,memory-dynamic-min,current-operations',
      ],
    ],
    ['vm-list-resident-on-xs2-minimal', 0, 'xs1', (x) => ['vm-list', `resident-on=${uuid(x, 'xs2')}`, 'is-control-domain=false', 'params=uuid', '--minimal']],
    ['vm-list-no-match-minimal', 0, 'xs1', () => ['vm-list', 'name-label=nosuchvm', '--minimal']],
    ['vm-param-get-resident-on', 0, 'xs1', (x) => ['vm-param-get', `uuid=${uuid(x, 'web1')}`, 'param-name=resident-on']],
    ['host-param-get-memory-free-computed', 0, 'xs1', (x) => ['host-param-get', `uuid=${uuid(x, 'xs1')}`, 'param-name=memory-free-computed']],
    ['host-param-get-other-config-boot-time', 0, 'xs1', (x) => ['host-param-get', `uuid=${uuid(x, 'xs2')}`, 'param-name=other-config', 'param-key=boot_time']],
    ['host-param-get-other-config-no-such-key', 1, 'xs1', (x) => ['host-param-get', `uuid=${uuid(x, 'xs2')}`, 'param-name=other-config', 'param-key=nosuch']],
    ['host-list-boot', 0, 'xs2', () => ['host-list', 'name-label=xs2', 'params=uuid,enabled,host-metrics-live,current-operations,other-config']],
    ['host-compute-free-memory-xs1', 0, 'xs1', () => ['host-compute-free-memory', 'host=xs1']],
    ['host-disable-xs3', 0, 'xs1', () => ['host-disable', 'host=xs3']],
    ['host-reboot-not-disabled', 1, 'xs1', () => ['host-reboot', 'host=xs3']],
    ['vm-migrate-not-enough-memory', 1, 'xs1', () => ['vm-migrate', 'vm=batch1', 'host=xs1', 'live=true']],
    ['vm-migrate-local-storage', 1, 'xs1', () => ['vm-migrate', 'vm=db1', 'host=xs2', 'live=true']],
    ['vm-migrate-halted', 1, 'xs1', () => ['vm-migrate', 'vm=old1', 'host=xs2', 'live=true']],
    ['vm-migrate-host-disabled', 1, 'xs1', () => ['vm-migrate', 'vm=web1', 'host=xs3', 'live=true'], disable('xs3')],
    ['vm-migrate-no-such-vm', 1, 'xs1', () => ['vm-migrate', 'vm=nosuchvm', 'host=xs2', 'live=true']],
    ['vm-migrate-no-such-host', 1, 'xs1', () => ['vm-migrate', 'vm=web1', 'host=xs9', 'live=true']],
    ['host-evacuate-ha-not-protected', 1, 'xs1', () => ['host-evacuate', 'host=xs2']],
    ['host-evacuate-local-storage', 1, 'xs1', () => ['host-evacuate', 'host=xs1'], haOff],
    [
      'host-evacuate-not-enough-memory',
      1,
      'xs1',
      () => ['host-evacuate', 'host=xs2'],
      (l) => {
        haOff(l);
        disable('xs3')(l);
      },
    ],
    ['host-get-vms-which-prevent-evacuation-xs1', 0, 'xs1', (x) => ['host-get-vms-which-prevent-evacuation', `uuid=${uuid(x, 'xs1')}`], haOff],
    ['pool-ha-disable-not-enabled', 1, 'xs1', () => ['pool-ha-disable'], haOff],
    ['pool-ha-enable-already-enabled', 1, 'xs1', () => ['pool-ha-enable', `heartbeat-sr-uuids=${POOL.sharedSr.uuid}`]],
    ['host-list-tcp-member', 1, 'xs1', () => ['-s', '10.1.0.2', '-u', 'root', '-pw', 'secret', 'host-list']],
    ['unknown-command', 1, 'xs1', () => ['host-frobnicate']],
    ['vm-param-get-no-param-name', 1, 'xs1', (x) => ['vm-param-get', `uuid=${uuid(x, 'web1')}`]],
    ['vm-param-get-unknown-field', 1, 'xs1', (x) => ['vm-param-get', `uuid=${uuid(x, 'web1')}`, 'param-name=frobs']],
    ['vm-param-get-uuid-invalid', 1, 'xs1', () => ['vm-param-get', 'uuid=00000000-0000-0000-0000-000000000000', 'param-name=power-state']],
    ['sr-list', 0, 'xs1', () => ['sr-list', 'params=uuid,name-label,host,shared']],
    ['vbd-list-disks', 0, 'xs1', () => ['vbd-list', 'params=vm-uuid,vdi-uuid']],
    ['vdi-list-srs', 0, 'xs1', () => ['vdi-list', 'params=uuid,sr-uuid']],
  ];
  for (const [base, code, host, args, setUp] of cases) {
    it(`${base}: xe ${base.startsWith('host-list-tcp') ? '-s ...' : ''}on ${host}, exit ${code}`, async () => {
      const l = lab();
      setUp?.(l);
      expect(await xe(l, host, ...args(l.xen))).toEqual(fixture(base, code));
    });
  }

  it('vm-migrate: nothing printed once the VM landed (exit 0); the faults fail it with the real errors', async () => {
    const l = lab();
    l.xen.haDisable();
    expect(await drive(l, xe(l, 'xs1', 'vm-migrate', 'vm=web1', 'host=xs3', 'live=true'))).toEqual(fixture('vm-migrate-web1-xs3', 0));
    expect(l.xen.vm('web1').residentOn).toBe(uuid(l.xen, 'xs3'));
    l.xen.failNextMigration(l.xen.vm('web1'));
    expect(await drive(l, xe(l, 'xs1', 'vm-migrate', 'vm=web1', 'host=xs1', 'live=true'))).toEqual(fixture('vm-migrate-remote-failed', 1));
    l.xen.failNextMigration(l.xen.vm('web1'), 'contact-remote-service');
    expect(await drive(l, xe(l, 'xs1', 'vm-migrate', 'vm=web1', 'host=xs1', 'live=true'))).toEqual(fixture('vm-migrate-contact-remote-service-failed', 1));
    expect(l.xen.vm('web1').residentOn).toBe(uuid(l.xen, 'xs3'));
  });

  it('host-enable while the host shuts down after host-reboot: HOST_DISABLED_UNTIL_REBOOT', async () => {
    const l = lab();
    l.xen.haDisable();
    l.xen.disable(l.xen.host('xs3'));
    expect(await xe(l, 'xs1', 'host-reboot', 'host=xs3')).toEqual({ stdout: '', stderr: '', code: 0 });
    l.clock.advance(XEN_DEFAULTS.rebootDelayMs + 1000); // evacuating cache1 (4 GiB) before going down
    expect(l.xen.host('xs3').agent).toBe(true);
    expect(await xe(l, 'xs1', 'host-enable', 'host=xs3')).toEqual(fixture('host-enable-disabled-until-reboot', 1));
  });
});

// ---- 2. the parsers read the pool back ---------------------------------------------------------

const HOST_PARAMS = 'params=uuid,name-label,address,enabled,host-metrics-live,memory-total,memory-overhead,memory-free,current-operations,resident-vms';
const VM_PARAMS = 'params=uuid,name-label,power-state,resident-on,is-control-domain,memory-static-max,memory-dynamic-min,memory-overhead,current-operations';

/** The pool as hvflow reads it in three xe calls, compared with the model. */
async function expectSnapshotMatches(l: Lab, on = 'xs1'): Promise<void> {
  const { xen } = l;
  const pools = parseXePools((await xe(l, on, 'pool-list', 'params=uuid,master,ha-enabled,ha-host-failures-to-tolerate,ha-statefiles')).stdout);
  expect(pools).toEqual([
    expect.objectContaining({
      uuid: xen.pool.uuid,
      master: xen.pool.master,
      haEnabled: xen.pool.haEnabled,
      haHostFailuresToTolerate: xen.pool.haHostFailuresToTolerate,
      haStatefiles: xen.pool.haStatefiles,
    }),
  ]);
  const hosts = parseXeHosts((await xe(l, on, 'host-list', HOST_PARAMS)).stdout);
  expect(hosts.map((h) => [h.nameLabel, h.enabled, h.live, h.memoryTotal, h.memoryOverhead, h.memoryFree, h.residentVms])).toEqual(
    [...xen.hosts.values()].map((h) => [
      h.name,
      h.enabled,
      h.live,
      h.memoryTotal,
      h.memoryOverhead,
      xen.reportedFreeMemory(h),
      xen.residentOn(h).map((v) => v.uuid),
    ]),
  );
  const vms = parseXeVms((await xe(l, on, 'vm-list', VM_PARAMS)).stdout);
  expect(vms.map((v) => [v.nameLabel, v.powerState, v.residentOn, v.isControlDomain, v.memoryStaticMax, v.currentOperations])).toEqual(
    [...xen.vms.values()].map((v) => [v.name, v.powerState, v.residentOn ?? null, v.isControlDomain, v.memoryStaticMax, v.operation ? ['pool_migrate'] : []]),
  );
  // free memory as xapi computes it, from the lists alone (each VM at dynamic-min + overhead), but for VMs in flight
  for (const h of hosts) {
    const used = vms.filter((v) => v.residentOn === h.uuid).reduce((s, v) => s + v.memoryDynamicMin! + v.memoryOverhead!, 0);
    const incoming = [...xen.vms.values()].filter((v) => v.scheduledOn === h.uuid).reduce((s, v) => s + xen.usedMemory(v), 0);
    const computed = parseXeComputeFreeMemory((await xe(l, on, 'host-compute-free-memory', `host=${h.uuid}`)).stdout);
    expect(computed).toBe(Math.max(0, h.memoryTotal! - h.memoryOverhead! - used - incoming));
  }
  expect(parseXeMinimal((await xe(l, on, 'host-list', 'enabled=true', 'params=name-label', '--minimal')).stdout)).toEqual(
    [...xen.hosts.values()].filter((h) => h.enabled).map((h) => h.name),
  );
}

describe('the parsers read back what xe prints', () => {
  it('the initial pool, from the master and from a member', async () => {
    const l = lab();
    await expectSnapshotMatches(l, 'xs1');
    await expectSnapshotMatches(l, 'xs3');
  });

  it('HA off, a host disabled, a VM in flight (its current operation, the reservation on the destination), then landed', async () => {
    const l = lab();
    l.xen.haDisable();
    l.xen.disable(l.xen.host('xs2'));
    const moving = xe(l, 'xs1', 'vm-migrate', 'vm=web1', 'host=xs3', 'live=true');
    l.clock.advance(10_000);
    expect(l.xen.vm('web1').operation?.op).toBe('pool_migrate');
    await expectSnapshotMatches(l);
    const xs3 = parseXeHosts((await xe(l, 'xs1', 'host-list', 'name-label=xs3', 'params=current-operations')).stdout)[0]!;
    expect(xs3.currentOperations).toEqual(['VM.migrate']);
    expect((await drive(l, moving)).code).toBe(0);
    await expectSnapshotMatches(l);
    expect(parseXeVms((await xe(l, 'xs1', 'vm-list', 'name-label=web1', 'params=resident-on')).stdout)[0]!.residentOn).toBe(uuid(l.xen, 'xs3'));
  });

  it('errors: each fixture-state failure parses to its xapi code and parameters', async () => {
    const l = lab();
    const err = async (...args: string[]) => {
      const r = await xe(l, 'xs1', ...args);
      expect(r.code).toBe(1);
      const e = parseXeError(r.stderr, r.stdout);
      expect(e).toBeInstanceOf(XeError);
      return e!;
    };
    const batch1 = l.xen.vm('batch1');
    expect((await err('vm-migrate', 'vm=batch1', 'host=xs1', 'live=true')).named).toEqual({
      needed: String(l.xen.startMemory(batch1)),
      available: String(l.xen.freeMemory(l.xen.host('xs1'))),
    });
    const local = await err('vm-migrate', 'vm=db1', 'host=xs2', 'live=true');
    expect([local.code, local.named.vm, local.named.sr]).toEqual([
      'VM_REQUIRES_SR',
      `${uuid(l.xen, 'db1')} (db1)`,
      `${l.xen.host('xs1').localSr.uuid} (Local storage)`,
    ]);
    expect((await err('host-reboot', 'host=xs2')).code).toBe('HOST_NOT_DISABLED');
    expect((await err('-s', 'xs3', '-pw', 'x', 'pool-list')).named).toEqual({ 'Master IP address': '10.1.0.1' });
    expect((await err('vm-migrate', 'vm=nosuchvm', 'host=xs2')).params).toEqual(['Failure: No matching VMs found']);
    expect((await err('host-frobnicate')).code).toBe('UNKNOWN_COMMAND');
    // the parsers throw it too
    const r = await xe(l, 'xs1', 'pool-ha-enable');
    expect(() => parseXeRecords(r.stdout, r.stderr)).toThrow(XeError);
  });
});

describe("a host's boot time (other-config boot_time)", () => {
  const bootTime = async (l: Lab, host: string) => {
    const r = await xe(l, 'xs1', 'host-param-get', `uuid=${uuid(l.xen, host)}`, 'param-name=other-config', 'param-key=boot_time');
    return parseXeBootTime(r.stdout, r.stderr);
  };

  it('the parser reads the fixtures: the value as printed, undefined for a missing key, a parse error for anything else', () => {
    const f = fixture('host-param-get-other-config-boot-time', 0);
    expect(parseXeBootTime(f.stdout, f.stderr)).toBe('1764892800.');
    const missing = fixture('host-param-get-other-config-no-such-key', 1);
    expect(parseXeBootTime(missing.stdout, missing.stderr)).toBeUndefined();
    expect(parseXeBootTime('1764892800.25\n')).toBe('1764892800.25');
    expect(() => parseXeBootTime('Tue Dec  5 00:00:00 2025\n')).toThrow(/boot_time is not a number/);
    expect(() => parseXeBootTime('', fixture('host-reboot-not-disabled', 1).stderr)).toThrow(XeError);
    const [h] = parseXeHosts(fixture('host-list-boot', 0).stdout);
    expect(h!.otherConfig).toEqual({ agent_start_time: '1764892842.', boot_time: '1764892800.' });
    expect([h!.live, h!.enabled, h!.currentOperations]).toEqual([true, true, []]);
  });

  it('changes exactly once per reboot, when the host powers on again (with its boot id)', async () => {
    const l = lab();
    l.xen.haDisable();
    const xs3 = l.xen.host('xs3');
    await drive(l, l.xen.evacuate(xs3));
    l.xen.disable(xs3);
    const before = await bootTime(l, 'xs3');
    const bootId = l.model.machine('xs3').bootId;
    expect(before).toBe('1764892800.');
    l.xen.reboot(xs3);
    l.clock.advance(XEN_DEFAULTS.rebootDelayMs + 1000);
    await new Promise((r) => setImmediate(r));
    expect(xs3.live).toBe(false);
    expect(await bootTime(l, 'xs3')).toBe(before); // the master's database keeps it while the host is down
    l.clock.advance(XEN_DEFAULTS.rebootMs);
    await new Promise((r) => setImmediate(r));
    expect(xs3.live).toBe(true);
    const after = await bootTime(l, 'xs3');
    const bootedAt = l.model.machine('xs3').bootedAt;
    expect(after).toBe(`${Math.floor(l.model.wallMs(bootedAt) / 1000)}.`);
    expect(Number(after) - Number(before)).toBeGreaterThanOrEqual((XEN_DEFAULTS.rebootDelayMs + XEN_DEFAULTS.rebootMs) / 1000);
    expect(l.model.machine('xs3').bootId).not.toBe(bootId);
    expect(l.model.machine('xs3').boots).toBe(2);
    // nothing else changes it: time passing, other hosts' reboots
    l.clock.advance(3_600_000);
    expect(await bootTime(l, 'xs3')).toBe(after);
    expect(await bootTime(l, 'xs2')).toBe(before);
  });
});

// ---- 3. the pool behaves as xapi ---------------------------------------------------------------

/** A pool of 7 hosts, xs1 holding 30 VMs (vm1..vm30) of 1-16 GiB, HA off. */
function thirtyVmPool(params: Partial<XenParams> = {}) {
  // vm1..vm30 on xs1, the others spread over xs2..xs7
  const on = Object.fromEntries(Array.from({ length: 180 }, (_, i) => [`vm${i + 1}`, i < 30 ? 'xs1' : `xs${2 + (i % 6)}`]));
  const l = lab(xenPoolTopology({ hosts: 7, vms: 180, seed: 7, on, ha: { enabled: false, hostFailuresToTolerate: 1 } }), params);
  expect(l.xen.residentOn(l.xen.host('xs1')).filter((v) => !v.isControlDomain)).toHaveLength(30);
  return l;
}

async function evacuationMs(threads: number, params: Partial<XenParams> = {}): Promise<{ ms: number; l: Lab }> {
  const l = thirtyVmPool(params);
  const t0 = l.clock.now();
  await drive(
    l,
    l.xen.evacuate(l.xen.host('xs1'), threads),
    86_400_000,
    60_000, // the next migration starts in the instant one ends (onEnd), not at a step
  );
  return { ms: l.clock.now() - t0, l };
}

describe('migration timing (seed 003)', () => {
  it('5 at once empty a 30-VM host about twice as fast as one at a time; 8 are no faster than 5; none beats the physical bound', async () => {
    const times: Record<number, number> = {};
    for (const n of [1, 3, 5, 8]) {
      const { ms, l } = await evacuationMs(n);
      const ended = Math.max(...l.xen.migrations.map((m) => m.end!));
      times[n] = ended - Math.min(...l.xen.migrations.map((m) => m.requestedAt));
      expect(ms).toBeGreaterThanOrEqual(times[n]!);
      const moved = l.xen.migrations.map((m) => ({ memory: l.xen.vm(m.vm).memoryStaticMax }));
      expect(times[n]).toBeGreaterThanOrEqual(evacuationBoundMs(moved, XEN_DEFAULTS) - 1e-6);
      // each VM moved once, to a host that had room, never more than 5 at a time from xs1
      expect(l.xen.migrations).toHaveLength(30);
      expect(new Set(l.xen.migrations.map((m) => m.vm)).size).toBe(30);
      expect(l.xen.migrations.every((m) => m.ok && m.from === 'xs1' && m.to !== 'xs1' && m.via === 'host-evacuate')).toBe(true);
      expect(maxOverlap(l.xen.migrations)).toBeLessThanOrEqual(Math.min(n, XEN_DEFAULTS.maxConcurrentMigrations));
    }
    console.log(
      `30-VM host evacuation, simulated s: ${Object.entries(times)
        .map(([n, ms]) => `${n} at a time ${(ms / 1000).toFixed(0)}`)
        .join(', ')}`,
    );
    expect(times[1]! / times[5]!).toBeGreaterThan(1.8);
    expect(times[1]! / times[5]!).toBeLessThan(2.4);
    expect(times[3]!).toBeLessThan(times[1]!);
    expect(times[5]!).toBeLessThan(times[3]!);
    expect(times[8]!).toBeGreaterThanOrEqual(times[5]! * 0.999);
  });

  it('xe host-evacuate (batch-size, or one at a time) blocks until the host is empty and prints nothing', async () => {
    const l = thirtyVmPool();
    const r = await drive(l, xe(l, 'xs2', 'host-evacuate', 'host=xs1', 'batch-size=5'), 86_400_000, 1000);
    expect(r).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(l.xen.residentOn(l.xen.host('xs1')).map((v) => v.name)).toEqual(['Control domain on host: xs1']);
    expect(maxOverlap(l.xen.migrations)).toBe(5);
  });

  it('the bound: all memory through the source link after one setup, each at least setup + memory / stream, the slots', () => {
    const p = { migrationSetupMs: 1000, streamBytesPerMs: 100, linkBytesPerMs: 200, maxConcurrentMigrations: 2 };
    expect(evacuationBoundMs([], p)).toBe(0);
    expect(evacuationBoundMs([{ memory: 10_000 }], p)).toBe(1000 + 100);
    expect(
      evacuationBoundMs(
        Array.from({ length: 4 }, () => ({ memory: 100_000 })),
        p,
      ),
    ).toBe(Math.max(1000 + 2000, 1000 + 1000, (4 * 2000) / 2));
  });

  it('a slow migration takes its factor longer; link shares and slots are recomputed as others end', async () => {
    const l = lab();
    l.xen.haDisable();
    const alone = async (vm: string, to: string) => {
      const t0 = l.clock.now();
      await drive(l, l.xen.migrate(l.xen.vm(vm), l.xen.host(to)), 3_600_000, 100);
      return l.clock.now() - t0;
    };
    const normal = await alone('web2', 'xs3');
    l.xen.slowMigration(l.xen.vm('web2'), 3);
    const slow = await alone('web2', 'xs2');
    expect(slow / normal).toBeGreaterThan(2.9);
    expect(slow / normal).toBeLessThan(3.1);
  });
});

/** Most migrations in progress (started, not ended) at one time. */
function maxOverlap(ms: MigrationRecord[]): number {
  const events = ms.flatMap((m) => [
    [m.start!, 1],
    [m.end!, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let cur = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (cur += d!));
  return max;
}

describe('host-reboot, members while the master is down, faults', () => {
  it('refused on an enabled host, and twice; a disabled empty host goes down after 10 s, is back after rebootMs, enabled', async () => {
    const l = lab();
    l.xen.haDisable();
    const xs3 = l.xen.host('xs3');
    expect(() => l.xen.reboot(xs3)).toThrow(new XapiError('HOST_NOT_DISABLED'));
    await drive(l, l.xen.evacuate(xs3));
    l.xen.disable(xs3);
    l.xen.reboot(xs3);
    expect(() => l.xen.reboot(xs3)).toThrow(XapiError);
    expect((await xe(l, 'xs1', 'host-reboot', 'host=xs3')).stderr).toMatch(/^Another operation involving the object is currently in progress\nclass: host\n/);
    l.clock.advance(XEN_DEFAULTS.rebootDelayMs - 1);
    expect(l.model.machine('xs3').power).toBe(true);
    l.clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect([l.model.machine('xs3').power, xs3.live, xs3.agent]).toEqual([false, false, false]);
    expect(parseXeError((await xe(l, 'xs1', 'host-enable', 'host=xs3')).stderr)!.code).toBe('HOST_OFFLINE');
    l.clock.advance(XEN_DEFAULTS.rebootMs);
    await new Promise((r) => setImmediate(r));
    expect([l.model.machine('xs3').power, xs3.live, xs3.enabled]).toEqual([true, true, true]);
    // auto-enable=false: it stays disabled after the reboot
    expect((await xe(l, 'xs1', 'host-disable', 'host=xs3', 'auto-enable=false')).code).toBe(0);
    l.xen.reboot(xs3);
    l.clock.advance(XEN_DEFAULTS.rebootDelayMs + XEN_DEFAULTS.rebootMs);
    await new Promise((r) => setImmediate(r));
    expect([xs3.live, xs3.enabled]).toEqual([true, false]);
  });

  it('a disabled host rebooted with VMs still on it: xapi evacuates them, and shuts down the ones that cannot move', async () => {
    const l = lab();
    l.xen.haDisable();
    const xs1 = l.xen.host('xs1');
    l.xen.disable(xs1);
    l.xen.reboot(xs1); // web1 can move; db1 (local storage) cannot
    await drive(
      l,
      l.model.waitFor(() => !xs1.agent),
    );
    expect(l.xen.migrations.map((m) => [m.vm, m.via, m.ok])).toEqual([['web1', 'host-reboot', true]]);
    expect(l.xen.vm('db1').powerState).toBe('halted');
    expect(l.xen.vm('web1').powerState).toBe('running');
  });

  it('the master reboots: xe on a member waits (retries after 2, 4, 8 ... s) and answers once the master is back', async () => {
    const l = lab();
    l.xen.haDisable();
    const xs1 = l.xen.host('xs1');
    l.xen.haDisable.bind(l.xen);
    for (const vm of ['web1']) await drive(l, l.xen.migrate(l.xen.vm(vm), l.xen.host('xs3')));
    l.xen.vm('db1').powerState = 'halted'; // (its disk is local: it cannot leave xs1)
    l.xen.vm('db1').residentOn = undefined;
    l.xen.disable(xs1);
    l.xen.reboot(xs1);
    l.clock.advance(XEN_DEFAULTS.rebootDelayMs);
    await new Promise((r) => setImmediate(r));
    expect(xs1.agent).toBe(false);
    const down = l.clock.now();
    let answered: number | undefined;
    const waiting = xe(l, 'xs2', 'host-list', 'params=name-label,enabled', '--minimal').then((r) => {
      answered = l.clock.now();
      return r;
    });
    const r = await drive(l, waiting, 3_600_000, 1000);
    expect(r).toEqual({ stdout: 'xs1,xs2,xs3\n', stderr: '', code: 0 });
    // retries at 2, 6, 14, 30, 62, 126, 254 s after the first try: the master is back at 240 s
    expect(answered! - down).toBeGreaterThanOrEqual(XEN_DEFAULTS.rebootMs);
    expect(answered! - down).toBeLessThanOrEqual(254_000 + 1000);
    expect(xs1.enabled).toBe(true);
  });

  it('a host that does not come back after its reboot stays down: live false, host-enable HOST_OFFLINE', async () => {
    const l = lab();
    l.xen.haDisable();
    const xs3 = l.xen.host('xs3');
    await drive(l, l.xen.evacuate(xs3));
    l.xen.disable(xs3);
    l.xen.stayDownAfterReboot(xs3);
    l.xen.reboot(xs3);
    l.clock.advance(XEN_DEFAULTS.rebootDelayMs + 10 * XEN_DEFAULTS.rebootMs);
    await new Promise((r) => setImmediate(r));
    expect([l.model.machine('xs3').power, xs3.live]).toEqual([false, false]);
    expect(parseXeError((await xe(l, 'xs1', 'host-enable', 'host=xs3')).stderr)!.code).toBe('HOST_OFFLINE');
    l.xen.stayDownAfterReboot(xs3, false);
    await l.model.powerOn('xs3');
    expect([xs3.live, xs3.enabled]).toEqual([true, true]);
  });

  it('a crash (BMC power off): the master keeps the host live until its heartbeat is overdue; its VMs are halted when it boots', async () => {
    const l = lab();
    await l.model.crash('xs3');
    const xs3 = l.xen.host('xs3');
    expect([xs3.agent, xs3.live, l.xen.vm('cache1').powerState]).toEqual([false, true, 'running']);
    expect(parseXeError((await xe(l, 'xs1', 'host-disable', 'host=xs3')).stderr)!.code).toBe('CANNOT_CONTACT_HOST');
    l.clock.advance(XEN_DEFAULTS.hostAssumedDeadMs);
    expect(xs3.live).toBe(false);
    await l.model.powerOn('xs3');
    expect([xs3.live, l.xen.vm('cache1').powerState, l.xen.vm('cache1').residentOn]).toEqual([true, 'halted', undefined]);
  });

  it('a failed migration leaves the VM where it was and releases the reservation; the record says so', async () => {
    const l = lab();
    const web1 = l.xen.vm('web1');
    const before = l.xen.freeMemory(l.xen.host('xs3'));
    l.xen.failNextMigration(web1);
    const p = l.xen.migrate(web1, l.xen.host('xs3'));
    expect(l.xen.freeMemory(l.xen.host('xs3'))).toBe(before - l.xen.usedMemory(web1));
    await expect(drive(l, p)).rejects.toThrow(XapiError);
    expect([web1.residentOn, web1.operation, l.xen.freeMemory(l.xen.host('xs3'))]).toEqual([uuid(l.xen, 'xs1'), undefined, before]);
    expect(l.xen.migrations).toEqual([expect.objectContaining({ vm: 'web1', from: 'xs1', to: 'xs3', ok: false, error: 'INTERNAL_ERROR', via: 'vm-migrate' })]);
    // a second migration of the same VM while one is in flight
    const first = l.xen.migrate(web1, l.xen.host('xs3'));
    await expect(l.xen.migrate(web1, l.xen.host('xs2'))).rejects.toMatchObject({ code: 'OTHER_OPERATION_IN_PROGRESS' });
    await drive(l, first);
    // already there: a localhost migration, as xapi does it (and it needs the memory twice)
    await drive(l, l.xen.migrate(web1, l.xen.host('xs3')));
    expect(l.xen.migrations.at(-1)).toMatchObject({ from: 'xs3', to: 'xs3', ok: true });
  });
});

describe('pool HA through xe: off for the run, back on with its settings', () => {
  it('pool-ha-disable, then pool-ha-enable (blocks haEnableMs) and pool-param-set restore the pool; a host down refuses it', async () => {
    const l = lab();
    const pool = POOL.uuid;
    expect(await xe(l, 'xs2', 'pool-ha-disable')).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(parseXePools((await xe(l, 'xs1', 'pool-list', 'params=ha-enabled,ha-host-failures-to-tolerate')).stdout)[0]).toMatchObject({
      haEnabled: false,
      haHostFailuresToTolerate: 1,
    });
    expect(await xe(l, 'xs1', 'pool-param-set', `uuid=${pool}`, 'ha-host-failures-to-tolerate=0')).toEqual({ stdout: '', stderr: '', code: 0 });
    expect((await xe(l, 'xs1', 'pool-param-set', `uuid=${pool}`, 'ha-host-failures-to-tolerate=two')).stderr).toMatch(
      /^The server failed .*\nmessage: Failure: Int64.of_string\n$/,
    );
    expect((await xe(l, 'xs1', 'pool-param-set', `uuid=${pool}`, 'ha-enabled=true')).stderr).toMatch(/message: Failure: Field 'ha-enabled' is read-only.\n$/);
    const t0 = l.clock.now();
    const enabling = xe(l, 'xs1', 'pool-ha-enable', `heartbeat-sr-uuids=${POOL.sharedSr.uuid}`);
    expect((await drive(l, enabling, 600_000, 1000)).code).toBe(0);
    expect(l.clock.now() - t0).toBeGreaterThanOrEqual(XEN_DEFAULTS.haEnableMs);
    expect(await xe(l, 'xs1', 'pool-param-set', `uuid=${pool}`, 'ha-host-failures-to-tolerate=1')).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(l.xen.pool).toMatchObject({ haEnabled: true, haHostFailuresToTolerate: 1 });
    expect(parseXePools((await xe(l, 'xs1', 'pool-list', 'params=ha-plan-exists-for,ha-statefiles')).stdout)[0]!.haStatefiles).toHaveLength(1);
    // a local SR cannot hold the statefile; a host down refuses HA
    l.xen.haDisable();
    expect(parseXeError((await xe(l, 'xs1', 'pool-ha-enable', `heartbeat-sr-uuids=${POOL.hosts[0]!.localSrUuid}`)).stderr)!.code).toBe(
      'HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED',
    );
    await l.model.crash('xs3');
    l.clock.advance(XEN_DEFAULTS.hostAssumedDeadMs);
    expect(parseXeError((await xe(l, 'xs1', 'pool-ha-enable')).stderr)!.named).toEqual({ host: `${uuid(l.xen, 'xs3')} (xs3)` });
  });

  it('a migration to a host that died without the master knowing fails at its setup', async () => {
    const l = lab();
    await l.model.crash('xs3');
    await expect(drive(l, l.xen.migrate(l.xen.vm('web1'), l.xen.host('xs3')))).rejects.toMatchObject({ code: 'VM_MIGRATE_CONTACT_REMOTE_SERVICE_FAILED' });
    expect(l.xen.vm('web1').residentOn).toBe(uuid(l.xen, 'xs1'));
    l.clock.advance(XEN_DEFAULTS.hostAssumedDeadMs);
    await expect(l.xen.migrate(l.xen.vm('web1'), l.xen.host('xs3'))).rejects.toMatchObject({ code: 'HOST_NOT_LIVE' });
  });
});

describe('memory is never exceeded', () => {
  it('under random concurrent migrations (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.record({ vm: fc.nat(), to: fc.nat(), at: fc.integer({ min: 0, max: 120_000 }) }), { minLength: 1, maxLength: 40 }),
        async (seed, moves) => {
          const l = lab(xenPoolTopology({ hosts: 4, vms: 24, seed, localStorage: 2, ha: { enabled: false, hostFailuresToTolerate: 1 } }));
          const guests = [...l.xen.vms.values()].filter((v) => !v.isControlDomain);
          const hosts = [...l.xen.hosts.values()];
          const refused: string[] = [];
          const pending: Promise<unknown>[] = [];
          for (const m of moves) {
            l.model.clock.after(m.at, () => {
              const p = l.xen.migrate(guests[m.vm % guests.length]!, hosts[m.to % hosts.length]!).catch((e: XapiError) => void refused.push(e.code));
              pending.push(p);
            });
          }
          l.model.on('change', () => l.xen.checkMemory());
          await drive(l, new Promise<void>((r) => l.model.clock.after(130_000, r)), 200_000, 1000);
          await drive(l, Promise.all(pending), 3_600_000, 1000);
          l.xen.checkMemory();
          for (const h of hosts) expect(l.xen.freeMemory(h)).toBeGreaterThanOrEqual(0);
          expect(refused.every((c) => ['HOST_NOT_ENOUGH_FREE_MEMORY', 'OTHER_OPERATION_IN_PROGRESS', 'VM_REQUIRES_SR'].includes(c))).toBe(true);
          expect(l.xen.inFlight()).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});

// ---- 4. generated pools, and a pool lab over real SSH ------------------------------------------

describe('xenPoolTopology', () => {
  it('is deterministic, N+1, with 10-40 % headroom on the busiest host (more when N+1 needs it), any names', () => {
    const a = xenPoolTopology({ hosts: 5, vms: 40, seed: 4 });
    expect(xenPoolTopology({ hosts: 5, vms: 40, seed: 4 })).toEqual(a);
    expect(xenPoolTopology({ hosts: 5, vms: 40, seed: 5 })).not.toEqual(a);
    expect(a.hosts.map((h) => h.name)).toEqual(['xs1', 'xs2', 'xs3', 'xs4', 'xs5']);
    const l = lab(a);
    l.xen.haDisable(); // (with HA on, xapi evacuates only HA-protected VMs)
    const guests = [...l.xen.vms.values()].filter((v) => !v.isControlDomain);
    expect(guests.every((v) => v.memoryStaticMax >= GiB && v.memoryStaticMax <= 16 * GiB && v.memoryStaticMax % GiB === 0)).toBe(true);
    for (const h of l.xen.hosts.values()) {
      // every host's VMs fit on the others, as xapi's evacuation plan packs them
      expect([...l.xen.evacuationPlan(h).values()].every((p) => !(p instanceof XapiError))).toBe(true);
    }
    const room = Math.min(...[...l.xen.hosts.values()].map((h) => l.xen.freeMemory(h) / (h.memoryTotal - h.memoryOverhead)));
    expect(room).toBeGreaterThanOrEqual(0.1 - 1e-9);
    const named = xenPoolTopology({ hosts: ['alpha', 'beta'], vms: ['db', 'web'], seed: 1, master: 'beta', neverTouch: 'db' });
    expect([named.controlHost, named.xen!.master, named.neverTouch, named.xen!.vms.map((v) => v.name)]).toEqual(['beta', 'beta', 'db', ['db', 'web']]);
    expect(() => xenPoolTopology({ hosts: 1, vms: 1 })).toThrow(/at least 2/);
  });

  it('a large pool starts quickly and answers a snapshot', async () => {
    const l = lab(xenPoolTopology({ hosts: 200, vms: 4000, seed: 2 }));
    const r = await xe(l, 'xs17', 'vm-list', 'is-control-domain=false', 'params=uuid,resident-on', '--minimal');
    expect(parseXeMinimal(r.stdout)).toHaveLength(4000);
  });
});

describe('a Xen pool lab (startLab): sshd per host, xe in each bin dir, a stack: xen inventory', () => {
  let running: RunningLab;
  let ssh: SshPool;
  const target = (host: string): SshTarget => ({
    host,
    address: running.hosts[host]!.address,
    port: running.hosts[host]!.port,
    user: running.inventory.ssh.user,
  });
  const onHost = (host: string, ...args: string[]) => ssh.run(target(host), ['xe', ...args], { okExitCodes: [0, 1] });

  beforeAll(async () => {
    running = await startLab({ topology: xenPoolTopology({ hosts: 3, vms: 9, seed: 3, neverTouch: 'vm9' }), addressBase: '127.0.61', timeScale: 0.001 });
    ssh = new SshPool({ privateKeyPath: running.privateKeyPath, knownHostsPath: running.knownHostsPath, connectTimeoutMs: 3000 });
  }, 60_000);
  afterAll(async () => {
    await ssh?.closeAll();
    await running?.stop();
  });

  it('writes the inventory: cluster, stack, controlHost, ssh, hypervisors (name, address, bmc), vms.neverTouch', () => {
    const text = readFileSync(running.inventoryPath, 'utf8');
    const doc = parseYaml(text) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['cluster', 'stack', 'controlHost', 'ssh', 'hypervisors', 'vms']);
    expect(doc).toMatchObject({ cluster: 'xenpool', stack: 'xen', controlHost: 'xs1', vms: { neverTouch: 'vm9' } });
    expect(doc['hypervisors']).toEqual(['xs1', 'xs2', 'xs3'].map((name, i) => ({ name, address: `127.0.61.${10 + i}`, bmc: `10.2.0.${i + 1}` })));
    expect(running.inventory.hypervisors.map((h) => h.name)).toEqual(['xs1', 'xs2', 'xs3']);
    expect(running.etcd).toBeUndefined();
    expect(readdirSync(running.hosts['xs2']!.binDir).sort()).toEqual([...XEN_HOST_TOOLS].sort());
  });

  it('xe over SSH: a member answers as the master; the command log has it', async () => {
    const onMaster = await onHost('xs1', 'vm-list', 'params=uuid,name-label,resident-on', 'is-control-domain=false');
    const onMember = await onHost('xs3', 'vm-list', 'params=uuid,name-label,resident-on', 'is-control-domain=false');
    expect(onMember.stdout).toBe(onMaster.stdout);
    expect(parseXeVms(onMaster.stdout)).toHaveLength(9);
    expect(running.commandLog({ host: 'xs3', tool: 'xe' }).map((e) => e.exitCode)).toEqual([0]);
  });

  it('disable, evacuate and reboot a host: SSH refused while it is down, back and enabled after', async () => {
    expect((await onHost('xs1', 'pool-ha-disable')).exitCode).toBe(0);
    expect((await onHost('xs1', 'host-disable', 'host=xs2')).exitCode).toBe(0);
    expect((await onHost('xs1', 'host-evacuate', 'host=xs2', 'batch-size=5')).exitCode).toBe(0);
    expect(running.xen!.residentOn(running.xen!.host('xs2')).filter((v) => !v.isControlDomain)).toEqual([]);
    expect((await onHost('xs1', 'host-reboot', 'host=xs2')).exitCode).toBe(0);
    await running.model.waitFor(() => !running.model.machine('xs2').power);
    await expect(ssh.run(target('xs2'), ['true'])).rejects.toThrow();
    await running.model.waitFor(() => running.xen!.host('xs2').enabled);
    expect((await ssh.run(target('xs2'), ['xe', 'host-param-get', `uuid=${running.xen!.host('xs2').uuid}`, 'param-name=enabled'])).stdout).toBe('true\n');
    expect(running.xen!.migrations.every((m) => m.from === 'xs2' && m.ok)).toBe(true);
  });
});
