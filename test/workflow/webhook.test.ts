/**
 * The gate webhook: when evacuateHypervisor stops at its approval gate, the worker POSTs a JSON
 * message to HVFLOW_WEBHOOK_URL (a local HTTP server here). A webhook that fails or cannot be
 * reached never blocks the gate: the procedure still waits for its decision and completes once
 * approved. The webhook's URL (which may carry a token) never reaches the workflow's history.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { startHarness, waitForProgress, gateWaiting, type Harness } from '../helpers/harness';
import { testNamespace } from '../helpers/worker-slot';
import { approveSignal, rejectSignal } from '../../workflows/messages';
import type { GateNotification, NotifyResult } from '../../activities/notify';
import type { EvacuationResult } from '../../workflows/evacuate-host';
import { until } from '../helpers/until';

/** The webhook receiver: answers `mode`, records every POST. */
interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: GateNotification;
}
let mode: 'ok' | 'fail' = 'ok';
const received: Received[] = [];
let server: Server;
let port: number;
const TOKEN = `T0KEN-${randomUUID()}`;

function listen(p = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((req, res) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        try {
          received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(data) });
        } catch {
          received.push({ path: req.url ?? '', headers: req.headers, body: data as never });
        }
        res.writeHead(mode === 'ok' ? 204 : 500).end();
      });
    });
    s.once('error', reject);
    s.listen(p, '127.0.0.1', () => resolve(s));
  });
}

let h: Harness;
beforeAll(async () => {
  server = await listen();
  port = (server.address() as AddressInfo).port;
  h = await startHarness({}, { webhookUrl: `http://127.0.0.1:${port}/hooks/${TOKEN}?channel=ops` });
});
afterAll(async () => {
  await h?.stop();
  await new Promise((r) => server?.close(r));
});

const started: WorkflowHandle[] = [];
async function evacuate(host: string) {
  const handle = await h.client.workflow.start('evacuateHypervisor', {
    taskQueue: h.taskQueue,
    workflowId: `webhook-evacuate-${host}-${randomUUID()}`,
    args: [{ cluster: 'ocean', host, requestedBy: 'alice' }],
  });
  started.push(handle);
  return handle;
}
afterEach(async () => {
  for (const handle of started.splice(0)) await handle.terminate('test over').catch(() => undefined);
});

/** The notifyGate activities of a workflow's history: attempts and results. */
async function notifyActivities(handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyGate');
  return scheduled.map((s) => {
    const id = String(s.eventId);
    const startedEv = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
    const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id);
    const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
    return {
      attempt: startedEv?.activityTaskStartedEventAttributes?.attempt,
      result: payload ? (JSON.parse(Buffer.from(payload).toString('utf8')) as NotifyResult) : undefined,
      history: JSON.stringify(history),
    };
  });
}

describe('gate webhook', () => {
  it('POSTs the gate, its evidence and how to answer when the approval gate opens', async () => {
    mode = 'ok';
    received.length = 0;
    const handle = await evacuate('worker3');
    const progress = await waitForProgress(handle, gateWaiting('approve-evacuation'));
    const msg = await until('the webhook message', () => received[0]);
    expect(msg.path).toBe(`/hooks/${TOKEN}?channel=ops`);
    expect(msg.headers['content-type']).toBe('application/json');
    const b = msg.body;
    expect(b).toMatchObject({
      type: 'hvflow.gate.waiting',
      procedure: 'evacuateHypervisor',
      workflowId: handle.workflowId,
      namespace: testNamespace(),
      taskQueue: h.taskQueue,
      cluster: 'ocean',
      target: 'worker3',
      requestedBy: 'alice',
      gate: { name: 'approve-evacuation', kind: 'approval', options: ['approve', 'reject'], message: progress.gate!.message },
    });
    expect(b.gate.message).toMatch(/^Evacuate worker3: stop fleet \(2 unit\(s\)/);
    expect(b.runId).toMatch(/^[0-9a-f-]{36}$/);
    // The evidence summary: the plan, one line per field.
    expect(b.evidence.summary).toContain('host: worker3');
    expect(b.evidence.summary.find((l) => l.startsWith('units: 2 item(s)'))).toMatch(/batch3.*lb2|lb2.*batch3/);
    expect(b.evidence.summary.find((l) => l.startsWith('steps:'))).toMatch(/systemctl stop fleet on worker3/);
    // How to answer, ready to paste.
    expect(b.howToAnswer.hvflow).toEqual([
      `hvflow approve '${handle.workflowId}' --gate 'approve-evacuation' --by <you> --reason '<why>'`,
      `hvflow reject '${handle.workflowId}' --gate 'approve-evacuation' --by <you> --reason '<why>'`,
    ]);
    // The vitest worker's own namespace (test/helpers/worker-slot.ts) is named; `default` is not (test/unit/notify.test.ts).
    expect(b.howToAnswer.temporal).toEqual([
      `temporal workflow signal --namespace '${testNamespace()}' --workflow-id '${handle.workflowId}' --name approve --input '{"gate":"approve-evacuation","by":"<you>","reason":"<why>"}'`,
      `temporal workflow signal --namespace '${testNamespace()}' --workflow-id '${handle.workflowId}' --name reject --input '{"gate":"approve-evacuation","by":"<you>","reason":"<why>"}'`,
    ]);
    expect(b.text).toMatch(/^hvflow: evacuateHypervisor worker3 on cluster ocean waits at gate approve-evacuation \(approval\): Evacuate worker3/);
    // Exactly one message for one gate; the activity reports it sent.
    const acts = await until('notifyGate completed', async () => {
      const a = await notifyActivities(handle);
      return a.length === 1 && a[0].result ? a : undefined;
    });
    expect(acts[0].result).toEqual({ sent: true, status: 204 });
    expect(received).toHaveLength(1);
    // The URL's token is configuration: not in the input, result or anything else in history.
    expect(acts[0].history).not.toContain(TOKEN);
    await handle.signal(rejectSignal, { by: 'bob', reason: 'only testing the webhook' });
    await expect(handle.result()).rejects.toThrow();
  });

  it('a failing webhook is tried twice, no more, and the gate still waits for its decision', async () => {
    mode = 'fail';
    received.length = 0;
    const handle = await evacuate('worker3');
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    const acts = await until('notifyGate gave up', async () => {
      const a = await notifyActivities(handle);
      return a.length === 1 && a[0].result ? a : undefined;
    });
    expect(acts[0].attempt).toBe(2);
    expect(acts[0].result).toEqual({ sent: false, detail: `127.0.0.1:${port} answered HTTP 500` });
    expect(received).toHaveLength(2);
    expect(acts[0].history).not.toContain(TOKEN);
    // Still waiting, still findable as waiting for approval.
    await new Promise((r) => setTimeout(r, 500));
    const p = await waitForProgress(handle, gateWaiting('approve-evacuation'));
    expect(p.phase).toBe('awaiting approval');
    const d = await handle.describe();
    expect(d.status.name).toBe('RUNNING');
    expect(d.searchAttributes.HvflowAwaitingApproval).toEqual([true]);
    await handle.signal(rejectSignal, { by: 'bob', reason: 'only testing the webhook' });
    const err = await handle.result().catch((e) => e);
    expect(String(err?.cause?.message)).toMatch(/rejected at gate approve-evacuation by bob/);
  });

  it('with the webhook unreachable, the gate waits and the approved evacuation completes', async () => {
    // Nothing listens on the webhook's port any more: connection refused, twice.
    await new Promise((r) => {
      server.close(r);
      server.closeAllConnections(); // the worker's keep-alive connection too
    });
    received.length = 0;
    const handle = await evacuate('worker3');
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    const acts = await until('notifyGate gave up', async () => {
      const a = await notifyActivities(handle);
      return a.length === 1 && a[0].result ? a : undefined;
    });
    expect(acts[0].result).toEqual({ sent: false, detail: `POST to 127.0.0.1:${port} failed: ECONNREFUSED` });
    expect(acts[0].history).not.toContain(TOKEN);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.signal(approveSignal, { by: 'bob', reason: 'webhook down, approved anyway' });
    const r: EvacuationResult = await handle.result();
    expect(r.gates.find((g) => g.name === 'approve-evacuation')).toMatchObject({ decision: 'approve', by: 'bob' });
    expect(r.moved.map((m) => m.unit).sort()).toEqual(['pcocc-vm-batch3.service', 'pcocc-vm-lb2.service']);
    expect(received).toEqual([]);
  });
});
