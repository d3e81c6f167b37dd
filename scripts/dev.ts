/**
 * `npm run dev`: hvflow's main job on the embedded default, in one process tree:
 *   - the Temporal dev server (CLI 1.5.1) with SQLite persistence in .hvflow/ and the Web UI on localhost,
 *   - the lab: the seeds' cluster simulated over real SSH, with a real etcd cluster,
 *   - the hvflow worker, pointed at the lab's inventory, key and known_hosts.
 * Ctrl-C stops everything. Ports: HVFLOW_DEV_PORT (default 7233) and +1000 for the Web UI.
 */
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer } from './temporal-dev-server';
import { startLab } from '../lab';
import { createHvflowWorker } from '../worker/create-worker';
import { DEFAULT_TASK_QUEUE } from '../domain/contract';

async function main() {
  const root = path.join(__dirname, '..');
  const state = path.join(root, '.hvflow');
  mkdirSync(state, { recursive: true });
  const port = Number(process.env.HVFLOW_DEV_PORT ?? 7233);
  const taskQueue = process.env.HVFLOW_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;

  console.log('starting the Temporal dev server (SQLite: .hvflow/temporal.db) ...');
  const server = await startDevServer({
    port,
    uiPort: port + 1000,
    dbFilename: path.join(state, 'temporal.db'),
    logFile: openSync(path.join(state, 'temporal.log'), 'a'),
  });
  // HVFLOW_LAB_GLUSTER=real runs real glusterd, bricks and FUSE mounts instead of the simulation.
  const gluster = process.env.HVFLOW_LAB_GLUSTER === 'real' ? 'real' : 'simulated';
  console.log(`starting the lab (seed cluster: 13 hypervisors over SSH, real etcd, ${gluster} GlusterFS) ...`);
  // Its own loopback block, so that a test run on the same machine does not collide with it.
  const lab = await startLab({ dir: path.join(state, 'lab'), addressBase: process.env.HVFLOW_LAB_NET ?? '127.0.9', gluster });
  const connection = await NativeConnection.connect({ address: server.address });
  const { worker, pool } = await createHvflowWorker({
    connection,
    taskQueue,
    inventories: [lab.inventory],
    sshKeyPath: lab.privateKeyPath,
    knownHostsPath: lab.knownHostsPath,
    // The worker's own ipmitool is the lab's: a cold start-up powers the first hypervisors from here.
    ipmi: { user: 'ADMIN', password: () => 'lab-bmc-password', ipmitool: lab.workerIpmitool },
  });

  const stop = async () => {
    console.log('\nstopping the worker, the lab and the server ...');
    worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const env = `TEMPORAL_ADDRESS=${server.address} HVFLOW_TASK_QUEUE=${taskQueue} HVFLOW_INVENTORY=${lab.inventoryPath}`;
  console.log(`
hvflow is running.

  Web UI:          ${server.uiUrl}/namespaces/default/workflows
  Temporal:        ${server.address} (namespace default, task queue ${taskQueue})
  Lab inventory:   ${lab.inventoryPath}
  Lab faults:      npx tsx lab/cli.ts --dir ${lab.dir} fault crash worker2

Start a procedure:
  ${env} npm run hvflow -- plan evacuate worker1         # dry run: the full plan, nothing touched
  ${env} npm run hvflow -- evacuate worker1 --by $USER   # waits at the approval gate
  ${env} npm run hvflow -- list                          # what waits for you
  ${env} npm run hvflow -- approve <workflow-id> --by $USER --reason "maintenance window"
or from the temporal CLI:
  $(bash scripts/ensure-temporal.sh) workflow start --address ${server.address} --task-queue ${taskQueue} \\
     --type evacuateHypervisor --workflow-id evacuate-worker1 \\
     --input '{"cluster":"${lab.inventory.cluster}","host":"worker1","requestedBy":"'$USER'"}'
or from the Web UI: Start Workflow, with the same type, task queue and JSON input.

Ctrl-C to stop.`);

  try {
    await worker.run();
  } finally {
    await pool.closeAll();
    await connection.close();
    await lab.stop();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
