/**
 * The reference the rebalance planner is measured against (bench/failback.ts, test/unit/rebalance*.test.ts):
 * every plan, by breadth-first search over placements, written independently of domain/rebalance*.ts.
 * The scheduler's pick is `Placement.choose`, the simulation the other planners use.
 *
 * A plan moves each movable VM (running, on one of `hosts`, neither never-touched nor pinned) at most once,
 * at most `maxMoves` moves; each move is one the mode allows at that point:
 *   - 'scheduler': the VM lands on the scheduler's pick, which must have room, must not tie with the
 *     VM's own host, and must tie with no host outside `hosts`;
 *   - 'any': any other of `hosts` that is eligible and has room.
 * A move may raise the spread for a while. The best plan is the lowest (spread + moveCost x moves), then
 * the fewest moves, among the plans that lower the spread by at least `minGain` (else no move).
 * Exponential: small clusters only.
 */
import { Placement, weightSpread, type ClusterSnapshot, type VmState } from '../../domain/cluster';
import type { RebalanceOptions } from '../../domain/rebalance';

export interface ExhaustiveBest {
  spread: number;
  moves: number;
  /** spread + moveCost x moves */
  value: number;
  /** Placements reached. */
  states: number;
}

export function exhaustiveRebalance(s: ClusterSnapshot, opts: RebalanceOptions = {}): ExhaustiveBest {
  const scope = opts.hosts
    ? [...new Set(opts.hosts)].filter((h) => s.hosts.some((x) => x.name === h))
    : s.hosts.filter((h) => h.up && h.schedulable).map((h) => h.name);
  const inScope = new Set(scope);
  const neverTouch = new Set(opts.neverTouch ?? []);
  const movable = s.vms.filter(
    (v) => v.running && v.host !== undefined && inScope.has(v.host) && !neverTouch.has(v.name) && v.constraints.pinnedHost === undefined,
  );
  const fixed = s.vms.filter((v) => !movable.includes(v));
  const positive = movable.map((v) => v.weight).filter((w) => w > 0);
  const minGain = opts.minGain ?? (positive.length ? Math.min(...positive) : 1);
  const maxMoves = Math.min(opts.maxMoves ?? movable.length, movable.length);
  const moveCost = opts.moveCost ?? 0;
  const mode = opts.destinations ?? 'scheduler';
  const home = movable.map((v) => v.host!);

  const placement = (at: string[]) => new Placement({ hosts: s.hosts, vms: [...fixed, ...movable.map((v, i) => ({ ...v, host: at[i] }))] }, opts);
  const spreadOf = (p: Placement) => weightSpread(p.loads(), scope);
  const destinations = (p: Placement, vm: VmState, from: string): string[] => {
    if (mode === 'any') return scope.filter((h) => h !== from && p.isEligible(vm, p.host(h)!) && p.fits(vm, p.host(h)!));
    const c = p.choose(vm);
    if (c.host === undefined || c.overflow || c.ties.includes(from) || !c.ties.every((h) => inScope.has(h))) return [];
    return [c.host];
  };

  const seen = new Set<string>([home.join('\n')]);
  let frontier = [home];
  const start = spreadOf(placement(home));
  let best = { spread: start, moves: 0, value: start };
  for (let depth = 0; depth < maxMoves && frontier.length; depth++) {
    const next: string[][] = [];
    for (const at of frontier) {
      const p = placement(at);
      movable.forEach((vm, i) => {
        if (at[i] !== home[i]) return;
        for (const to of destinations(p, vm, at[i])) {
          const after = at.slice();
          after[i] = to;
          const key = after.join('\n');
          if (seen.has(key)) continue;
          const q = placement(after);
          const now = spreadOf(q);
          seen.add(key);
          next.push(after);
          const value = now + moveCost * (depth + 1);
          if (start - now >= minGain && value < best.value) best = { spread: now, moves: depth + 1, value };
        }
      });
    }
    frontier = next;
  }
  return { ...best, states: seen.size };
}
