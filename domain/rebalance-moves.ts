/**
 * The moves a rebalancing plan may make from a given placement, with what each gains: shared by the
 * greedy planner and the exact search (domain/rebalance.ts, domain/rebalance-search.ts), so that both
 * follow one set of rules (see the module comment of domain/rebalance.ts).
 *
 * Pure module: no Node APIs, workflows import it.
 */
import { byString, type Placement, type ClusterSnapshot, type HostState, type Move, type PlacementOptions, type VmState } from './cluster';

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
   * The least spread, in weight units, a plan must remove to be made at all; the greedy also stops when
   * its best move gains less (see the module comment). Default: the weight of the lightest movable VM
   * (the granularity of the cluster); 1 goes as far as the greedy can.
   */
  minGain?: number;
  /**
   * What one move costs, in weight units of spread (default 0). For tools where a move restarts the VM
   * (fleet), the lightest VM's weight keeps a failback from polishing an already even cluster with many
   * restarts.
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

/** What does not change while a plan is built: the hosts, the movable VMs and the rules. */
export interface RebalanceInstance {
  scope: string[];
  inScope: ReadonlySet<string>;
  /** Running VMs of `scope` that may move, by name. */
  movable: VmState[];
  untouched: { vm: string; reason: string }[];
  minGain: number;
  moveCost: number;
  /** At most this many moves (never more than the movable VMs). */
  maxMoves: number;
  mode: 'scheduler' | 'any';
  prefer?: string;
  /** VMs with the same constraints share their statically eligible hosts (up, schedulable, labels, pinning). */
  signature: ReadonlyMap<string, string>;
  staticHosts: ReadonlyMap<string, HostState[]>;
  /**
   * Per VM free of conflicts, a number for (weight, constraints); -1 for a VM with conflicts. VMs of one
   * kind on one host are interchangeable: only the first by name of each such group is a candidate.
   */
  kind: ReadonlyMap<string, number>;
  kinds: number;
  hostIndex: ReadonlyMap<string, number>;
  /** Every statically eligible host of the signature is in `scope`. */
  allInScope: (sig: string) => boolean;
}

export function rebalanceInstance(s: ClusterSnapshot, opts: RebalanceOptions, p: Placement): RebalanceInstance {
  const scope = opts.hosts ? [...new Set(opts.hosts)].filter((h) => p.host(h) !== undefined) : s.hosts.filter((h) => h.up && h.schedulable).map((h) => h.name);
  const inScope = new Set(scope);
  const neverTouch = new Set(opts.neverTouch ?? []);
  const untouched: { vm: string; reason: string }[] = [];
  const movable: VmState[] = [];
  for (const vm of [...s.vms].sort((a, b) => byString(a.name, b.name))) {
    if (!vm.running || vm.host === undefined || !inScope.has(vm.host)) continue;
    if (neverTouch.has(vm.name)) untouched.push({ vm: vm.name, reason: 'never touched' });
    else if (vm.constraints.pinnedHost !== undefined) untouched.push({ vm: vm.name, reason: `pinned to ${vm.constraints.pinnedHost}` });
    else movable.push(vm);
  }
  const lightest = movable.reduce((m, v) => (v.weight > 0 && v.weight < m ? v.weight : m), Number.POSITIVE_INFINITY);

  const signature = new Map<string, string>();
  const staticHosts = new Map<string, HostState[]>();
  const kind = new Map<string, number>();
  const kinds = new Map<string, number>();
  for (const vm of movable) {
    const c = vm.constraints;
    const labels = c.labels
      ? Object.keys(c.labels)
          .sort(byString)
          .map((k) => [k, [...c.labels![k]].sort(byString)])
      : [];
    const sig = JSON.stringify([labels, c.pinnedHost ?? null]);
    signature.set(vm.name, sig);
    if (!staticHosts.has(sig))
      staticHosts.set(
        sig,
        s.hosts.filter((h) => p.staticallyEligible(vm, h)),
      );
    const k = `${vm.weight} ${sig}`;
    if (!kinds.has(k)) kinds.set(k, kinds.size);
    kind.set(vm.name, p.hasConflicts(vm.name) ? -1 : kinds.get(k)!);
  }
  const sigInScope = new Map([...staticHosts].map(([sig, hosts]) => [sig, hosts.every((h) => inScope.has(h.name))]));
  return {
    scope,
    inScope,
    movable,
    untouched,
    minGain: opts.minGain ?? (Number.isFinite(lightest) ? lightest : 1),
    moveCost: opts.moveCost ?? 0,
    maxMoves: Math.min(opts.maxMoves ?? Number.MAX_SAFE_INTEGER, movable.length),
    mode: opts.destinations ?? 'scheduler',
    ...(opts.prefer?.host !== undefined ? { prefer: opts.prefer.host } : {}),
    signature,
    staticHosts,
    kind,
    kinds: kinds.size,
    hostIndex: new Map(scope.map((h, i) => [h, i])),
    allInScope: (sig) => sigInScope.get(sig)!,
  };
}

export interface Candidate {
  vm: VmState;
  from: string;
  to: string;
  /** Spread over `scope` before the move minus after (negative: the move raises it). */
  spreadGain: number;
  /** Sum of squared deviations before minus after: 2 x weight x balanceGain. */
  sqGain: number;
  /** Source load - destination load - weight, before the move. */
  balanceGain: number;
  preferred: boolean;
  pinTo?: string;
  /** The scheduler's pick for the VM when the move may run as a plain restart (its ties). */
  natural?: FastChoice;
}

/**
 * Calls `visit` with each move allowed from the current state of `p` (VMs in `moved` stay where they
 * are; `spread` is the current spread over the scope). Narrow (the greedy): the moves that lower the
 * spread or, without raising it, the sum of squared deviations; in 'any' mode only the destinations that
 * can be best (the least loaded ones and the preferred host). Wide (the exact search): every move the
 * mode allows, to any destination, even one that raises the spread for a while (a swap: the first move
 * makes room for the second).
 * Returns the number of moves evaluated (the search's unit of work).
 */
export function forEachCandidate(
  inst: RebalanceInstance,
  p: Placement,
  moved: ReadonlySet<string>,
  spread: number,
  wide: boolean,
  visit: (c: Candidate) => void,
): number {
  const ext = extremes(inst.scope, (h) => p.loadOf(h));
  // Per constraint signature, its hosts by current load then the scheduler's tie-break.
  const sortedBySig = new Map<string, HostState[]>();
  const sortedHosts = (sig: string) => {
    let list = sortedBySig.get(sig);
    if (!list) {
      list = [...inst.staticHosts.get(sig)!].sort((a, b) => p.loadOf(a.name) - p.loadOf(b.name) || p.compareForTie(a.name, b.name));
      sortedBySig.set(sig, list);
    }
    return list;
  };
  let work = 0;
  const seenGroups = new Set<number>();
  for (const vm of inst.movable) {
    if (moved.has(vm.name)) continue;
    const from = p.hostOf(vm.name)!;
    const k = inst.kind.get(vm.name)!;
    if (k >= 0) {
      const group = inst.hostIndex.get(from)! * inst.kinds + k;
      if (seenGroups.has(group)) continue;
      seenGroups.add(group);
    }
    const sig = inst.signature.get(vm.name)!;
    const la = p.loadOf(from);
    const sorted = sortedHosts(sig);
    const choice = fastChoice(p, vm, from, sorted);
    const natural =
      choice.host !== undefined && !choice.overflow && !choice.fromTies && (inst.allInScope(sig) || choice.ties().every((h) => inst.inScope.has(h)));
    const evaluated: string[] = [];
    const evaluate = (to: string) => {
      if (evaluated.includes(to)) return;
      evaluated.push(to);
      work++;
      const lb = p.loadOf(to);
      const na = la - vm.weight;
      const nb = lb + vm.weight;
      const spreadGain = spread - (Math.max(ext.maxExcluding(from, to), na, nb) - Math.min(ext.minExcluding(from, to), na, nb));
      const balanceGain = la - lb - vm.weight;
      if (!wide && (spreadGain < 0 || (spreadGain === 0 && balanceGain <= 0))) return;
      // `to` is eligible with room here: it ties with the pick when it has the pick's load.
      const pinned = !(natural && (to === choice.host || p.loadOf(to) === choice.load));
      const c: Candidate = { vm, from, to, spreadGain, sqGain: 2 * vm.weight * balanceGain, balanceGain, preferred: to === inst.prefer };
      if (pinned) c.pinTo = to;
      else c.natural = choice;
      visit(c);
    };
    if (natural) evaluate(choice.host!);
    if (inst.mode === 'scheduler') continue;
    // Any destination. For the greedy, a less loaded destination never gives a wider spread nor a
    // smaller squared-deviation gain, so only the least loaded hosts of the scope compete, plus the
    // preferred host (it wins ties on the spread).
    let least: number | undefined;
    for (const h of sorted) {
      const l = p.loadOf(h.name);
      if (!wide && least !== undefined && l > least) break;
      if (h.name === from || !inst.inScope.has(h.name) || !p.fits(vm, h) || p.conflictOn(vm, h.name) !== undefined) continue;
      least = l;
      evaluate(h.name);
    }
    const prefer = inst.prefer;
    if (!wide && prefer !== undefined && inst.inScope.has(prefer) && prefer !== from) {
      const h = p.host(prefer)!;
      if (p.isEligible(vm, h) && p.fits(vm, h)) evaluate(prefer);
    }
  }
  return work;
}

/**
 * The order of moves from one state: the larger spread gain; a move that evens out the load (positive
 * balance gain) before one that does not; a move to the preferred host; the larger squared-deviation
 * gain; a move needing no `pinTo`; then VM name, then destination name. The greedy takes the first.
 */
export function better(a: Candidate, b: Candidate): boolean {
  if (a.spreadGain !== b.spreadGain) return a.spreadGain > b.spreadGain;
  const au = a.balanceGain > 0;
  const bu = b.balanceGain > 0;
  if (au !== bu) return au;
  if (a.preferred !== b.preferred) return a.preferred;
  if (a.sqGain !== b.sqGain) return a.sqGain > b.sqGain;
  const ap = a.pinTo === undefined;
  const bp = b.pinTo === undefined;
  if (ap !== bp) return ap;
  if (a.vm.name !== b.vm.name) return a.vm.name < b.vm.name;
  return a.to < b.to;
}

/** The move as a plan lists it; call before the move is made (the ties are read from the current loads). */
export function planMove(c: Candidate, spreadAfter: number): RebalanceMove {
  const ties = c.natural ? c.natural.ties().filter((h) => h !== c.to) : [];
  return {
    vm: c.vm.name,
    from: c.from,
    to: c.to,
    weight: c.vm.weight,
    ...(c.pinTo !== undefined ? { pinTo: c.pinTo } : {}),
    ...(ties.length ? { ties } : {}),
    spreadAfter,
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
  const usable = (h: HostState, load: number) => (!p.capacityAware || room(h, load)) && !(conflicted && p.conflictOn(vm, h.name) !== undefined);
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
