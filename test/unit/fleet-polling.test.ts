/**
 * How often the VM-batch waits of activities/fleet.ts read list-units (every poll reads every unit of
 * the cluster): often right after a batch is told to stop or start, rarely once it is late, and not at
 * all while an earlier batch of the run says nothing can be there yet.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pollDelay, quietMs } from '../../activities/fleet';

describe('VM batch polling', () => {
  it('polls every 100 ms for 2 s, then doubles up to once a second', () => {
    expect(Array.from({ length: 20 }, (_, n) => pollDelay(n))).toEqual(Array(20).fill(100));
    expect([20, 21, 22, 23, 24, 100].map((n) => pollDelay(n))).toEqual([200, 400, 800, 1000, 1000, 1000]);
  });

  it('the VM batch waits poll every 50 ms for 2 s, then double up to once a second', () => {
    expect(Array.from({ length: 40 }, (_, n) => pollDelay(n, 50))).toEqual(Array(40).fill(50));
    expect([40, 41, 42, 43, 44, 45, 100].map((n) => pollDelay(n, 50))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('the first batch is polled at once; the next ones after 80% of the fastest batch so far', () => {
    expect(quietMs(undefined)).toBe(0);
    expect(quietMs(0)).toBe(0);
    expect(quietMs(Number.POSITIVE_INFINITY)).toBe(0);
    expect(quietMs(5000)).toBe(4000);
    expect(quietMs(1001)).toBe(800);
  });

  it('never stays quiet as long as the fastest batch took, so a batch as fast is seen at its end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (ms) => {
        expect(quietMs(ms)).toBeLessThan(ms);
        expect(quietMs(ms)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
