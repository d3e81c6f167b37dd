/**
 * Prints figures, asserts nothing: a Xen evacuation of one host of 30 VMs (seed 003's per-host step)
 * with 1, 3, 5 and 8 concurrent live migrations, next to `xe host-evacuate` (one at a time, seed
 * 003) and the physical bound of the lab's simulated durations (lab/xen.ts evacuationBoundMs: the
 * host's link, one stream's rate, its migration slots).
 *
 *   npm run bench:xen-evacuate [-- --vms 30 --hosts 6 --time-scale 0.05 --seed 3]
 *
 * Each run is on a fresh lab pool (the same seed: the same pool), through a real worker and the
 * Temporal dev server, its gate approved at once. `seconds`: the migrations, from the first asked
 * for to the last landed, in the lab's simulated seconds (what the bound is in); `wallSeconds`: the
 * whole procedure, real. The last line is one JSON object.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDevServer } from '../scripts/temporal-dev-server';
import { startLab, type Lab } from '../lab';
import { xenPoolTopology } from '../lab/xen-topology';
import { evacuationBoundMs, type MigrationRecord } from '../lab/xen';
import { runTool } from '../lab/tools/run';
import { createHvflowWorker } from '../worker/create-worker';
import { approveSignal, progressQuery } from '../workflows/messages';
import { GATE } from '../domain/contract';

const { values: args } = parseArgs({
  options: {
    vms: { type: 'string', default: '30' },
    hosts: { type: 'string', default: '6' },
    'time-scale': { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,3,5,8' },
  },
});
const VMS = Number(args.vms);
const HOSTS = Number(args.hosts);
const TIME_SCALE = Number(args['time-scale']);
const SEED = Number(args.seed);
const THREADS = args.threads!.split(',').map(Number);
const HOST = 'xs2';

/** The pool: VMS VMs on xs2, as many spread on the others (they must have room: N+1). */
function topology() {
  const on = Object.fromEntries(Array.from({ length: VMS }, (_, i) => [`vm${i + 1}`, HOST]));
  return xenPoolTopology({ cluster: 'benchpool', hosts: HOSTS, vms: 2 * VMS, seed: SEED, on });
}

/** Simulated seconds from the first migration asked for to the last landed. */
const span = (records: MigrationRecord[]) => (Math.max(...records.map((r) => r.end!)) - Math.min(...records.map((r) => r.requestedAt))) / 1000;
const round = (x: number) => Math.round(x * 100) / 100;

async function withLab<T>(fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await startLab({ topology: topology(), timeScale: TIME_SCALE, addressBase: process.env.HVFLOW_LAB_NET ?? '127.0.12' });
  try {
    return await fn(lab);
  } finally {
    await lab.stop();
  }
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer({ port: 19734 });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const runs: Record<string, { seconds: number; wallSeconds: number; migrations: number; ratioToBound: number }> = {};
  let bound = 0;
  let migrated = 0;
  try {
    for (const threads of THREADS) {
      const r = await withLab(async (lab) => {
        const xen = lab.xen!;
        const vms = xen.residentOn(xen.host(HOST)).filter((v) => !v.isControlDomain);
        migrated = vms.length;
        bound = evacuationBoundMs(
          vms.map((v) => ({ memory: v.memoryStaticMax })),
          xen.params,
        );
        const taskQueue = `bench-${randomUUID()}`;
        const { worker, pool } = await createHvflowWorker({
          connection: native,
          taskQueue,
          inventories: [lab.inventory],
          sshKeyPath: lab.privateKeyPath,
          knownHostsPath: lab.knownHostsPath,
        });
        const running = worker.run();
        try {
          const handle = await client.workflow.start('evacuateHost', {
            taskQueue,
            workflowId: `bench-xen-${threads}-${randomUUID()}`,
            args: [{ cluster: lab.inventory.cluster, host: HOST, threads, requestedBy: 'bench' }],
          });
          for (;;) {
            const p = await handle.query(progressQuery).catch(() => undefined);
            if (p?.gate?.name === GATE.approveEvacuation) break;
            await new Promise((res) => setTimeout(res, 100));
          }
          const t0 = Date.now();
          await handle.signal(approveSignal, { by: 'bench', reason: 'bench' });
          await handle.result();
          const wall = (Date.now() - t0) / 1000;
          const records = xen.migrations.filter((m) => m.via === 'vm-migrate');
          if (records.length !== vms.length || records.some((m) => !m.ok))
            throw new Error(`threads ${threads}: ${records.length} migrations for ${vms.length} VMs`);
          return { seconds: round(span(records)), wallSeconds: round(wall), migrations: records.length, ratioToBound: round((span(records) * 1000) / bound) };
        } finally {
          worker.shutdown();
          await running;
          await pool.closeAll();
        }
      });
      runs[String(threads)] = r;
      console.error(`threads ${threads}: ${JSON.stringify(r)}`);
    }
    // xe host-evacuate, as seed 003 first tried: xapi's plan, one migration at a time (pool HA off
    // first, as the seed's run does: with HA on, xapi refuses to evacuate a VM that is not HA-protected).
    const hostEvacuate = await withLab(async (lab) => {
      const master = lab.xen!.masterHost().name;
      for (const argv of [
        ['xe', 'pool-ha-disable'],
        ['xe', 'host-disable', `host=${HOST}`],
        ['xe', 'host-evacuate', `host=${HOST}`],
      ]) {
        const r = await runTool(lab.model, master, argv);
        if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
      }
      return span(lab.xen!.migrations.filter((m) => m.via === 'host-evacuate'));
    });
    console.log(
      JSON.stringify({
        host: HOST,
        vms: migrated,
        hosts: HOSTS,
        timeScale: TIME_SCALE,
        threads: runs,
        hostEvacuateSeconds: round(hostEvacuate),
        boundSeconds: round(bound / 1000),
      }),
    );
  } finally {
    await connection.close();
    await native.close();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
