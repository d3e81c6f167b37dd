/**
 * rollingReboot on a XenServer pool (seed 003) against the real Temporal server and a lab pool of 6
 * hosts and 60 VMs: the dry run plans the master first and changes nothing; the run reboots every
 * host once, master first, migrates each VM exactly as planned (the master's twice, the others once),
 * never more than 5 at a time on a host, with pool HA off from before the first host to after the
 * last, the run's hooks around it; an abort mid-run restores HA and runs postRun.
 */
import { describe, expect, it } from 'vitest';
import { gateWaiting, useHarness, waitForProgress } from '../helpers/harness';
import { abortSignal, approveSignal } from '../../workflows/messages';
import { xenPoolTopology } from '../../lab/xen-topology';
import type { MigrationRecord, XenPool } from '../../lab/xen';
import type { RollingRebootResult } from '../../workflows/rolling-reboot-types';
import { GATE } from '../../domain/contract';

const CLUSTER = 'pool1';
const t = useHarness({
  topology: {
    ...xenPoolTopology({ cluster: CLUSTER, hosts: 6, vms: 60, seed: 11, headroom: [0.3, 0.45] }),
    hooks: { preRun: { on: 'csmgmt1', args: ['unmanage', '--cluster=%c'] }, postRun: { on: 'csmgmt1', args: ['manage', '--cluster=%c'] } },
    hookHosts: ['csmgmt1'],
  },
  // Simulated seconds of migrations and reboots run 50 times faster.
  timeScale: 0.02,
});
const start = (input: Record<string, unknown>) => t.start('rollingReboot', { cluster: CLUSTER, ...input });
const xen = (): XenPool => t.h.lab.xen!;

/** The most migrations in flight at once on any host (as source or destination). */
function peakPerHost(records: MigrationRecord[]): number {
  const hosts = new Set(records.flatMap((r) => [r.from, r.to]));
  let peak = 0;
  for (const h of hosts) {
    const rs = records.filter((r) => r.from === h || r.to === h);
    for (const r of rs) peak = Math.max(peak, rs.filter((o) => o.requestedAt <= r.requestedAt && r.requestedAt < o.end!).length);
  }
  return peak;
}

/** The xe commands that changed the pool since `seq`, as "<verb> <host name>" (host-reboot host=<uuid> → host-reboot xs3). */
function xeChanges(seq: number): string[] {
  return t
    .mutatingSince(seq)
    .filter((e) => e.argv[0] === 'xe')
    .map((e) => {
      const ref = e.argv
        .slice(2)
        .find((a) => /^(host|uuid)=/.test(a))
        ?.split('=')[1];
      const host = ref ? xen().findHost(ref)?.name : undefined;
      return host ? `${e.argv[1]} ${host}` : e.argv[1]!;
    });
}

describe('rollingReboot on a XenServer pool', () => {
  it('a dry run plans every host, the pool master first, and changes nothing', async () => {
    const seq = t.lastSeq();
    const r: RollingRebootResult = await (await start({ dryRun: true })).result();
    const master = xen().masterHost().name;
    expect(r.plan.stack).toBe('xen');
    expect(r.plan.order[0]).toBe(master);
    expect([...r.plan.order].sort()).toEqual(['xs1', 'xs2', 'xs3', 'xs4', 'xs5', 'xs6']);
    expect(r.plan.threads).toBe(5);
    // The master's VMs move twice (everything is rebooted after it), every other VM once.
    const onMaster = r.plan.hosts[0]!.migrations.map((m) => m.vm).sort();
    expect(r.plan.movedTwice.map((m) => m.vm).sort()).toEqual(onMaster);
    expect(r.plan.totalMigrations).toBe(60 + onMaster.length);
    expect(r.plan.prepare.join(';')).toMatch(/pool-ha-disable/);
    expect(r.hosts).toEqual([]);
    expect(t.mutatingSince(seq)).toEqual([]);
  });

  it('reboots every host once, master first, each VM migrated as planned, at most 5 at a time per host, HA off for the run and back on', async () => {
    const seq = t.lastSeq();
    const records0 = xen().migrations.length;
    const handle = await start({});
    await waitForProgress(handle, gateWaiting(GATE.approveRollingReboot));
    await handle.signal(approveSignal, { by: 'bob', reason: 'patch tuesday' });
    const r: RollingRebootResult = await handle.result();

    const order = r.plan.order;
    expect(order[0]).toBe(xen().masterHost().name);
    expect(r.hosts.map((h) => [h.host, h.outcome])).toEqual(order.map((h) => [h, 'rebooted']));
    const changes = xeChanges(seq);
    expect(changes.filter((c) => c.startsWith('host-reboot'))).toEqual(order.map((h) => `host-reboot ${h}`));

    // Every migration the lab ran is one of the plan, and each VM moved as many times as planned.
    const records = xen().migrations.slice(records0);
    expect(records.every((m) => m.ok && m.via === 'vm-migrate')).toBe(true);
    const planned = new Map<string, string[]>();
    for (const h of r.plan.hosts) for (const m of h.migrations) planned.set(m.vm, [...(planned.get(m.vm) ?? []), `${h.host}>${m.to}`]);
    const ran = new Map<string, string[]>();
    for (const m of records) ran.set(m.vm, [...(ran.get(m.vm) ?? []), `${m.from}>${m.to}`]);
    expect(Object.fromEntries(ran)).toEqual(Object.fromEntries(planned));
    expect(r.totals.migrations).toBe(r.plan.totalMigrations);
    expect(r.totals.movedTwice).toBe(r.plan.movedTwice.length);
    expect(peakPerHost(records)).toBeLessThanOrEqual(5);

    // HA off before the first host is touched, back on after the last is enabled, as it was.
    const haOff = changes.indexOf('pool-ha-disable');
    const haOn = changes.indexOf('pool-ha-enable');
    expect(haOff).toBeGreaterThanOrEqual(0);
    expect(haOff).toBeLessThan(changes.findIndex((c) => c.startsWith('host-disable')));
    expect(haOn).toBeGreaterThan(changes.lastIndexOf(`host-enable ${order.at(-1)}`));
    expect(xen().pool.haEnabled).toBe(true);
    expect(r.restored.join(';')).toMatch(/pool HA on again/);
    // Every host is back, enabled, with a new boot.
    for (const h of order) expect(xen().host(h).enabled && xen().host(h).live, h).toBe(true);
    for (const h of r.hosts) expect(h.bootAfter).not.toBe(h.bootBefore);
    // The run's hooks: unmanage first, manage last.
    const hooks = t
      .mutatingSince(seq)
      .filter((e) => e.argv[0] === 'lab-hook')
      .map((e) => e.argv[1]);
    expect(hooks).toEqual(['unmanage', 'manage']);
  });

  it('an abort during the first host: its turn stops and cleans up (it accepts VMs again), HA is back on, postRun runs', async () => {
    const seq = t.lastSeq();
    const handle = await start({});
    await waitForProgress(handle, gateWaiting(GATE.approveRollingReboot));
    await handle.signal(approveSignal, { by: 'bob', reason: 'go' });
    await waitForProgress(handle, (p) => p.steps.some((s) => s.id.startsWith('host-') && s.state === 'running'), 60_000);
    await handle.signal(abortSignal, { by: 'carol', reason: 'change freeze' });
    const failure = await handle.result().then(
      () => undefined,
      (e: Error & { cause?: Error }) => e.cause?.message,
    );
    expect(failure).toMatch(/^aborted by carol: change freeze; done before stopping: .*Turn of xs1, stopped: aborted by carol/);
    expect(xen().pool.haEnabled).toBe(true);
    const changes = xeChanges(seq);
    expect(changes).toContain('pool-ha-enable');
    // The host whose turn was aborted accepts VMs again; no host stays disabled.
    for (const h of xen().hosts.values()) expect(h.enabled, h.name).toBe(true);
    const hooks = t
      .mutatingSince(seq)
      .filter((e) => e.argv[0] === 'lab-hook')
      .map((e) => e.argv[1]);
    expect(hooks).toEqual(['unmanage', 'manage']);
  });
});
