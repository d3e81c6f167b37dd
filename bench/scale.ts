/**
 * Prints figures, asserts nothing: a whole shutdown + start-up, an evacuation, a failback and a
 * clusterStatus of a generated cluster on the lab, and what they cost Temporal (largest payload,
 * longest history) and the worker (peak RSS, SSH connections per host). The last line is one JSON object.
 *
 *   npm run bench:scale -- --hypervisors 500 --vms 10000 [--parallelism 50] [--vm-stop-ms 5000] [--vm-start-ms 5000]
 *                          [--procedures clusterStatus,evacuation,failback,cycle]
 *
 * Starts its own Temporal dev server (in memory) and, in a process of its own (bench/scale-lab.ts), a lab
 * on HVFLOW_LAB_NET (default 127.30, a /16: lab/addresses.ts). workerPeakRssBytes is this process: the
 * worker and the client. Every gate is approved as it opens; the time a gate stood open (from its opening
 * to the approval's signal) is a person's, so gateSeconds is printed and left out of the overhead.
 * criticalPathSeconds counts the lab's simulated VM stop / start time of the tiers that run one after
 * the other (vmStopMs / vmStartMs per batch) and the shutdown's poweroff timers (`systemd-run
 * --on-active=5`: one round for the islets, one for the other hypervisors, one for the control host,
 * each after the last is off); nothing else in the lab is simulated time. cycleOverhead = (wall - gates) / critical path of the
 * shutdown + start-up, and overheadSecondsPerBatch is the same excess per batch, whatever vmStopMs is.
 * `timing` says where each procedure's wall went (activities by type, workflow tasks: bench/history-timing.ts),
 * `stepSeconds` the same by step of the runbook (from the procedure's progress).
 */
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { startDevServer } from '../scripts/temporal-dev-server';
import { createHvflowWorker } from '../worker/create-worker';
import { approveSignal, decideSignal, progressQuery } from '../workflows/messages';
import type { ShutdownResult } from '../workflows/cluster-shutdown';
import type { StartupResult } from '../workflows/cluster-startup';
import { historyFigures, type HistoryFigures } from '../test/helpers/history-figures';
import { historyTiming, type HistoryTiming } from './history-timing';

const { values: args } = parseArgs({
  options: {
    hypervisors: { type: 'string', default: '500' },
    vms: { type: 'string', default: '10000' },
    parallelism: { type: 'string', default: '50' },
    'vm-stop-ms': { type: 'string', default: '5000' },
    'vm-start-ms': { type: 'string', default: '5000' },
    procedures: { type: 'string', default: 'clusterStatus,evacuation,failback,cycle' },
  },
});
const hypervisors = Number(args.hypervisors);
const vms = Number(args.vms);
const parallelism = Number(args.parallelism);
// A guest's clean shutdown or boot: seconds in real clusters (ACPI shutdown, systemd, the guest agent).
const VM_STOP_MS = Number(args['vm-stop-ms']);
const VM_START_MS = Number(args['vm-start-ms']);
// clusterShutdown's poweroffDelaySeconds (its default): the lab's systemd-run timer waits that long before a host goes down.
const POWEROFF_DELAY_S = 5;
const PROCEDURES = ['clusterStatus', 'evacuation', 'failback', 'cycle'];
const procedures = args.procedures!.split(',');
for (const p of procedures) if (!PROCEDURES.includes(p)) throw new Error(`--procedures: ${JSON.stringify(p)} is not one of ${PROCEDURES.join(', ')}`);
if (procedures.includes('failback') && !procedures.includes('evacuation'))
  throw new Error('--procedures: failback needs evacuation (it fails back what the evacuation moved)');
for (const [name, v] of Object.entries({ hypervisors, vms, parallelism, 'vm-stop-ms': VM_STOP_MS, 'vm-start-ms': VM_START_MS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: ${v} is not a positive integer`);

interface LabHandle {
  inventory: import('../domain/inventory').Inventory;
  privateKeyPath: string;
  knownHostsPath: string;
  workerIpmitool: string;
  labStartSeconds: number;
  stop(): Promise<void>;
}

/** Starts bench/scale-lab.ts and waits for the line that says the lab serves. */
async function startLabProcess(): Promise<LabHandle> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/scale-lab.ts',
      String(hypervisors),
      String(vms),
      String(VM_STOP_MS),
      String(VM_START_MS),
      process.env.HVFLOW_LAB_NET ?? '127.30',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the lab process exited (${code}) before it served`)));
  });
  return {
    ...(JSON.parse(line) as Omit<LabHandle, 'stop'>),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const server = await startDevServer({ port: 19833 });
  const lab = await startLabProcess();
  const { labStartSeconds } = lab;
  console.error(`lab of ${hypervisors} hypervisors / ${vms} VMs started in ${labStartSeconds} s`);
  const native = await NativeConnection.connect({ address: server.address });
  const { worker, pool } = await createHvflowWorker({
    connection: native,
    taskQueue: 'bench',
    inventories: [lab.inventory],
    sshKeyPath: lab.privateKeyPath,
    knownHostsPath: lab.knownHostsPath,
    ipmi: { user: 'ADMIN', password: () => 'lab-bmc-password', ipmitool: lab.workerIpmitool },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const wallSeconds: Record<string, number> = {};
  const figures: Record<string, HistoryFigures> = {};
  const timing: Record<string, HistoryTiming> = {};
  const stepSeconds: Record<string, Record<string, number>> = {};
  const errors: Record<string, string> = {};
  const parked: Record<string, string[]> = {};
  const gateSeconds: Record<string, number> = {};

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
          if (gate.options.includes('approve')) {
            await handle.signal(approveSignal, { by: 'bench', reason: 'bench' });
            gateSeconds[label] = (gateSeconds[label] ?? 0) + (Date.now() - Date.parse(gate.openedAt)) / 1000;
          } else {
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
      const history = await handle.fetchHistory();
      figures[label] = historyFigures(history);
      timing[label] = historyTiming(history);
      stepSeconds[label] = stepsOf(await handle.query(progressQuery).catch(() => undefined));
      console.error(`${label}: ${wallSeconds[label]} s, ${JSON.stringify(figures[label])}${errors[label] ? `, failed: ${errors[label]}` : ''}`);
    }
  }

  const criticalPathSeconds: Record<string, number> = {};
  const criticalBatches: Record<string, number> = {};
  try {
    if (procedures.includes('clusterStatus')) await run('clusterStatus', 'clusterStatus', {});
    const evacuated = lab.inventory.hypervisors.find((h) => h.role === 'worker')!.name;
    if (procedures.includes('evacuation')) await run('evacuation', 'evacuateHypervisor', { host: evacuated, requestedBy: 'bench' });
    if (procedures.includes('failback')) await run('failback', 'failback', { requestedBy: 'bench' });
    if (procedures.includes('cycle')) await shutdownAndStartup();
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

  /** The whole shutdown, then the start-up from it; their critical paths from the plans they ran. */
  async function shutdownAndStartup() {
    const shutdownId = `bench-shutdown-${randomUUID()}`;
    const down = await run<ShutdownResult>(
      'shutdown',
      'clusterShutdown',
      { parallelism, poweroffDelaySeconds: POWEROFF_DELAY_S, requestedBy: 'bench' },
      shutdownId,
    );
    if (down) criticalBatches.shutdown = down.plan.stopBatches.length + (down.plan.dns.length ? 1 : 0);
    // the poweroff timers: islets, then the other hypervisors, then the control host, each round after the last is off
    const poweroffRounds = down ? (down.plan.islets.length ? 1 : 0) + (down.plan.poweroffFirst.length ? 1 : 0) + 1 : 0;
    if (down) criticalPathSeconds.shutdown = (criticalBatches.shutdown! * VM_STOP_MS) / 1000 + poweroffRounds * POWEROFF_DELAY_S;
    const up = down ? await run<StartupResult>('startup', 'clusterStartup', { shutdownWorkflowId: shutdownId, parallelism, requestedBy: 'bench' }) : undefined;
    if (up) criticalBatches.startup = (up.plan.dhcp.length ? 1 : 0) + (up.plan.dns.length ? 1 : 0) + up.plan.restBatches.length;
    if (up) criticalPathSeconds.startup = (criticalBatches.startup! * VM_START_MS) / 1000;
  }
  const cycle = ['shutdown', 'startup'];
  const cycleWall = cycle.reduce((n, p) => n + (wallSeconds[p] ?? 0) - (gateSeconds[p] ?? 0), 0);
  const cycleCritical = cycle.reduce((n, p) => n + (criticalPathSeconds[p] ?? 0), 0);
  const cycleBatches = cycle.reduce((n, p) => n + (criticalBatches[p] ?? 0), 0);
  const all = Object.values(figures);
  console.log(
    JSON.stringify({
      hypervisors,
      vms,
      parallelism,
      procedures,
      vmStopMs: VM_STOP_MS,
      vmStartMs: VM_START_MS,
      labStartSeconds,
      wallSeconds,
      gateSeconds,
      criticalPathSeconds,
      criticalBatches,
      cycleOverhead: cycleCritical ? Number((cycleWall / cycleCritical).toFixed(3)) : null,
      overheadSecondsPerBatch: cycleBatches ? Number(((cycleWall - cycleCritical) / cycleBatches).toFixed(3)) : null,
      maxPayloadBytes: Math.max(0, ...all.map((f) => f.maxPayload)),
      maxHistoryEvents: Math.max(0, ...all.map((f) => f.events)),
      maxHistoryBytes: Math.max(0, ...all.map((f) => f.bytes)),
      history: figures,
      timing,
      stepSeconds,
      sshConnectionsPerHost: pool.maxOpenPerHost(),
      sshConnectsPerHost: pool.maxConnectsPerHost(),
      sshConnectionsLost: pool.lostConnections(),
      workerPeakRssBytes: peakRss,
      errors,
      parked,
    }),
  );
}

/** Seconds per step that ran (started to ended, from the procedure's own progress): where the wall went, in the runbook's words. */
function stepsOf(p: { steps?: { id: string; startedAt?: string; endedAt?: string }[] } | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of p?.steps ?? []) if (s.startedAt && s.endedAt) out[s.id] = Number(((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(3));
  return out;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
