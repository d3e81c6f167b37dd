/**
 * What one vitest worker owns, so that integration files run in parallel on one machine and one
 * Temporal server: a /24 of loopback for its labs (HVFLOW_LAB_NET) and a Temporal namespace of its
 * own (a procedure's cluster lock has a fixed id, `hvflow-lock-<cluster>`, unique per namespace, and
 * every lab's cluster is "ocean"). Task queues and workflow ids are random per test already.
 */

/** Worker 1's block when HVFLOW_LAB_NET is not set; worker n gets the n-th /24 from there. */
export const DEFAULT_FIRST_LAB_NET = '127.0.100';

/** VITEST_POOL_ID: 1..maxWorkers, one per worker running at the same time (1 outside vitest). */
export function poolId(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.VITEST_POOL_ID ?? 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`VITEST_POOL_ID: ${JSON.stringify(env.VITEST_POOL_ID)} is not a worker number`);
  return n;
}

/** The loopback block of worker `id`: HVFLOW_LAB_NET (its first block, e.g. 127.0.40) moved by id - 1. */
export function labNetFor(id: number, first: string = DEFAULT_FIRST_LAB_NET): string {
  const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(first);
  if (!m || Number(m[1]) > 255) throw new Error(`HVFLOW_LAB_NET: ${JSON.stringify(first)} must be the first three octets of a loopback /24, e.g. 127.0.40`);
  const third = Number(m[2]) + id - 1;
  if (third > 255) throw new Error(`HVFLOW_LAB_NET: ${first} leaves no /24 for vitest worker ${id} (127.${m[1]}.${third} is past .255)`);
  return `127.${m[1]}.${third}`;
}

/** The Temporal namespace of worker `id`; the global setup creates one per possible worker. */
export function testNamespace(id: number = poolId()): string {
  return `hvflow-test-${id}`;
}
