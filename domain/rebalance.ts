/**
 * Failback / rebalancing (seed 000's reintegration, seed 002: "fleet will never rebalance the cluster by
 * itself"; an operator moves a VM with `fleetctl unload` then `fleetctl start`).
 *
 * Where does a moved VM land? `fleetctl start` after `unload` hands the unit back to the scheduler,
 * which starts it on the least loaded eligible host at that moment (the VM no longer counts on its old
 * host, so the old host itself may win). The planner therefore has two modes:
 *
 *   - `destinations: 'scheduler'` (default): only moves whose destination IS the scheduler's choice at
 *     that point of the plan (least loaded eligible host over the whole cluster, capacity per
 *     `capacityAware`, ties by `tieOrder` then name). Such a plan runs with plain unload + start, no
 *     unit is rewritten. A move is left out when the old host could win again (it ties for least
 *     loaded) or when the scheduler could pick a host outside `hosts`. When several hosts tie for
 *     least loaded, `to` is the tie-break's pick and `ties` lists the others: each gives the same loads,
 *     so the step is equally good, but the executor must read where the VM really landed and re-plan
 *     the remaining moves if it is not `to`.
 *   - `destinations: 'any'`: every eligible host with room may be a destination (for drivers that can
 *     target a host: `xe vm-migrate host=`, `openstack server migrate --host`). A move whose
 *     destination is not the scheduler's choice carries `pinTo` (= `to`): the executor must steer it
 *     there; a move without `pinTo` may run as a plain restart, like in the scheduler mode.
 *
 * What a plan is worth: its spread after (max - min weight over `hosts`) + moveCost x its moves; the
 * best plan has the lowest value, then the fewest moves, and lowers the spread by at least `minGain`
 * (else no move). Each VM moves at most once (a fleet move restarts the VM). Never moved: `neverTouch`
 * VMs, pinned VMs, VMs that are not running, VMs on hosts outside `hosts`.
 *
 * Exact where it is cheap (domain/rebalance-search.ts): with at most SEARCH_MAX_VMS movable VMs, a
 * branch and bound over every sequence of allowed moves (a move may raise the spread for a while: a
 * swap) finds the best plan, and `optimal` says it ended within SEARCH_BUDGET evaluated moves (a count,
 * not a time, so that the plan is deterministic: workflows compute it). Beyond, or when the budget runs
 * out, the best plan found, which is never worse than the greedy's:
 *
 * Greedy: at each step the single move that lowers the spread the most; when no move lowers the
 * spread, the move that lowers the sum of squared deviations the most without raising the spread (it
 * is what unlocks a later lowering, e.g. when two hosts share the maximum). Ties: a move to
 * `prefer.host`, then the larger squared-deviation gain, then a move needing no `pinTo`, then VM name,
 * then destination name. It stops when the best move gains less than `minGain` weight units (the
 * spread it removes or, for a balancing move, the balance it brings: source load - destination load -
 * weight). Balancing moves after its last lowering of the spread are dropped; with `moveCost`, the plan
 * is cut to the prefix of the best value.
 *
 * Cost: the greedy, per step, one evaluation per group of interchangeable VMs (same host, weight and
 * constraints, no conflicts) against a handful of destinations; steps <= min(maxMoves, movable VMs).
 * The search, at most SEARCH_BUDGET evaluations (under a second on one core).
 *
 * Pure module: no Node APIs, workflows import it.
 */
import { loadByHost, Placement, weightSpread, type ClusterSnapshot } from './cluster';
import {
  better,
  forEachCandidate,
  planMove,
  rebalanceInstance,
  type Candidate,
  type RebalanceInstance,
  type RebalanceMove,
  type RebalanceOptions,
} from './rebalance-moves';
import { searchRebalance } from './rebalance-search';

export type { RebalanceMove, RebalanceOptions } from './rebalance-moves';

export interface RebalancePlan {
  moves: RebalanceMove[];
  spreadBefore: number;
  spreadAfter: number;
  loadBefore: Record<string, number>;
  loadAfter: Record<string, number>;
  /** The hosts the spread is measured over. */
  hosts: string[];
  /** Running VMs of those hosts the planner may not move, and why. */
  untouched: { vm: string; reason: string }[];
  /** The plan is the best by the objective (the exact search ended); false: the greedy's, maybe improved. */
  optimal: boolean;
}

/**
 * The exact search runs when at most this many VMs may move (beyond, a single node of the search costs
 * more than the greedy's whole plan would), for at most SEARCH_BUDGET evaluated moves.
 */
export const SEARCH_MAX_VMS = 40;
export const SEARCH_BUDGET = 20_000;

export function planRebalance(s: ClusterSnapshot, opts: RebalanceOptions = {}, search: 'exact' | 'greedy only' = 'exact'): RebalancePlan {
  const p = new Placement(s, opts);
  const inst = rebalanceInstance(s, opts, p);
  const loadBefore = loadByHost(s);
  const spreadBefore = weightSpread(loadBefore, inst.scope);
  let moves = greedy(inst, p, spreadBefore);
  let optimal = false;
  if (search === 'exact' && inst.movable.length <= SEARCH_MAX_VMS) {
    const exact = searchRebalance(inst, p, spreadBefore, moves, SEARCH_BUDGET);
    moves = exact.moves;
    optimal = exact.complete;
  }
  const loadAfter = { ...loadBefore };
  for (const m of moves) {
    loadAfter[m.from] -= m.weight;
    loadAfter[m.to] += m.weight;
  }
  return {
    moves,
    spreadBefore,
    spreadAfter: moves.length ? moves[moves.length - 1].spreadAfter : spreadBefore,
    loadBefore,
    loadAfter,
    hosts: inst.scope,
    untouched: inst.untouched,
    optimal,
  };
}

/**
 * At each step the first move in the order of `better` among those that lower the spread or the sum of
 * squared deviations; `p` is left as it was found. Cost: per step, one evaluation per group of
 * interchangeable VMs against a handful of destinations; steps <= min(maxMoves, movable VMs).
 */
function greedy(inst: RebalanceInstance, p: Placement, spreadBefore: number): RebalanceMove[] {
  const moves: RebalanceMove[] = [];
  let spread = spreadBefore;
  const moved = new Set<string>();
  while (moves.length < inst.maxMoves) {
    let best: Candidate | undefined;
    forEachCandidate(inst, p, moved, spread, false, (c) => {
      if (best === undefined || better(c, best)) best = c;
    });
    if (best === undefined) break;
    const c: Candidate = best;
    if ((c.spreadGain > 0 ? c.spreadGain : c.balanceGain) < inst.minGain) break;
    spread -= c.spreadGain;
    moves.push(planMove(c, spread));
    p.place(c.vm, c.to);
    moved.add(c.vm.name);
  }
  for (const m of [...moves].reverse()) p.place(p.vm(m.vm)!, m.from);
  // Balancing moves after the last lowering of the spread would restart VMs for nothing: dropped.
  // With a move cost, keep the prefix that removes the most spread net of what its moves cost.
  let kept = 0;
  let previous = spreadBefore;
  let bestValue = 0;
  moves.forEach((m, i) => {
    const value = spreadBefore - m.spreadAfter - inst.moveCost * (i + 1);
    if (m.spreadAfter < previous && (inst.moveCost === 0 || value > bestValue)) {
      previous = m.spreadAfter;
      bestValue = value;
      kept = i + 1;
    }
  });
  return moves.slice(0, kept);
}
