/**
 * rollingReboot on the seeds' fleet cluster (seeds 000-002) against the real Temporal server and the
 * lab: the six management hypervisors rebooted one after the other, the control host last, each
 * emptied by fleet's own failover, its guards stopped in seed 000's order and waited for after the
 * reboot — and the lab's model never saw etcd lose its quorum nor a GlusterFS server stopped with
 * heal entries pending (the other bricks collect heal entries while a server is down).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateWaiting, useHarness, waitForProgress } from '../helpers/harness';
import { approveSignal } from '../../workflows/messages';
import { watchSafety, type SafetyWatch } from '../../lab/safety-watch';
import type { RollingRebootResult } from '../../workflows/rolling-reboot-types';
import { GATE } from '../../domain/contract';

const t = useHarness({ timeScale: 0.05, rebootMs: 60_000, downHealEntries: 40 });
let watch: SafetyWatch;
beforeAll(() => {
  watch = watchSafety(t.h.lab.model);
});
afterAll(() => watch?.stop());

describe('rollingReboot on the seed fleet cluster', () => {
  it('a dry run: the six management hypervisors, the control host last, changes nothing', async () => {
    const seq = t.lastSeq();
    const r: RollingRebootResult = await (await t.start('rollingReboot', { dryRun: true })).result();
    expect(r.plan.stack).toBe('fleet');
    expect([...r.plan.order].sort()).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(r.plan.order.at(-1)).toBe(t.h.lab.inventory.controlHost);
    expect(r.plan.threads).toBeUndefined();
    expect(t.mutatingSince(seq)).toEqual([]);
  });

  it('reboots each of them once, with etcd quorum and GlusterFS heal respected at every step', async () => {
    const seq = t.lastSeq();
    const handle = await t.start('rollingReboot', {});
    await waitForProgress(handle, gateWaiting(GATE.approveRollingReboot));
    await handle.signal(approveSignal, { by: 'bob', reason: 'kernel update' });
    const r: RollingRebootResult = await handle.result();
    expect(r.hosts.map((h) => [h.host, h.outcome])).toEqual(r.plan.order.map((h) => [h, 'rebooted']));
    const reboots = t
      .mutatingSince(seq)
      .filter((e) => e.argv[0] === 'systemctl' && e.argv[1] === 'reboot')
      .map((e) => e.host);
    expect(reboots).toEqual(r.plan.order);
    for (const h of r.hosts) expect(h.bootAfter).not.toBe(h.bootBefore);
    // Each host: fleet stopped, its guards stopped, rebooted, then fleet started again once it was ready.
    for (const host of r.plan.order) {
      const mine = t
        .mutatingSince(seq)
        .filter((e) => e.host === host && e.argv[0] === 'systemctl')
        .map((e) => e.argv.slice(1).join(' '));
      expect(mine.indexOf('stop fleet'), host).toBeLessThan(mine.indexOf('reboot'));
      expect(mine.lastIndexOf('start fleet'), host).toBeGreaterThan(mine.indexOf('reboot'));
    }
    for (const m of t.h.lab.model.machines.values()) if (r.plan.order.includes(m.name)) expect(m.fleetd && m.power, m.name).toBe(true);
    expect(watch.violations).toEqual([]);
  });
});
