/**
 * Runs a program on the worker machine itself (the worker's own ipmitool): the argv goes straight
 * to execve (no shell), the child gets only the environment given (nothing of the worker's own but
 * what is passed), a timeout, heartbeats while it runs, and the activity's cancellation kills it.
 */
import { execFile } from 'node:child_process';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { onAbort } from './abort-listeners';
import { heartbeatKeepingCheckpoint } from './heartbeat';

export interface LocalResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const HEARTBEAT_MS = 3000;

export function runLocal(file: string, args: string[], o: { env: Record<string, string>; timeoutMs: number }): Promise<LocalResult> {
  const ctx = Context.current();
  const started = Date.now();
  const beat = setInterval(() => heartbeatKeepingCheckpoint(ctx, { command: file, elapsedMs: Date.now() - started }), HEARTBEAT_MS);
  return new Promise<LocalResult>((resolve, reject) => {
    let cancelled = false;
    const child = execFile(
      file,
      args,
      { env: o.env, timeout: o.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        clearInterval(beat);
        stopListening();
        const durationMs = Date.now() - started;
        if (cancelled) return reject(ApplicationFailure.create({ type: 'CommandCancelled', message: `${file} on the worker was cancelled` }));
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (e && typeof e.code === 'string') {
          // ENOENT, EACCES: the worker's configuration names no runnable program.
          return reject(ApplicationFailure.nonRetryable(`cannot run ${file} on the worker: ${e.message}`, 'WorkerConfigError'));
        }
        if (e?.killed)
          return reject(
            ApplicationFailure.create({
              type: 'CommandTimeout',
              message: `${file} on the worker did not finish within ${Math.round(o.timeoutMs / 1000)} s (killed)`,
            }),
          );
        resolve({ exitCode: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout: String(stdout), stderr: String(stderr), durationMs });
      },
    );
    // one shared listener on the activity's signal (activities/abort-listeners.ts): an activity runs
    // ipmitool for hundreds of hosts under it
    const stopListening = onAbort(ctx.cancellationSignal, () => {
      cancelled = true;
      child.kill('SIGKILL');
    });
  });
}
