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
 * Greedy: at each step the single move that lowers the weight spread (max - min over `hosts`) the most;
 * when no move lowers the spread, the move that lowers the sum of squared deviations the most without
 * raising the spread (it is what unlocks a later lowering, e.g. when two hosts share the maximum).
 * Ties: a move to `prefer.host`, then the larger squared-deviation gain, then a move needing no
 * `pinTo`, then VM name, then destination name. The planning stops when the best move gains less than
 * `minGain` weight units: the spread it removes or, for a balancing move, the balance it brings
 * (source load - destination load - weight: the squared-deviation gain divided by twice the weight).
 * Each VM moves at most once (a fleet move restarts the VM). Balancing moves after the last lowering
 * of the spread are dropped: they would restart VMs without lowering it; with `moveCost`, the plan is
 * cut where the spread removed net of the moves' cost is highest. Never moved: `neverTouch`
 * VMs, pinned VMs, VMs that are not running, VMs on hosts outside `hosts`.
 *
 * Cost: per step, one evaluation per group of interchangeable VMs (same host, weight and constraints,
 * no conflicts) against a handful of destinations (see the loop); steps <= min(maxMoves, movable VMs).
 *
 * Pure module: no Node APIs, workflows import it.
 */
import {
  byString,
  loadByHost,
  Placement,
  weightSpread,
  type ClusterSnapshot,
  type HostState,
  type Move,
  type PlacementOptions,
  type VmState,
} from './cluster';

export interface RebalanceOptions extends PlacementOptions {
  /** VMs never stopped, moved or started. */
  neverTouch?: string[];
  /**
   * The hosts to balance between (e.g. the hosts with role top): the spread is measured over them,
   * only their VMs move and only to them. Default: every host that is up and schedulable.
   */
  hosts?: string[];
  /** At most this many moves (default: no limit other than each VM moving once). */
  maxMoves?: number;
  /** The reintegrated host: among equally good moves, prefer the ones to it. */
  prefer?: { host: string };
  /**
   * The planning stops when the best move gains less than this, in weight units: the spread it
   * removes, or for a move that cannot change the spread, the balance it brings (see the module
   * comment). Default: the weight of the lightest movable VM (the granularity of the cluster); 1 goes
   * as far as the greedy can.
   */
  minGain?: number;
  /**
   * What one move costs, in weight units of spread (default 0): the plan is cut to the prefix that
   * maximises (spread removed - moveCost x moves). For tools where a move restarts the VM (fleet), the
   * lightest VM's weight keeps a failback from polishing an already even cluster with many restarts.
   */
  moveCost?: number;
  /** See the module comment. Default 'scheduler'. */
  destinations?: 'scheduler' | 'any';
}

export interface RebalanceMove extends Move {
  /** Set (= to) when the scheduler would not pick `to` by itself: the executor must target it. */
  pinTo?: string;
  /** Other hosts the scheduler may pick as well (same load, same effect); absent when none. */
  ties?: string[];
  /** Spread over `hosts` once this move is done. */
  spreadAfter: number;
}

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
}

interface Candidate {
  vm: VmState;
  from: string;
  to: string;
  spreadGain: number;
  sqGain: number;
  balanceGain: number;
  preferred: boolean;
  pinTo?: string;
  ties?: string[];
}

export function planRebalance(s: ClusterSnapshot, opts: RebalanceOptions = {}): RebalancePlan {
  const p = new Placement(s, opts);
  const loadBefore = loadByHost(s);
  const scope = opts.hosts
    ? [...new Set(opts.hosts)].filter((h) => p.host(h) !== undefined)
    : s.hosts.filter((h) => h.up && h.schedulable).map((h) => h.name);
  const inScope = new Set(scope);
  const spreadBefore = weightSpread(loadBefore, scope);
  const neverTouch = new Set(opts.neverTouch ?? []);

  const maxMoves = opts.maxMoves ?? Number.MAX_SAFE_INTEGER;
  const mode = opts.destinations ?? 'scheduler';
  const prefer = opts.prefer?.host;

  const untouched: { vm: string; reason: string }[] = [];
  const movable: VmState[] = [];
  for (const vm of [...s.vms].sort((a, b) => byString(a.name, b.name))) {
    if (!vm.running || vm.host === undefined || !inScope.has(vm.host)) continue;
    if (neverTouch.has(vm.name)) untouched.push({ vm: vm.name, reason: 'never touched' });
    else if (vm.constraints.pinnedHost !== undefined) untouched.push({ vm: vm.name, reason: `pinned to ${vm.constraints.pinnedHost}` });
    else movable.push(vm);
  }

  const lightest = movable.reduce((m, v) => (v.weight > 0 && v.weight < m ? v.weight : m), Number.POSITIVE_INFINITY);
  const minGain = opts.minGain ?? (Number.isFinite(lightest) ? lightest : 1);

  // VMs with the same constraints share their statically eligible hosts (up, schedulable, labels,
  // pinning); VMs free of conflicts on the same host with the same weight and constraints are
  // interchangeable, so only the first by name of each such group is evaluated at each step.
  const signature = new Map<string, string>();
  const staticHosts = new Map<string, HostState[]>();
  /** Per VM free of conflicts: a number for (weight, constraints); -1 for a VM with conflicts. */
  const kind = new Map<string, number>();
  const kinds = new Map<string, number>();
  for (const vm of movable) {
    const c = vm.constraints;
    const labels = c.labels ? Object.keys(c.labels).sort(byString).map((k) => [k, [...c.labels![k]].sort(byString)]) : [];
    const sig = JSON.stringify([labels, c.pinnedHost ?? null]);
    signature.set(vm.name, sig);
    if (!staticHosts.has(sig)) staticHosts.set(sig, s.hosts.filter((h) => p.staticallyEligible(vm, h)));
    const k = `${vm.weight} ${sig}`;
    if (!kinds.has(k)) kinds.set(k, kinds.size);
    kind.set(vm.name, p.hasConflicts(vm.name) ? -1 : kinds.get(k)!);
  }
  const hostIndex = new Map(scope.map((h, i) => [h, i]));
  const sigInScope = new Map([...staticHosts].map(([sig, hosts]) => [sig, hosts.every((h) => inScope.has(h.name))]));
  const allInScope = (sig: string) => sigInScope.get(sig)!;

  const moves: RebalanceMove[] = [];
  let spread = spreadBefore;
  const moved = new Set<string>();

  while (moves.length < maxMoves) {
    const ext = extremes(scope, (h) => p.loadOf(h));
    // Per constraint signature, its hosts by current load then the scheduler's tie-break.
    const sortedBySig = new Map<string, HostState[]>();
    const sortedHosts = (sig: string) => {
      let list = sortedBySig.get(sig);
      if (!list) {
        list = [...staticHosts.get(sig)!].sort((a, b) => p.loadOf(a.name) - p.loadOf(b.name) || p.compareForTie(a.name, b.name));
        sortedBySig.set(sig, list);
      }
      return list;
    };
    let best: Candidate | undefined;
    const seenGroups = new Set<number>();
    for (const vm of movable) {
      if (moved.has(vm.name)) continue;
      const from = p.hostOf(vm.name)!;
      const k = kind.get(vm.name)!;
      if (k >= 0) {
        const group = hostIndex.get(from)! * kinds.size + k;
        if (seenGroups.has(group)) continue;
        seenGroups.add(group);
      }
      const sig = signature.get(vm.name)!;
      const la = p.loadOf(from);
      const sorted = sortedHosts(sig);
      const choice = fastChoice(p, vm, from, sorted);
      const natural =
        choice.host !== undefined && !choice.overflow && !choice.fromTies && (allInScope(sig) || choice.ties().every((h) => inScope.has(h)));
      const evaluated: string[] = [];
      const evaluate = (to: string) => {
        if (evaluated.includes(to)) return;
        evaluated.push(to);
        const lb = p.loadOf(to);
        const na = la - vm.weight;
        const nb = lb + vm.weight;
        const spreadGain = spread - (Math.max(ext.maxExcluding(from, to), na, nb) - Math.min(ext.minExcluding(from, to), na, nb));
        const balanceGain = la - lb - vm.weight;
        if (spreadGain < 0 || (spreadGain === 0 && balanceGain <= 0)) return;
        // `to` is eligible with room here: it ties with the pick when it has the pick's load.
        const pinned = !(natural && (to === choice.host || p.loadOf(to) === choice.load));
        const c: Candidate = { vm, from, to, spreadGain, sqGain: 2 * vm.weight * balanceGain, balanceGain, preferred: to === prefer };
        if (pinned) c.pinTo = to;
        if (best !== undefined && !better(c, best)) return;
        const others = pinned ? [] : choice.ties().filter((h) => h !== to);
        if (others.length) c.ties = others;
        best = c;
      };
      if (natural) evaluate(choice.host!);
      if (mode === 'scheduler') continue;
      // Any destination: a less loaded destination never gives a wider spread nor a smaller
      // squared-deviation gain, so only the least loaded hosts of the scope compete, plus the
      // preferred host (it wins ties on the spread).
      let least: number | undefined;
      for (const h of sorted) {
        const l = p.loadOf(h.name);
        if (least !== undefined && l > least) break;
        if (h.name === from || !inScope.has(h.name) || !p.fits(vm, h) || p.conflictOn(vm, h.name) !== undefined) continue;
        least = l;
        evaluate(h.name);
      }
      if (prefer !== undefined && inScope.has(prefer) && prefer !== from) {
        const h = p.host(prefer)!;
        if (p.isEligible(vm, h) && p.fits(vm, h)) evaluate(prefer);
      }
    }
    if (best === undefined) break;
    const c: Candidate = best;
    if ((c.spreadGain > 0 ? c.spreadGain : c.balanceGain) < minGain) break;
    p.place(c.vm, c.to);
    moved.add(c.vm.name);
    spread -= c.spreadGain;
    moves.push({
      vm: c.vm.name,
      from: c.from,
      to: c.to,
      weight: c.vm.weight,
      ...(c.pinTo !== undefined ? { pinTo: c.pinTo } : {}),
      ...(c.ties ? { ties: c.ties } : {}),
      spreadAfter: spread,
    });
  }
  // Balancing moves after the last lowering of the spread would restart VMs for nothing: dropped.
  // With a move cost, keep the prefix that removes the most spread net of what its moves cost.
  const moveCost = opts.moveCost ?? 0;
  let kept = 0;
  let previous = spreadBefore;
  let bestValue = 0;
  moves.forEach((m, i) => {
    const value = spreadBefore - m.spreadAfter - moveCost * (i + 1);
    if (m.spreadAfter < previous && (moveCost === 0 || value > bestValue)) {
      previous = m.spreadAfter;
      bestValue = value;
      kept = i + 1;
    }
  });
  const plan = moves.slice(0, kept);
  const loadAfter = { ...loadBefore };
  for (const m of plan) {
    loadAfter[m.from] -= m.weight;
    loadAfter[m.to] += m.weight;
  }
  return {
    moves: plan,
    spreadBefore,
    spreadAfter: previous,
    loadBefore,
    loadAfter,
    hosts: scope,
    untouched,
  };
}

interface FastChoice {
  /** The scheduler's pick (as `Placement.choose`), undefined when none. */
  host?: string;
  /** Its load (the old host counted without the VM). */
  load: number;
  overflow: boolean;
  /** The old host ties with the pick: the VM may start again where it was. */
  fromTies: boolean;
  /** Every host tied with the pick, sorted by name (computed on demand). */
  ties: () => string[];
}

/**
 * `p.choose(vm)` (the scheduler's pick) in a few steps, from the VM's statically eligible hosts sorted
 * by load and tie-break: the old host competes with its load minus the VM.
 */
function fastChoice(p: Placement, vm: VmState, from: string, sorted: HostState[]): FastChoice {
  const w = vm.weight;
  const conflicted = p.hasConflicts(vm.name);
  const room = (h: HostState, load: number) => h.capacity === undefined || load + w <= h.capacity;
  const usable = (h: HostState, load: number) =>
    (!p.capacityAware || room(h, load)) && !(conflicted && p.conflictOn(vm, h.name) !== undefined);
  const fromHost = p.host(from);
  const own = fromHost && p.staticallyEligible(vm, fromHost) && usable(fromHost, p.loadOf(from) - w) ? p.loadOf(from) - w : undefined;
  let host: HostState | undefined;
  let load = 0;
  for (const h of sorted) {
    if (h.name !== from && usable(h, p.loadOf(h.name))) {
      host = h;
      load = p.loadOf(h.name);
      break;
    }
  }
  if (own !== undefined && (host === undefined || own < load || (own === load && p.compareForTie(from, host.name) < 0))) {
    host = fromHost;
    load = own;
  }
  if (host === undefined) return { load: 0, overflow: false, fromTies: false, ties: () => [] };
  const pick = host;
  const ties = () => {
    const out: string[] = own === load ? [from] : [];
    for (const h of sorted) {
      const l = p.loadOf(h.name);
      if (l > load) break;
      if (l === load && h.name !== from && usable(h, l)) out.push(h.name);
    }
    return out.sort(byString);
  };
  return { host: pick.name, load, overflow: !room(pick, load), fromTies: own === load, ties };
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.spreadGain !== b.spreadGain) return a.spreadGain > b.spreadGain;
  if (a.preferred !== b.preferred) return a.preferred;
  if (a.sqGain !== b.sqGain) return a.sqGain > b.sqGain;
  const ap = a.pinTo === undefined;
  const bp = b.pinTo === undefined;
  if (ap !== bp) return ap;
  if (a.vm.name !== b.vm.name) return a.vm.name < b.vm.name;
  return a.to < b.to;
}

/** The three highest and three lowest loads, to get max/min without two given hosts in O(1). */
function extremes(hosts: string[], loadOf: (h: string) => number) {
  const sorted = hosts.map((h) => ({ h, l: loadOf(h) })).sort((a, b) => a.l - b.l || byString(a.h, b.h));
  const low = sorted.slice(0, 3);
  const high = sorted.slice(-3).reverse();
  return {
    maxExcluding(a: string, b: string): number {
      for (const x of high) if (x.h !== a && x.h !== b) return x.l;
      return -Infinity;
    },
    minExcluding(a: string, b: string): number {
      for (const x of low) if (x.h !== a && x.h !== b) return x.l;
      return Infinity;
    },
  };
}
