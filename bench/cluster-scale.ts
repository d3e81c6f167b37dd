/**
 * Prints figures, asserts nothing: how long the lab takes to start at a given size, and how long
 * clusterStatus (fleetctl list-*, one batched `fleetctl cat` round trip, gluster and etcd checks)
 * and a dry-run evacuation take against it, cold (unit specs not cached) and warm.
 *
 *   npx tsx bench/cluster-scale.ts [hypervisors=60] [vms=1500]
 *
 * Starts its own Temporal dev server (in memory) and lab on 127.0.11.x.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { startDevServer } from '../scripts/temporal-dev-server';
import { startLab } from '../lab';
import { generateTopology } from '../lab/topology';
import { createHvflowWorker } from '../worker/create-worker';

async function main() {
  const hypervisors = Number(process.argv[2] ?? 60);
  const vms = Number(process.argv[3] ?? 1500);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer({ port: 19733 });
  let t = Date.now();
  const lab = await startLab({ topology: generateTopology({ hypervisors, vms }), addressBase: process.env.HVFLOW_LAB_NET ?? '127.0.11' });
  const labStart = Date.now() - t;
  const native = await NativeConnection.connect({ address: server.address });
  const { worker, pool } = await createHvflowWorker({
    connection: native,
    taskQueue: 'bench',
    inventories: [lab.inventory],
    sshKeyPath: lab.privateKeyPath,
    knownHostsPath: lab.knownHostsPath,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const time = async (type: string, input: Record<string, unknown>) => {
    const t0 = Date.now();
    await client.workflow.execute(type, { taskQueue: 'bench', workflowId: `bench-${randomUUID()}`, args: [{ cluster: lab.inventory.cluster, ...input }] });
    return Date.now() - t0;
  };
  try {
    const cold = await time('clusterStatus', {});
    const warm = await time('clusterStatus', {});
    const plan = await time('evacuateHypervisor', { host: lab.inventory.hypervisors[5]!.name, dryRun: true });
    const sshCommands = lab.commandLog().length;
    console.log(
      JSON.stringify(
        {
          hypervisors,
          vms,
          labStartMs: labStart,
          clusterStatusColdMs: cold,
          clusterStatusWarmMs: warm,
          evacuationDryRunMs: plan,
          commandsReceivedByTheLab: sshCommands,
          sshConnections: pool.stats(),
        },
        null,
        2,
      ),
    );
  } finally {
    worker.shutdown();
    await running;
    await pool.closeAll();
    await connection.close();
    await native.close();
    t = Date.now();
    await lab.stop();
    console.log(`lab stop: ${Date.now() - t} ms`);
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
