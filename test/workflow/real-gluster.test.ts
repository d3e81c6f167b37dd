/**
 * Seed 000 with real GlusterFS 10 (the lab's `gluster: 'real'` mode) on the real Temporal server:
 * the health checks read real heal entries, the evacuation of a GlusterFS server stops its real
 * glusterd, bricks and FUSE mounts, and the reintegration waits until real self-heal has drained
 * what was written while the host was away. Besides the seed's replicated volumes the pool has a
 * distribute volume, volscratch, which real glusterd refuses heal commands on: its check is its bricks.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { useHarness, waitForProgress, gateWaiting, resultUnparked } from '../helpers/harness';
import { approveSignal, decideSignal, progressQuery } from '../../workflows/messages';
import type { ClusterStatus } from '../../workflows/cluster-status';
import type { EvacuationResult } from '../../workflows/evacuate-host';
import type { ReintegrationResult } from '../../workflows/reintegrate-host';
import { until } from '../helpers/until';
import { seedTopology, type TopoVolume } from '../../lab/topology';

const SCRATCH: TopoVolume = { name: 'volscratch', type: 'distribute', servers: ['top1', 'top2', 'top3'], replica: 1, shardBlockSize: '' };
const seed = seedTopology();
const t = useHarness({ gluster: 'real', topology: { ...seed, volumes: [...seed.volumes, SCRATCH] } });
const g = () => t.h.lab.gluster!;
const line = (e: { host: string; argv: string[] }) => `${e.host}: ${e.argv.join(' ')}`;

describe('evacuating and reintegrating a GlusterFS server, with real GlusterFS', () => {
  const status = (): Promise<ClusterStatus> =>
    t.h.client.workflow.execute('clusterStatus', { taskQueue: t.h.taskQueue, workflowId: `status-${randomUUID()}`, args: [{ cluster: 'ocean' }] });

  it('clusterStatus reads the real volumes: three bricks each, no heal entry, the distribute volume by its bricks', async () => {
    const seq = t.lastSeq();
    const s = await status();
    expect(s.gluster?.healthy).toBe(true);
    expect(s.gluster?.volumes.map((v) => [v.volume, v.type, v.healEntries, v.bricks.map((b) => [b.brick, b.connected])])).toEqual([
      ...['volspoms1', 'volspoms2'].map((v) => [v, 'Replicate', 0, ['top1', 'top2', 'top3'].map((h) => [`${h}-data:/srv/gluster/${v}/brick`, true])]),
      ['volscratch', 'Distribute', null, ['top1', 'top2', 'top3'].map((h) => [`${h}-data:/srv/gluster/volscratch/brick`, true])],
    ]);
    // real glusterd refuses heal on a distribute volume: hvflow asks it none
    expect(t.h.lab.commandLog({ tool: 'gluster' }).filter((e) => e.seq > seq && e.argv.includes('heal') && e.argv.includes('volscratch'))).toEqual([]);
  });

  it('a dead brick of the real distribute volume is reported down; back once glusterd restarts it', async () => {
    await g().killBrick('volscratch', 'top3');
    const s = await status();
    expect(s.gluster?.healthy).toBe(false);
    expect(s.gluster?.problems).toEqual([
      'volscratch: brick(s) not online: top3-data:/srv/gluster/volscratch/brick (a Distribute volume keeps one copy of each file: the files on them are unavailable)',
    ]);
    await g().restartBricks('volscratch');
    await until('the brick back', async () => ((await status()).gluster?.healthy ? true : undefined));
  });

  it('parks on real heal entries, goes on once they drained, and stops top2’s real GlusterFS in the runbook order', async () => {
    await g().pendingHeal('volspoms1', 5, { brickHost: 'top3', writer: 'worker2' });
    const seq = t.lastSeq();
    const handle = await t.start('evacuateHypervisor', { host: 'top2' });
    const parked = await waitForProgress(handle, gateWaiting('check-gluster-unsafe'), 90_000);
    expect(parked.gate!.message).toMatch(/volspoms1: \d+ heal entries pending/);
    expect(t.mutatingSince(seq)).toEqual([]);

    await g().selfHeal('volspoms1', true);
    await handle.signal(decideSignal, { decision: 'retry', by: 'bob', reason: 'self-heal daemon was off; heal drained' });
    // The retry may still find entries while the self-heal daemon works: retry until the approval gate.
    await until('the approval gate', async () => {
      const p = await handle.query(progressQuery);
      if (p.gate?.name === 'check-gluster-unsafe') await handle.signal(decideSignal, { decision: 'retry', by: 'bob', reason: 'heal still draining' });
      return p.gate?.name === 'approve-evacuation';
    });
    await handle.signal(approveSignal, { by: 'bob', reason: 'PSU swap on top2' });
    const r = await resultUnparked<EvacuationResult>(handle);
    expect(r.plan.roles).toEqual({ glusterServer: true, glusterClient: true, etcdMember: true });

    // What really runs on top2 now: nothing of GlusterFS, no mount.
    for (const d of ['glusterd', 'glusterfsd', 'glusterfs'] as const) expect(g().running('top2', d), d).toBe(false);
    expect(await g().mounts('top2')).toEqual([]);
    expect(t.h.lab.etcd!.isRunning('top2')).toBe(false);
    // The runbook's order, each once.
    expect(
      t
        .mutatingSince(seq)
        .filter((e) => e.host === 'top2')
        .map(line),
    ).toEqual([
      'top2: systemctl stop fleet',
      'top2: systemctl stop glusterfsd glusterd',
      'top2: stop-all-gluster-processes.sh -g', // the inventory's stopAllScript, logged by its name
      'top2: umount -t fuse.glusterfs -a',
      'top2: systemctl stop etcd',
    ]);
  });

  it('waits for the real heal of what was written while top2 was away, then reintegrates it', async () => {
    // The self-heal daemon is held off so that the wait is seen; it is turned off while every peer
    // is up. (A peer that missed a volume option change re-imports the volume when it comes back,
    // and on a loaded machine glusterd 10.3 was seen to hang doing so: the lab's `volume set` then
    // timed out, on a pool where a peer no longer answered.)
    await t.h.lab.model.crash('top2'); // evacuated by the test above: boot it with its GlusterFS
    await t.h.lab.model.powerOn('top2');
    await g().selfHeal('volspoms2', false);
    // The hardware work: top2 off, then on again. While it is away the VMs keep writing: entries
    // pending for top2's bricks.
    await t.h.lab.model.crash('top2');
    await g().write('worker1', 'volspoms2', 8, `away-${Date.now()}-`);
    await t.h.lab.model.powerOn('top2');
    expect(g().running('top2', 'glusterd')).toBe(true);
    expect(await g().mounts('top2')).toHaveLength(3);

    const seq = t.lastSeq();
    const handle = await t.start('reintegrateHypervisor', { host: 'top2', noFailback: true, healWaitMinutes: 2 });
    const waiting = await waitForProgress(handle, (p) => p.steps.some((s) => s.id === 'wait-heal' && s.state === 'running'), 90_000);
    expect(waiting.phase).not.toBe('done');
    await new Promise((r) => setTimeout(r, 3000));
    expect((await handle.query(progressQuery)).steps.find((s) => s.id === 'wait-heal')!.state).toBe('running'); // still waiting: entries pending
    expect(t.mutatingSince(seq)).toEqual([]); // fleet is not started before heal drained

    await g().selfHeal('volspoms2', true);
    const r = await resultUnparked<ReintegrationResult>(handle);
    const final = await handle.query(progressQuery);
    expect(final.steps.find((s) => s.id === 'wait-heal')!.state).toBe('done');
    expect(t.mutatingSince(seq).map(line)).toEqual(['top2: systemctl start fleet']);
    expect(r.host).toBe('top2');
  });
});
