/**
 * kill -9 of the worker at several points of a whole-cluster shutdown and of the start-up that
 * follows (seed 001), in the seed lab on the real Temporal server. A new worker process takes over
 * each time; both procedures complete; the VMs that ran before run again; and every state-changing
 * command ran once per target — or more only where a repeat is harmless (the list below, documented
 * in the README's "Safety and failure behaviour").
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { startLab, type Lab } from '../../lab';
import type { CommandLogEntry } from '../../lab/model';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process';
import { testNamespace } from '../helpers/worker-slot';
import { waitForProgress, gateWaiting, resultUnparked } from '../helpers/harness';
import { approveSignal, progressQuery } from '../../workflows/messages';
import type { ShutdownResult } from '../../workflows/cluster-shutdown';
import type { StartupResult } from '../../workflows/cluster-startup';
import { until } from '../helpers/until';

let lab: Lab;
let client: Client;
let connection: Connection;
let worker: WorkerProcess | undefined;
let env: NodeJS.ProcessEnv;
const taskQueue = `hvflow-crash-cycle-${randomUUID()}`;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  lab = await startLab({ agentTtlMs: 500, vmStopMs: 300, vmStartMs: 300, addressBase: process.env.HVFLOW_LAB_NET || undefined });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: testNamespace() });
  env = workerEnv(lab, inject('temporalAddress'), taskQueue);
  worker = await startWorkerProcess(env);
});
afterAll(async () => {
  for (const h of handles) await h.terminate('test file over').catch(() => undefined);
  await worker?.stop();
  await connection?.close();
  await lab?.stop();
});

/** Commands whose repeat changes nothing (a retry after a crash may run them again). */
const IDEMPOTENT = [
  /^fleetctl (stop|start) --no-block( pcocc-vm-\S+)+$/, // fleet: a unit already in that state stays
  /^systemctl (stop|start) \S+$/,
  /^umount -t fuse\.glusterfs -a$/,
  /^gluster --mode=script volume (start|stop) \S+$/, // "already started" / "not in the started state"
  /^gluster --mode=script volume heal \S+$/, // triggers the self-heal daemon again
  /^systemd-run --on-active=\d+ --unit=hvflow-poweroff poweroff$/, // the timer already exists: refused, no second poweroff
  // the BMC's power state is the target state: a second `power on` of a host that is on changes nothing
  /^ipmitool -I lanplus -H \S+ -U \S+ -E power (on|off|status)$/,
];

/** Where the procedure stands, for a timeout's message: its gate, or its running step. */
async function whereIs(handle: WorkflowHandle): Promise<string> {
  const p = await handle.query(progressQuery);
  return p.gate
    ? `parked on ${p.gate.name}: ${p.gate.message}`
    : `phase ${p.phase}, running: ${
        p.steps
          .filter((s) => s.state === 'running')
          .map((s) => s.title)
          .join('; ') || 'none'
      }`;
}

const line = (e: CommandLogEntry) => `${e.host}: ${e.argv.join(' ')}`;
const mutatingSince = (seq: number) => lab.commandLog({ mutating: true }).filter((e) => e.seq > seq);
const lastSeq = () => lab.commandLog().reduce((m, e) => Math.max(m, e.seq), 0);
const ranSince = (seq: number, re: RegExp) => () => mutatingSince(seq).some((e) => re.test(line(e)));
const running = () => new Map([...lab.model.units.values()].filter((u) => u.active === 'active' && u.sub === 'running').map((u) => [u.vm, u.host!]));

async function crash(why: string) {
  await worker!.kill9();
  worker = await startWorkerProcess(env);
  return why;
}

/** Every repeated state-changing command is one a repeat cannot hurt. */
function expectOnceOrIdempotent(entries: CommandLogEntry[]) {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(line(e), (counts.get(line(e)) ?? 0) + 1);
  for (const [l, n] of counts) {
    if (n === 1) continue;
    const argv = l.replace(/^\S+: /, '');
    expect(
      IDEMPOTENT.some((re) => re.test(argv)),
      `${l} ran ${n} times`,
    ).toBe(true);
  }
}

// Each crash costs a worker start and up to one activity heartbeat timeout
// (10 s in tests: test/helpers/fast-timing-interceptor.ts) before the server hands the activity in flight to the new worker.
const CRASH_TEST_TIMEOUT_MS = 420_000;

describe('worker killed with SIGKILL during a cluster shutdown and start-up', () => {
  let shutdownId = '';
  let before = new Map<string, string>();

  it(
    'the shutdown completes after crashes while VMs stop, at the power-off gate and while hosts power off',
    async () => {
      before = running();
      const seq = lastSeq();
      const handle = await client.workflow.start('clusterShutdown', {
        taskQueue,
        workflowId: `crash-shutdown-${randomUUID()}`,
        args: [{ cluster: 'ocean', requestedBy: 'alice', parallelism: 10, stopTimeoutSeconds: 30, poweroffDelaySeconds: 1, hostDownTimeoutSeconds: 90 }],
      });
      handles.push(handle);
      shutdownId = handle.workflowId;
      await waitForProgress(handle, gateWaiting('approve-shutdown'), 90_000);
      await handle.signal(approveSignal, { by: 'bob', reason: 'crash test' });

      await until('the first VM stop', ranSince(seq, /fleetctl stop --no-block/), { timeoutMs: 180_000, where: () => whereIs(handle) });
      await crash('while VMs stop');
      await waitForProgress(handle, gateWaiting('approve-poweroff'), 240_000);
      await crash('at the power-off gate');
      await handle.signal(approveSignal, { by: 'bob', reason: 'crash test' });
      await until('the first hypervisor power-off', ranSince(seq, /^(top|worker)\d: systemd-run .*poweroff$/), {
        timeoutMs: 180_000,
        where: () => whereIs(handle),
      });
      await crash('while hypervisors power off');

      const r = await resultUnparked<ShutdownResult>(handle);
      expect(new Set(r.vms.map((v) => v.vm))).toEqual(new Set(before.keys()));
      expect(r.poweredOff[r.poweredOff.length - 1]).toBe('top1');
      for (const host of ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']) expect(lab.model.machine(host).power, host).toBe(false);
      const log = mutatingSince(seq);
      expectOnceOrIdempotent(log);
      // The order survived the crashes: DNS VMs after every other VM, volumes after the unmounts.
      const lines = log.map(line);
      const firstDns = lines.findIndex((l) => /fleetctl stop .*pcocc-vm-ns\d/.test(l));
      const lastOther = lines.reduce((m, l, i) => (/fleetctl stop/.test(l) && !/pcocc-vm-ns\d/.test(l) ? i : m), -1);
      expect(lastOther).toBeLessThan(firstDns);
      const lastUmount = lines.reduce((m, l, i) => (/umount -t fuse\.glusterfs -a/.test(l) ? i : m), -1);
      expect(lines.findIndex((l) => /volume stop/.test(l))).toBeGreaterThan(lastUmount);
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    'the start-up completes after crashes while hosts power on and while VMs start, and runs what ran before',
    async () => {
      expect(shutdownId).not.toBe('');
      const seq = lastSeq();
      const handle = await client.workflow.start('clusterStartup', {
        taskQueue,
        workflowId: `crash-startup-${randomUUID()}`,
        args: [{ cluster: 'ocean', requestedBy: 'alice', shutdownWorkflowId: shutdownId, hostUpTimeoutSeconds: 120, startTimeoutSeconds: 120 }],
      });
      handles.push(handle);

      await until('the first power-on', ranSince(seq, /: ipmitool .* power on$/), { timeoutMs: 180_000, where: () => whereIs(handle) });
      await crash('while hosts power on');
      await until('the first VM start', ranSince(seq, /fleetctl start --no-block/), { timeoutMs: 180_000, where: () => whereIs(handle) });
      await crash('while VMs start');

      const r = await resultUnparked<StartupResult>(handle);
      expect(r.hostsNotBack).toEqual([]);
      const now = running();
      expect(new Set(now.keys())).toEqual(new Set(before.keys()));
      for (const [vm, host] of now) expect(lab.model.satisfies(lab.model.unit(vm)!, lab.model.machine(host)), `${vm} on ${host}`).toBe(true);
      const log = mutatingSince(seq);
      expectOnceOrIdempotent(log);
      // No VM started before fleetd ran everywhere; DHCP before DNS before the rest.
      const lines = log.map(line);
      const starts = lines.filter((l) => /fleetctl start/.test(l));
      expect(lines.findIndex((l) => /fleetctl start/.test(l))).toBeGreaterThan(lines.reduce((m, l, i) => (/systemctl start fleet/.test(l) ? i : m), -1));
      expect(starts[0]).toMatch(/pcocc-vm-infra1\.service pcocc-vm-infra2\.service$/);
      const firstDns = starts.findIndex((l) => /pcocc-vm-ns\d/.test(l));
      expect(firstDns).toBeGreaterThan(0);
      expect(starts.slice(firstDns + 1).some((l) => /infra\d/.test(l))).toBe(false);
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});
