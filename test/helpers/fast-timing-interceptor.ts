/**
 * Compiled into the test suite's workflow bundle only (test/global-setup.ts): every activity the
 * procedures schedule gets a shorter heartbeat timeout and retry back-off, so a test that kills a
 * worker or breaks a host waits seconds, not the production 30 s heartbeat timeout and 1-2-4-8 s
 * back-offs. The product's proxies (workflows/activities.ts) keep their values; attempts, timeouts
 * to close and non-retryable types are untouched. A pure function of the options: deterministic.
 */
import type { ActivityOptions, WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';

/** Above the activities' 3 s heartbeat interval with room for a loaded CI machine. */
export const TEST_HEARTBEAT_TIMEOUT_MS = 10_000;
const TEST_INITIAL_INTERVAL_MS = 100;
const TEST_MAXIMUM_INTERVAL_MS = 1_000;

const atMost = (d: ActivityOptions['heartbeatTimeout'], ms: number) => (d === undefined ? undefined : Math.min(msToNumber(d), ms));

export function shortenTiming(o: ActivityOptions): ActivityOptions {
  const retry = o.retry && {
    ...o.retry,
    initialInterval: atMost(o.retry.initialInterval ?? '1s', TEST_INITIAL_INTERVAL_MS),
    maximumInterval: atMost(o.retry.maximumInterval ?? '100s', TEST_MAXIMUM_INTERVAL_MS),
  };
  return { ...o, heartbeatTimeout: atMost(o.heartbeatTimeout, TEST_HEARTBEAT_TIMEOUT_MS), ...(retry ? { retry } : {}) };
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [{ scheduleActivity: (input, next) => next({ ...input, options: shortenTiming(input.options) }) }],
});
