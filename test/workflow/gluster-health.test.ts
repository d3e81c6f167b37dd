/**
 * The GlusterFS health checks on the real Temporal server against the simulated lab, per volume type:
 * the seed's replicated volumes plus a distribute volume (no heal: its bricks must be up), a
 * rebalance or a 3.x tier daemon that parks an evacuation on its safety gate with nothing executed,
 * and a GlusterFS server that crashed: the check asks the next server and reports the GlusterFS state.
 *
 * The control host here is worker1, which serves no brick: gluster runs on top1 first.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { useHarness, waitForProgress, gateWaiting, resultUnparked } from '../helpers/harness';
import { rejectSignal } from '../../workflows/messages';
import type { ClusterStatus } from '../../workflows/cluster-status';
import { seedTopology, type TopoVolume } from '../../lab/topology';

const SCRATCH: TopoVolume = { name: 'volscratch', type: 'distribute', servers: ['top1', 'top2', 'top3'], replica: 1, shardBlockSize: '' };
const seed = seedTopology();
const t = useHarness({ topology: { ...seed, controlHost: 'worker1', volumes: [...seed.volumes, SCRATCH] } });
const model = () => t.h.lab.model;
const line = (e: { host: string; argv: string[] }) => `${e.host}: ${e.argv.join(' ')}`;

/** clusterStatus; a step that fails (an SSH error, say) parks it, which fails the test with the gate's message. */
async function status(): Promise<ClusterStatus> {
  const handle = await t.h.client.workflow.start('clusterStatus', {
    taskQueue: t.h.taskQueue,
    workflowId: `status-${randomUUID()}`,
    args: [{ cluster: 'ocean' }],
  });
  try {
    return await resultUnparked<ClusterStatus>(handle);
  } finally {
    await handle.terminate('test over').catch(() => undefined);
  }
}

/** Starts an evacuation of top2 and waits until it parks on the GlusterFS safety gate; returns its message. */
async function evacuationParksOnGluster(): Promise<string> {
  const seq = t.lastSeq();
  const handle = await t.start('evacuateHypervisor', { host: 'top2' });
  const p = await waitForProgress(handle, gateWaiting('check-gluster-unsafe'), 90_000);
  expect(p.gate!.kind).toBe('safety');
  expect(t.mutatingSince(seq).map(line)).toEqual([]); // nothing executed
  await handle.signal(rejectSignal, { by: 'dave', reason: 'not while GlusterFS is busy' });
  await handle.result().catch(() => undefined);
  expect(t.mutatingSince(seq).map(line)).toEqual([]);
  return p.gate!.message;
}

describe('GlusterFS health per volume type', () => {
  it('a healthy distribute volume: its type is read, its bricks are up, and no heal command is sent to it', async () => {
    const seq = t.lastSeq();
    const s = await status();
    expect(s.gluster?.healthy).toBe(true);
    expect(s.gluster?.volumes.map((v) => [v.volume, v.type, v.heals, v.healEntries])).toEqual([
      ['volspoms1', 'Replicate', true, 0],
      ['volspoms2', 'Replicate', true, 0],
      ['volscratch', 'Distribute', false, null],
    ]);
    expect(s.gluster!.volumes[2]!.bricks.map((b) => [b.brick, b.connected])).toEqual(
      ['top1', 'top2', 'top3'].map((h) => [`${h}-data:/gluster/volscratch/brick`, true]),
    );
    const gluster = t.h.lab.commandLog({ tool: 'gluster' }).filter((e) => e.seq > seq);
    expect(gluster.filter((e) => e.argv.includes('heal') && e.argv.includes('volscratch')).map(line)).toEqual([]);
    expect(gluster.filter((e) => e.argv.join(' ') === 'gluster --mode=script volume info')).toHaveLength(1); // the types: one command per check
    expect(gluster.every((e) => e.exitCode === 0 || e.argv.includes('tier') || e.argv.includes('rebalance'))).toBe(true);
    expect(s.problems).toEqual([]);
  });

  it('a down brick of the distribute volume is reported as such', async () => {
    model().stopBricks('top3');
    try {
      const s = await status();
      expect(s.gluster?.healthy).toBe(false);
      expect(s.problems).toContain(
        'volscratch: brick(s) not online: top3-data:/gluster/volscratch/brick (a Distribute volume keeps one copy of each file: the files on them are unavailable)',
      );
      expect(s.problems.join('\n')).toMatch(/volspoms1: heal entries unknown \(bricks not connected: top3-data:\/gluster\/volspoms1\/brick\)/);
    } finally {
      model().startGlusterd('top3'); // glusterd starts the bricks it lacks
    }
    expect((await status()).gluster?.healthy).toBe(true);
  });

  it('a running rebalance parks the evacuation of a GlusterFS server on its safety gate, nothing executed', async () => {
    model().volume('volscratch').rebalance = 'in progress';
    try {
      expect(await evacuationParksOnGluster()).toMatch(/failed: volscratch: a rebalance is running$/);
    } finally {
      model().volume('volscratch').rebalance = 'completed';
    }
  });

  it('an active tier daemon (GlusterFS 3.x tier volume) parks the evacuation on its safety gate, nothing executed', async () => {
    expect(model().glusterVersion).toMatch(/^3\./); // the seeds' version: GlusterFS 10 has no tiering
    model().attachTier('volspoms2', ['top1', 'top3']);
    try {
      expect(await evacuationParksOnGluster()).toMatch(/failed: volspoms2: a tier daemon is active$/);
      const s = await status();
      expect(s.gluster?.volumes.find((v) => v.volume === 'volspoms2')).toMatchObject({ type: 'Tier', heals: true, healEntries: 0, tierDaemon: true });
    } finally {
      model().detachTier('volspoms2');
    }
  });

  it('a GlusterFS server crashed: the check asks the next server and reports the GlusterFS state, not an SSH error', async () => {
    await t.h.lab.faults.crash('top1');
    try {
      const s = await status();
      expect(s.gluster?.ranOn).toBe('top2');
      expect(s.problems).toEqual(
        expect.arrayContaining([
          'volspoms1: heal entries unknown (bricks not connected: top1-data:/gluster/volspoms1/brick)',
          'volspoms2: heal entries unknown (bricks not connected: top1-data:/gluster/volspoms2/brick)',
          expect.stringMatching(/^volscratch: brick\(s\) not online: top1-data:\/gluster\/volscratch\/brick /),
        ]),
      );
    } finally {
      await model().powerOn('top1');
    }
  });
});
