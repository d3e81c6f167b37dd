/**
 * The exact rebalancing plan by branch and bound (the objective is in domain/rebalance.ts).
 *
 * Depth first over every sequence of allowed moves (a move may raise the spread for a while: a swap),
 * each node's moves in the order of `better`, so sequences are visited
 * in the tie-break order of plans and the first plan found of a given (value, moves) is the one kept.
 * Starts from the greedy plan (the first such sequence of its length); a node is left when its bound
 * cannot beat the best plan so far; a placement reached again with as many moves or more is left (its
 * continuations were seen from the first visit, which came first in the order). Interchangeable VMs
 * (same host, weight and constraints, no conflicts) count as one in the placement's key.
 *
 * The work is counted in evaluated moves, not time, so that the result is deterministic (workflows call
 * it): past the budget the search stops and returns the best plan found, not proven optimal.
 *
 * Pure module: no Node APIs, workflows import it.
 */
import type { Placement } from './cluster';
import { better, forEachCandidate, planMove, type Candidate, type RebalanceInstance, type RebalanceMove } from './rebalance-moves';

export interface SearchResult {
  moves: RebalanceMove[];
  /** The search ended within its budget: `moves` is optimal. */
  complete: boolean;
  /** Moves evaluated. */
  work: number;
}

/**
 * `p` is the starting placement (left as it was found); `start` a valid plan to beat (the greedy's).
 * The best plan: the lowest spread after + moveCost x moves, then the fewest moves, among the plans that
 * lower the spread by at least minGain (else no move).
 */
export function searchRebalance(inst: RebalanceInstance, p: Placement, spreadBefore: number, start: RebalanceMove[], budget: number): SearchResult {
  const c = inst.moveCost;
  const planValue = (moves: RebalanceMove[]) => (moves.length ? moves[moves.length - 1].spreadAfter : spreadBefore) + c * moves.length;
  // The greedy's plan already lowers the spread by minGain or more, or is empty.
  let best = start;
  let bestValue = planValue(start);
  /** Strictly better than the best plan so far: lower value, or as low with fewer moves. */
  const beats = (value: number, moves: number) => value < bestValue || (value === bestValue && moves < best.length);

  const moved = new Set<string>();
  const path: RebalanceMove[] = [];
  const entries: string[] = [];
  const firstDepth = new Map<string, number>([['', 0]]);
  let work = 0;

  const dfs = (spread: number): boolean => {
    const depth = path.length;
    if (spreadBefore - spread >= inst.minGain && beats(spread + c * depth, depth)) {
      best = path.slice();
      bestValue = spread + c * depth;
    }
    if (depth >= inst.maxMoves) return true;
    const bound = spreadBound(inst, p, moved, inst.maxMoves - depth);
    if (!beats(bound + c * (depth + 1), depth + 1)) return true;
    const children: Candidate[] = [];
    work += forEachCandidate(inst, p, moved, spread, true, (x) => children.push(x));
    if (work > budget) return false;
    children.sort((a, b) => (better(a, b) ? -1 : 1));
    for (const x of children) {
      const after = spread - x.spreadGain;
      const entry = `${inst.kind.get(x.vm.name)! >= 0 ? `#${inst.kind.get(x.vm.name)}@${x.from}` : x.vm.name}>${x.to}`;
      const key = [...entries, entry].sort().join(' ');
      const seen = firstDepth.get(key);
      if (seen !== undefined && seen <= depth + 1) continue;
      firstDepth.set(key, depth + 1);
      path.push(planMove(x, after));
      entries.push(entry);
      moved.add(x.vm.name);
      p.place(x.vm, x.to);
      const finished = dfs(after);
      p.place(x.vm, x.from);
      moved.delete(x.vm.name);
      entries.pop();
      path.pop();
      if (!finished) return false;
    }
    return true;
  };
  const complete = dfs(spreadBefore);
  return { moves: best, complete, work };
}

/**
 * A lower bound on the spread over the scope reachable with `movesLeft` more moves: a host keeps at
 * least its load minus its heaviest movable VMs, takes at most its heaviest candidates (and no more
 * than its capacity: every arrival needs room); the highest host is at least the mean (rounded up for
 * integer loads), the lowest at most the mean.
 */
export function spreadBound(inst: RebalanceInstance, p: Placement, moved: ReadonlySet<string>, movesLeft: number): number {
  const n = inst.scope.length;
  if (n === 0) return 0;
  const out = new Map<string, number[]>(inst.scope.map((h) => [h, []]));
  const into = new Map<string, number[]>(inst.scope.map((h) => [h, []]));
  for (const vm of inst.movable) {
    if (moved.has(vm.name)) continue;
    const from = p.hostOf(vm.name)!;
    out.get(from)!.push(vm.weight);
    for (const h of inst.staticHosts.get(inst.signature.get(vm.name)!)!) if (h.name !== from) into.get(h.name)?.push(vm.weight);
  }
  const heaviest = (ws: number[]) =>
    ws
      .sort((a, b) => b - a)
      .slice(0, movesLeft)
      .reduce((a, b) => a + b, 0);
  let total = 0;
  let integral = inst.movable.every((vm) => Number.isInteger(vm.weight));
  let highestFloor = -Infinity;
  let lowestCeiling = Infinity;
  for (const h of inst.scope) {
    const load = p.loadOf(h);
    total += load;
    if (!Number.isInteger(load)) integral = false;
    highestFloor = Math.max(highestFloor, load - heaviest(out.get(h)!));
    const arrivals = heaviest(into.get(h)!);
    const capacity = p.host(h)!.capacity;
    lowestCeiling = Math.min(lowestCeiling, arrivals > 0 && capacity !== undefined ? Math.min(load + arrivals, Math.max(load, capacity)) : load + arrivals);
  }
  const mean = total / n;
  const high = Math.max(highestFloor, integral ? Math.ceil(mean) : mean);
  const low = Math.min(lowestCeiling, integral ? Math.floor(mean) : mean);
  return Math.max(0, high - low);
}
