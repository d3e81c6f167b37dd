import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  listUnitsLinesOf,
  parseFleetctlUnitCommand,
  parseFleetListMachines,
  parseFleetListUnitFiles,
  parseFleetListUnits,
  parseFleetMachineLegend,
  parseFleetMetadata,
  parseFleetTable,
  parseFleetUnitFile,
} from '../../activities/fleet-parse';
import { ParseError } from '../../activities/parse-error';

const DIR = join(__dirname, '..', 'fixtures', 'fleetctl');
/** A seed fixture (combined capture). */
const seed = (name: string): string => readFileSync(join(DIR, name), 'utf8');
/** A reconstructed fixture: [stdout, stderr]. */
const run = (base: string): [string, string] => {
  const read = (s: string) => (existsSync(join(DIR, `${base}.${s}.txt`)) ? readFileSync(join(DIR, `${base}.${s}.txt`), 'utf8') : '');
  return [read('stdout'), read('stderr')];
};

/** Asserts a ParseError naming fleetctl, and the offending line when given. */
function expectParseError(fn: () => unknown, line?: string, message?: RegExp): ParseError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ParseError);
  const pe = err as ParseError;
  expect(pe.tool).toBe('fleetctl');
  expect(pe.message.startsWith('fleetctl: ')).toBe(true);
  if (line !== undefined) {
    expect(pe.line).toBe(line);
    expect(pe.message).toContain(JSON.stringify(line));
  }
  if (message) expect(pe.message).toMatch(message);
  return pe;
}

describe('machine legends', () => {
  it('reads the patched "<id>.../<hostname>" and the upstream "<id>.../<ip>" forms', () => {
    expect(parseFleetMachineLegend('a1ff44e6.../worker1')).toEqual({ id: 'a1ff44e6', idTruncated: true, hostname: 'worker1' });
    expect(parseFleetMachineLegend('944cd548.../10.1.0.1')).toEqual({ id: '944cd548', idTruncated: true, ip: '10.1.0.1' });
    expect(parseFleetMachineLegend('944cd548...')).toEqual({ id: '944cd548', idTruncated: true });
    expect(parseFleetMachineLegend('944cd5482b3a4c5d6e7f8091a2b3c4d5/top1')).toEqual({
      id: '944cd5482b3a4c5d6e7f8091a2b3c4d5',
      idTruncated: false,
      hostname: 'top1',
    });
  });
  it('rejects what is not a legend', () => {
    expectParseError(() => parseFleetMachineLegend('worker1'), 'worker1');
    expectParseError(() => parseFleetMachineLegend('a1ff44e6.../'), 'a1ff44e6.../');
  });
});

describe('fleetctl list-machines', () => {
  it('parses seed 002: 13 machines, worker3 is role=top at 10.1.0.6', () => {
    const ms = parseFleetListMachines(seed('seed002-list-machines.txt'));
    expect(ms).toHaveLength(13);
    const w3 = ms.find((m) => m.hostname === 'worker3')!;
    expect(w3).toEqual({ id: '9dde1b72', idTruncated: true, hostname: 'worker3', ip: '10.1.0.6', metadata: { hostname: 'worker3', role: 'top' } });
    expect(
      ms
        .filter((m) => m.metadata['role'] === 'top')
        .map((m) => m.hostname)
        .sort(),
    ).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(ms.find((m) => m.hostname === 'irene271')).toMatchObject({ id: '70b8f750', ip: '10.8.0.171', metadata: { role: 'router' } });
  });

  it('parses --full (tab-padded, full ids) consistently with the seed', () => {
    const full = parseFleetListMachines(run('list-machines-full')[0], { fields: 'machine,hostname,ip,metadata' });
    const short = parseFleetListMachines(seed('seed002-list-machines.txt'));
    expect(full).toHaveLength(13);
    for (const m of full) {
      expect(m.idTruncated).toBe(false);
      expect(m.id).toMatch(/^[0-9a-f]{32}$/);
      const s = short.find((x) => x.hostname === m.hostname)!;
      expect(m.id.startsWith(s.id)).toBe(true);
      expect(m.ip).toBe(s.ip);
    }
  });

  it('takes the hostname from metadata on upstream fleet, and refuses a machine without any', () => {
    const text = run('list-machines-upstream')[0];
    const firstFour = text.split('\n').slice(0, 5).join('\n') + '\n';
    const ms = parseFleetListMachines(firstFour);
    expect(ms.map((m) => [m.hostname, m.ip])).toEqual([
      ['islet39', '10.1.0.39'],
      ['islet12', '10.1.0.12'],
      ['top2', '10.1.0.2'],
      ['top3', '10.1.0.3'],
    ]);
    expectParseError(() => parseFleetListMachines(text), 'e1d2c3b4...\t-\t\t-', /line 6: no hostname/);
    // the generic table still reads it: "-" is kept raw there
    expect(parseFleetTable('list-machines', text).rows[4]).toEqual({ machine: 'e1d2c3b4...', ip: '-', metadata: '-' });
  });

  it('reads --no-legend --fields hostname through the generic table', () => {
    const [out] = run('list-machines-no-legend-fields-hostname');
    const t = parseFleetTable('list-machines', out, { legend: false, fields: 'hostname' });
    expect(t.columns).toEqual(['hostname']);
    expect(t.rows.map((r) => r['hostname'])).toContain('irene271');
    expect(t.rows).toHaveLength(13);
    expectParseError(() => parseFleetListMachines(out, { legend: false, fields: ['hostname'] }), undefined, /no MACHINE column/);
  });

  it('reads --no-legend with the patched default columns (machine,hostname,ip,metadata)', () => {
    const noLegend = seed('seed002-list-machines.txt').split('\n').slice(1).join('\n');
    const ms = parseFleetListMachines(noLegend, { legend: false });
    expect(ms).toHaveLength(13);
    expect(ms[0]).toMatchObject({ id: '21f839cc', hostname: 'islet39', ip: '10.1.0.39' });
    expect(parseFleetListMachines(noLegend, { legend: false, fields: 'machine,hostname,ip,metadata' })).toEqual(ms);
  });

  it('keeps unknown columns in `extra`', () => {
    const text = 'MACHINE\t\tHOSTNAME\tIP\t\tMETADATA\tRACK\n944cd548...\ttop1\t\t10.1.0.1\trole=top\tB12\n';
    expect(parseFleetListMachines(text)).toEqual([
      { id: '944cd548', idTruncated: true, hostname: 'top1', ip: '10.1.0.1', metadata: { role: 'top' }, extra: { rack: 'B12' } },
    ]);
  });

  it('rejects malformed input naming the line', () => {
    const lines = seed('seed002-list-machines.txt').split('\n');
    lines[3] = '29b0afbf...        top2        10.1.0.2';
    expectParseError(() => parseFleetListMachines(lines.join('\n')), '29b0afbf...        top2        10.1.0.2', /line 4: expected 4 columns/);
    expectParseError(() => parseFleetListMachines(''), undefined, /empty output/);
    // --no-legend output read as if it had a legend
    expectParseError(() => parseFleetListMachines('944cd548...\ttop1\t10.1.0.1\trole=top\n'), '944cd548...\ttop1\t10.1.0.1\trole=top', /expected a legend/);
    // a legend where --no-legend was assumed
    expectParseError(
      () => parseFleetListMachines(seed('seed002-list-machines.txt'), { legend: false }),
      'MACHINE            HOSTNAME    IP         METADATA',
      /unexpected legend/,
    );
    expectParseError(
      () => parseFleetListMachines(seed('seed002-list-machines.txt'), { fields: 'machine,ip,metadata' }),
      'MACHINE            HOSTNAME    IP         METADATA',
      /does not match --fields/,
    );
    expectParseError(() => parseFleetMetadata('role=top,role=islet'), 'role=top,role=islet', /duplicate metadata key/);
    expectParseError(() => parseFleetMetadata('roletop'), 'roletop', /bad metadata pair/);
  });
});

describe('fleetctl list-units', () => {
  it('parses seed 002', () => {
    const us = parseFleetListUnits(seed('seed002-list-units.txt'));
    expect(us).toHaveLength(10);
    expect(us[0]).toEqual({
      unit: 'pcocc-vm-admin1.service',
      machineId: '944cd548',
      machineIdTruncated: true,
      hostname: 'top1',
      active: 'active',
      sub: 'running',
    });
    expect(us.find((u) => u.unit === 'pcocc-vm-i12conf2.service')).toMatchObject({ hostname: 'islet13', active: 'inactive', sub: 'dead' });
    expect(us.filter((u) => u.hostname === 'top2').map((u) => u.unit)).toEqual([
      'pcocc-vm-admin2.service',
      'pcocc-vm-i0conf2.service',
      'pcocc-vm-i0log1.service',
    ]);
  });

  it("parses seed 000's `--no-legend --fields hostname,unit`", () => {
    const us = parseFleetListUnits(run('list-units-no-legend-fields-hostname-unit')[0], { legend: false, fields: 'hostname,unit' });
    expect(us).toHaveLength(18);
    expect(us[0]).toEqual({ unit: 'pcocc-vm-admin1.service', hostname: 'top1' });
    // five VMs on top1: with Weight=4000 each this is seed 000's "top1 20000"
    expect(us.filter((u) => u.hostname === 'top1')).toHaveLength(5);
  });

  it("parses seed 001's `--fields unit,sub --no-legend`", () => {
    const us = parseFleetListUnits(run('list-units-no-legend-fields-unit-sub')[0], { legend: false, fields: ['unit', 'sub'] });
    expect(us).toHaveLength(18);
    expect(us.filter((u) => u.sub === 'running')).toHaveLength(16);
    expect(us.find((u) => u.unit === 'pcocc-vm-i12conf1.service')).toEqual({ unit: 'pcocc-vm-i12conf1.service', sub: 'dead' });
  });

  it('parses --full ids and an unscheduled unit ("-")', () => {
    const us = parseFleetListUnits(run('list-units-full')[0]);
    expect(us).toHaveLength(19);
    expect(us[5]).toMatchObject({
      unit: 'pcocc-vm-i0conf1.service',
      machineId: 'a1ff44e6b7c8d9e0f1a2b3c4d5e6f7a8',
      machineIdTruncated: false,
      hostname: 'worker1',
    });
    expect(us[18]).toEqual({ unit: 'pcocc-vm-i42log1.service', active: 'inactive', sub: 'dead' });
  });

  it('parses upstream legends "<id>.../<ip>"', () => {
    const us = parseFleetListUnits(run('list-units-upstream-ip')[0]);
    expect(us[0]).toEqual({
      unit: 'pcocc-vm-admin1.service',
      machineId: '944cd548',
      machineIdTruncated: true,
      ip: '10.1.0.1',
      active: 'active',
      sub: 'running',
    });
    expect(us.every((u) => u.hostname === undefined)).toBe(true);
  });

  it('handles extra and unknown columns', () => {
    const text = 'UNIT\t\t\t\tMACHINE\t\t\tLOAD\tACTIVE\tSUB\tHASH\tZONE\npcocc-vm-db1.service\t3280f87e.../top3\tloaded\tactive\trunning\ta0820a4\tz1\n';
    expect(parseFleetListUnits(text)).toEqual([
      {
        unit: 'pcocc-vm-db1.service',
        machineId: '3280f87e',
        machineIdTruncated: true,
        hostname: 'top3',
        load: 'loaded',
        active: 'active',
        sub: 'running',
        hash: 'a0820a4',
        extra: { zone: 'z1' },
      },
    ]);
  });

  it('rejects the seed\'s "[...]" elision, bad names and inconsistent hosts', () => {
    const withElision = seed('seed002-list-units.txt') + '[...]\n';
    expectParseError(() => parseFleetListUnits(withElision), '[...]', /line 12: expected 4 columns/);
    expectParseError(() => parseFleetListUnits('top1\tnot a unit\n', { legend: false, fields: 'hostname,unit' }), 'top1\tnot a unit', /not a unit name/);
    expectParseError(
      () => parseFleetListUnits('UNIT\tMACHINE\tHOSTNAME\nx.service\t944cd548.../top1\ttop2\n'),
      'x.service\t944cd548.../top1\ttop2',
      /disagrees/,
    );
    expectParseError(() => parseFleetListUnits('HOSTNAME\tSUB\ntop1\trunning\n'), undefined, /no UNIT column/);
  });
});

describe('list-units lines of some units (the VM batch waits)', () => {
  for (const base of ['list-units-full', 'list-units-upstream-ip']) {
    it(`${base}: parses to exactly the units asked, each as the whole listing parses it`, () => {
      const [out] = run(base);
      const all = parseFleetListUnits(out);
      expect(all.length).toBeGreaterThan(2);
      const asked = new Set([all[0]!.unit, all.at(-1)!.unit, 'pcocc-vm-nosuch.service']);
      const some = parseFleetListUnits(listUnitsLinesOf(out, asked));
      expect(some).toEqual(all.filter((u) => asked.has(u.unit)));
      expect(parseFleetListUnits(listUnitsLinesOf(out, new Set()))).toEqual([]);
    });
  }

  it('a line of an asked unit that is malformed is still refused', () => {
    const out = 'UNIT\tMACHINE\tACTIVE\tSUB\nvm1.service\t944cd548.../top1\tactive\n';
    expectParseError(() => parseFleetListUnits(listUnitsLinesOf(out, new Set(['vm1.service']))));
    expect(parseFleetListUnits(listUnitsLinesOf(out, new Set(['vm2.service'])))).toEqual([]);
  });
});

describe('fleetctl list-unit-files', () => {
  it('parses seed 002', () => {
    const fs = parseFleetListUnitFiles(seed('seed002-list-unit-files.txt'));
    expect(fs).toHaveLength(11);
    expect(fs[0]).toEqual({
      unit: 'pcocc-vm-admin1.service',
      hash: '7b97047',
      dstate: 'launched',
      state: 'launched',
      global: false,
      targetId: '944cd548',
      targetIdTruncated: true,
      targetHost: 'top1',
    });
    expect(fs.find((f) => f.unit === 'pcocc-vm-i42conf2.service')).toEqual({
      unit: 'pcocc-vm-i42conf2.service',
      hash: '0dfffef',
      dstate: 'loaded',
      state: 'inactive',
      global: false,
    });
  });

  it("parses seed 000's `list-unit-files | grep worker1$` (no legend)", () => {
    const fs = parseFleetListUnitFiles(seed('seed000-list-unit-files-grep-worker1.txt'), { legend: false });
    expect(fs.map((f) => [f.unit, f.hash, f.targetHost])).toEqual([
      ['pcocc-vm-admin2.service', 'c5985fc', 'worker1'],
      ['pcocc-vm-ns3.service', 'ff5cf2a', 'worker1'],
    ]);
  });

  it('parses tab-padded output with a global unit', () => {
    const fs = parseFleetListUnitFiles(run('list-unit-files-tabs')[0]);
    expect(fs).toHaveLength(5);
    expect(fs[4]).toEqual({ unit: 'node-exporter.service', hash: 'e3b5a1c', dstate: 'launched', state: null, global: true });
  });

  it('keeps a free-text DESC with spaces when it is the last column', () => {
    const text =
      'UNIT                 HASH    DSTATE   STATE    TARGET           DESC\nhello.service        2b7ba6f launched launched a858697c.../islet54 Hello World\n';
    expect(parseFleetListUnitFiles(text)[0]).toMatchObject({ unit: 'hello.service', desc: 'Hello World', targetHost: 'islet54' });
  });

  it('rejects bad states and hashes', () => {
    expectParseError(
      () => parseFleetListUnitFiles('x.service 7b97047 running launched -\n', { legend: false }),
      'x.service 7b97047 running launched -',
      /bad DSTATE/,
    );
    expectParseError(() => parseFleetListUnitFiles('x.service zzz launched launched -\n', { legend: false }), 'x.service zzz launched launched -', /bad HASH/);
  });
});

describe('fleetctl cat', () => {
  it('reads Weight and the X-Fleet constraints of a pcocc VM unit', () => {
    const spec = parseFleetUnitFile(run('cat-pcocc-vm-infra1.service')[0], 'pcocc-vm-infra1.service');
    expect(spec).toMatchObject({
      weight: 4000,
      metadata: { role: ['top'] },
      conflicts: ['pcocc-vm-infra2.service'],
      machineOfAll: [],
      global: false,
      replaces: [],
      description: 'Fleet service for pcocc VM infra1',
    });
    expect(spec.machineOf).toBeUndefined();
    expect(spec.options.find((o) => o.name === 'ExecStart')!.value).toBe('/usr/bin/pcocc -vv alloc -E "sleep infinity" -c 4 -m 1000 -J infra1 infra1');
  });

  it('reads multi-value MachineMetadata and glob Conflicts', () => {
    const spec = parseFleetUnitFile(run('cat-pcocc-vm-ns1.service')[0]);
    expect(spec.metadata).toEqual({ role: ['top', 'worker'] });
    expect(spec.conflicts).toEqual(['pcocc-vm-ns*.service']);
    expect(spec.weight).toBe(2000);
  });

  it('a unit without Weight has weight undefined (not 0)', () => {
    const spec = parseFleetUnitFile(run('cat-hello.service')[0]);
    expect(spec.weight).toBeUndefined();
    expect(spec).toMatchObject({ metadata: {}, conflicts: [], description: 'Hello World' });
  });

  it('reads MachineOf', () => {
    const spec = parseFleetUnitFile(run('cat-pong.service')[0]);
    expect(spec.machineOf).toBe('ping.service');
    expect(spec.machineOfAll).toEqual(['ping.service']);
  });

  it('expands %i/%n in X-Fleet values like fleet', () => {
    const spec = parseFleetUnitFile('[X-Fleet]\nConflicts=vm@%i-*.service other.service\nMachineOf=%p-sidekick@%i.service\n', 'vm@db1.service');
    expect(spec.conflicts).toEqual(['vm@db1-*.service', 'other.service']);
    expect(spec.machineOf).toBe('vm-sidekick@db1.service');
  });

  it('rejects malformed units', () => {
    expectParseError(() => parseFleetUnitFile('[X-Fleet]\nWeight=4000\nWeight=2000\n'), 'Weight=4000 | Weight=2000', /2 Weight= lines/);
    expectParseError(() => parseFleetUnitFile('[X-Fleet]\nWeight=4k\n'), 'Weight=4k', /not a non-negative integer/);
    expectParseError(() => parseFleetUnitFile('Weight=4000\n'), 'Weight=4000', /outside any section/);
    expectParseError(() => parseFleetUnitFile('[Unit]\nthis is not an option\n'), 'this is not an option', /line 2/);
    expectParseError(() => parseFleetUnitFile('[X-Fleet]\nMachineMetadata=role\n'), 'MachineMetadata=role', /not key=value/);
    expectParseError(() => parseFleetUnitFile(''), undefined, /empty unit file/);
  });
});

describe('fleetctl start/stop/load/unload/destroy messages', () => {
  it('parses the seed 002 messages', () => {
    expect(parseFleetctlUnitCommand(seed('seed002-start-hello.txt'))).toEqual({
      ok: true,
      events: [{ kind: 'state', unit: 'hello.service', state: 'launched', machine: { id: 'a858697c', idTruncated: true, hostname: 'islet54' } }],
    });
    expect(parseFleetctlUnitCommand(seed('seed002-load-hello.txt')).events[0]).toMatchObject({ kind: 'state', state: 'loaded' });
    expect(parseFleetctlUnitCommand(seed('seed002-submit-hello.txt')).events).toEqual([{ kind: 'state', unit: 'hello.service', state: 'inactive' }]);
    expect(parseFleetctlUnitCommand(seed('seed002-stop-monitor1.txt')).events).toEqual([
      { kind: 'state', unit: 'pcocc-vm-monitor1.service', state: 'loaded', machine: { id: 'c8014c48', idTruncated: true, hostname: 'worker2' } },
      { kind: 'succeeded', action: 'stopped', units: ['pcocc-vm-monitor1.service'] },
    ]);
    expect(parseFleetctlUnitCommand(seed('seed002-destroy-hello.txt')).events).toEqual([{ kind: 'destroyed', unit: 'hello.service' }]);
    expect(parseFleetctlUnitCommand(seed('seed002-unload-i0log1.txt')).events).toEqual([
      { kind: 'triggered', unit: 'pcocc-vm-i0log1.service', action: 'unload', global: false },
      { kind: 'succeeded', action: 'unloaded', units: ['pcocc-vm-i0log1.service'] },
    ]);
    const start = parseFleetctlUnitCommand(seed('seed002-start-i0log1.txt'));
    expect(start.ok).toBe(true);
    expect(start.events).toEqual([
      { kind: 'triggered', unit: 'pcocc-vm-i0log1.service', action: 'start', global: false },
      { kind: 'triggered', unit: 'pcocc-vm-i0log1.service', action: 'start', global: false },
    ]);
  });

  it('parses separate stdout/stderr runs', () => {
    const r = parseFleetctlUnitCommand(...run('stop-no-block-two-units'));
    expect(r.ok).toBe(true);
    expect(r.events[2]).toEqual({ kind: 'succeeded', action: 'stopped', units: ['pcocc-vm-admin1.service', 'pcocc-vm-batch1.service'] });
    expect(parseFleetctlUnitCommand(...run('unload-no-block')).events.map((e) => e.kind)).toEqual(['triggered', 'succeeded']);
  });

  it('reports fleetctl failures as error events (ok=false)', () => {
    const inactive = parseFleetctlUnitCommand(...run('stop-inactive-unit'));
    expect(inactive).toEqual({
      ok: false,
      events: [{ kind: 'error', message: 'Unable to stop unit pcocc-vm-i42log1.service in state inactive', unit: 'pcocc-vm-i42log1.service' }],
    });
    expect(parseFleetctlUnitCommand(...run('stop-not-in-registry'))).toEqual({ ok: true, events: [{ kind: 'not-found' }] });
    const timeout = parseFleetctlUnitCommand(...run('start-timeout'));
    expect(timeout.ok).toBe(false);
    expect(timeout.events).toHaveLength(2);
    expect(parseFleetctlUnitCommand(...run('cat-not-found')).events).toEqual([
      { kind: 'error', message: 'Unit nosuch.service not found', unit: 'nosuch.service' },
    ]);
  });

  it('rejects an unknown message naming the line', () => {
    expectParseError(
      () => parseFleetctlUnitCommand('Unit hello.service launched on a858697c.../islet54\nSomething odd happened\n'),
      'Something odd happened',
      /line 2: unknown fleetctl message/,
    );
    expectParseError(() => parseFleetctlUnitCommand('Unit hello.service running\n'), 'Unit hello.service running');
  });
});
