/** What reintegrateHost takes and returns, on every stack (workflows/reintegrate-host.ts, reintegrate-xen.ts). */
import type { FailbackOptions, FailbackResult } from './failback';
import type { GateRecord, ProcedureInputBase } from './messages';

export interface ReintegrateHostInput extends ProcedureInputBase, Omit<FailbackOptions, 'prefer'> {
  host: string;
  /** Bound of the wait for heal entries to drain (seed: "may take some time and/or timeout"). Default 30. */
  healWaitMinutes?: number;
  /** Bound of the wait for etcd members to be healthy again. Default 5. */
  etcdWaitMinutes?: number;
  /** Skip the failback (moves can be done later with the `failback` procedure). */
  noFailback?: boolean;
}

export interface ReintegrationResult {
  host: string;
  dryRun: boolean;
  loadByHost: Record<string, number>;
  failback?: Omit<FailbackResult, 'gates' | 'skipped' | 'dryRun'>;
  gates: GateRecord[];
  skipped: string[];
}
