/** activities/abort-listeners.ts: many waiters on one AbortSignal share one 'abort' listener. */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../activities/abort-listeners';

const listeners = (s: AbortSignal) => getEventListeners(s, 'abort').length;

describe('onAbort', () => {
  it('gives a signal one listener for any number of subscribers, and calls each once on abort', () => {
    const ac = new AbortController();
    const calls: number[] = [];
    const offs = Array.from({ length: 500 }, (_, i) => onAbort(ac.signal, () => calls.push(i)));
    expect(listeners(ac.signal)).toBe(1);
    offs[7]!(); // an unsubscribed waiter is not called
    ac.abort();
    expect(calls).toEqual(Array.from({ length: 500 }, (_, i) => i).filter((i) => i !== 7));
    offs.forEach((off) => off()); // unsubscribing after the abort is harmless
    expect(calls).toHaveLength(499);
  });

  it('removes the listener with the last subscriber; a new subscriber adds it again', () => {
    const ac = new AbortController();
    const a = onAbort(ac.signal, () => undefined);
    const b = onAbort(ac.signal, () => undefined);
    a();
    expect(listeners(ac.signal)).toBe(1);
    b();
    b(); // twice is a no-op
    expect(listeners(ac.signal)).toBe(0);
    let called = 0;
    onAbort(ac.signal, () => called++);
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    expect(called).toBe(1);
  });

  it('the same function subscribed twice is two subscriptions', () => {
    const ac = new AbortController();
    let called = 0;
    const fn = () => called++;
    const first = onAbort(ac.signal, fn);
    onAbort(ac.signal, fn);
    first();
    ac.abort();
    expect(called).toBe(1);
  });

  it('calls at once on a signal that already aborted, and adds no listener', () => {
    const ac = new AbortController();
    ac.abort();
    let called = 0;
    onAbort(ac.signal, () => called++)();
    expect(called).toBe(1);
    expect(listeners(ac.signal)).toBe(0);
  });
});
