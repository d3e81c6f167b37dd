import { describe, expect, it } from 'vitest';
import type { ActivityOptions } from '@temporalio/workflow';
import { shortenTiming, TEST_HEARTBEAT_TIMEOUT_MS } from '../helpers/fast-timing-interceptor';

describe("the test bundle's activity timing (test/helpers/fast-timing-interceptor.ts)", () => {
  const product: ActivityOptions = {
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
  };

  it('shortens the heartbeat timeout and the back-off, keeps attempts, coefficient, close timeout and non-retryable types', () => {
    expect(shortenTiming(product)).toEqual({
      startToCloseTimeout: '5m',
      heartbeatTimeout: TEST_HEARTBEAT_TIMEOUT_MS,
      retry: { initialInterval: 100, backoffCoefficient: 2, maximumInterval: 1_000, maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
    });
  });

  it('never lengthens a shorter value, and adds no heartbeat timeout or retry policy an activity has not', () => {
    expect(shortenTiming({ startToCloseTimeout: '30s', heartbeatTimeout: 2_000, retry: { initialInterval: 50, maximumInterval: 500 } })).toEqual({
      startToCloseTimeout: '30s',
      heartbeatTimeout: 2_000,
      retry: { initialInterval: 50, maximumInterval: 500 },
    });
    expect(shortenTiming({ startToCloseTimeout: '30s' })).toEqual({ startToCloseTimeout: '30s', heartbeatTimeout: undefined });
  });
});
