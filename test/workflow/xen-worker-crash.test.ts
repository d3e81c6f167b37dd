/**
 * kill -9 of the worker while a Xen evacuation's live migrations run: a new worker process takes
 * over, the evacuation completes, the host is empty, and no VM migrated twice — the migrations in
 * flight when the worker died finish in the pool (xapi's tasks do not need the client), and the
 * retried activity reads where each VM is before it migrates anything.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startLab, type Lab } from '../../lab';
import { xenPoolTopology } from '../../lab/xen-topology';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process';
import { testNamespace } from '../helpers/worker-slot';
import { waitForProgress, gateWaiting } from '../helpers/harness';
import { until } from '../helpers/until';
import { approveSignal } from '../../workflows/messages';
import type { EvacuationResult } from '../../workflows/evacuate-host';

let lab: Lab;
let client: Client;
let connection: Connection;
let worker: WorkerProcess | undefined;
const taskQueue = `hvflow-xen-crash-${randomUUID()}`;

beforeAll(async () => {
  lab = await startLab({
    topology: xenPoolTopology({ cluster: 'pool2', hosts: 6, vms: 40, seed: 11 }),
    // A migration lasts a few real seconds: long enough to kill the worker in the middle of them.
    timeScale: 0.15,
    addressBase: process.env.HVFLOW_LAB_NET || undefined,
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: testNamespace() });
});
afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await lab?.stop();
});

describe('worker killed with SIGKILL during the live migrations of a Xen evacuation', () => {
  it('completes on a new worker, every VM of the host migrated exactly once, as planned', async () => {
    // The suite's bundle (short heartbeat timeout): the new worker retries the migrations in seconds, not 30 s.
    const env = { ...workerEnv(lab, inject('temporalAddress'), taskQueue), HVFLOW_WORKFLOW_BUNDLE: inject('workflowBundlePath') };
    worker = await startWorkerProcess(env);
    const xen = lab.xen!;
    const host = ['xs2', 'xs3', 'xs4', 'xs5', 'xs6'].sort((a, b) => xen.residentOn(xen.host(b)).length - xen.residentOn(xen.host(a)).length)[0]!;
    const vms = xen
      .residentOn(xen.host(host))
      .filter((v) => !v.isControlDomain)
      .map((v) => v.name)
      .sort();
    expect(vms.length).toBeGreaterThan(5); // more than one round of 5
    const handle = await client.workflow.start('evacuateHost', {
      taskQueue,
      workflowId: `xen-crash-${randomUUID()}`,
      args: [{ cluster: 'pool2', host, requestedBy: 'alice' }],
    });
    await waitForProgress(handle, gateWaiting('approve-evacuation'), 90_000);
    await handle.signal(approveSignal, { by: 'bob', reason: 'crash test' });

    // Crash while the first migrations run (and the others wait for a slot).
    await until('live migrations under way', () => xen.migrations.some((m) => m.end === undefined), { timeoutMs: 60_000 });
    const inFlight = xen.migrations.filter((m) => m.end === undefined).map((m) => m.vm);
    await worker.kill9();
    worker = await startWorkerProcess(env);

    const r: EvacuationResult = await handle.result();
    const perVm = new Map<string, number>();
    for (const m of xen.migrations) perVm.set(m.vm, (perVm.get(m.vm) ?? 0) + 1);
    expect([...perVm.keys()].sort()).toEqual(vms);
    for (const vm of vms) expect(perVm.get(vm), vm).toBe(1);
    expect(xen.migrations.every((m) => m.ok)).toBe(true);
    const planned = new Map(r.plan.units.map((u) => [u.vm, u.to]));
    for (const m of xen.migrations) expect(m.to, m.vm).toBe(planned.get(m.vm));
    expect(xen.residentOn(xen.host(host)).filter((v) => !v.isControlDomain)).toEqual([]);
    // What was in flight at the crash finished in the pool; the new worker found those VMs already there.
    const already = r.migrations!.filter((m) => m.result === 'already-there').map((m) => m.vm);
    expect(already.length).toBeGreaterThan(0);
    for (const vm of inFlight) expect(already, vm).toContain(vm);
  });
});
