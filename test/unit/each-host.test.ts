/**
 * activities/each-host.ts: one step on many hosts inside one activity — bounded, each host's
 * transient failures retried, a non-retryable one not, the hosts done heartbeated and never redone by
 * a retried attempt, and a failure that names every host that failed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eachHost, eachHostOfActivity, hostsFailure, isNonRetryable } from '../../activities/each-host';
import { checkpoint, heartbeatKeepingCheckpoint } from '../../activities/heartbeat';
import { FAILURE } from '../../domain/contract';

const noSleep = async () => undefined;
const hosts = (n: number) => Array.from({ length: n }, (_, i) => `hv${i}`);

describe('eachHost', () => {
  it('runs every host once, never more than `concurrency` at a time, and returns them in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 10 }), async (n, concurrency) => {
        let running = 0;
        let peak = 0;
        const calls: string[] = [];
        const r = await eachHost(
          hosts(n),
          async (h) => {
            calls.push(h);
            peak = Math.max(peak, ++running);
            await new Promise((res) => setTimeout(res, Math.random() * 2));
            running--;
          },
          { concurrency, sleep: noSleep },
        );
        expect(peak).toBeLessThanOrEqual(concurrency);
        expect(calls.sort()).toEqual(hosts(n).sort());
        expect(r).toEqual({ done: hosts(n), failed: [] });
      }),
      { numRuns: 50 },
    );
  });

  it('retries a transient failure with the back-off, and gives up after `attempts`', async () => {
    const tries = new Map<string, number>();
    const delays: number[] = [];
    const r = await eachHost(
      ['flaky', 'dead', 'fine'],
      async (h) => {
        const n = (tries.get(h) ?? 0) + 1;
        tries.set(h, n);
        if (h === 'flaky' && n < 3) throw new Error('connection reset');
        if (h === 'dead') throw new Error('connect ETIMEDOUT');
      },
      { attempts: 4, sleep: async (ms) => void delays.push(ms), concurrency: 1 },
    );
    expect(Object.fromEntries(tries)).toEqual({ flaky: 3, dead: 4, fine: 1 });
    expect(delays).toEqual([1000, 2000, 1000, 2000, 4000]);
    expect(r.done).toEqual(['flaky', 'fine']);
    expect(r.failed).toEqual([{ host: 'dead', error: 'connect ETIMEDOUT', type: 'Error', nonRetryable: false }]);
  });

  it('does not retry what no retry can help (a tool error, non-retryable failures)', async () => {
    let calls = 0;
    const r = await eachHost(
      ['a', 'b'],
      async (h) => {
        calls++;
        if (h === 'a') throw ApplicationFailure.create({ type: FAILURE.toolError, message: 'umount: /gluster: target is busy' });
        throw ApplicationFailure.nonRetryable('no such unit', 'Whatever');
      },
      { sleep: noSleep },
    );
    expect(calls).toBe(2);
    expect(r.failed.map((f) => [f.host, f.type, f.nonRetryable])).toEqual([
      ['a', FAILURE.toolError, true],
      ['b', 'Whatever', true],
    ]);
  });

  it('a retried attempt skips the hosts the last one heartbeated, and heartbeats them with its own', async () => {
    const called: string[] = [];
    const beats: string[][] = [];
    const r = await eachHost(hosts(5), async (h) => void called.push(h), {
      alreadyDone: ['hv1', 'hv3', 'not-in-this-step'],
      beat: (d) => beats.push(d),
      concurrency: 1,
      sleep: noSleep,
    });
    expect(called).toEqual(['hv0', 'hv2', 'hv4']);
    expect(r.done).toEqual(hosts(5));
    expect(beats.at(-1)).toEqual(hosts(5));
    expect(beats[0]).toEqual(['hv0', 'hv1', 'hv3']);
  });

  it('a cancellation ends the step instead of counting as a host failure', async () => {
    const cancelled = Object.assign(new Error('cancelled'), { name: 'CancelledFailure' });
    await expect(
      eachHost(
        ['a'],
        async () => {
          throw cancelled;
        },
        { sleep: noSleep },
      ),
    ).rejects.toBe(cancelled);
  });
});

describe('hostsFailure', () => {
  it('names every failed host and why, is non-retryable, and keeps a shared type', () => {
    const one = hostsFailure('umount', [
      { host: 'a', error: 'busy', type: FAILURE.toolError, nonRetryable: true },
      { host: 'b', error: 'gone', type: FAILURE.toolError, nonRetryable: true },
    ]);
    expect(one.message).toBe('umount failed on 2 host(s): a: busy; b: gone');
    expect(one.type).toBe(FAILURE.toolError);
    expect(one.nonRetryable).toBe(true);
    expect(one.details).toEqual([{ failed: ['a', 'b'] }]);
    const mixed = hostsFailure('umount', [
      { host: 'a', error: 'busy', type: FAILURE.toolError, nonRetryable: true },
      { host: 'b', error: 'timeout', type: 'Error', nonRetryable: false },
    ]);
    expect(mixed.type).toBe('HostsFailed');
  });

  it('isNonRetryable follows the retry policy’s types', () => {
    expect(isNonRetryable(ApplicationFailure.create({ type: FAILURE.parseError, message: 'x' }))).toBe(true);
    expect(isNonRetryable(ApplicationFailure.create({ type: 'SshTimeout', message: 'x' }))).toBe(false);
    expect(isNonRetryable(new Error('x'))).toBe(false);
  });
});

describe('inside an activity (its heartbeat is the checkpoint)', () => {
  it('a command heartbeat keeps the checkpoint: the last heartbeat still says which hosts are done', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => {
      checkpoint({ done: ['hv0'] });
      heartbeatKeepingCheckpoint(Context.current(), { command: 'umount -a', elapsedMs: 3000 });
    });
    expect(beats.at(-1)).toEqual({ command: 'umount -a', elapsedMs: 3000, done: ['hv0'] });
  });

  it('a retried attempt resumes from the hosts its last heartbeat named, and checkpoints them at once', async () => {
    const env = new MockActivityEnvironment({ heartbeatDetails: { done: ['hv1', 'hv2', 42] } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const called: string[] = [];
    const r = (await env.run(() => eachHostOfActivity(hosts(4), async (h) => void called.push(h), { concurrency: 1 }))) as Awaited<
      ReturnType<typeof eachHostOfActivity>
    >;
    expect(beats[0]).toEqual({ done: ['hv1', 'hv2'] });
    expect(called).toEqual(['hv0', 'hv3']);
    expect(r.done).toEqual(hosts(4));
    expect(beats.at(-1)).toEqual({ done: hosts(4) });
  });
});
