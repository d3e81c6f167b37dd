/**
 * evacuateHypervisor against the real Temporal server and the seed lab (seed 000).
 */
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, rejectSignal, decideSignal, progressQuery } from '../../workflows/messages';
import type { EvacuationResult } from '../../workflows/evacuate-host';

const t = useHarness();
const { lastSeq, mutatingSince } = t;
const cmd = (e: { host: string; argv: string[] }) => `${e.host}: ${e.argv.join(' ')}`;
const start = (input: Record<string, unknown>) => t.start('evacuateHypervisor', input);

describe('evacuateHypervisor', () => {
  it('dry-run returns the full plan and changes nothing', async () => {
    const seq = lastSeq();
    const handle = await start({ host: 'worker1', dryRun: true });
    const r: EvacuationResult = await handle.result();
    expect(r.dryRun).toBe(true);
    expect(r.plan.roles).toEqual({ glusterServer: false, glusterClient: true, etcdMember: true });
    expect(r.plan.units.map((u) => u.vm).sort()).toEqual(['i0conf1', 'ns1', 'ns2']);
    expect(r.plan.evacuatedWeight).toBe(20000);
    expect(r.plan.units.every((u) => u.to && u.to !== 'worker1')).toBe(true);
    expect(r.plan.steps).toEqual(['systemctl stop fleet on worker1', 'umount -t fuse.glusterfs -a on worker1', 'systemctl stop etcd on worker1']);
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('rejecting at the gate stops the procedure with nothing changed', async () => {
    const seq = lastSeq();
    const handle = await start({ host: 'worker3' });
    const p = await waitForProgress(handle, gateWaiting('approve-evacuation'));
    expect(p.gate!.evidence).toMatchObject({ host: 'worker3' });
    await handle.signal(rejectSignal, { by: 'bob', reason: 'not tonight' });
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String(err.cause?.message)).toMatch(/rejected at gate approve-evacuation by bob: not tonight/);
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('parks when another etcd member is down, and executes nothing', async () => {
    await t.h.lab.etcd!.stopMember('top2');
    await t.h.lab.etcd!.stopMember('top3');
    try {
      const seq = lastSeq();
      const handle = await start({ host: 'worker1' });
      const p = await waitForProgress(handle, gateWaiting('check-etcd-quorum-unsafe'));
      expect(p.gate!.kind).toBe('safety');
      expect(p.gate!.message).toMatch(/would leave 3 healthy members of 6.*quorum is 4/);
      expect(p.gate!.options).toEqual(['retry', 'override', 'abort']);
      // A wrong decision is ignored visibly, not applied.
      await handle.signal(decideSignal, { decision: 'override', by: 'carol' });
      await handle.signal(decideSignal, { decision: 'abort', by: 'carol', reason: 'top2 and top3 are down, investigate' });
      await expect(handle.result()).rejects.toThrow();
      const final = await handle.query(progressQuery);
      expect(final.ignored.map((i) => i.message).join('\n')).toMatch(/override must say why/);
      expect(mutatingSince(seq)).toEqual([]);
    } finally {
      await t.h.lab.etcd!.startMember('top2');
      await t.h.lab.etcd!.startMember('top3');
    }
  });

  it('a dry run of an unsafe evacuation returns its plan with every failed check, parks nowhere, changes nothing', async () => {
    await t.h.lab.etcd!.stopMember('top2');
    await t.h.lab.etcd!.stopMember('top3');
    t.h.lab.faults.slowHeal('volspoms1', 5, 0);
    try {
      const seq = lastSeq();
      const handle = await start({ host: 'top1', dryRun: true });
      const r = (await handle.result()) as EvacuationResult & { failedChecks: { id: string; reason: string }[] };
      expect(r.dryRun).toBe(true);
      expect(r.failedChecks.map((c) => c.id)).toEqual(['check-etcd-quorum', 'check-gluster']);
      expect(r.failedChecks[0]!.reason).toMatch(/quorum is 4/);
      expect(r.failedChecks[1]!.reason).toMatch(/volspoms1: 15 heal entries pending/);
      expect(r.plan.units.length).toBeGreaterThan(0); // the plan is there too
      const p = await handle.query(progressQuery);
      expect(p.gates).toEqual([]);
      expect(p.steps.find((s) => s.id === 'check-etcd-quorum')?.state).toBe('failed');
      expect(mutatingSince(seq)).toEqual([]);
    } finally {
      t.h.lab.faults.slowHeal('volspoms1', 0, 0);
      await t.h.lab.etcd!.startMember('top2');
      await t.h.lab.etcd!.startMember('top3');
    }
  });

  it('parks when a volume has heal entries', async () => {
    t.h.lab.faults.slowHeal('volspoms1', 12, 0); // 12 entries on each of its 3 bricks
    try {
      const seq = lastSeq();
      const handle = await start({ host: 'top2' });
      const p = await waitForProgress(handle, gateWaiting('check-gluster-unsafe'));
      expect(p.gate!.message).toMatch(/volspoms1: 36 heal entries pending/);
      await handle.signal(rejectSignal, { by: 'dave', reason: 'heal first' });
      const err = await handle.result().catch((e) => e);
      // reject on a safety gate (options retry / override / abort) means abort.
      expect(String(err.cause?.message)).toMatch(/^aborted at gate check-gluster-unsafe by dave: heal first; nothing was changed on the cluster$/);
      expect(mutatingSince(seq)).toEqual([]);
    } finally {
      t.h.lab.faults.slowHeal('volspoms1', 0, 0);
    }
  });

  it('refuses a second procedure on the same cluster, naming the running one', async () => {
    const first = await start({ host: 'worker3' });
    await waitForProgress(first, gateWaiting('approve-evacuation'));
    const second = await start({ host: 'worker2', requestedBy: 'erin' });
    await expect(second.result()).rejects.toThrow();
    const err = await second.result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(
      new RegExp(`cluster ocean is busy: evacuateHypervisor worker3 \\(workflow ${first.workflowId}, started by alice\\) is running`),
    );
    // Once the first ends, the cluster is free again (the lock ends with its holder).
    await first.terminate('test');
    const third = await start({ host: 'worker3' });
    await waitForProgress(third, gateWaiting('approve-evacuation'));
  });

  it('evacuates worker1 in the runbook order once approved', async () => {
    const seq = lastSeq();
    const handle = await start({ host: 'worker1' });
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    expect(mutatingSince(seq)).toEqual([]);
    await handle.signal(approveSignal, { by: 'bob', reason: 'HW maintenance ticket 42' });
    const r: EvacuationResult = await handle.result();
    expect(r.moved.map((m) => m.unit).sort()).toEqual(['pcocc-vm-i0conf1.service', 'pcocc-vm-ns1.service', 'pcocc-vm-ns2.service']);
    for (const m of r.moved) expect(['top1', 'top2', 'top3', 'worker2', 'worker3']).toContain(m.host);
    expect(mutatingSince(seq).map(cmd)).toEqual(['worker1: systemctl stop fleet', 'worker1: umount -t fuse.glusterfs -a', 'worker1: systemctl stop etcd']);
    expect(r.gates.find((g) => g.name === 'approve-evacuation')).toMatchObject({ decision: 'approve', by: 'bob', reason: 'HW maintenance ticket 42' });
    expect(t.h.lab.etcd!.isRunning('worker1')).toBe(false);
  });
});
