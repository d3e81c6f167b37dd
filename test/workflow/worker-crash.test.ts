/**
 * kill -9 of the worker in the middle of an evacuation: a new worker process takes over, the procedure
 * completes, and the lab's command log shows every state-changing command once per target — or twice
 * only where the command is idempotent (`systemctl stop X` of a stopped unit is success, documented in
 * the README).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startLab, type Lab } from '../../lab';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process';
import { testNamespace } from '../helpers/worker-slot';
import { waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal } from '../../workflows/messages';
import type { EvacuationResult } from '../../workflows/evacuate-host';
import { until } from '../helpers/until';

let lab: Lab;
let client: Client;
let connection: Connection;
let worker: WorkerProcess | undefined;
const taskQueue = `hvflow-crash-${randomUUID()}`;

beforeAll(async () => {
  lab = await startLab({ agentTtlMs: 500, vmStopMs: 200, vmStartMs: 200, addressBase: process.env.HVFLOW_LAB_NET || undefined });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: testNamespace() });
});
afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await lab?.stop();
});

const IDEMPOTENT = /^(systemctl (stop|start) \S+|umount -t fuse\.glusterfs -a)$/;

describe('worker killed with SIGKILL during an evacuation', () => {
  it('completes after restarts, with each state-changing command once (or idempotent)', async () => {
    const env = workerEnv(lab, inject('temporalAddress'), taskQueue);
    worker = await startWorkerProcess(env);
    const seq0 = lab.commandLog().reduce((m, e) => Math.max(m, e.seq), 0);
    const handle = await client.workflow.start('evacuateHypervisor', {
      taskQueue,
      workflowId: `crash-evacuate-${randomUUID()}`,
      args: [{ cluster: 'ocean', host: 'worker1', requestedBy: 'alice' }],
    });
    await waitForProgress(handle, gateWaiting('approve-evacuation'), 90_000);

    // Crash 1: while the procedure waits at the gate.
    await worker.kill9();
    worker = await startWorkerProcess(env);
    await handle.signal(approveSignal, { by: 'bob', reason: 'crash test' });

    // Crash 2: right after fleet was stopped on the host, while the units move.
    await until('systemctl stop fleet on worker1', () =>
      lab.commandLog({ host: 'worker1', mutating: true }).some((e) => e.seq > seq0 && e.argv.join(' ') === 'systemctl stop fleet'),
    );
    await worker.kill9();
    worker = await startWorkerProcess(env);

    // Crash 3: as etcd is stopped.
    await until(
      'systemctl stop etcd on worker1',
      () => lab.commandLog({ host: 'worker1', mutating: true }).some((e) => e.seq > seq0 && e.argv.join(' ') === 'systemctl stop etcd'),
      { timeoutMs: 180_000 },
    );
    await worker.kill9();
    worker = await startWorkerProcess(env);

    const r: EvacuationResult = await handle.result();
    expect(r.moved.map((m) => m.unit).sort()).toEqual(['pcocc-vm-i0conf1.service', 'pcocc-vm-ns1.service', 'pcocc-vm-ns2.service']);
    const mutating = lab.commandLog({ mutating: true }).filter((e) => e.seq > seq0);
    const counts = new Map<string, number>();
    for (const e of mutating) {
      const key = `${e.host}: ${e.argv.join(' ')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // The runbook's commands, in order, each on the right host.
    expect([...counts.keys()]).toEqual(['worker1: systemctl stop fleet', 'worker1: umount -t fuse.glusterfs -a', 'worker1: systemctl stop etcd']);
    for (const [key, n] of counts) {
      if (n > 1) expect(key.replace(/^\S+: /, ''), `${key} ran ${n} times`).toMatch(IDEMPOTENT);
    }
    expect(lab.etcd!.isRunning('worker1')).toBe(false);
  });
});
