/**
 * The Temporal server (dev server with SQLite file persistence) restarts in the middle of a procedure:
 * the procedure resumes where it was and completes. Uses a server of its own, not the suite's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startLab, type Lab } from '../../lab';
import { startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process';
import { waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, progressQuery } from '../../workflows/messages';

let lab: Lab;
let server: DevServer | undefined;
let worker: WorkerProcess | undefined;
const dbFilename = path.join(mkdtempSync(path.join(tmpdir(), 'hvflow-restart-')), 'temporal.db');
const port = 19233 + Math.floor(Math.random() * 400);

beforeAll(async () => {
  lab = await startLab({ agentTtlMs: 500, vmStopMs: 200, vmStartMs: 200, addressBase: process.env.HVFLOW_LAB_NET || undefined });
});
afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  await lab?.stop();
});

async function connect() {
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  return { connection, client: new Client({ connection }) };
}

describe('Temporal server restart', () => {
  it('a procedure waiting at its gate survives the restart and completes', async () => {
    server = await startDevServer({ port, dbFilename });
    const taskQueue = 'hvflow';
    worker = await startWorkerProcess(workerEnv(lab, server.address, taskQueue, 'default'));
    let { connection, client } = await connect();
    const workflowId = `restart-evacuate-${randomUUID()}`;
    const handle = await client.workflow.start('evacuateHypervisor', {
      taskQueue,
      workflowId,
      args: [{ cluster: 'ocean', host: 'worker3', requestedBy: 'alice' }],
    });
    await waitForProgress(handle, gateWaiting('approve-evacuation'), 90_000);
    await connection.close();

    await server.stop();
    server = await startDevServer({ port, dbFilename });
    ({ connection, client } = await connect());
    const again = client.workflow.getHandle(workflowId);
    // Same execution, same place: still at the gate, nothing executed meanwhile.
    const p = await waitForProgress(again, gateWaiting('approve-evacuation'), 90_000);
    expect(p.steps.find((s) => s.id === 'stop-fleet')?.state).toBe('pending');
    await again.signal(approveSignal, { by: 'bob', reason: 'after the restart' });
    const r = (await again.result()) as { moved: { unit: string }[] };
    expect(r.moved.length).toBeGreaterThan(0);
    expect((await again.query(progressQuery)).phase).toBe('done');
    await connection.close();
  });
});
