/**
 * Drain filters (DESIGN.md, "Drain filters"): which VMs of a host a drain may move, and what blocks it.
 *
 * Modelled on kubectl drain's PodFilter pipeline (k8s.io/kubectl/pkg/drain/filters.go, drain.go
 * `filterPods`): every VM of the host runs through an ordered list of filters; each filter says
 * `move` or not, and the first one that does not say `move` decides the VM's verdict:
 *   - `move`:  the drain moves it;
 *   - `stays`: it can only ever run on this host (pinned, or labels no other host has): expected, listed;
 *   - `skip`:  it is not running: nothing to move;
 *   - `error`: the drain must not proceed; the procedure parks on its safety gate with the message.
 * Two departures from kubectl, both on purpose:
 *   - warnings accumulate over every filter that ran (kubectl keeps only the last filter's status,
 *     so an early warning is lost: the TODO in its localStorageFilter);
 *   - every message names its VM (kubectl groups pods under one message per reason), because the gate
 *     shows them one per line and an operator acts on one VM at a time.
 *
 * The list is: the base filters (never-touch → error, only-here → stays, not running → skip), then the
 * stack's own filters (xen: local storage; openstack: ERROR state), then the advisory filters, which
 * only warn. Advisories come last so that only VMs the drain really moves get them: a VM that errors or
 * stays already has its message, and extra lines next to a blocker only hide it.
 *
 * Pure module: no Node APIs, workflows import it. Results depend only on the arguments (VMs by name).
 */
import { byString, Placement, type ClusterSnapshot, type HostState, type VmState } from './cluster';

export type DrainVerdict = 'move' | 'stays' | 'skip' | 'error';

/** What one filter says about one VM (kubectl's PodDeleteStatus). Any status may carry a warning. */
export type DrainStatus = { verdict: 'move'; warning?: string } | { verdict: Exclude<DrainVerdict, 'move'>; message: string; warning?: string };

/** What a filter may look at: the drained host and the cluster around it. Read only. */
export interface DrainContext {
  /** The host being drained. */
  readonly host: string;
  readonly snapshot: ClusterSnapshot;
  readonly neverTouch: ReadonlySet<string>;
  /** Hosts other than `host` whose labels and pinning `vm` matches, whatever their state, by name. */
  otherHostsFor(vm: VmState): string[];
  /** Do `vm`'s labels and pinning allow `host` itself? undefined when `host` is not in the snapshot. */
  allowsHost(vm: VmState): boolean | undefined;
}

/** A filter is a plain function, so a stack adds its own without touching the base ones. */
export type DrainFilter = (vm: VmState, ctx: DrainContext) => DrainStatus;

export type DrainStack = 'fleet' | 'xen' | 'openstack';

/** One VM's verdict after the whole pipeline. */
export type DrainOutcome = { verdict: 'move'; warnings: string[] } | { verdict: Exclude<DrainVerdict, 'move'>; message: string; warnings: string[] };

export interface DrainEntry {
  vm: string;
  message: string;
}

export interface DrainFilterResult {
  /** VMs the drain moves, by name. */
  move: string[];
  stays: DrainEntry[];
  skipped: DrainEntry[];
  /** Non-empty: the drain must not proceed. */
  errors: DrainEntry[];
  /** For the gate's evidence: by VM name, then in filter order. */
  warnings: DrainEntry[];
}

export interface DrainFilterOptions {
  /** Inventory `vms.neverTouch`. */
  neverTouch?: readonly string[];
  stack: DrainStack;
}

const MOVE: DrainStatus = { verdict: 'move' };

// ---- base filters -------------------------------------------------------------------------------

/** hvflow never moves, stops or starts a never-touch VM, running or not: its host cannot be drained. */
export const neverTouchFilter: DrainFilter = (vm, ctx) =>
  ctx.neverTouch.has(vm.name)
    ? { verdict: 'error', message: `${vm.name} is never-touch (vms.neverTouch); hvflow does not move it — move it by hand or remove it from the list` }
    : MOVE;

/**
 * A VM that no other host may run (pinned here, or labels no other host has) is expected to stay, as
 * capacity's "expected" strand is: the runbook lets it go down with the host and come back with it.
 */
export const onlyHereFilter: DrainFilter = (vm, ctx) =>
  ctx.otherHostsFor(vm).length > 0 ? MOVE : { verdict: 'stays', message: `${whyOnlyHere(vm, ctx)}: the drain leaves it on ${ctx.host}` };

/** A VM that is not running has nothing to migrate; it stays placed where it is. */
export const notRunningFilter: DrainFilter = (vm, ctx) =>
  vm.running ? MOVE : { verdict: 'skip', message: `${vm.name} is not running: nothing to move; it stays placed on ${ctx.host}` };

// ---- stack filters ------------------------------------------------------------------------------

/** XenServer: a VM with a disk on the host's local storage cannot live-migrate (host-evacuate refuses it). */
export const xenLocalStorageFilter: DrainFilter = (vm, ctx) =>
  vm.localStorage
    ? {
        verdict: 'error',
        message: `${vm.name} has a disk on the local storage of ${ctx.host}: it cannot live-migrate — move its disks to shared storage, or shut it down for the maintenance`,
      }
    : MOVE;

/** OpenStack: nova refuses to migrate an instance in ERROR state; someone has to look at it first. */
export const openstackErrorStateFilter: DrainFilter = (vm) =>
  vm.fault !== undefined
    ? {
        verdict: 'error',
        message: `${vm.name} is in ERROR state${vm.fault ? ` (${vm.fault})` : ''}: nova will not migrate it — repair it or move it by hand first`,
      }
    : MOVE;

// ---- advisory filters (warnings only) -----------------------------------------------------------

/**
 * A VM running where its own constraints do not allow (moved by hand, or labels changed since): the
 * drain puts it back where they allow, so a placement someone may have made on purpose is undone.
 * The operator should know before approving, not find out after.
 */
export const misplacedWarning: DrainFilter = (vm, ctx) => {
  if (ctx.allowsHost(vm) !== false) return MOVE;
  const pinned = vm.constraints.pinnedHost;
  const why = pinned !== undefined ? `although it is pinned to ${pinned}` : `which lacks ${labelsText(vm.constraints.labels ?? {})}`;
  return {
    verdict: 'move',
    warning: `${vm.name} runs on ${ctx.host}, ${why}: the drain moves it where its constraints allow, undoing a placement that may have been made on purpose`,
  };
};

/**
 * A VM that only one host besides this one may run (the seeds' islet pairs: hostname=islet54|islet55)
 * has no spare while this host is away: if that host fails too, the VM has nowhere to go. Only one,
 * not "a few": with two or more the VM keeps N+1 during the maintenance, and warning on every
 * rack- or zone-bound VM would bury the warnings that matter. Pinned VMs are left out: one host is
 * their design, and `misplacedWarning` says why such a VM moves at all.
 */
export const narrowPlacementWarning: DrainFilter = (vm, ctx) => {
  if (vm.constraints.pinnedHost !== undefined) return MOVE;
  const others = ctx.otherHostsFor(vm);
  if (others.length !== 1) return MOVE;
  const labels = vm.constraints.labels;
  const by = labels && Object.keys(labels).length > 0 ? `by its labels ${labelsText(labels)}` : 'the only other host of the cluster';
  return {
    verdict: 'move',
    warning: `${vm.name} can run on one host besides ${ctx.host} (${others[0]}, ${by}): while ${ctx.host} is away it has no spare if ${others[0]} fails`,
  };
};

// ---- lists --------------------------------------------------------------------------------------

export const BASE_DRAIN_FILTERS: readonly DrainFilter[] = Object.freeze([neverTouchFilter, onlyHereFilter, notRunningFilter]);
export const ADVISORY_DRAIN_FILTERS: readonly DrainFilter[] = Object.freeze([misplacedWarning, narrowPlacementWarning]);

const FLEET_FILTERS: readonly DrainFilter[] = Object.freeze([...BASE_DRAIN_FILTERS, ...ADVISORY_DRAIN_FILTERS]);
const XEN_FILTERS: readonly DrainFilter[] = Object.freeze([...BASE_DRAIN_FILTERS, xenLocalStorageFilter, ...ADVISORY_DRAIN_FILTERS]);
const OPENSTACK_FILTERS: readonly DrainFilter[] = Object.freeze([...BASE_DRAIN_FILTERS, openstackErrorStateFilter, ...ADVISORY_DRAIN_FILTERS]);

/** The pipeline for a stack: base filters, the stack's own, then the advisories. */
export function drainFiltersFor(stack: DrainStack): readonly DrainFilter[] {
  switch (stack) {
    case 'fleet':
      return FLEET_FILTERS;
    case 'xen':
      return XEN_FILTERS;
    case 'openstack':
      return OPENSTACK_FILTERS;
  }
}

// ---- running the pipeline -----------------------------------------------------------------------

/** The context for draining `host` of `snapshot`; built once per drain (one Placement, hosts by name). */
export function drainContext(snapshot: ClusterSnapshot, host: string, neverTouch: Iterable<string> = []): DrainContext {
  // Placement owns what "matches labels and pinning" means; the filters must not drift from capacity's view.
  const p = new Placement(snapshot);
  const others = snapshot.hosts.filter((h) => h.name !== host).sort((a, b) => byString(a.name, b.name));
  const here: HostState | undefined = p.host(host);
  return {
    host,
    snapshot,
    neverTouch: new Set(neverTouch),
    otherHostsFor: (vm) => others.filter((h) => p.matchesConstraints(vm, h)).map((h) => h.name),
    allowsHost: (vm) => (here === undefined ? undefined : p.matchesConstraints(vm, here)),
  };
}

/** Runs `filters` in order on one VM: the first non-`move` status decides; warnings accumulate. */
export function runDrainFilters(vm: VmState, ctx: DrainContext, filters: readonly DrainFilter[]): DrainOutcome {
  const warnings: string[] = [];
  for (const filter of filters) {
    const status = filter(vm, ctx);
    if (status.warning !== undefined) warnings.push(status.warning);
    if (status.verdict !== 'move') return { verdict: status.verdict, message: status.message, warnings };
  }
  return { verdict: 'move', warnings };
}

/** The verdict of the stack's pipeline on every VM placed on `host` (running or not), by VM name. */
export function filterDrain(snapshot: ClusterSnapshot, host: string, opts: DrainFilterOptions): DrainFilterResult {
  const ctx = drainContext(snapshot, host, opts.neverTouch);
  const filters = drainFiltersFor(opts.stack);
  const result: DrainFilterResult = { move: [], stays: [], skipped: [], errors: [], warnings: [] };
  const onHost = snapshot.vms.filter((v) => v.host === host).sort((a, b) => byString(a.name, b.name));
  for (const vm of onHost) {
    const outcome = runDrainFilters(vm, ctx, filters);
    for (const message of outcome.warnings) result.warnings.push({ vm: vm.name, message });
    if (outcome.verdict === 'move') result.move.push(vm.name);
    else {
      const entry = { vm: vm.name, message: outcome.message };
      if (outcome.verdict === 'stays') result.stays.push(entry);
      else if (outcome.verdict === 'skip') result.skipped.push(entry);
      else result.errors.push(entry);
    }
  }
  return result;
}

// ---- messages -----------------------------------------------------------------------------------

/** Why no other host may run `vm` (only called when none does). */
function whyOnlyHere(vm: VmState, ctx: DrainContext): string {
  const pinned = vm.constraints.pinnedHost;
  const labels = vm.constraints.labels;
  if (pinned === ctx.host) return `${vm.name} is pinned to ${ctx.host}`;
  if (pinned !== undefined) {
    if (!ctx.snapshot.hosts.some((h) => h.name === pinned)) return `${vm.name} is pinned to ${pinned}, which is not a host of this cluster`;
    return `${vm.name} is pinned to ${pinned}, which lacks its labels ${labelsText(labels ?? {})}`;
  }
  if (labels && Object.keys(labels).length > 0) return `${vm.name} needs ${labelsText(labels)}, which no other host has`;
  return `${vm.name} has no other host to go to in this cluster`;
}

/** `hostname=islet54|islet55 and role=top`: OR within a key, AND between keys, as the constraint means. */
function labelsText(labels: Record<string, string[]>): string {
  return Object.keys(labels)
    .sort(byString)
    .map((key) => `${key}=${labels[key].length > 0 ? labels[key].join('|') : '(no value allowed)'}`)
    .join(' and ');
}
