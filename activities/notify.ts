/**
 * Gate notifications: when a procedure stops on a gate, the worker POSTs one JSON message to the
 * webhook of its configuration (HVFLOW_WEBHOOK_URL): which procedure waits, on which gate, why, on
 * what evidence, and how to answer (hvflow CLI and `temporal workflow signal`).
 *
 * Best effort by design: a notification that cannot be delivered never blocks or fails a gate. The
 * first attempt's failure is retried once by Temporal (the workflow's proxy allows 2 attempts); the
 * second attempt logs the failure and returns normally.
 *
 * The URL is configuration, not data: it may carry a token (Slack, Mattermost, Teams incoming
 * webhooks do), so it never enters the activity's input, result or error messages (all of which
 * Temporal records in history): errors name the webhook's host only.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

/** What the workflow tells the activity about the gate that just opened (no secret in it). */
export interface GateNotifyInput {
  procedure: string;
  cluster: string;
  target?: string;
  phase?: string;
  requestedBy?: string;
  gate: {
    name: string;
    kind: string;
    message: string;
    options: string[];
    openedAt: string;
  };
  /** The gate's evidence, summarized by the workflow (workflows/notify.ts: one short line per field). */
  evidence: { summary: string[]; truncated: boolean };
}

/** The JSON body POSTed to the webhook. `text` makes it readable as-is by Slack-style incoming webhooks. */
export interface GateNotification {
  type: 'hvflow.gate.waiting';
  text: string;
  procedure: string;
  workflowId: string;
  runId: string;
  namespace: string;
  taskQueue: string;
  cluster: string;
  target?: string;
  phase?: string;
  requestedBy?: string;
  gate: { name: string; kind: string; message: string; options: string[]; openedAt: string };
  /** The gate's evidence, one short line per field (the full evidence is in the `progress` query). */
  evidence: { summary: string[]; truncated: boolean };
  /** Ready-to-run commands; replace <you> and <why>. */
  howToAnswer: { hvflow: string[]; temporal: string[] };
}

export interface NotifyResult {
  sent: boolean;
  /** HTTP status of the webhook's answer, when it answered. */
  status?: number;
  /** Why nothing was sent or why it failed (never the URL). */
  detail?: string;
}

export interface NotifyDeps {
  webhookUrl?: string;
  /** Per-attempt timeout of the POST (default 5 s). */
  webhookTimeoutMs?: number;
}

/** Shell single-quoting for the commands shown to the operator. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function buildGateNotification(
  input: GateNotifyInput,
  wf: { workflowId: string; runId: string; namespace: string; taskQueue: string },
): GateNotification {
  const { gate } = input;
  const id = wf.workflowId;
  const ns = wf.namespace === 'default' ? '' : ` --namespace ${sq(wf.namespace)}`;
  const hvflow: string[] = [];
  const temporal: string[] = [];
  // Each command names the gate: a late answer to this message cannot decide a later gate.
  const gateFlag = `--gate ${sq(gate.name)}`;
  const signal = (name: string, input: Record<string, string>) =>
    `temporal workflow signal${ns} --workflow-id ${sq(id)} --name ${name} --input ${sq(JSON.stringify({ ...input, gate: gate.name, by: '<you>', reason: '<why>' }))}`;
  for (const option of gate.options) {
    // approve / reject have their own command and signal; any other option goes through `decide`.
    if (option === 'approve' || option === 'reject') {
      hvflow.push(`hvflow ${option} ${sq(id)} ${gateFlag} --by <you> --reason '<why>'`);
      temporal.push(signal(option, {}));
    } else {
      hvflow.push(`hvflow decide ${sq(id)} ${option} ${gateFlag} --by <you> --reason '<why>'`);
      temporal.push(signal('decide', { decision: option }));
    }
  }
  const what = `${input.procedure}${input.target ? ` ${input.target}` : ''} on cluster ${input.cluster}`;
  const answer = hvflow[0] ?? temporal[0] ?? '';
  return {
    type: 'hvflow.gate.waiting',
    text: `hvflow: ${what} waits at gate ${gate.name} (${gate.kind}): ${gate.message} Options: ${gate.options.join(', ')}. Workflow ${id}.${answer ? ` Answer: ${answer}` : ''}`,
    procedure: input.procedure,
    workflowId: id,
    runId: wf.runId,
    namespace: wf.namespace,
    taskQueue: wf.taskQueue,
    cluster: input.cluster,
    target: input.target,
    phase: input.phase,
    requestedBy: input.requestedBy,
    gate: { name: gate.name, kind: gate.kind, message: gate.message, options: gate.options, openedAt: gate.openedAt },
    evidence: input.evidence,
    howToAnswer: { hvflow, temporal },
  };
}

/** Host (and port) of the webhook, the only part of its URL that may appear in a message. */
function webhookHost(url: string): string {
  try {
    return new URL(url).host || 'the webhook';
  } catch {
    return 'the webhook (invalid URL)';
  }
}

/** Why a fetch failed, without the URL (Node puts the cause's code there: ECONNREFUSED, ENOTFOUND...). */
function fetchError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (err?.name === 'AbortError') return 'cancelled';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

export function notifyActivities(deps: NotifyDeps) {
  return {
    /** POSTs the gate's notification to the configured webhook; never throws on the last attempt. */
    async notifyGate(input: GateNotifyInput): Promise<NotifyResult> {
      const ctx = Context.current();
      const url = deps.webhookUrl;
      if (!url) return { sent: false, detail: 'no webhook configured (HVFLOW_WEBHOOK_URL)' };
      const info = ctx.info;
      const body = buildGateNotification(input, {
        workflowId: info.workflowExecution?.workflowId ?? '?',
        runId: info.workflowExecution?.runId ?? '?',
        namespace: info.namespace,
        taskQueue: info.taskQueue,
      });
      const timeoutMs = deps.webhookTimeoutMs ?? 5000;
      const host = webhookHost(url);
      let failure: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'hvflow-worker' },
          body: JSON.stringify(body),
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ctx.cancellationSignal]),
          redirect: 'error',
        });
        await res.arrayBuffer().catch(() => undefined); // drain: frees the connection
        if (res.ok) {
          ctx.log.info('gate notification sent', { gate: input.gate.name, webhook: host, status: res.status });
          return { sent: true, status: res.status };
        }
        failure = `${host} answered HTTP ${res.status}`;
      } catch (e) {
        failure = `POST to ${host} failed: ${fetchError(e, timeoutMs)}`;
      }
      const last = info.attempt >= 2;
      ctx.log.warn(`gate notification not delivered${last ? ' (giving up: the gate waits anyway)' : ' (will retry once)'}`, {
        gate: input.gate.name,
        attempt: info.attempt,
        error: failure,
      });
      if (!last) throw ApplicationFailure.retryable(failure, 'WebhookFailed');
      return { sent: false, detail: failure };
    },
  };
}
