import { describe, expect, it } from 'vitest';
import { packFleet, unpackFleet, type WireMachine, type WireUnit } from '../../domain/fleet-wire';
import { generateTopology } from '../../lab/topology';

const PATTERN = 'pcocc-vm-%s.service';
const MAX_PAYLOAD = 512 * 1024;

/** fleetState's machines and units of a generated cluster, with a few units of each odd kind. */
function fleetOf(hypervisors: number, vms: number): { machines: WireMachine[]; units: WireUnit[] } {
  const topo = generateTopology({ hypervisors, vms });
  const machines = topo.hosts.map((h) => ({ id: h.machineId.slice(0, 8), host: h.name, ip: h.ip, metadata: h.metadata }));
  const units: WireUnit[] = topo.units.map((u) => ({
    unit: PATTERN.replace('%s', u.vm),
    vm: u.vm,
    host: u.host,
    dstate: 'launched',
    state: 'launched',
    active: 'active',
    sub: 'running',
    weight: u.weight,
    metadata: { role: ['top'] },
  }));
  units[1] = { ...units[1]!, active: undefined, sub: undefined, host: undefined, dstate: 'inactive', state: null };
  units[2] = { ...units[2]!, pinnedHost: 'hv7', host: 'hv7', metadata: { hostname: ['hv7'] } };
  units[3] = { ...units[3]!, host: 'gone-host', active: 'failed', sub: 'failed' };
  units.push({ unit: 'etcd-backup.service', dstate: 'launched', state: 'launched', active: 'active', sub: 'running', host: 'top1', weight: 0, metadata: {} });
  return { machines, units };
}

describe('packFleet / unpackFleet', () => {
  it('a 500-hypervisor / 10,000-VM fleet state packs well under 512 KiB and unpacks to what JSON would carry', () => {
    const state = fleetOf(500, 10_000);
    const plainJson = JSON.stringify(state).length;
    const packed = JSON.stringify(packFleet(state, PATTERN));
    expect(plainJson).toBeGreaterThan(MAX_PAYLOAD); // what fleetState returned before
    expect(packed.length).toBeLessThan(MAX_PAYLOAD * 0.7);
    expect(unpackFleet(JSON.parse(packed))).toEqual(JSON.parse(JSON.stringify(state)));
  });

  it('keeps the order of the units, and units outside the VM pattern by their whole name', () => {
    const state = fleetOf(5, 20);
    const back = unpackFleet(JSON.parse(JSON.stringify(packFleet(state, PATTERN))));
    expect(back.units.map((u) => u.unit)).toEqual(state.units.map((u) => u.unit));
    expect(back.units.at(-1)).toEqual({
      unit: 'etcd-backup.service',
      dstate: 'launched',
      state: 'launched',
      active: 'active',
      sub: 'running',
      host: 'top1',
      weight: 0,
      metadata: {},
    });
    expect(back.units[1]).not.toHaveProperty('host');
    expect(back.units[2]).toMatchObject({ pinnedHost: 'hv7', metadata: { hostname: ['hv7'] } });
  });

  it('refuses what it did not pack, naming the format', () => {
    expect(() => unpackFleet({ machines: [], units: [] } as never)).toThrow(/format undefined is not hvflow-fleet\/1/);
  });
});
