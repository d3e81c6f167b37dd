/**
 * pcocc ps and agent ping, as the seeds' pcocc (Python 2, batch-local mode) prints them.
 *
 * - ps: lib/pcocc/scripts/cmd.py pcocc_ps: TextTable("%id %name %user %partition %nodes %duration
 *   %timelimit") (Shine/TextTable.py: each column as wide as its widest cell, then 4 spaces; the
 *   header underlined with dashes; rows rstripped). The rows come in the order of the dict
 *   Batch.py list_all_jobs builds, keyed by integer job id: CPython 2's slot order (pcocc sorts by
 *   name only since 2019).
 * - agent ping: cmd.py pcocc_ping: "N VMs answered in S.SSs" on STDERR (click.secho(err=True)),
 *   exit 0; per VM that does not answer display_vmagent_error "vm<index>: <error>" (stderr), exit 255
 *   (sys.exit(-1)); an unknown job: handle_error "Unable to find job: ..." (stderr), exit 255.
 */
import type { LabModel } from '../model';
import { takeFlags, type Tool } from './types';

/** Python's str(timedelta) without microseconds: "4 days, 3:08:53", "1 day, 0:00:01", "0:05:00". */
export function pyDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const r = s % 86400;
  const hms = `${Math.floor(r / 3600)}:${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}:${String(r % 60).padStart(2, '0')}`;
  return days ? `${days} day${days > 1 ? 's' : ''}, ${hms}` : hms;
}

/**
 * Iteration order of a CPython 2.7 dict whose keys are small non-negative ints (hash = value),
 * inserted in the given order: Objects/dictobject.c (8 slots to start, index = hash & mask, probe
 * i = 5*i + perturb + 1 with perturb >>= 5, resize to the smallest power of two > 4 * used when
 * fill * 3 >= size * 2, entries re-inserted in slot order).
 */
export function py2IntDictOrder(keys: number[]): number[] {
  let size = 8;
  let table: (number | undefined)[] = new Array(size);
  let used = 0;
  const place = (t: (number | undefined)[], mask: number, k: number) => {
    let i = k & mask;
    if (t[i] === undefined) {
      t[i] = k;
      return;
    }
    let j = k; // unmasked index
    for (let perturb = k; ; perturb = Math.floor(perturb / 32)) {
      j = 5 * j + perturb + 1;
      i = j % (mask + 1);
      if (t[i] === undefined) {
        t[i] = k;
        return;
      }
      j = i; // (5*j + ...) & mask only depends on j & mask
    }
  };
  for (const k of keys) {
    if (table.includes(k)) continue;
    place(table, size - 1, k);
    used++;
    if (used * 3 >= size * 2) {
      let next = 8;
      while (next <= 4 * used) next *= 2;
      const t: (number | undefined)[] = new Array(next);
      for (const e of table) if (e !== undefined) place(t, next - 1, e);
      table = t;
      size = next;
    }
  }
  return table.filter((e): e is number => e !== undefined);
}

export function pcoccPs(model: LabModel, now = Date.now()): string {
  const running = [...model.units.values()].filter((u) => u.active === 'active' && u.host);
  const byJob = new Map(running.map((u) => [u.jobId, u]));
  // jobs are allocated in job-id order
  const order = py2IntDictOrder([...byJob.keys()].sort((a, b) => a - b));
  const header = ['ID', 'NAME', 'USER', 'PARTITION', 'NODES', 'DURATION', 'TIMELIMIT'];
  const rows = [
    header,
    header.map((h) => '-'.repeat(h.length)),
    ...order.map((id) => byJob.get(id)!).map((u) => [String(u.jobId), u.vm, 'root', 'N/A', u.host!, pyDuration((now - u.startedAt) / 1000), 'N/A']),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)) + 4);
  return rows
    .map(
      (r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
          .join('')
          .trimEnd() + '\n',
    )
    .join('');
}

export const pcocc: Tool = async (ctx) => {
  const { flags, rest } = takeFlags(ctx.args, ['j', 'J', 'jobid', 'jobname', 'i', 'indices', 't', 'timeout']);
  const [cmd, sub] = rest;
  if (cmd === 'ps') {
    ctx.out(pcoccPs(ctx.model));
    return 0;
  }
  if (cmd === 'agent' && sub === 'ping') {
    const units = [...ctx.model.units.values()].filter((u) => u.active !== 'inactive' && u.active !== 'failed' && u.host);
    const id = flags.get('j') ?? flags.get('jobid');
    const name = flags.get('J') ?? flags.get('jobname');
    const u = id !== undefined ? units.find((x) => String(x.jobId) === id) : units.find((x) => x.vm === name);
    if (!u) {
      ctx.err(`Unable to find job: ${id !== undefined ? `no job record for batchid ${id}` : `no valid match for name ${name ?? ''}`}\n`);
      return 255;
    }
    // a VM still booting, shutting down, or hung does not answer its agent
    if (u.active !== 'active' || u.stopPending) {
      ctx.err('vm0: Timeout while waiting for agent to answer\n');
      return 255;
    }
    ctx.err('1 VMs answered in 0.30s\n');
    return 0;
  }
  ctx.err(`pcocc: only "ps" and "agent ping" are simulated by the lab\n`);
  return 2;
};
