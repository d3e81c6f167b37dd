import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../helpers/harness';
import type { ClusterStatus } from '../../workflows/cluster-status';
import { unpackFleet } from '../../domain/fleet-wire';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

async function status(): Promise<ClusterStatus> {
  return h.client.workflow.execute('clusterStatus', {
    taskQueue: h.taskQueue,
    workflowId: `status-${randomUUID()}`,
    args: [{ cluster: h.lab.inventory.cluster }],
  });
}

describe('clusterStatus on the real Temporal server against the seed lab', () => {
  it('matches the lab model: machines, units, weights, GlusterFS and etcd', async () => {
    const s = await status();
    const model = h.lab.model;
    // Seed 000's load measurement.
    expect(s.loadByHost).toMatchObject({ top1: 20000, top2: 24000, top3: 20000, worker1: 20000, worker2: 58000, worker3: 50000 });
    expect(s.machines.filter((m) => m.fleet)).toHaveLength(13);
    expect(s.machines.find((m) => m.host === 'worker3')?.metadata).toMatchObject({ role: 'top' });
    const units = unpackFleet(s.fleet!).units;
    const admin1 = units.find((u) => u.vm === 'admin1')!;
    expect(admin1).toMatchObject({ unit: 'pcocc-vm-admin1.service', host: 'top1', active: 'active', sub: 'running' });
    // Every unit where the model says it runs.
    for (const u of units) {
      const m = model.units.get(u.unit);
      expect(m, u.unit).toBeDefined();
    }
    expect(s.gluster?.healthy).toBe(true);
    expect(s.gluster?.volumes.map((v) => [v.volume, v.healEntries])).toEqual([
      ['volspoms1', 0],
      ['volspoms2', 0],
    ]);
    expect(s.etcd?.healthyMembers).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(s.problems).toEqual([]);
  });

  it('waits while glusterd is busy with another transaction, then reads the volumes', async () => {
    const before = h.lab.commandLog().reduce((m, e) => Math.max(m, e.seq), 0);
    h.lab.faults.glusterBusy(2); // "Another transaction is in progress ... try again after some time"
    const s = await status();
    expect(s.gluster?.healthy).toBe(true);
    expect(s.gluster?.volumes.map((v) => [v.volume, v.healEntries, v.rebalanceRunning])).toEqual([
      ['volspoms1', 0, false],
      ['volspoms2', 0, false],
    ]);
    // The refused command was run again (after a pause), the others once each.
    const rebalance = h.lab.commandLog({ tool: 'gluster' }).filter((e) => e.seq > before && e.argv.includes('rebalance'));
    expect(rebalance.map((e) => [e.argv.at(-2), e.exitCode])).toEqual([
      ['volspoms1', 1],
      ['volspoms1', 1],
      ['volspoms1', 1], // not a distribute volume: the answer that says no rebalance runs
      ['volspoms2', 1],
    ]);
    expect(rebalance[2]!.time - rebalance[0]!.time).toBeGreaterThanOrEqual(2 * 1900); // it waited between tries
  });

  it('shows a crashed hypervisor: units rescheduled elsewhere, etcd degraded, fleet machine gone', async () => {
    await h.lab.faults.crash('worker2');
    await new Promise((r) => setTimeout(r, 1500)); // agent TTL in the lab
    const s = await status();
    expect(s.machines.find((m) => m.host === 'worker2')?.fleet).toBe(false);
    expect(unpackFleet(s.fleet!).units.filter((u) => u.host === 'worker2')).toEqual([]);
    expect(s.loadByHost.worker2 ?? 0).toBe(0);
    expect(s.etcd?.unhealthyMembers).toEqual(['worker2']);
    expect(s.problems.join('\n')).toMatch(/worker2: fleetd is not registered/);
    expect(s.problems.join('\n')).toMatch(/etcd: unhealthy member\(s\) worker2/);
  });
});
