/**
 * The cluster model shared by the planners (capacity / N+1, rebalance, rolling reboot) and by the
 * drivers that fill it (fleet today; XenServer and OpenStack later).
 *
 * Vocabulary is deliberately tool-neutral: hosts carry labels, a capacity and two flags; VMs carry a
 * weight and placement constraints. A driver translates its tool into this model:
 *   - fleet: machines → hosts (metadata → labels), units → VMs (`Weight=` → weight,
 *     `MachineMetadata` → labels constraint, `MachineID`/`hostname=` of one host → pinnedHost,
 *     `Conflicts` → conflicts); a machine whose fleetd is stopped is not schedulable.
 *   - XenServer: hosts (enabled → schedulable), VMs (memory → weight).
 *   - OpenStack: compute services (enabled → schedulable, state up → up), instances (flavor → weight).
 *
 * Pure module: no Node APIs, no I/O, no clock, no randomness. Workflows call it directly inside
 * Temporal's deterministic sandbox, so every result depends only on the arguments and every tie is
 * broken by name (or by an explicit `tieOrder`). Results are plain JSON (no Infinity, no Map).
 */

export interface HostState {
  name: string;
  role?: string;
  labels: Record<string, string>;
  /** In weight units; a host without capacity is unbounded. */
  capacity?: number;
  /** accepts new VMs */
  schedulable: boolean;
  up: boolean;
}

export interface VmState {
  name: string;
  /** Where it runs (or is scheduled); undefined: nowhere. */
  host?: string;
  weight: number;
  running: boolean;
  /** XenServer: a disk lives on its host's local storage, so it cannot live-migrate. */
  localStorage?: boolean;
  /** OpenStack: set when the instance is in ERROR state, to nova's fault message ('' when it has none). */
  fault?: string;
  constraints: {
    /** Every key must be present on the host with one of the listed values (OR within a key, AND between keys). */
    labels?: Record<string, string[]>;
    /** must run on this host */
    pinnedHost?: string;
    /** glob-free VM names it must not share a host with (checked both ways, as fleet does) */
    conflicts?: string[];
  };
}

export interface ClusterSnapshot {
  hosts: HostState[];
  vms: VmState[];
  /**
   * How the cluster's own scheduler places a VM, as the driver knows it (fleet: least Weight, ties by
   * ascending machine id, capacity unknown to it). Planners use it unless given their own options.
   */
  scheduler?: Pick<PlacementOptions, 'tieOrder' | 'capacityAware'>;
}

/** One VM going from one host to another. */
export interface Move {
  vm: string;
  from: string;
  to: string;
  weight: number;
}

/**
 * How the cluster's own scheduler places a VM that is (re)started without a target host: fleet after
 * `fleetd` stops on a host or after `fleetctl unload` + `fleetctl start`, XenServer's host-evacuate,
 * nova evacuate without a host. The model is "least loaded eligible host".
 */
export interface PlacementOptions {
  /**
   * true (default): the scheduler only considers hosts with room for the VM (least loaded among those
   * that fit). false: it picks the least loaded eligible host whatever its capacity, and the planners
   * report the overflow as a failure (stock fleet knows nothing of capacity).
   */
  capacityAware?: boolean;
  /**
   * Order in which the scheduler breaks ties between equally loaded hosts (fleet: ascending machine id).
   * Hosts not listed come after the listed ones, by name. Default: by name.
   */
  tieOrder?: string[];
}

/** Sum of the weights of running VMs per host; every host of the snapshot is listed (0 if empty). */
export function loadByHost(s: ClusterSnapshot): Record<string, number> {
  const load: Record<string, number> = {};
  for (const h of s.hosts) load[h.name] = 0;
  for (const vm of s.vms) {
    if (!vm.running || vm.host === undefined) continue;
    // A VM on a host the snapshot does not list still weighs somewhere: it is counted, not dropped.
    load[vm.host] = (load[vm.host] ?? 0) + vm.weight;
  }
  return load;
}

/**
 * Hosts that may run `vm` (snapshot order): up, schedulable, labels match (every constraint key: the
 * host's label value is in the allowed list), the pinned host if any, and no conflict with a VM placed
 * there (running or not). Capacity is not checked here: see `roomLeft`.
 */
export function eligibleHosts(s: ClusterSnapshot, vm: VmState, exclude: string[] = []): HostState[] {
  const p = new Placement(s);
  const ex = new Set(exclude);
  return s.hosts.filter((h) => !ex.has(h.name) && p.isEligible(vm, h));
}

/** max - min of the loads of the given hosts (default: every host of `load`); 0 for no host. */
export function weightSpread(load: Record<string, number>, hosts?: string[]): number {
  const names = hosts ?? Object.keys(load);
  if (names.length === 0) return 0;
  let max = -Infinity;
  let min = Infinity;
  for (const h of names) {
    const l = load[h] ?? 0;
    if (l > max) max = l;
    if (l < min) min = l;
  }
  return max - min;
}

/** Sum of squared deviations from the mean load over the given hosts (default: all of `load`). */
export function sumSquaredDeviations(load: Record<string, number>, hosts?: string[]): number {
  const names = hosts ?? Object.keys(load);
  if (names.length === 0) return 0;
  const mean = names.reduce((a, h) => a + (load[h] ?? 0), 0) / names.length;
  return names.reduce((a, h) => a + ((load[h] ?? 0) - mean) ** 2, 0);
}

/** Room left on a host for the given load; undefined for an unbounded host (no capacity). */
export function roomLeft(host: HostState, load: number): number | undefined {
  return host.capacity === undefined ? undefined : host.capacity - load;
}

/** `a, b and c` style list for messages. */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The result of asking where the scheduler would put a VM. */
export interface Choice {
  /** The chosen host (with the deterministic tie-break); undefined when no host is possible. */
  host?: string;
  /** Every host at the same (tier and) load as the chosen one, chosen one included, sorted by name. */
  ties: string[];
  /** The chosen host lacks room (only when capacity is not taken into account). */
  overflow: boolean;
}

/**
 * A mutable simulation of placement used by the planners (exported for the domain modules; callers
 * outside `domain/` should use the planners). It never mutates the snapshot it was built from.
 */
export class Placement {
  readonly hosts: HostState[];
  private readonly hostByName = new Map<string, HostState>();
  private readonly vmByName = new Map<string, VmState>();
  private readonly load = new Map<string, number>();
  private readonly where = new Map<string, string>();
  private readonly residents = new Map<string, Set<string>>();
  /** Symmetric conflict relation: a VM conflicts with b if either names the other. */
  private readonly conflicts = new Map<string, Set<string>>();
  private readonly rank = new Map<string, number>();
  private readonly hostOverride = new Map<string, Partial<Pick<HostState, 'schedulable' | 'up'>>>();
  readonly capacityAware: boolean;

  constructor(s: ClusterSnapshot, opts: PlacementOptions = {}) {
    this.capacityAware = opts.capacityAware ?? s.scheduler?.capacityAware ?? true;
    this.hosts = s.hosts;
    for (const h of s.hosts) {
      this.hostByName.set(h.name, h);
      this.load.set(h.name, 0);
      this.residents.set(h.name, new Set());
    }
    (opts.tieOrder ?? s.scheduler?.tieOrder ?? []).forEach((h, i) => {
      if (!this.rank.has(h)) this.rank.set(h, i);
    });
    for (const vm of s.vms) {
      this.vmByName.set(vm.name, vm);
      for (const c of vm.constraints.conflicts ?? []) {
        if (c === vm.name) continue;
        this.addConflict(vm.name, c);
        this.addConflict(c, vm.name);
      }
      if (vm.host !== undefined) this.place(vm, vm.host);
    }
  }

  private addConflict(a: string, b: string): void {
    let set = this.conflicts.get(a);
    if (!set) this.conflicts.set(a, (set = new Set()));
    set.add(b);
  }

  host(name: string): HostState | undefined {
    return this.hostByName.get(name);
  }

  vm(name: string): VmState | undefined {
    return this.vmByName.get(name);
  }

  loadOf(host: string): number {
    return this.load.get(host) ?? 0;
  }

  hostOf(vm: string): string | undefined {
    return this.where.get(vm);
  }

  /** VMs placed on a host (running or not), sorted by name. */
  vmsOn(host: string): VmState[] {
    return [...(this.residents.get(host) ?? [])].sort(byString).map((n) => this.vmByName.get(n)!);
  }

  loads(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [h, l] of this.load) out[h] = l;
    return out;
  }

  /** Simulates a state change of a host (a host disabled for maintenance, then enabled again). */
  setHost(host: string, change: Partial<Pick<HostState, 'schedulable' | 'up'>>): void {
    this.hostOverride.set(host, { ...this.hostOverride.get(host), ...change });
  }

  private flags(h: HostState): { up: boolean; schedulable: boolean } {
    const o = this.hostOverride.get(h.name);
    return { up: o?.up ?? h.up, schedulable: o?.schedulable ?? h.schedulable };
  }

  /** Labels and pinning only: could this host ever run the VM, whatever its state and neighbours? */
  matchesConstraints(vm: VmState, h: HostState): boolean {
    const c = vm.constraints;
    if (c.pinnedHost !== undefined && c.pinnedHost !== h.name) return false;
    if (c.labels) {
      for (const key of Object.keys(c.labels)) {
        const value = h.labels[key];
        if (value === undefined || !c.labels[key].includes(value)) return false;
      }
    }
    return true;
  }

  /** A VM placed on `h` that `vm` must not share it with (the VM itself excluded). */
  conflictOn(vm: VmState, h: string): string | undefined {
    const set = this.conflicts.get(vm.name);
    if (!set) return undefined;
    let found: string | undefined;
    for (const other of set) {
      if (this.where.get(other) === h && (found === undefined || other < found)) found = other;
    }
    return found;
  }

  /** Does any VM name `vm` as a conflict, or `vm` name any? */
  hasConflicts(vm: string): boolean {
    return (this.conflicts.get(vm)?.size ?? 0) > 0;
  }

  /** Up, schedulable, labels, pinning; neither conflicts nor capacity. */
  staticallyEligible(vm: VmState, h: HostState): boolean {
    const f = this.flags(h);
    return f.up && f.schedulable && this.matchesConstraints(vm, h);
  }

  /** The scheduler's tie-break between equally loaded hosts: `tieOrder`, then name. */
  compareForTie(a: string, b: string): number {
    const ra = this.rank.get(a) ?? Number.MAX_SAFE_INTEGER;
    const rb = this.rank.get(b) ?? Number.MAX_SAFE_INTEGER;
    return ra - rb || byString(a, b);
  }

  /** Up, schedulable, labels, pinning, conflicts (capacity not included). */
  isEligible(vm: VmState, h: HostState): boolean {
    const f = this.flags(h);
    return f.up && f.schedulable && this.matchesConstraints(vm, h) && this.conflictOn(vm, h.name) === undefined;
  }

  /** Why `h` cannot run `vm` (capacity not included), or undefined when it can. */
  whyNot(vm: VmState, h: HostState): string | undefined {
    const f = this.flags(h);
    if (!f.up) return `${h.name} is down`;
    if (!f.schedulable) return `${h.name} accepts no new VM`;
    const c = vm.constraints;
    if (c.pinnedHost !== undefined && c.pinnedHost !== h.name) return `${vm.name} is pinned to ${c.pinnedHost}`;
    if (!this.matchesConstraints(vm, h)) return `${h.name} does not match the labels of ${vm.name}`;
    const other = this.conflictOn(vm, h.name);
    if (other !== undefined) return `${h.name} runs ${other}, which conflicts with ${vm.name}`;
    return undefined;
  }

  /** Load of `h` if `vm` were taken off wherever it is now. */
  loadWithout(vm: VmState, h: string): number {
    const l = this.loadOf(h);
    return vm.running && this.where.get(vm.name) === h ? l - vm.weight : l;
  }

  /** Does `vm` fit on `h` (counting it off its current host)? */
  fits(vm: VmState, h: HostState): boolean {
    return h.capacity === undefined || this.loadWithout(vm, h.name) + vm.weight <= h.capacity;
  }

  /** The best room left for `vm` among the given hosts: the host with the most room (unbounded first). */
  bestRoom(vm: VmState, hosts: HostState[]): { host: string; room?: number } | undefined {
    let best: { host: string; room?: number } | undefined;
    for (const h of [...hosts].sort((a, b) => byString(a.name, b.name))) {
      const room = h.capacity === undefined ? undefined : h.capacity - this.loadWithout(vm, h.name);
      if (best === undefined) best = { host: h.name, room };
      else if (best.room !== undefined && (room === undefined || room > best.room)) best = { host: h.name, room };
    }
    return best;
  }

  /**
   * Where the scheduler starts `vm` now: among eligible hosts (not excluded; with room when the
   * scheduler is capacity aware) the lowest tier, then the least loaded (the VM counted off its
   * current host), then `tieOrder`, then name. `tier` lets a planner prefer some hosts
   * (rolling reboot: hosts already rebooted); the plain scheduler has a single tier.
   */
  choose(vm: VmState, opts: { exclude?: ReadonlySet<string>; tier?: (host: string) => number; candidates?: readonly HostState[] } = {}): Choice {
    let best: { h: HostState; tier: number; load: number } | undefined;
    const all: { h: HostState; tier: number; load: number }[] = [];
    for (const h of opts.candidates ?? this.hosts) {
      if (opts.exclude?.has(h.name) || !this.isEligible(vm, h)) continue;
      if (this.capacityAware && !this.fits(vm, h)) continue;
      const c = { h, tier: opts.tier ? opts.tier(h.name) : 0, load: this.loadWithout(vm, h.name) };
      all.push(c);
      if (best === undefined || this.better(c, best)) best = c;
    }
    if (best === undefined) return { ties: [], overflow: false };
    const b = best;
    const ties = all
      .filter((c) => c.tier === b.tier && c.load === b.load)
      .map((c) => c.h.name)
      .sort(byString);
    return { host: b.h.name, ties, overflow: !this.fits(vm, b.h) };
  }

  private better(a: { h: HostState; tier: number; load: number }, b: { h: HostState; tier: number; load: number }): boolean {
    if (a.tier !== b.tier) return a.tier < b.tier;
    if (a.load !== b.load) return a.load < b.load;
    return this.compareForTie(a.h.name, b.h.name) < 0;
  }

  /** Puts `vm` on `host` (taking it off its current host). */
  place(vm: VmState, host: string): void {
    this.unplace(vm);
    this.where.set(vm.name, host);
    let set = this.residents.get(host);
    if (!set) this.residents.set(host, (set = new Set()));
    set.add(vm.name);
    if (vm.running) this.load.set(host, (this.load.get(host) ?? 0) + vm.weight);
  }

  /** Takes `vm` off its host (it stops or waits unscheduled). */
  unplace(vm: VmState): void {
    const from = this.where.get(vm.name);
    if (from === undefined) return;
    this.where.delete(vm.name);
    this.residents.get(from)?.delete(vm.name);
    if (vm.running) this.load.set(from, (this.load.get(from) ?? 0) - vm.weight);
  }
}

export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Heaviest first, then by name: the order in which planners place VMs. */
export function heaviestFirst(a: VmState, b: VmState): number {
  return b.weight - a.weight || byString(a.name, b.name);
}
