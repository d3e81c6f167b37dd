/**
 * The procedures on a XenServer pool (seed 003's per-host step), against the real Temporal server
 * and a lab pool of 6 hosts and 40 VMs: clusterStatus, dry-run and real evacuations of a member and
 * of the pool master (each VM migrated once, as planned, never more than the per-host limit at a
 * time), N+1 refused before anything moves, a VM on local storage parked on, and reintegration.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, decideSignal } from '../../workflows/messages';
import { xenPoolTopology } from '../../lab/xen-topology';
import { failHook } from '../../lab/tools/hook';
import type { MigrationRecord, XenPool } from '../../lab/xen';
import type { EvacuationResult } from '../../workflows/evacuate-host';
import type { ClusterStatus } from '../../workflows/cluster-status';
import type { ReintegrationResult } from '../../workflows/reintegrate-host';

const CLUSTER = 'pool1';
const HOOKS = {
  // On a hook host (CloudStack's management server: no hypervisor), over its own SSH.
  preRun: { on: 'csmgmt1', args: ['unmanage', '--cluster=%c'] },
  postRun: { on: 'csmgmt1', args: ['manage', '--cluster=%c'] },
  preEmpty: { on: '%h', args: ['pre-empty', '%h'] },
  postEmpty: { on: '%h', args: ['post-empty', '%h'] },
};
const t = useHarness({
  topology: {
    ...xenPoolTopology({ cluster: CLUSTER, hosts: 6, vms: 40, seed: 7, localStorage: ['vm40'], on: { vm40: 'xs6' } }),
    hooks: HOOKS,
    hookHosts: ['csmgmt1'],
  },
  // Simulated seconds of migration run 50 times faster.
  timeScale: 0.02,
});
const start = (workflow: string, input: Record<string, unknown>) => t.start(workflow, { cluster: CLUSTER, ...input });
const xen = (): XenPool => t.h.lab.xen!;
const residents = (host: string) => [...xen().vms.values()].filter((v) => !v.isControlDomain && v.residentOn === xen().host(host).uuid).map((v) => v.name);

/** The most migrations in flight at once (asked for and not ended), among those `on` selects: the peak is at some start. */
function peak(records: MigrationRecord[], on: (r: MigrationRecord) => boolean = () => true): number {
  const rs = records.filter(on);
  return Math.max(0, ...rs.map((r) => rs.filter((o) => o.requestedAt <= r.requestedAt && r.requestedAt < o.end!).length));
}

/** The same on each host, as source or destination. */
function peakPerHost(records: MigrationRecord[]): number {
  const hosts = new Set(records.flatMap((r) => [r.from, r.to]));
  return Math.max(0, ...[...hosts].map((h) => peak(records, (r) => r.from === h || r.to === h)));
}

async function approve(handle: Awaited<ReturnType<typeof start>>) {
  await waitForProgress(handle, gateWaiting('approve-evacuation'));
  await handle.signal(approveSignal, { by: 'bob', reason: 'xen test' });
}

describe('a XenServer pool', () => {
  it('clusterStatus: hosts, master, memory used per host, HA, no problem', async () => {
    const s: ClusterStatus = await (await start('clusterStatus', { requestedBy: undefined })).result();
    expect(s.stack).toBe('xen');
    expect(s.fleet).toBeUndefined();
    expect(s.xen!.master).toBe(xen().masterHost().name);
    expect(s.xen!.haEnabled).toBe(true);
    expect(s.machines.map((m) => m.host)).toEqual(['xs1', 'xs2', 'xs3', 'xs4', 'xs5', 'xs6']);
    expect(s.xen!.vms).toHaveLength(40);
    for (const vm of s.xen!.vms) expect(vm.host).toBe(xen().host(xen().vm(vm.uuid).residentOn!).name);
    expect(s.xen!.vms.find((v) => v.name === 'vm40')!.localStorage).toBe(true);
    for (const h of s.xen!.hosts) expect(h.memoryFreeMiB).toBe(Math.floor(xen().freeMemory(xen().host(h.name)) / 1048576));
    expect(s.problems).toEqual([]);
  });

  it('a dry run of the master plans every VM to a host with room, and changes nothing', async () => {
    const master = xen().masterHost().name;
    const seq = t.lastSeq();
    const r: EvacuationResult = await (await start('evacuateHost', { host: master, dryRun: true })).result();
    expect(r.plan.stack).toBe('xen');
    expect(r.plan.units.map((u) => u.vm).sort()).toEqual(residents(master).sort());
    expect(r.plan.units.every((u) => u.to && u.to !== master)).toBe(true);
    expect(r.plan.threads).toBe(5);
    expect(t.mutatingSince(seq)).toEqual([]);
  });

  it('evacuates a member: disabled, each VM migrated once to its planned host, at most 5 at a time per host, empty at the end', async () => {
    // The member with the most VMs: more than the 5 a host may migrate at once.
    const host = ['xs2', 'xs3', 'xs4', 'xs5'].sort((a, b) => residents(b).length - residents(a).length)[0]!;
    const before = residents(host);
    expect(before.length).toBeGreaterThan(5);
    const records0 = xen().migrations.length;
    const seq = t.lastSeq();
    const handle = await start('evacuateHost', { host });
    await approve(handle);
    const r: EvacuationResult = await handle.result();
    const planned = new Map(r.plan.units.map((u) => [u.vm, u.to]));
    const records = xen().migrations.slice(records0);
    expect(records.map((m) => m.vm).sort()).toEqual(before.sort());
    for (const m of records) {
      expect(m.ok, m.vm).toBe(true);
      expect(m.to, m.vm).toBe(planned.get(m.vm));
      expect(m.via).toBe('vm-migrate');
    }
    expect(peakPerHost(records)).toBeLessThanOrEqual(5);
    expect(peakPerHost(records)).toBeGreaterThan(1); // concurrent, not host-evacuate's one at a time
    expect(residents(host)).toEqual([]);
    expect(xen().host(host).enabled).toBe(false);
    expect(r.migrations!.every((m) => m.result === 'migrated' && m.landed === planned.get(m.vm))).toBe(true);
    // No host-evacuate: it migrates one VM at a time (seed 003).
    expect(t.h.lab.commandLog({ tool: 'xe' }).some((e) => e.argv[1] === 'host-evacuate')).toBe(false);
    // The runbook's order: the run's hook, disable, the pre-empty hook on the host, the migrations, the post-empty hook, the run's end.
    const order = t
      .mutatingSince(seq)
      .map((e) => (e.argv[0] === 'xe' ? `${e.host}: xe ${e.argv[1]}` : `${e.host}: hook ${e.argv.slice(1).join(' ')}`))
      .filter((line, i, all) => all.indexOf(line) === i);
    expect(order).toEqual([
      'csmgmt1: hook unmanage --cluster=pool1',
      `${t.h.lab.inventory.controlHost}: xe host-disable`,
      `${host}: hook pre-empty ${host}`,
      `${t.h.lab.inventory.controlHost}: xe vm-migrate`,
      `${host}: hook post-empty ${host}`,
      'csmgmt1: hook manage --cluster=pool1',
    ]);

    // Reintegration: enabled again, the VMs stay where they went (seed 003).
    const back: ReintegrationResult = await (await start('reintegrateHost', { host })).result();
    expect(xen().host(host).enabled).toBe(true);
    expect(back.failback).toBeUndefined();
    expect(back.skipped.some((s) => s.startsWith('approve-failback: a Xen pool keeps its VMs'))).toBe(true);
    expect(residents(host)).toEqual([]);
  });

  it('evacuates the pool master with 3 threads, then brings it back', async () => {
    const master = xen().masterHost().name;
    const before = residents(master);
    const records0 = xen().migrations.length;
    const handle = await start('evacuateHost', { host: master, threads: 3 });
    await approve(handle);
    const r: EvacuationResult = await handle.result();
    const records = xen().migrations.slice(records0);
    expect(records.map((m) => m.vm).sort()).toEqual(before.sort());
    expect(records.every((m) => m.ok && m.to === r.plan.units.find((u) => u.vm === m.vm)!.to)).toBe(true);
    expect(peak(records)).toBe(3);
    expect(residents(master)).toEqual([]);
    expect(xen().masterHost().name).toBe(master); // still the master, disabled
    await (await start('reintegrateHost', { host: master })).result();
    expect(xen().host(master).enabled).toBe(true);
  });

  it('refuses N+1 before anything moves: with only one other host enabled, the VMs do not fit', async () => {
    // A host whose VMs need more memory than another host has free: that other one alone stays enabled.
    const names = ['xs1', 'xs2', 'xs3', 'xs4', 'xs5'];
    const used = (h: string) => residents(h).reduce((sum, vm) => sum + xen().startMemory(xen().vm(vm)), 0);
    const free = (h: string) => xen().freeMemory(xen().host(h));
    const [from, room] = names.flatMap((a) => names.filter((b) => b !== a && used(a) > free(b)).map((b) => [a, b] as const))[0]!;
    const others = ['xs1', 'xs2', 'xs3', 'xs4', 'xs5', 'xs6'].filter((h) => h !== from && h !== room);
    for (const h of others) xen().disable(xen().host(h));
    try {
      const seq = t.lastSeq();
      const records0 = xen().migrations.length;
      const handle = await start('evacuateHost', { host: from });
      const p = await waitForProgress(handle, gateWaiting('check-capacity-unsafe'));
      expect(p.gate!.message).toMatch(
        /Safety check "Safety: N\+1, the enabled hosts have free memory for its VMs" failed: .*vm\d+ \(\d+ MiB\) fits nowhere: the best room left is \d+ MiB on /,
      );
      await handle.signal(decideSignal, { decision: 'abort', by: 'bob', reason: 'no room' });
      await handle.result().catch(() => undefined);
      expect(xen().migrations.length).toBe(records0);
      expect(t.mutatingSince(seq)).toEqual([]);
    } finally {
      for (const h of others) xen().enable(xen().host(h));
    }
  });

  it('parks on a VM on local storage (drain filter), naming it, before the host is disabled', async () => {
    const seq = t.lastSeq();
    const handle = await start('evacuateHost', { host: 'xs6' });
    const p = await waitForProgress(handle, gateWaiting('check-drain-unsafe'));
    expect(p.gate!.message).toMatch(/vm40 has a disk on the local storage of xs6: it cannot live-migrate/);
    await handle.signal(decideSignal, { decision: 'abort', by: 'bob', reason: 'move its disk first' });
    await handle.result().catch(() => undefined);
    expect(t.mutatingSince(seq)).toEqual([]);
    expect(xen().host('xs6').enabled).toBe(true);
  });

  it('a live migration that fails parks the step with its xapi error; retried, only that VM migrates again', async () => {
    const host = ['xs2', 'xs4', 'xs5'].sort((a, b) => residents(b).length - residents(a).length)[0]!;
    const vms = residents(host).sort();
    expect(vms.length).toBeGreaterThan(1);
    const victim = vms[0]!;
    xen().failNextMigration(xen().vm(victim), 'contact-remote-service');
    const records0 = xen().migrations.length;
    const handle = await start('evacuateHost', { host });
    await approve(handle);
    const p = await waitForProgress(handle, gateWaiting('migrate-failed'));
    expect(p.gate!.message).toMatch(new RegExp(`1 of ${vms.length} live migration\\(s\\) did not land as planned: ${victim} \\(`));
    expect(p.gate!.options).toEqual(['retry', 'abort']);
    // Every other VM left the host; the victim is still on it.
    expect(residents(host)).toEqual([victim]);
    await handle.signal(decideSignal, { decision: 'retry', by: 'bob', reason: 'transient' });
    const r: EvacuationResult = await handle.result();
    const records = xen().migrations.slice(records0);
    for (const vm of vms) {
      const mine = records.filter((m) => m.vm === vm);
      expect(
        mine.map((m) => m.ok),
        vm,
      ).toEqual(vm === victim ? [false, true] : [true]);
    }
    expect(r.migrations!.filter((m) => m.result === 'migrated').map((m) => m.vm)).toEqual([victim]);
    expect(r.migrations!.filter((m) => m.result === 'already-there')).toHaveLength(vms.length - 1);
    expect(residents(host)).toEqual([]);
    await (await start('reintegrateHost', { host })).result();
  });

  it('a failing hook parks its step; aborted there, the run-level hook still runs at the end', async () => {
    const host = ['xs2', 'xs4', 'xs5'].find((h) => residents(h).length > 0)!;
    failHook(t.h.lab.model, 'pre-empty', 3);
    const seq = t.lastSeq();
    const handle = await start('evacuateHost', { host });
    await approve(handle);
    const p = await waitForProgress(handle, gateWaiting('hook-preEmpty-failed'));
    expect(p.gate!.message).toMatch(/hook preEmpty .*lab-hook pre-empty .* failed on .*exited with code 3: lab-hook pre-empty .*: failing as asked/);
    await handle.signal(decideSignal, { decision: 'abort', by: 'bob', reason: 'hook broken' });
    const err = await handle.result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/aborted at gate hook-preEmpty-failed by bob/);
    const hooks = t
      .mutatingSince(seq)
      .filter((e) => e.argv[0] !== 'xe')
      .map((e) => e.argv.slice(1, 2).join(' '));
    expect(hooks).toEqual(['unmanage', 'pre-empty', 'manage']);
    expect(t.mutatingSince(seq).some((e) => e.argv[1] === 'vm-migrate')).toBe(false);
    xen().enable(xen().host(host));
  });

  it('refuses fleet-only and Xen-only options where they mean nothing, naming the field', async () => {
    const err = await (await start('reintegrateHost', { host: 'xs2', maxMoves: 3 })).result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/^maxMoves: pool1 is a Xen pool, whose reintegration moves no VM back/);
  });
});
