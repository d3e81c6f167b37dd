/**
 * Which cluster a procedure's activities act on. One worker serves many clusters (a farm of pools,
 * seed 003); each activity call carries the procedure's cluster as a `cluster` field of its input,
 * which the worker uses to pick that cluster's inventory (activities/index.ts). Writing it here,
 * once, instead of at each of the procedures' activity calls, means no call can forget it; it is
 * visible in each activity's input in the Web UI and the history.
 *
 * Compiled into every workflow bundle (worker/create-worker.ts bundleWorkflows). The module's state
 * is the workflow execution's own: the SDK gives each run its own module instances.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

let cluster: string | undefined;

/** Called once by the procedure runtime with the validated input's cluster, before any activity. */
export function workOnCluster(name: string): void {
  cluster = name;
}

/** Adds the cluster to an activity's input object, unless the call names one itself. */
export function withCluster(args: unknown[]): unknown[] {
  if (cluster === undefined) return args;
  const [first, ...rest] = args;
  if (first === undefined) return [{ cluster }, ...rest];
  if (typeof first !== 'object' || first === null || Array.isArray(first) || 'cluster' in first) return args;
  return [{ ...first, cluster }, ...rest];
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [{ scheduleActivity: (input, next) => next({ ...input, args: withCluster(input.args) }) }],
});
