/**
 * One step done on many hosts inside one activity: at most `concurrency` hosts at a time, each host's
 * transient failures retried with the activities' own back-off, the hosts done so far heartbeated so
 * that a retried attempt (a worker killed mid-way) goes on with the others and repeats none. One
 * activity instead of one per host: at 500 hosts, 500 activities cost the server and the workflow
 * more than the commands themselves (three history events and a dispatch each).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { HOSTS_AT_ONCE, NON_RETRYABLE_FAILURES } from '../domain/contract';
import { sleepOrCancel } from './remote';
import { checkpoint, heartbeatKeepingCheckpoint } from './heartbeat';

export interface HostFailure {
  host: string;
  error: string;
  /** The failure's type (FAILURE.*, or the error's name), for the caller to classify. */
  type?: string;
  /** No retry can help (a tool's known error, bad input, the worker's SSH configuration). */
  nonRetryable: boolean;
}

export interface EachHostOptions {
  /** Hosts worked on at once. Default HOSTS_AT_ONCE (the SSH pool bounds handshakes and channels on its own). */
  concurrency?: number;
  /** Attempts per host for a transient failure, as the activities' retry policy. Default 5. */
  attempts?: number;
  /** Delay before retry n (1-based) of one host. Default 1 s doubling, at most 30 s. */
  backoffMs?: (n: number) => number;
  /** Hosts an earlier attempt of the activity finished: not touched again. */
  alreadyDone?: readonly string[];
  /** Called with every host done so far (including alreadyDone) each time one finishes. */
  beat?: (done: string[]) => void;
  /** How to wait (an activity's cancellable sleep). */
  sleep?: (ms: number) => Promise<void>;
}

/** What became of each host: done (in `hosts`' order) or failed after its retries. */
export interface EachHostResult {
  done: string[];
  failed: HostFailure[];
}

const defaultBackoff = (n: number) => Math.min(30_000, 1000 * 2 ** (n - 1));

/** Whether a failure is one no retry can help (the same types the retry policy stops at). */
export function isNonRetryable(e: unknown): boolean {
  if (e instanceof ApplicationFailure) return e.nonRetryable || NON_RETRYABLE_FAILURES.includes(e.type ?? '');
  return false;
}

/** Runs `perHost` on every host not already done; never throws for a host's failure (it is returned). */
export async function eachHost(hosts: readonly string[], perHost: (host: string) => Promise<unknown>, o: EachHostOptions = {}): Promise<EachHostResult> {
  const concurrency = Math.max(1, o.concurrency ?? HOSTS_AT_ONCE);
  const attempts = Math.max(1, o.attempts ?? 5);
  const backoff = o.backoffMs ?? defaultBackoff;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const done = new Set(o.alreadyDone?.filter((h) => hosts.includes(h)));
  const failed = new Map<string, HostFailure>();
  const queue = hosts.filter((h, i) => !done.has(h) && hosts.indexOf(h) === i);
  const one = async (host: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await perHost(host);
        done.add(host);
        o.beat?.(hosts.filter((h) => done.has(h)));
        return;
      } catch (e) {
        const nonRetryable = isNonRetryable(e);
        // A cancellation (the activity's) is not a host's failure: it ends the whole step.
        if (e instanceof Error && (e.name === 'CancelledFailure' || e.name === 'AbortError')) throw e;
        if (nonRetryable || attempt >= attempts) {
          failed.set(host, {
            host,
            error: e instanceof Error ? e.message : String(e),
            type: e instanceof ApplicationFailure ? (e.type ?? undefined) : e instanceof Error ? e.name : undefined,
            nonRetryable,
          });
          return;
        }
        await sleep(backoff(attempt));
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let h = queue.shift(); h !== undefined; h = queue.shift()) await one(h);
    }),
  );
  return { done: hosts.filter((h) => done.has(h)), failed: hosts.filter((h) => failed.has(h)).map((h) => failed.get(h)!) };
}

/**
 * The activity's failure when hosts failed: non-retryable (each host had its retries, or its failure
 * cannot be retried), naming every host and why; its type is the hosts' when they share one.
 */
export function hostsFailure(what: string, failed: HostFailure[]): ApplicationFailure {
  const types = [...new Set(failed.map((f) => f.type ?? 'Error'))];
  return ApplicationFailure.create({
    type: types.length === 1 ? types[0] : 'HostsFailed',
    message: `${what} failed on ${failed.length} host(s): ${failed.map((f) => `${f.host}: ${f.error}`).join('; ')}`,
    nonRetryable: true,
    details: [{ failed: failed.map((f) => f.host) }],
  });
}

/** eachHost inside an activity: resumes from the hosts its last attempt heartbeated, heartbeats its own. */
export function eachHostOfActivity(
  hosts: readonly string[],
  perHost: (host: string) => Promise<unknown>,
  o: Pick<EachHostOptions, 'concurrency'> = {},
): Promise<EachHostResult> {
  const ctx = Context.current();
  const before = (ctx.info.heartbeatDetails as { done?: unknown } | undefined)?.done;
  const done: string[] = Array.isArray(before) ? before.filter((h): h is string => typeof h === 'string') : [];
  checkpoint({ done }); // from the first instant: a heartbeat of this attempt must not drop the last one's
  // also while no host finishes (slow hosts, a back-off): the heartbeat timeout is for a dead worker only
  const alive = setInterval(() => heartbeatKeepingCheckpoint(ctx, {}), 5000);
  return eachHost(hosts, perHost, {
    ...o,
    alreadyDone: done,
    beat: (now) => checkpoint({ done: now }),
    sleep: sleepOrCancel,
  }).finally(() => clearInterval(alive));
}
