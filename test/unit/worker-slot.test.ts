import { describe, expect, it } from 'vitest';
import { labNetFor, poolId, testNamespace } from '../helpers/worker-slot';

describe('what each vitest worker owns (parallel integration files)', () => {
  it('worker n gets the n-th /24 from HVFLOW_LAB_NET (127.0.100 by default) and a namespace of its own', () => {
    expect([1, 2, 3].map((n) => labNetFor(n))).toEqual(['127.0.100', '127.0.101', '127.0.102']);
    expect([1, 4].map((n) => labNetFor(n, '127.0.40'))).toEqual(['127.0.40', '127.0.43']);
    expect(new Set([1, 2, 3].map((n) => testNamespace(n))).size).toBe(3);
    expect(poolId({ VITEST_POOL_ID: '3' })).toBe(3);
    expect(poolId({})).toBe(1);
  });

  it('refuses a block that is not loopback, is malformed, or leaves a worker without a /24, naming HVFLOW_LAB_NET', () => {
    for (const bad of ['10.0.2', '127.0.2.1', '127.0', ' 127.0.2', '127.300.2']) expect(() => labNetFor(1, bad), bad).toThrow(/^HVFLOW_LAB_NET: .* must be/);
    expect(() => labNetFor(5, '127.0.252')).toThrow(/HVFLOW_LAB_NET: 127\.0\.252 leaves no \/24 for vitest worker 5/);
    expect(() => poolId({ VITEST_POOL_ID: 'x' })).toThrow(/VITEST_POOL_ID/);
  });
});
