/**
 * What the CLI shows of a procedure: filled by operations.ts from Temporal, printed by render.ts.
 * Its own file so that neither of the two needs the other.
 */
import type { Progress } from '../workflows/messages';

export type Status = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT' | 'UNKNOWN' | 'UNSPECIFIED' | 'PAUSED';

/** One procedure as the CLI shows it. */
export interface ProcedureView {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** CLI name of the procedure, when it is one of the table. */
  procedure?: string;
  status: Status;
  closed: boolean;
  cluster?: string;
  target?: string;
  phase?: string;
  awaitingApproval?: boolean;
  requestedBy?: string;
  dryRun?: boolean;
  startTime: string;
  closeTime?: string;
  elapsedMs: number;
  summary?: string;
  progress?: Progress;
  /** Why the progress could not be read (no worker answering...). */
  progressError?: string;
  result?: unknown;
  failure?: { message: string; type?: string };
}

/** One row of `hvflow list`. */
export interface ListRow {
  workflowId: string;
  procedure: string;
  workflowType: string;
  cluster?: string;
  target?: string;
  phase?: string;
  awaitingApproval: boolean;
  gate?: string;
  gateMessage?: string;
  gateOptions?: string[];
  requestedBy?: string;
  dryRun?: boolean;
  startTime: string;
  ageMs: number;
}
