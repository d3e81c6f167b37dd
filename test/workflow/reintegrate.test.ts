/**
 * Evacuate, maintenance (power cycle with heal entries to drain), reintegrate and fail back, in the
 * seed lab on the real Temporal server (seed 000's second half and seed 002's rebalancing).
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, decideSignal, progressQuery } from '../../workflows/messages';
import type { ReintegrationResult } from '../../workflows/reintegrate-host';
import type { FailbackResult } from '../../workflows/failback';
import { weightSpread } from '../../domain/cluster';

const t = useHarness();
const { start, lastSeq, mutatingSince } = t;
const managed = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];

function labLoad(): Record<string, number> {
  const load: Record<string, number> = Object.fromEntries(managed.map((x) => [x, 0]));
  for (const u of t.h.lab.model.units.values()) {
    if (u.host && u.active === 'active' && managed.includes(u.host)) load[u.host] += u.weight;
  }
  return load;
}

describe('failback on its own', () => {
  it('dry-run plans moves that lower the weight spread and changes nothing', async () => {
    const seq = lastSeq();
    const r: FailbackResult = await (await start('failback', { dryRun: true })).result();
    expect(r.planned.spreadBefore).toBe(38000); // seed 000: 20000 .. 58000
    expect(r.planned.spreadAfter).toBeLessThan(r.planned.spreadBefore);
    expect(r.planned.moves.length).toBeGreaterThan(0);
    for (const m of r.planned.moves) {
      expect(managed).toContain(m.plannedTo);
      expect(m.unit).toMatch(/^pcocc-vm-.*\.service$/);
    }
    expect(mutatingSince(seq)).toEqual([]);
  });
});

describe('evacuate, maintenance, reintegrate with failback', () => {
  it('waits for heal to drain, starts fleet, and fails VMs back to the host', async () => {
    const evac = await start('evacuateHypervisor', { host: 'worker1' });
    await waitForProgress(evac, gateWaiting('approve-evacuation'));
    await evac.signal(approveSignal, { by: 'bob', reason: 'disk swap' });
    await evac.result();
    expect(labLoad().worker1).toBe(0);

    // Hardware work: the host is powered off and on again; while it was away, writes left heal entries.
    await t.h.lab.model.crash('worker1');
    await t.h.lab.model.powerOn('worker1');
    t.h.lab.faults.slowHeal('volspoms2', 40, 10);

    const seq = lastSeq();
    const spreadBefore = weightSpread(labLoad(), managed);
    const handle = await start('reintegrateHypervisor', { host: 'worker1', parallelism: 2 });
    // The heal wait is visible in progress while it runs.
    await waitForProgress(handle, (p) => p.steps.some((s) => s.id === 'wait-heal' && s.state === 'running'));
    const p = await waitForProgress(handle, gateWaiting('approve-failback'), 90_000);
    expect(p.gate!.options).toEqual(['approve', 'skip', 'abort']);
    const heal = p.steps.find((s) => s.id === 'wait-heal')!;
    expect(heal.state).toBe('done');
    await handle.signal(approveSignal, { by: 'bob', reason: 'balance' });
    const r: ReintegrationResult = await handle.result();

    expect(r.failback!.moves.length).toBeGreaterThan(0);
    expect(
      r.failback!.moves.some((m) => m.to === 'worker1'),
      JSON.stringify(r.failback, null, 1),
    ).toBe(true);
    const spreadAfter = weightSpread(labLoad(), managed);
    expect(spreadAfter).toBeLessThan(spreadBefore);
    expect(r.failback!.spreadAfter).toBe(spreadAfter);
    // Order: fleet started on the host before any VM moved; each move is unload then start.
    const log = mutatingSince(seq).map((e) => `${e.host}: ${e.argv.join(' ')}`);
    expect(log[0]).toBe('worker1: systemctl start fleet');
    const moves = log.slice(1);
    expect(moves.length).toBe(2 * r.failback!.moves.length);
    for (const m of r.failback!.moves) {
      const unload = moves.findIndex((l) => l.endsWith(`fleetctl unload --no-block ${m.unit}`));
      const startAt = moves.findIndex((l) => l.endsWith(`fleetctl start --no-block ${m.unit}`));
      expect(unload).toBeGreaterThanOrEqual(0);
      expect(startAt).toBeGreaterThan(unload);
    }
    const final = await handle.query(progressQuery);
    expect(final.phase).toBe('done');
  });
});

describe('a host that comes back without its daemons and mounts', () => {
  it('failback refuses to move VMs while a host fleet schedules on has no GlusterFS mount', async () => {
    t.h.lab.model.unmountAll('worker2'); // fleetd still runs there: fleet may start any VM on it
    try {
      const seq = lastSeq();
      const handle = await start('failback', {});
      const p = await waitForProgress(handle, gateWaiting('check-destinations-unsafe'));
      expect(p.gate!.message).toMatch(/worker2: GlusterFS volumes volspoms1 and volspoms2 not mounted/);
      await handle.signal(decideSignal, { decision: 'abort', by: 'bob', reason: 'mount first' });
      await handle.result().catch(() => undefined);
      expect(mutatingSince(seq)).toEqual([]);
    } finally {
      t.h.lab.model.mountClient('worker2');
    }
  });

  it('says at once that etcd is down and the volumes are not mounted, starts them when asked, then takes VMs', async () => {
    const evac = await start('evacuateHypervisor', { host: 'worker3' });
    await waitForProgress(evac, gateWaiting('approve-evacuation'));
    await evac.signal(approveSignal, { by: 'bob', reason: 'quick check, no reboot' });
    await evac.result();
    // Not rebooted: etcd stopped and the volumes unmounted by the evacuation stay so.
    const seq = lastSeq();
    const handle = await start('reintegrateHypervisor', { host: 'worker3' });
    const p = await waitForProgress(handle, gateWaiting('host-ready-unsafe'), 20_000);
    expect(p.gate!.message).toMatch(/worker3: etcd not running, GlusterFS volumes volspoms1 and volspoms2 not mounted/);
    expect(p.gate!.options).toEqual(['start', 'retry', 'abort']);
    expect(mutatingSince(seq)).toEqual([]); // nothing done before the decision
    await handle.signal(decideSignal, { decision: 'start', by: 'bob', reason: 'not rebooted' });
    const q = await waitForProgress(handle, gateWaiting('approve-failback'), 90_000);
    const started = mutatingSince(seq).map((e) => `${e.host}: ${e.argv.join(' ')}`);
    expect(started.slice(0, 3)).toEqual(['worker3: systemctl start etcd', 'worker3: mount -a -t glusterfs', 'worker3: systemctl start fleet']);
    expect(t.h.lab.etcd!.isRunning('worker3')).toBe(true);
    expect([...t.h.lab.model.machine('worker3').mounts].sort()).toEqual(['volspoms1', 'volspoms2']);
    expect(q.steps.find((s) => s.id === 'host-ready')?.state).toBe('done');
    await handle.signal(approveSignal, { by: 'bob', reason: 'balance' });
    const r: ReintegrationResult = await handle.result();
    expect(r.failback!.moves.some((m) => m.to === 'worker3')).toBe(true);
  });
});
