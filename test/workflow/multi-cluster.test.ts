/**
 * One worker, many clusters (seed 003: "quite a farm of XenServer clusters"): a worker given the
 * seed fleet lab's inventory and a Xen pool's serves both; each procedure's `cluster` picks the
 * inventory its activities use, each cluster has its own lock, and a cluster the worker does not
 * serve is refused, naming those it does.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { startLab, type Lab } from '../../lab';
import { xenPoolTopology } from '../../lab/xen-topology';
import { createHvflowWorker } from '../../worker/create-worker';
import type { SshPool } from '../../activities/ssh';
import { testNamespace } from '../helpers/worker-slot';
import { workflowBundle, waitForProgress, gateWaiting } from '../helpers/harness';
import { rejectSignal } from '../../workflows/messages';
import type { ClusterStatus } from '../../workflows/cluster-status';
import type { EvacuationResult } from '../../workflows/evacuate-host';

let fleet: Lab;
let pool: Lab;
let client: Client;
let connection: Connection;
let native: NativeConnection;
let worker: Worker;
let ssh: SshPool;
let running: Promise<void>;
const taskQueue = `hvflow-farm-${randomUUID()}`;

beforeAll(async () => {
  fleet = await startLab({ agentTtlMs: 500, vmStopMs: 200, vmStartMs: 200 });
  // The same loopback block, another sshd port; the fleet lab's client key.
  pool = await startLab({
    topology: xenPoolTopology({ cluster: 'pool3', hosts: 4, vms: 12, seed: 5 }),
    timeScale: 0.02,
    sshPortBase: 2522,
    clientKey: fleet.clientKey,
  });
  const knownHosts = path.join(pool.dir, 'farm_known_hosts');
  writeFileSync(knownHosts, readFileSync(fleet.knownHostsPath, 'utf8') + readFileSync(pool.knownHostsPath, 'utf8'));
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace: testNamespace() });
  native = await NativeConnection.connect({ address });
  ({ worker, pool: ssh } = await createHvflowWorker({
    connection: native,
    namespace: testNamespace(),
    taskQueue,
    inventories: [fleet.inventory, pool.inventory],
    sshKeyPath: fleet.privateKeyPath,
    knownHostsPath: knownHosts,
    workflowBundle: workflowBundle(),
  }));
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await ssh?.closeAll();
  await native?.close();
  await connection?.close();
  await pool?.stop();
  await fleet?.stop();
});

const run = <T>(type: string, input: Record<string, unknown>) =>
  client.workflow.execute(type, { taskQueue, workflowId: `${type}-${randomUUID()}`, args: [input] }) as Promise<T>;

describe('a worker serving a fleet cluster and a Xen pool', () => {
  it('reads each cluster with its own inventory, on its own hosts, at the same time', async () => {
    const fleetSeq = fleet.commandLog().length;
    const poolSeq = pool.commandLog().length;
    const [ocean, pool3] = await Promise.all([
      run<ClusterStatus>('clusterStatus', { cluster: 'ocean' }),
      run<ClusterStatus>('clusterStatus', { cluster: 'pool3' }),
    ]);
    expect(ocean.stack).toBeUndefined();
    expect(ocean.machines.map((m) => m.host)).toContain('top1');
    expect(pool3.stack).toBe('xen');
    expect(pool3.machines.map((m) => m.host)).toEqual(['xs1', 'xs2', 'xs3', 'xs4']);
    // fleetctl only on the fleet lab, xe only on the pool.
    const tools = (lab: Lab, from: number) =>
      new Set(
        lab
          .commandLog()
          .slice(from)
          .map((e) => e.argv[0]),
      );
    expect(tools(fleet, fleetSeq).has('fleetctl')).toBe(true);
    expect(tools(fleet, fleetSeq).has('xe')).toBe(false);
    expect([...tools(pool, poolSeq)]).toEqual(['xe']);
  });

  it('holds one lock per cluster: a procedure parked on the pool does not block the fleet cluster', async () => {
    const parked = await client.workflow.start('evacuateHost', {
      taskQueue,
      workflowId: `farm-evacuate-${randomUUID()}`,
      args: [{ cluster: 'pool3', host: 'xs2', requestedBy: 'alice' }],
    });
    await waitForProgress(parked, gateWaiting('approve-evacuation'));
    const plan = await run<EvacuationResult>('evacuateHost', { cluster: 'ocean', host: 'worker1', requestedBy: 'alice', dryRun: true });
    expect(plan.plan.units.length).toBeGreaterThan(0);
    await parked.signal(rejectSignal, { by: 'bob', reason: 'test over' });
    await parked.result().catch(() => undefined);
  });

  it('refuses a cluster it does not serve, naming the ones it does', async () => {
    const err = (await run('clusterStatus', { cluster: 'pool9' }).catch((e: unknown) => e)) as { cause?: { message?: string } };
    expect(err.cause?.message).toMatch(/"pool9" is not a cluster this worker serves \(ocean, pool3: one inventory each in HVFLOW_INVENTORY\)/);
  });
});
