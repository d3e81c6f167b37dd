/**
 * Activity proxies shared by the procedures, with the retry policy of the design: connection
 * problems retry with backoff; a wrong cluster state or a tool's known error is non-retryable and
 * reaches the procedure at once, which parks on a gate instead of failing the run.
 */
import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURES } from '../domain/contract';

const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
};

/** Short reads and commands. */
export const act = proxyActivities<Activities>({ startToCloseTimeout: '5m', heartbeatTimeout: '30s', retry });

/** Waits that poll the cluster (units moving, heal draining, VMs stopping): heartbeats prove progress. */
export const waits = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '30s',
  retry: { ...retry, maximumAttempts: 3 },
});
