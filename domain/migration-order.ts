/**
 * The order of one host's live migrations when they run as a work queue of `threads` (domain/
 * migration-queue.ts: the next one starts as soon as one ends). With every migration leaving the
 * same host, the queue is list scheduling on `threads` identical workers, so the order decides the
 * makespan: longest first (LPT, within 4/3 of the optimum), and for a few migrations an exact
 * schedule (branch and bound, bounded work) turned back into a start order.
 *
 * Durations are what the caller says a migration costs (a fixed setup plus its memory, in any
 * unit). Pure and deterministic: ties by the given index; no Node APIs, workflows import it.
 */

/** When the last of `durations`, started in this order by `threads` workers, ends. */
export function listMakespan(durations: readonly number[], threads: number): number {
  const free = new Array<number>(Math.max(1, threads)).fill(0);
  for (const d of durations) {
    let i = 0;
    for (let j = 1; j < free.length; j++) if (free[j]! < free[i]!) i = j;
    free[i] += d;
  }
  return Math.max(0, ...free);
}

/**
 * A lower bound of any schedule's makespan: the longest, the total over the workers, and (one more
 * job than workers) the two shortest of the `threads + 1` longest must share a worker.
 */
export function makespanLowerBound(durations: readonly number[], threads: number): number {
  const m = Math.max(1, threads);
  const d = [...durations].sort((a, b) => b - a);
  const total = d.reduce((a, x) => a + x, 0);
  return Math.max(0, d[0] ?? 0, total / m, d.length > m ? d[m - 1]! + d[m]! : 0);
}

export interface ScheduledOrder {
  /** Indexes into the given durations, in the order to start them. */
  order: number[];
  /** `listMakespan` of that order. */
  makespan: number;
  /** The makespan is the optimum (the search finished, or met the lower bound). */
  exact: boolean;
}

/** Search effort of the exact schedule: nodes visited at most (deterministic, not a clock). */
const DEFAULT_MAX_NODES = 20_000;
/** Beyond this many migrations per worker, longest first is kept (its gap shrinks with the count). */
const MAX_JOBS_PER_WORKER = 8;

/**
 * The start order for `durations` on `threads` workers: longest first, improved by an exact search
 * when it is not provably optimal and the search stays within `maxNodes`.
 */
export function scheduleOrder(durations: readonly number[], threads: number, maxNodes = DEFAULT_MAX_NODES): ScheduledOrder {
  const m = Math.max(1, Math.floor(threads));
  const lpt = durations.map((_, i) => i).sort((a, b) => durations[b]! - durations[a]! || a - b);
  const lptSpan = listMakespan(
    lpt.map((i) => durations[i]!),
    m,
  );
  const lower = makespanLowerBound(durations, m);
  const eps = 1e-9 * Math.max(1, lower);
  if (lptSpan <= lower + eps || durations.length <= m || durations.length > MAX_JOBS_PER_WORKER * m)
    return { order: lpt, makespan: lptSpan, exact: lptSpan <= lower + eps || durations.length <= m };

  // Branch and bound: jobs longest first onto workers; equal loads are tried once (symmetry).
  const jobs = lpt;
  const load = new Array<number>(m).fill(0);
  const assign = new Array<number>(jobs.length).fill(-1);
  let best = lptSpan;
  let bestAssign: number[] | undefined;
  let nodes = 0;
  let complete = true;
  const suffix = new Array<number>(jobs.length + 1).fill(0);
  for (let k = jobs.length - 1; k >= 0; k--) suffix[k] = suffix[k + 1]! + durations[jobs[k]!]!;
  let used = 0;
  const search = (k: number, span: number): boolean => {
    if (k === jobs.length) {
      if (span < best - eps) {
        best = span;
        bestAssign = [...assign];
      }
      return best <= lower + eps;
    }
    if (++nodes > maxNodes) {
      complete = false;
      return true;
    }
    const d = durations[jobs[k]!]!;
    // What is left cannot fit under `best` if even spread perfectly it exceeds it.
    if ((used + suffix[k]!) / m >= best - eps) return false;
    for (let w = 0; w < m; w++) {
      let seen = false;
      for (let v = 0; v < w && !seen; v++) seen = load[v] === load[w];
      if (seen) continue; // a worker of the same load was tried
      const next = load[w]! + d;
      if (next >= best - eps) continue;
      load[w] = next;
      used += d;
      assign[k] = w;
      const stop = search(k + 1, Math.max(span, next));
      load[w] = next - d;
      used -= d;
      assign[k] = -1;
      if (stop) return true;
    }
    return false;
  };
  search(0, 0);
  if (!bestAssign) return { order: lpt, makespan: lptSpan, exact: complete };
  // Each worker's jobs back to back (longest first); start them in the order of their start times.
  const start = new Array<number>(jobs.length).fill(0);
  const end = new Array<number>(m).fill(0);
  for (let k = 0; k < jobs.length; k++) {
    const w = bestAssign[k]!;
    start[k] = end[w]!;
    end[w] += durations[jobs[k]!]!;
  }
  const ks = jobs.map((_, k) => k).sort((a, b) => start[a]! - start[b]! || a - b);
  const order = ks.map((k) => jobs[k]!);
  const span = listMakespan(
    order.map((i) => durations[i]!),
    m,
  );
  // The list schedule of that order is the search's schedule (each job starts when its worker frees);
  // kept only if it is no worse than longest first.
  if (span < lptSpan - eps) return { order, makespan: span, exact: (complete && span <= best + eps) || span <= lower + eps };
  return { order: lpt, makespan: lptSpan, exact: complete && lptSpan <= best + eps };
}
