/**
 * The real worker process (`worker/main.ts`, configured by environment as an operator runs it):
 * it runs a procedure against the lab, serves the Temporal SDK's Prometheus metrics on
 * HVFLOW_METRICS_PORT, and writes its logs as one JSON object per line.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { startLab, type Lab } from '../../lab';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process';
import { testNamespace } from '../helpers/worker-slot';

let lab: Lab;
let connection: Connection;
let client: Client;
let wp: WorkerProcess | undefined;
let metricsPort: number;
const taskQueue = `hvflow-process-${randomUUID()}`;
const stdout: string[] = [];

/** A port nobody listens on now (the kernel's choice, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  lab = await startLab({ agentTtlMs: 500, vmStopMs: 200, vmStartMs: 200, addressBase: process.env.HVFLOW_LAB_NET || undefined });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: testNamespace() });
  metricsPort = await freePort();
  wp = await startWorkerProcess({
    ...workerEnv(lab, inject('temporalAddress'), taskQueue),
    HVFLOW_METRICS_PORT: String(metricsPort),
    HVFLOW_LOG_LEVEL: 'DEBUG',
  });
  // stdout alone (the helper's output() mixes in stderr): every line from the start.
  let partial = '';
  const onData = (d: Buffer) => {
    const lines = (partial + d.toString('utf8')).split('\n');
    partial = lines.pop()!;
    stdout.push(...lines.filter((l) => l.trim()));
  };
  for (const l of wp.output().split('\n')) if (l.trim()) stdout.push(l);
  wp.child.stdout!.on('data', onData);
});

afterAll(async () => {
  await wp?.stop();
  await connection?.close();
  await lab?.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of a counter / gauge line `name{labels} value` whose labels contain every `want`. */
function sample(text: string, name: string, want: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('the worker process', () => {
  it('runs clusterStatus and serves Temporal worker metrics for Prometheus', async () => {
    const workflowId = `status-${randomUUID()}`;
    const status = await client.workflow.execute('clusterStatus', { taskQueue, workflowId, args: [{ cluster: 'ocean' }] });
    expect(status).toMatchObject({ cluster: 'ocean' });

    // The SDK reports a completed workflow in its next metrics export: poll briefly.
    let text = '';
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      text = await scrape();
      if ((sample(text, 'temporal_workflow_completed', { task_queue: taskQueue, workflow_type: 'clusterStatus' }) ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(
      sample(text, 'temporal_workflow_completed', { task_queue: taskQueue, workflow_type: 'clusterStatus', namespace: testNamespace() }),
    ).toBeGreaterThanOrEqual(1);
    // Activities of the procedure: executed, with their latency histogram.
    expect(sample(text, 'temporal_activity_execution_latency_count', { task_queue: taskQueue, activity_type: 'fleetState' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^# TYPE temporal_activity_execution_latency histogram$/m);
    // Worker health gauges an operator alerts on.
    expect(sample(text, 'temporal_worker_task_slots_available', { task_queue: taskQueue, worker_type: 'ActivityWorker' })).toBeGreaterThan(0);
    expect(text).toMatch(/service_name="temporal-core-sdk"/);
  });

  it('binds the metrics endpoint on loopback only (HVFLOW_METRICS_HOST widens it)', async () => {
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // no non-loopback address on this machine: nothing to check
    await expect(fetch(`http://${external.address}:${metricsPort}/metrics`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
  });

  it('writes one JSON object per line on stdout, with level, message and meta', async () => {
    expect(stdout.length).toBeGreaterThan(3);
    const entries = stdout.map((line) => {
      let e: { time?: string; level?: string; message?: string; meta?: Record<string, unknown> };
      try {
        e = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
      expect(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).toContain(e.level);
      expect(typeof e.message).toBe('string');
      expect(Number.isNaN(Date.parse(e.time!))).toBe(false);
      return e;
    });
    // The worker's own start line, with its configuration (no secret: the webhook is only on/off).
    const started = entries.find((e) => e.message === 'hvflow worker started');
    expect(started).toMatchObject({
      level: 'INFO',
      meta: { clusters: 'ocean', taskQueue, namespace: testNamespace(), metrics: `http://127.0.0.1:${metricsPort}/metrics`, webhook: 'off' },
    });
    // The SDK's own messages carry their context as meta (worker state, workflow and activity ids).
    expect(entries.some((e) => e.meta?.sdkComponent === 'worker' && e.meta?.taskQueue === taskQueue)).toBe(true);
    expect(entries.some((e) => e.message === 'Workflow started' && e.meta?.workflowType === 'clusterStatus' && e.meta?.taskQueue === taskQueue)).toBe(true);
    expect(
      entries.some(
        (e) =>
          e.message === 'Activity completed' &&
          e.meta?.activityType === 'fleetState' &&
          e.meta?.workflowType === 'clusterStatus' &&
          typeof e.meta?.durationMs === 'number',
      ),
    ).toBe(true);
    // No secret in the logs either.
    expect(stdout.join('\n')).not.toMatch(/PRIVATE KEY|lab-bmc-password/);
  });
});
