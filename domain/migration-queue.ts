/**
 * Live migrations as a bounded work queue (seed 003 runs them with `xargs -P 5`): at most `threads`
 * in flight, and at most `perHost` in flight on any host, counting it as source or destination (a
 * host's dom0 and migration link are what saturates). A migration starts as soon as a slot frees,
 * not when a whole batch is done: batches wait for their slowest member.
 *
 * Pure module: the activity that runs the migrations asks it what to start next.
 */
export interface QueuedMigration {
  vm: string;
  from: string;
  to: string;
}

export interface QueueLimits {
  threads: number;
  perHost: number;
}

/**
 * The migrations of `pending` (in its order) that may start now, given those in flight: the first
 * ones whose two hosts both have a slot. Deterministic.
 */
export function startable<T extends QueuedMigration>(pending: readonly T[], inFlight: readonly QueuedMigration[], limits: QueueLimits): T[] {
  const threads = Math.max(1, Math.floor(limits.threads));
  const perHost = Math.max(1, Math.floor(limits.perHost));
  const busy = new Map<string, number>();
  const take = (h: string) => busy.set(h, (busy.get(h) ?? 0) + 1);
  for (const m of inFlight) {
    take(m.from);
    take(m.to);
  }
  const out: T[] = [];
  let running = inFlight.length;
  for (const m of pending) {
    if (running >= threads) break;
    if ((busy.get(m.from) ?? 0) >= perHost || (busy.get(m.to) ?? 0) >= perHost) continue;
    take(m.from);
    take(m.to);
    out.push(m);
    running++;
  }
  return out;
}
