/**
 * Prints figures, asserts nothing: a whole shutdown + start-up, an evacuation, a failback and a
 * clusterStatus of a generated cluster on the lab, and what they cost Temporal (largest payload,
 * longest history) and the worker (peak RSS, SSH connections per host). The last line is one JSON object.
 *
 *   npm run bench:scale -- --hypervisors 500 --vms 10000 [--parallelism 10]
 *
 * Starts its own Temporal dev server (in memory) and lab on HVFLOW_LAB_NET (default 127.30, a /16:
 * lab/addresses.ts). Every gate is approved as it opens. criticalPathSeconds counts the lab's simulated
 * VM stop / start time of the tiers that run one after the other (vmStopMs / vmStartMs per batch).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { startDevServer } from '../scripts/temporal-dev-server';
import { startLab } from '../lab';
import { generateTopology } from '../lab/topology';
import { createHvflowWorker } from '../worker/create-worker';
import { approveSignal, decideSignal, progressQuery } from '../workflows/messages';
import type { ShutdownResult } from '../workflows/cluster-shutdown';
import type { StartupResult } from '../workflows/cluster-startup';
import { historyFigures, type HistoryFigures } from '../test/helpers/history-figures';

const { values: args } = parseArgs({
  options: { hypervisors: { type: 'string', default: '500' }, vms: { type: 'string', default: '10000' }, parallelism: { type: 'string', default: '10' } },
});
const hypervisors = Number(args.hypervisors);
const vms = Number(args.vms);
const parallelism = Number(args.parallelism);
const VM_STOP_MS = 300;
const VM_START_MS = 300;

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const server = await startDevServer({ port: 19833 });
  const t0 = Date.now();
  const topology = generateTopology({ hypervisors, vms });
  const lab = await startLab({ topology, addressBase: process.env.HVFLOW_LAB_NET ?? '127.30', vmStopMs: VM_STOP_MS, vmStartMs: VM_START_MS });
  const labStartSeconds = (Date.now() - t0) / 1000;
  console.error(`lab of ${hypervisors} hypervisors / ${vms} VMs started in ${labStartSeconds} s`);
  const native = await NativeConnection.connect({ address: server.address });
  const { worker, pool } = await createHvflowWorker({
    connection: native,
    taskQueue: 'bench',
    inventory: lab.inventory,
    sshKeyPath: lab.privateKeyPath,
    knownHostsPath: lab.knownHostsPath,
    ipmi: { user: 'ADMIN', password: () => 'lab-bmc-password', ipmitool: lab.workerIpmitool },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const wallSeconds: Record<string, number> = {};
  const figures: Record<string, HistoryFigures> = {};
  const errors: Record<string, string> = {};
  const parked: Record<string, string[]> = {};

  /** Runs a procedure to its end, approving each gate; records its wall time and history figures. */
  async function run<T>(label: string, type: string, input: Record<string, unknown>, workflowId = `bench-${label}-${randomUUID()}`): Promise<T | undefined> {
    const started = Date.now();
    const handle = await client.workflow.start(type, { taskQueue: 'bench', workflowId, args: [{ cluster: lab.inventory.cluster, ...input }] });
    let done = false;
    const approver = (async () => {
      const answered = new Set<string>();
      while (!done) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        const gate = p?.gate;
        if (gate && !answered.has(`${gate.name}@${gate.openedAt}`)) {
          answered.add(`${gate.name}@${gate.openedAt}`);
          if (gate.options.includes('approve')) await handle.signal(approveSignal, { by: 'bench', reason: 'bench' });
          else {
            // not an approval: a check failed or a step parked; say why in the figures
            parked[label] = [...(parked[label] ?? []), `${gate.name}: ${String(gate.message).slice(0, 300)}`];
            console.error(`${label} parked at ${gate.name}: ${gate.message}`);
            await handle.signal(decideSignal, { decision: gate.options.includes('override') ? 'override' : 'abort', by: 'bench', reason: 'bench' });
          }
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      return (await handle.result()) as T;
    } catch (e) {
      errors[label] = String((e as { cause?: Error }).cause?.message ?? e).slice(0, 400);
      return undefined;
    } finally {
      done = true;
      await approver;
      wallSeconds[label] = (Date.now() - started) / 1000;
      figures[label] = historyFigures(await handle.fetchHistory());
      console.error(`${label}: ${wallSeconds[label]} s, ${JSON.stringify(figures[label])}${errors[label] ? `, failed: ${errors[label]}` : ''}`);
    }
  }

  const criticalPathSeconds: Record<string, number> = {};
  try {
    await run('clusterStatus', 'clusterStatus', {});
    const evacuated = lab.inventory.hypervisors.find((h) => h.role === 'worker')!.name;
    await run('evacuation', 'evacuateHypervisor', { host: evacuated, requestedBy: 'bench' });
    await run('failback', 'failback', { requestedBy: 'bench' });
    const shutdownId = `bench-shutdown-${randomUUID()}`;
    const down = await run<ShutdownResult>('shutdown', 'clusterShutdown', { parallelism, requestedBy: 'bench' }, shutdownId);
    if (down) criticalPathSeconds.shutdown = ((down.plan.stopBatches.length + (down.plan.dns.length ? 1 : 0)) * VM_STOP_MS) / 1000;
    const up = down ? await run<StartupResult>('startup', 'clusterStartup', { shutdownWorkflowId: shutdownId, parallelism, requestedBy: 'bench' }) : undefined;
    if (up) criticalPathSeconds.startup = (((up.plan.dhcp.length ? 1 : 0) + (up.plan.dns.length ? 1 : 0) + up.plan.restBatches.length) * VM_START_MS) / 1000;
  } finally {
    worker.shutdown();
    await running;
    await pool.closeAll();
    clearInterval(rssTimer);
    await connection.close();
    await native.close();
    await lab.stop();
    await server.stop();
  }
  const cycleWall = (wallSeconds.shutdown ?? 0) + (wallSeconds.startup ?? 0);
  const cycleCritical = (criticalPathSeconds.shutdown ?? 0) + (criticalPathSeconds.startup ?? 0);
  const all = Object.values(figures);
  console.log(
    JSON.stringify({
      hypervisors,
      vms,
      parallelism,
      labStartSeconds,
      wallSeconds,
      criticalPathSeconds,
      cycleOverhead: cycleCritical ? Number((cycleWall / cycleCritical).toFixed(2)) : null,
      maxPayloadBytes: Math.max(0, ...all.map((f) => f.maxPayload)),
      maxHistoryEvents: Math.max(0, ...all.map((f) => f.events)),
      maxHistoryBytes: Math.max(0, ...all.map((f) => f.bytes)),
      history: figures,
      sshConnectionsPerHost: pool.maxOpenPerHost(),
      sshConnectsPerHost: pool.maxConnectsPerHost(),
      sshConnectionsLost: pool.lostConnections(),
      workerPeakRssBytes: peakRss,
      errors,
      parked,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
