/**
 * One procedure per cluster at a time.
 *
 * A procedure that changes a cluster first starts a child workflow with the fixed id
 * `hvflow-lock-<cluster>`. Temporal refuses a second running workflow with that id, which is the
 * lock; the child is started with ParentClosePolicy TERMINATE, so when its procedure ends in any
 * way (completed, failed, terminated, its worker killed for good) the server ends the lock too:
 * no stale lock can outlive its holder, and nothing is stored on a worker.
 */
import { ApplicationFailure, ParentClosePolicy, condition, defineSignal, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type * as activities from '../activities/temporal-info';
import { clusterBusyMessage, FAILURE, lockWorkflowId, MEMO, type LockHolder } from '../domain/contract';

export const releaseLockSignal = defineSignal('release');

/** The lock itself: holds until released or until its parent procedure closes. */
export async function clusterLock(_input: { cluster: string; holder: LockHolder }): Promise<void> {
  let released = false;
  setHandler(releaseLockSignal, () => void (released = true));
  await condition(() => released);
}

const { describeLockHolder } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

/** Takes the cluster's lock or fails with a message naming the procedure that holds it. */
export async function acquireClusterLock(cluster: string, procedure: string, target?: string, startedBy?: string): Promise<() => Promise<void>> {
  const info = workflowInfo();
  const holder: LockHolder = { workflowId: info.workflowId, procedure, target, startedBy };
  try {
    const handle = await startChild(clusterLock, {
      workflowId: lockWorkflowId(cluster),
      args: [{ cluster, holder }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      memo: { [MEMO.lockHolder]: holder },
      staticSummary: `lock of cluster ${cluster} held by ${procedure}${target ? ` ${target}` : ''} (${info.workflowId})`,
    });
    return () => handle.signal(releaseLockSignal);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const current = await describeLockHolder({ cluster });
      throw ApplicationFailure.create({
        type: FAILURE.clusterBusy,
        nonRetryable: true,
        message: clusterBusyMessage(cluster, current),
        details: [current],
      });
    }
    throw err;
  }
}
