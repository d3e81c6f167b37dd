/**
 * Messages every procedure understands, shared by the workflows and the client (CLI, tests).
 *
 * Workflow code never learns who sent a signal, so every decision carries its author (`by`)
 * and a reason in its payload; the gate records both in history.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

import type { GateDecisionKind } from '../domain/contract';

export type { GateDecisionKind };

export interface DecisionInput {
  /** Name of the gate decided on; omitted means "the gate waiting now". */
  gate?: string;
  /** Who decides (login, e-mail): recorded in history and shown in progress. */
  by: string;
  /** Why. Required for override, reject and abort. */
  reason?: string;
}

export interface DecideInput extends DecisionInput {
  decision: GateDecisionKind;
}

export interface OperatorInput {
  by: string;
  reason?: string;
}

/** approve / reject: the usual answers to an approval gate. On a failure gate approve means retry. */
export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
/** Any answer a gate lists (retry / skip / abort at a parked failure, override at a failed safety check). */
export const decideSignal = defineSignal<[DecideInput]>('decide');
/** Same as decideSignal, but the caller learns at once whether the decision was accepted (synchronous validator). */
export const decideUpdate = defineUpdate<GateRecord, [DecideInput]>('decideGate');

/** Operator controls: pause after the step in flight, resume, abort with clean-up. */
export const pauseSignal = defineSignal<[OperatorInput]>('pause');
export const resumeSignal = defineSignal<[OperatorInput]>('resume');
export const abortSignal = defineSignal<[OperatorInput]>('abort');

export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'parked' | 'planned';

export interface StepProgress {
  id: string;
  title: string;
  state: StepState;
  /** One line: why skipped, what it found, what it waits for. */
  detail?: string;
  startedAt?: string;
  endedAt?: string;
}

export interface GateRecord {
  name: string;
  kind: 'approval' | 'safety' | 'failure' | 'host';
  /** Why the procedure stopped here, in one or two sentences. */
  message: string;
  /** What the decision should be based on: units, weights, heal counts, etcd members... */
  evidence: Record<string, unknown>;
  options: GateDecisionKind[];
  openedAt: string;
  /** Filled once decided. */
  decision?: GateDecisionKind;
  by?: string;
  reason?: string;
  decidedAt?: string;
  /** Set when the gate's deadline passed with no answer. */
  timedOut?: boolean;
}

/** A safety check that did not hold: in a dry run it is reported instead of parking. */
export interface FailedCheck {
  id: string;
  title: string;
  reason: string;
  evidence: Record<string, unknown>;
  /** A real run went on past it: who overrode it. */
  overriddenBy?: string;
}

/** What every procedure returns besides its own result: the safety checks that failed. */
export type Finished<T> = T & { failedChecks: FailedCheck[] };

export interface IgnoredMessage {
  at: string;
  message: string;
}

export interface Progress {
  procedure: string;
  cluster: string;
  target?: string;
  dryRun: boolean;
  phase: string;
  paused: boolean;
  pausedBy?: string;
  abortRequested?: { by: string; reason?: string };
  startedBy?: string;
  steps: StepProgress[];
  /** The gate waiting for a decision now, if any. */
  gate?: GateRecord;
  /** Every gate passed so far, with who decided and why. */
  gates: GateRecord[];
  /** Signals that could not be applied (wrong gate, approver not allowed...): visible, never silent. */
  ignored: IgnoredMessage[];
  /** Safety checks that failed (a dry run reports them all; a real run lists the overridden ones). */
  failedChecks: FailedCheck[];
  plan?: unknown;
  result?: unknown;
}

export const progressQuery = defineQuery<Progress>('progress');

/** Who may answer a gate, and what happens when nobody does. */
export interface GatePolicy {
  /** Only these identities may decide (empty or absent: anyone). */
  approvers?: string[];
  /** The one who started the procedure may not approve its gates. */
  distinctApprover?: boolean;
  /** How long a gate waits (Temporal duration string, e.g. '4h'). Absent: forever. */
  timeout?: string;
  /** What a timed-out gate does: abort cleanly (default) or stay open and flag escalation. */
  onTimeout?: 'abort' | 'escalate';
}

/** Fields every procedure input has (one object argument per workflow). */
export interface ProcedureInputBase {
  /** Cluster name; must match the worker's inventory. */
  cluster: string;
  /** Compute and return the full plan without touching the cluster. */
  dryRun?: boolean;
  /** Who started the procedure (the Web UI and `temporal` do not say; hvflow's CLI fills it in). */
  requestedBy?: string;
  reason?: string;
  gatePolicy?: GatePolicy;
}
