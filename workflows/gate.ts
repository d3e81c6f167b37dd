/**
 * Human gates: a procedure that reaches a quorum-sensitive step, a failed safety check or a step
 * that keeps failing stops on a named gate and waits for a decision carrying who and why.
 *
 * The same validation serves the signals (which must never throw: an invalid decision is
 * recorded as ignored, visibly) and the update's validator (synchronous, so a bad decision is
 * refused to the caller before it reaches history).
 */
import { condition } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { InvalidInputError, validateField } from '../domain/procedure-inputs';
import type { DecideInput, GatePolicy, GateDecisionKind, GateRecord } from './messages';

/** Returns why `input` cannot decide `gate`, or undefined when it can. */
export function decisionError(
  gate: GateRecord | undefined,
  input: DecideInput,
  policy: GatePolicy | undefined,
  startedBy: string | undefined,
): string | undefined {
  if (typeof input !== 'object' || input === null) return 'the decision must be an object {decision, by, reason}';
  if (input.by === undefined || input.by === '') return 'by: who decides is required';
  let by: string;
  try {
    // the same rule as requestedBy: taken as written, never trimmed
    by = validateField('who', 'by', input.by);
  } catch (e) {
    return e instanceof InvalidInputError ? e.issues.join('; ') : String(e);
  }
  if (input.reason !== undefined && (typeof input.reason !== 'string' || input.reason.length > 2000)) {
    return 'reason: must be a string of at most 2000 characters';
  }
  if (!gate) return `no gate is waiting${input.gate ? ` (asked for ${input.gate})` : ''}`;
  if (input.gate && input.gate !== gate.name) return `gate ${input.gate} is not waiting; ${gate.name} is`;
  if (!gate.options.includes(input.decision)) {
    return `decision: ${JSON.stringify(input.decision)} is not an option of gate ${gate.name} (options: ${gate.options.join(', ')})`;
  }
  const needsReason: GateDecisionKind[] = ['override', 'reject', 'abort', 'skip'];
  if (needsReason.includes(input.decision) && !input.reason?.trim()) {
    return `reason: a ${input.decision} must say why`;
  }
  if (policy?.approvers?.length && !policy.approvers.includes(by)) {
    return `by: ${by} is not an allowed approver of this procedure (${policy.approvers.join(', ')})`;
  }
  if (policy?.distinctApprover && startedBy && by === startedBy) {
    return `by: ${by} started this procedure and may not decide its gates (distinct approver required)`;
  }
  return undefined;
}

export interface GateState {
  current?: GateRecord;
  passed: GateRecord[];
}

/**
 * Waits until the open gate is decided, or its policy timeout passes. Returns the decided record.
 * `interrupted` lets an operator abort wake the wait.
 */
export async function awaitDecision(state: GateState, policy: GatePolicy | undefined, interrupted: () => boolean): Promise<GateRecord> {
  const gate = state.current!;
  const decided = () => gate.decision !== undefined || interrupted();
  if (policy?.timeout) {
    const answered = await condition(decided, policy.timeout as Duration);
    if (!answered) {
      gate.timedOut = true;
      if ((policy.onTimeout ?? 'abort') === 'abort') {
        gate.decision = 'abort';
        gate.by = 'hvflow (gate timeout)';
        gate.reason = `nobody answered within ${policy.timeout}`;
        gate.decidedAt = new Date().toISOString();
      } else {
        // Escalate: stay open, flagged, until somebody answers.
        await condition(decided);
      }
    }
  } else {
    await condition(decided);
  }
  return gate;
}
