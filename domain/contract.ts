/**
 * Names shared by the workflows, the activities and the clients (CLI, tests): one definition each,
 * so that a client and a worker cannot disagree. Pure: constants, types and id schemes, no imports.
 */

/**
 * What an operator may answer at a gate. Which ones a gate accepts is listed in its `options`;
 * `start` is the remedy a check offers when what it found missing can be started (a host's daemons).
 */
export const GATE_DECISIONS = ['approve', 'reject', 'retry', 'skip', 'abort', 'override', 'start'] as const;
export type GateDecisionKind = (typeof GATE_DECISIONS)[number];

/**
 * The cluster lock (workflows/cluster-lock.ts): a child workflow with this fixed id per cluster;
 * the server refuses a second running one, and its memo `holder` says who holds it.
 */
export function lockWorkflowId(cluster: string): string {
  return `hvflow-lock-${cluster}`;
}

/** Who holds a cluster's lock: the lock workflow's memo `holder`. */
export interface LockHolder {
  workflowId: string;
  procedure: string;
  target?: string;
  startedBy?: string;
}
