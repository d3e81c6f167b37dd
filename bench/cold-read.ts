/**
 * Prints figures, asserts nothing: the cold read of a generated cluster (clusterStatus with no unit
 * file cached: a fresh worker process per size) at several sizes, to show how it grows with the
 * number of units. The last line is one JSON array: per size the units, the seconds, the seconds per
 * 1000 units, the units clusterStatus returned, the SSH execs that ran `fleetctl cat` and the fleetctl
 * processes the lab served.
 *
 *   npx tsx bench/cold-read.ts [--sizes 1000,4000,10000] [--vms-per-hypervisor 20] [--port 19744]
 *
 * Starts its own Temporal dev server (in memory) and, per size, a lab on HVFLOW_LAB_NET (default 127.40).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { startDevServer } from '../scripts/temporal-dev-server';
import { startLab } from '../lab';
import { generateTopology } from '../lab/topology';
import { createHvflowWorker } from '../worker/create-worker';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,4000,10000' },
    'vms-per-hypervisor': { type: 'string', default: '20' },
    port: { type: 'string', default: '19744' },
    one: { type: 'string' },
    server: { type: 'string' },
  },
});

/** One size, in its own process (the worker's spec cache is per process): prints one JSON line. */
async function one(units: number, address: string) {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const hypervisors = Math.max(3, Math.ceil(units / Number(args['vms-per-hypervisor'])));
  let t = Date.now();
  const lab = await startLab({ topology: generateTopology({ hypervisors, vms: units }), addressBase: process.env.HVFLOW_LAB_NET ?? '127.40' });
  const labStartSeconds = (Date.now() - t) / 1000;
  const native = await NativeConnection.connect({ address });
  const taskQueue = `cold-${units}`;
  const keys = { sshKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath };
  const { worker, pool } = await createHvflowWorker({ connection: native, taskQueue, inventories: [lab.inventory], ...keys });
  const runs = pool.run.bind(pool);
  let catExecs = 0;
  pool.run = (target, argv, opts) => {
    if (argv.some((a) => a.includes('fleetctl cat'))) catExecs++;
    return runs(target, argv, opts);
  };
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    const before = lab.commandLog().length;
    t = Date.now();
    const workflowId = `cold-read-${randomUUID()}`;
    const status: { units: unknown[] } = await client.workflow.execute('clusterStatus', { taskQueue, workflowId, args: [{ cluster: lab.inventory.cluster }] });
    const seconds = (Date.now() - t) / 1000;
    const fleetctlCalls = lab
      .commandLog()
      .slice(before)
      .filter((c) => c.argv[0] === 'fleetctl').length;
    const r = (x: number) => Math.round(x * 100) / 100;
    const perThousand = r((seconds * 1000) / units);
    const figures = { units, hypervisors, seconds: r(seconds), secondsPer1000Units: perThousand, unitsRead: status.units.length, catExecs, fleetctlCalls };
    console.log(JSON.stringify({ ...figures, labStartSeconds: r(labStartSeconds) }));
  } finally {
    worker.shutdown();
    await running;
    await pool.closeAll();
    await connection.close();
    await native.close();
    await lab.stop();
  }
}

async function main() {
  if (args.one) return one(Number(args.one), args.server!);
  const server = await startDevServer({ port: Number(args.port) });
  const results: unknown[] = [];
  try {
    for (const size of args.sizes!.split(',').map(Number)) {
      const argv = [...process.execArgv, __filename, '--one', String(size), '--server', server.address];
      const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
      const line = out.trim().split('\n').pop()!;
      console.error(line);
      results.push(JSON.parse(line));
    }
  } finally {
    await server.stop();
  }
  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
