/** The lab's cluster model alone (manual clock, no processes): fleet scheduling, weights, heal, faults. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lab/clock';
import { LabModel } from '../../lab/model';
import { generateTopology, seedTopology } from '../../lab/topology';

function seedModel() {
  const clock = new ManualClock();
  const model = new LabModel(seedTopology(), { clock, vmStopMs: 300, vmStartMs: 300, agentTtlMs: 1000 });
  return { clock, model };
}
const hostOf = (m: LabModel, vm: string) => m.unit(vm)!.host;
const mgmtLoads = (m: LabModel) => Object.fromEntries([...m.loads()].filter(([h]) => /^(top|worker)/.test(h)));

describe('lab model', () => {
  it('reproduces seed 000 per-hypervisor loads', () => {
    const { model } = seedModel();
    expect(mgmtLoads(model)).toEqual({ top1: 20000, top2: 24000, top3: 20000, worker1: 20000, worker2: 58000, worker3: 50000 });
    expect(model.loads().get('islet55')).toBe(44000);
    expect(model.loads().get('irene271')).toBe(120000);
  });

  it('stopping fleetd stops local units, then reschedules each on the least loaded eligible host', async () => {
    const { clock, model } = seedModel();
    const done = model.stopFleetd('worker1');
    expect(model.unit('ns1')!.active).toBe('deactivating');
    expect(hostOf(model, 'ns1')).toBe('worker1'); // not moved before it is down (shared image)
    clock.advance(300);
    await done;
    // i0conf1 (16000) -> top3 (tie 20000 with top1: fleet breaks it by machine id, 3280f87e < 944cd548);
    // ns1 -> top1 (20000); ns2 -> top1 (22000 < top2 24000)
    expect([hostOf(model, 'i0conf1'), hostOf(model, 'ns1'), hostOf(model, 'ns2')]).toEqual(['top3', 'top1', 'top1']);
    expect(model.unit('ns2')!.active).toBe('activating');
    clock.advance(300);
    expect(model.unit('ns2')!).toMatchObject({ active: 'active', sub: 'running' });
    expect(model.fleetMachines().map((m) => m.name)).not.toContain('worker1');
  });

  it('never rebalances by itself; unload + start moves a unit to the least loaded host', async () => {
    const { clock, model } = seedModel();
    const done = model.stopFleetd('worker1');
    clock.advance(300);
    await done;
    clock.advance(300);
    model.startFleetd('worker1');
    clock.advance(10_000);
    expect(model.loads().get('worker1')).toBe(0);
    model.fleetUnload('pcocc-vm-batch3.service');
    clock.advance(300);
    expect(hostOf(model, 'batch3')).toBeUndefined();
    model.fleetStart('pcocc-vm-batch3.service');
    expect(hostOf(model, 'batch3')).toBe('worker1');
    clock.advance(300);
    expect(model.unit('batch3')!.sub).toBe('running');
  });

  it('pinned units become unscheduled when no eligible host is left, and start only where they can run', async () => {
    const { clock, model } = seedModel();
    const a = model.stopFleetd('islet54');
    const b = model.stopFleetd('islet55');
    clock.advance(300);
    await Promise.all([a, b]);
    expect(hostOf(model, 'i54log1')).toBeUndefined();
    expect(model.unit('i54log1')!.dstate).toBe('launched');
    model.startFleetd('islet55');
    expect(hostOf(model, 'i54log1')).toBe('islet55');
    expect(hostOf(model, 'admin1')).toBe('top1'); // a role=top unit never lands on an islet
    expect(hostOf(model, 'i42log1')).toBeUndefined(); // islet42 is not a fleet member
  });

  it('a crash keeps units listed until the agent TTL, then reschedules; bricks record heal entries', async () => {
    const { clock, model } = seedModel();
    await model.crash('top2');
    expect(hostOf(model, 'admin2')).toBe('top2');
    expect(model.fleetMachines().map((m) => m.name)).toContain('top2');
    const heal = model.healEntries('volspoms1');
    expect(heal.map((h) => [h.brick.host, h.up, h.entries])).toEqual([
      ['top1', true, 12],
      ['top2', false, 0],
      ['top3', true, 12],
    ]);
    clock.advance(1000);
    expect(model.fleetMachines().map((m) => m.name)).not.toContain('top2');
    expect(hostOf(model, 'admin2')).not.toBe('top2');
    clock.advance(300);
    expect(model.unit('admin2')!.sub).toBe('running');
    clock.advance(60_000);
    expect(model.healEntries('volspoms1')[0].entries).toBe(12); // no drain while a replica is down
    await model.powerOn('top2');
    expect(model.machine('top2')).toMatchObject({ fleetd: false, glusterd: true, glusterfsd: true, etcd: true });
    clock.advance(1000); // 50 entries/s default
    expect(model.healEntries('volspoms1').map((h) => h.entries)).toEqual([0, 0, 0]);
  });

  it('slow heal drains N entries at R per second', () => {
    const { clock, model } = seedModel();
    model.slowHeal('volspoms2', 100, 10);
    clock.advance(5000);
    expect(model.healEntries('volspoms2').map((h) => h.entries)).toEqual([50, 50, 50]);
    clock.advance(4950);
    expect(model.healEntries('volspoms2')[0].entries).toBe(1);
    clock.advance(50);
    expect(model.healEntries('volspoms2')[0].entries).toBe(0);
  });

  it('a VM hung on stop stays running until fleetd is restarted on its hypervisor', async () => {
    const { clock, model } = seedModel();
    model.hangOnStop('lb1');
    model.fleetStop('pcocc-vm-lb1.service');
    clock.advance(60_000);
    expect(model.unit('lb1')!).toMatchObject({ active: 'active', sub: 'running', dstate: 'loaded' });
    const done = model.stopFleetd('top3');
    clock.advance(300);
    await done;
    expect(model.unit('lb1')!.active).toBe('inactive');
    model.startFleetd('top3');
    expect(model.unit('lb1')!.active).toBe('inactive');
  });

  it('slow start delays one VM', () => {
    const { clock, model } = seedModel();
    model.slowStart('db1', 5000);
    model.fleetUnload('db1');
    clock.advance(300);
    model.fleetStart('db1');
    clock.advance(4000);
    expect(model.unit('db1')!.active).toBe('activating');
    clock.advance(1000);
    expect(model.unit('db1')!.active).toBe('active');
  });

  it('generates large topologies deterministically', () => {
    const a = generateTopology({ hypervisors: 60, vms: 1500, seed: 7 });
    const b = generateTopology({ hypervisors: 60, vms: 1500, seed: 7 });
    expect(a).toEqual(b);
    expect(a.hosts).toHaveLength(60);
    expect(a.units).toHaveLength(1500);
    const model = new LabModel(a);
    const loads = [...model.loads().values()];
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(8000);
  });
});
