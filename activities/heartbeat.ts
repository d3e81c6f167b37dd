/**
 * An activity's heartbeat carries two things: where a retried attempt resumes (the checkpoint: the
 * batch reached, the hosts done) and what runs right now (a command's elapsed time and last line).
 * Temporal keeps only the last heartbeat, so a command's heartbeat must not drop the checkpoint: it
 * is sent with it.
 */
import { Context } from '@temporalio/activity';

const checkpoints = new WeakMap<Context, Record<string, unknown>>();

/** Records where a retried attempt of the current activity resumes from, and heartbeats it. */
export function checkpoint(details: Record<string, unknown>): void {
  const ctx = Context.current();
  checkpoints.set(ctx, details);
  ctx.heartbeat(details);
}

/** Heartbeats what runs now, with the current activity's checkpoint (its fields win). */
export function heartbeatKeepingCheckpoint(ctx: Context, details: unknown): void {
  ctx.heartbeat({ ...(typeof details === 'object' && details ? details : { details }), ...checkpoints.get(ctx) });
}
