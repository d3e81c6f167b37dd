import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { joinFleetUnits, machineIndex } from '../../activities/fleet-join';
import type { FleetMachine, FleetUnit, FleetUnitFile, FleetUnitSpec } from '../../activities/fleet-parse';
import { parseInventoryYaml } from '../../domain/inventory';

const inv = parseInventoryYaml(readFileSync('config/ocean.example.yaml', 'utf8'), 'config/ocean.example.yaml');
const machine = (i: number, host: string): FleetMachine => ({
  id: `${String(i).padStart(8, '0')}${'ab'.repeat(12)}`,
  idTruncated: false,
  hostname: host,
  ip: `10.1.0.${i}`,
  metadata: {},
});
const file = (unit: string, extra: Partial<FleetUnitFile> = {}): FleetUnitFile =>
  ({ unit, hash: 'h', dstate: 'launched', state: 'launched', global: false, ...extra }) as FleetUnitFile;
const spec = (weight?: number, extra: Partial<FleetUnitSpec> = {}): FleetUnitSpec => ({ weight, metadata: {}, ...extra }) as FleetUnitSpec;

describe('joinFleetUnits', () => {
  const machines = [machine(1, 'top1'), machine(2, 'top2'), machine(3, 'worker1')];

  it('finds where each unit runs by hostname, IP or truncated id, and falls back on the target of list-unit-files', () => {
    const files = ['a', 'b', 'c', 'd', 'e'].map((v) => file(`pcocc-vm-${v}.service`, v === 'd' ? { dstate: 'loaded', targetId: '00000003' } : {}));
    const running: FleetUnit[] = [
      { unit: 'pcocc-vm-a.service', hostname: 'top2', active: 'active', sub: 'running' },
      { unit: 'pcocc-vm-b.service', ip: '10.1.0.3', machineId: '00000003', active: 'active', sub: 'running' },
      { unit: 'pcocc-vm-c.service', machineId: '00000001', machineIdTruncated: true, active: 'activating', sub: 'start-pre' },
    ] as FleetUnit[];
    const specs = new Map(files.map((f, i) => [f.unit, spec(i * 1000)]));
    const units = joinFleetUnits(inv, machines, files, running, specs);
    expect(units.map((u) => [u.vm, u.host, u.active ?? null, u.weight])).toEqual([
      ['a', 'top2', 'active', 0],
      ['b', 'worker1', 'active', 1000],
      ['c', 'top1', 'activating', 2000],
      ['d', 'worker1', null, 3000],
      ['e', undefined, null, 4000],
    ]);
  });

  it('a unit pinned by MachineMetadata=hostname= or by MachineID=', () => {
    const files = [file('pcocc-vm-p.service'), file('pcocc-vm-q.service'), file('other.service')];
    const specs = new Map([
      ['pcocc-vm-p.service', spec(1, { metadata: { hostname: ['top2'] } })],
      ['pcocc-vm-q.service', spec(1, { machineId: machines[2]!.id })],
      ['other.service', spec(undefined)],
    ]);
    const units = joinFleetUnits(inv, machines, files, [], specs);
    expect(units.map((u) => [u.unit, u.vm, u.pinnedHost, u.weight])).toEqual([
      ['pcocc-vm-p.service', 'p', 'top2', 1],
      ['pcocc-vm-q.service', 'q', 'worker1', 1],
      ['other.service', undefined, undefined, 0],
    ]);
  });

  it('names a unit whose unit file was not read', () => {
    expect(() => joinFleetUnits(inv, machines, [file('pcocc-vm-x.service')], [], new Map())).toThrow(/pcocc-vm-x\.service: no unit file read/);
  });

  it('at 10,000 units on 500 machines every unit lands where it runs (joined by unit name, not by scanning)', () => {
    const many = Array.from({ length: 500 }, (_, i) => machine(i, `hv${i}`));
    const files = Array.from({ length: 10_000 }, (_, i) => file(`pcocc-vm-vm${i}.service`));
    const running = files.map((f, i) => {
      const machineId = many[i % 500]!.id.slice(0, 8);
      return { unit: f.unit, machineId, machineIdTruncated: true, active: 'active', sub: 'running' } as FleetUnit;
    });
    const specs = new Map(files.map((f) => [f.unit, spec(100)]));
    const units = joinFleetUnits(inv, many, files, running.reverse(), specs);
    expect(units.every((u, i) => u.host === `hv${i % 500}`)).toBe(true);
  });
});

describe('machineIndex', () => {
  it('an id shorter than the printed prefix still matches, a prefix of nothing matches nothing', () => {
    const idx = machineIndex([machine(12, 'a'), machine(34, 'b')]);
    expect(idx.hostOf({ id: '000000' })).toBe('a');
    expect(idx.hostOf({ id: 'ffffffff' })).toBeUndefined();
    expect(idx.hostOf({ ip: '10.1.0.34' })).toBe('b');
  });
});
