/**
 * A rolling reboot's next step against a fresh read of the cluster: before a host is emptied, the
 * step approved for it (its VMs and where each goes) must still hold — the same VMs on the host,
 * each destination still up, accepting VMs, matching the VM and with room for everything the step
 * sends it. When it does not, the procedure re-plans the rest of the run from the fresh read and
 * says so (domain/migration.ts planRollingReboot), instead of acting on a stale plan.
 *
 * Pure module: workflows import it.
 */
import { listNames, Placement, type ClusterSnapshot } from './cluster';
import type { RebootStep } from './migration';

export interface StepCheck {
  ok: boolean;
  /** Why the step no longer holds, one sentence per finding. */
  problems: string[];
}

/** Does `step` (approved for `step.host`) still hold on `s`? */
export function checkRebootStep(s: ClusterSnapshot, step: Pick<RebootStep, 'host' | 'migrations' | 'stranded' | 'untouchable'>): StepCheck {
  const problems: string[] = [];
  const p = new Placement(s);
  const host = step.host;
  if (!p.host(host)) return { ok: false, problems: [`${host} is no longer a host of the cluster`] };
  const planned = new Set([...step.migrations.map((m) => m.vm), ...step.stranded.map((x) => x.vm), ...step.untouchable]);
  const onHost = p
    .vmsOn(host)
    .filter((v) => v.running)
    .map((v) => v.name);
  const arrived = onHost.filter((v) => !planned.has(v));
  if (arrived.length) problems.push(`${listNames(arrived)} ${arrived.length === 1 ? 'runs' : 'run'} on ${host} now, not in its approved step`);
  const gone = step.migrations.map((m) => m.vm).filter((v) => !onHost.includes(v));
  if (gone.length) problems.push(`${listNames(gone)} no longer ${gone.length === 1 ? 'runs' : 'run'} on ${host}`);

  // The host is emptied: it takes nothing; each VM goes where the step says, in the step's order.
  p.setHost(host, { schedulable: false });
  for (const m of step.migrations) {
    const vm = p.vm(m.vm);
    const to = p.host(m.to);
    if (!vm || !onHost.includes(m.vm)) continue;
    if (!to) {
      problems.push(`${m.to}, the destination of ${m.vm}, is no longer a host of the cluster`);
      continue;
    }
    const why = p.whyNot(vm, to);
    if (why) problems.push(`${m.vm} cannot go to ${m.to}: ${why}`);
    else if (!p.fits(vm, to)) problems.push(`${m.to} has no room left for ${m.vm} (${vm.weight})`);
    p.place(vm, m.to);
  }
  return { ok: problems.length === 0, problems };
}

/**
 * How long emptying a host takes, seconds: its migrations as a queue of `threads`, each of
 * `seconds(weight)` — the longest of the total over the threads and the longest migration.
 */
export function emptyingSeconds(weights: readonly number[], threads: number, seconds: (weight: number) => number): number {
  const times = weights.map(seconds);
  const total = times.reduce((a, b) => a + b, 0);
  return Math.max(total / Math.max(1, Math.min(threads, times.length || 1)), ...times, 0);
}
