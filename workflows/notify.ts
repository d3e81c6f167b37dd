/**
 * Workflow side of the gate webhook (activities/notify.ts): when a gate opens, the procedure starts
 * the `notifyGate` activity and goes on waiting for the decision without awaiting it. A notification
 * is best effort: at most 2 attempts, short timeouts, and its failure is swallowed here, so it can
 * neither block a gate nor fail the procedure.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { GateRecord, Progress } from './messages';

const notify = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 1, maximumAttempts: 2 },
});

const MAX_EVIDENCE_LINES = 20;
const MAX_LINE = 240;

/** One readable line per evidence field, values as compact JSON cut at MAX_LINE characters. */
export function summarizeEvidence(evidence: Record<string, unknown> | undefined): { summary: string[]; truncated: boolean } {
  const entries = Object.entries(evidence ?? {}).filter(([, v]) => v !== undefined);
  let cut = entries.length > MAX_EVIDENCE_LINES;
  const summary = entries.slice(0, MAX_EVIDENCE_LINES).map(([k, v]) => {
    const text = Array.isArray(v) ? `${v.length} item(s): ${v.map(compact).join(', ')}` : compact(v);
    const line = `${k}: ${text}`;
    if (line.length <= MAX_LINE) return line;
    cut = true;
    return `${line.slice(0, MAX_LINE - 1)}…`;
  });
  return { summary, truncated: cut };
}

function compact(v: unknown): string {
  if (typeof v !== 'object' || v === null) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * Starts the notification of a gate that just opened; returns at once. The returned promise never
 * rejects (a failed or cancelled notification resolves to undefined).
 */
export function notifyGateOpened(progress: Progress, gate: GateRecord): Promise<unknown> {
  // Histories recorded before gates notified have no such activity at this point: replaying them
  // must not schedule one (patched() is false on replay of such a history).
  if (!patched('hvflow-gate-webhook')) return Promise.resolve(undefined);
  return notify
    .notifyGate({
      procedure: progress.procedure,
      cluster: progress.cluster,
      target: progress.target,
      phase: progress.phase,
      requestedBy: progress.startedBy,
      gate: { name: gate.name, kind: gate.kind, message: gate.message, options: gate.options, openedAt: gate.openedAt },
      evidence: summarizeEvidence(gate.evidence),
    })
    .catch(() => undefined);
}
