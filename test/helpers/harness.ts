/**
 * Integration harness: the lab (real sshd per hypervisor, real etcd) plus an hvflow worker on the
 * real Temporal dev server of the global setup, in the vitest worker's namespace, on a task queue of
 * its own.
 */
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { startLab, type Lab, type LabOptions } from '../../lab';
import { createHvflowWorker } from '../../worker/create-worker';
import type { SshPool } from '../../activities/ssh';
import { progressQuery, type Progress } from '../../workflows/messages';
import { lockWorkflowId } from '../../domain/contract';
import { testNamespace } from './worker-slot';

// Worker state changes at INFO drown the test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by another suite of this process
}

/** The workflow bundle the global setup built for the whole run (with the tests' short activity timing). */
export function workflowBundle() {
  return { codePath: inject('workflowBundlePath') };
}

export interface Harness {
  lab: Lab;
  client: Client;
  taskQueue: string;
  worker: Worker;
  pool: SshPool;
  /**
   * Stops the worker (as a crash would, without cleanup) and starts a new one on the same queue;
   * given a bundle, the new worker runs that workflow code (an upgrade).
   */
  restartWorker(workflowBundle?: WorkflowBundleOption): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessWorkerOptions {
  /** The worker's gate webhook (HVFLOW_WEBHOOK_URL). */
  webhookUrl?: string;
  /** HVFLOW_SSH_CONNECT_TIMEOUT in ms (default 10 s): fault tests shorten it. */
  sshConnectTimeoutMs?: number;
  /** HVFLOW_IPMITOOL: the worker's own ipmitool (default: the lab's, `lab.workerIpmitool`). */
  ipmitool?: string;
}

export async function startHarness(labOptions: LabOptions = {}, workerOptions: HarnessWorkerOptions = {}): Promise<Harness> {
  const address = inject('temporalAddress');
  // The vitest worker's loopback block (test/setup-worker-slot.ts sets HVFLOW_LAB_NET, which the lab reads).
  const lab = await startLab({ agentTtlMs: 500, vmStopMs: 200, vmStartMs: 200, ...labOptions });
  try {
    return await connectWorker(lab, address, workerOptions);
  } catch (e) {
    await lab.stop();
    throw e;
  }
}

async function connectWorker(lab: Lab, address: string, workerOptions: HarnessWorkerOptions): Promise<Harness> {
  const connection = await Connection.connect({ address });
  const namespace = testNamespace();
  const client = new Client({ connection, namespace });
  const native = await NativeConnection.connect({ address });
  const taskQueue = `hvflow-test-${randomUUID()}`;
  let current: { worker: Worker; pool: SshPool; running: Promise<void> };

  async function launch(bundle?: WorkflowBundleOption) {
    const { worker, pool } = await createHvflowWorker({
      connection: native,
      namespace,
      taskQueue,
      inventories: [lab.inventory],
      sshKeyPath: lab.privateKeyPath,
      knownHostsPath: lab.knownHostsPath,
      ipmi: { user: 'ADMIN', password: () => 'lab-bmc-password', ipmitool: workerOptions.ipmitool ?? lab.workerIpmitool },
      webhookUrl: workerOptions.webhookUrl,
      sshConnectTimeoutMs: workerOptions.sshConnectTimeoutMs,
      workflowBundle: bundle ?? workflowBundle(),
    });
    const running = worker.run();
    current = { worker, pool, running };
  }
  async function shutdown() {
    if (current.worker.getState() === 'RUNNING') current.worker.shutdown();
    await current.running.catch(() => undefined);
    await current.pool.closeAll();
  }
  await launch();
  return {
    lab,
    client,
    taskQueue,
    get worker() {
      return current.worker;
    },
    get pool() {
      return current.pool;
    },
    async restartWorker(bundle?: WorkflowBundleOption) {
      await shutdown();
      await launch(bundle);
    },
    async stop() {
      await shutdown();
      await native.close();
      await connection.close();
      await lab.stop();
    },
  };
}

/** Polls the progress query until `pred` holds (a gate opened, a step done...). */
export async function waitForProgress(handle: WorkflowHandle, pred: (p: Progress) => boolean, timeoutMs = 60_000): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  for (;;) {
    try {
      last = await handle.query(progressQuery);
      if (pred(last)) return last;
    } catch (e) {
      // The first workflow task may not have run yet.
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) {
      throw new Error(`progress did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The result; a procedure that parks on a gate instead fails the test with the gate's message. */
export async function resultUnparked<T>(handle: WorkflowHandle): Promise<T> {
  const result = handle.result() as Promise<T>;
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.gate && !done) throw new Error(`parked on ${p.gate.name}: ${p.gate.message}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return result;
}

export function gateWaiting(name?: string) {
  return (p: Progress) => !!p.gate && (name === undefined || p.gate.name === name);
}

/**
 * The usual set-up of a workflow test file: one lab and worker for the file, every procedure it
 * starts terminated after its test (a failed test must not leave one holding the cluster's lock),
 * and the lab's command log at hand.
 */
export function useHarness(labOptions: LabOptions = {}, workerOptions: HarnessWorkerOptions = {}) {
  let h: Harness | undefined;
  const started: WorkflowHandle[] = [];
  beforeAll(async () => {
    h = await startHarness(labOptions, workerOptions);
  });
  afterAll(async () => {
    await h?.stop();
  });
  // A test that fails leaves its procedure parked, holding the cluster's lock: end it, and wait until
  // the server has ended the lock with it, for the next test.
  afterEach(async () => {
    for (const handle of started.splice(0)) await handle.terminate('test over').catch(() => undefined);
    if (!h) return;
    const lock = h.client.workflow.getHandle(lockWorkflowId(h.lab.inventory.cluster));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const d = await lock.describe().catch(() => undefined);
      if (d?.status.name !== 'RUNNING') return;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  const get = () => {
    if (!h) throw new Error('the harness is not started (useHarness must be called at the top of the file)');
    return h;
  };
  return {
    get h() {
      return get();
    },
    /** Starts a procedure as requested by alice on cluster ocean (input fields override). */
    async start(workflow: string, input: Record<string, unknown>): Promise<WorkflowHandle> {
      const handle = await get().client.workflow.start(workflow, {
        taskQueue: get().taskQueue,
        workflowId: `${workflow}-${randomUUID()}`,
        args: [{ cluster: 'ocean', requestedBy: 'alice', ...input }],
      });
      started.push(handle);
      return handle;
    },
    /** Sequence number of the lab's last command: mark a point in time. */
    lastSeq: () =>
      get()
        .lab.commandLog()
        .reduce((m, e) => Math.max(m, e.seq), 0),
    /** State-changing commands the lab received since `seq`. */
    mutatingSince: (seq: number) =>
      get()
        .lab.commandLog({ mutating: true })
        .filter((e) => e.seq > seq),
  };
}
