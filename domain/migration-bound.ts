/**
 * A lower bound on the live migrations of a rolling reboot (domain/migration.ts), whatever the order
 * after the first host and whatever the capacities: what the constraints alone force.
 *
 * - Every running VM of a host in the order that may run on another host moves at least once; a VM
 *   that may run only on its host (pinned, labels) stays and does not move.
 * - A VM of the first host moves twice when every other host it may run on is in the order: it can
 *   only go to a host rebooted later, which it leaves again.
 * - Eligibility classes: let S be the hosts a VM may run on, all in the order and without the first
 *   host. Whichever host x of S is rebooted first, the VMs on x that may run only on hosts of S have
 *   no rebooted host to go to when x is emptied: they move twice. So the bound adds, for S, the
 *   fewest such VMs on one host of S (the order may pick that host first in S). Two disjoint classes
 *   add up (no VM is counted in both); a pool in two zones with VMs bound to the zone without the
 *   pool master: the zone's first host rebooted sends its zone-bound VMs to a zone host rebooted
 *   later.
 *
 * The bound ignores capacity (room is the planner's problem) and conflicts; a plan that reaches it
 * moves each VM as few times as possible. Pure module: no Node APIs, workflows import it.
 */
import { Placement, type ClusterSnapshot, type HostState, type PlacementOptions, type VmState } from './cluster';

export interface RollingRebootBound {
  /** The fewest migrations any plan needs. */
  migrations: number;
  /** VMs that must move at all (once at least). */
  vms: number;
  /** VMs of the first host that must move twice. */
  firstHostTwice: number;
  /** VMs of other hosts that must move twice (the eligibility classes). */
  classTwice: number;
}

export function rollingRebootLowerBound(
  s: ClusterSnapshot,
  order: readonly string[],
  opts: PlacementOptions & { neverTouch?: string[] } = {},
): RollingRebootBound {
  const p = new Placement(s, opts);
  const inOrder = new Set(order);
  const first = order[0];
  const neverTouch = new Set(opts.neverTouch ?? []);
  // A host outside the order takes VMs for good only if it is up and schedulable; one in the order is rebooted and takes them after.
  const usable = (h: HostState) => inOrder.has(h.name) || (h.up && h.schedulable);
  const eligible = (v: VmState) => s.hosts.filter((h) => usable(h) && p.matchesConstraints(v, h)).map((h) => h.name);
  let vms = 0;
  let firstHostTwice = 0;
  /** Class key -> its hosts and, per host, the VMs there that may run only on the class's hosts. */
  const classes = new Map<string, { hosts: string[]; vms: VmState[] }>();
  const movable: { vm: VmState; hosts: string[] }[] = [];
  for (const v of s.vms) {
    if (!v.running || v.host === undefined || !inOrder.has(v.host) || neverTouch.has(v.name)) continue;
    const hosts = eligible(v);
    if (!hosts.some((h) => h !== v.host)) continue; // stays: stops and starts again with its host
    vms++;
    movable.push({ vm: v, hosts });
    if (v.host === first) {
      if (hosts.every((h) => inOrder.has(h))) firstHostTwice++;
      continue;
    }
    if (first !== undefined && !hosts.includes(first) && hosts.every((h) => inOrder.has(h))) {
      const key = [...hosts].sort().join('\n');
      if (!classes.has(key)) classes.set(key, { hosts, vms: [] });
    }
  }
  // Each class's forced second moves: the fewest, over its hosts x, VMs on x that may run only on the class's hosts.
  const scored = [...classes.entries()].map(([key, c]) => {
    const set = new Set(c.hosts);
    let fewest = Number.POSITIVE_INFINITY;
    for (const x of c.hosts) {
      let n = 0;
      for (const m of movable) if (m.vm.host === x && m.hosts.every((h) => set.has(h))) n++;
      fewest = Math.min(fewest, n);
    }
    return { key, set, forced: Number.isFinite(fewest) ? fewest : 0 };
  });
  // Disjoint classes only, the largest contributions first (ties by key: deterministic).
  scored.sort((a, b) => b.forced - a.forced || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const taken = new Set<string>();
  let classTwice = 0;
  for (const c of scored) {
    if (c.forced === 0 || [...c.set].some((h) => taken.has(h))) continue;
    for (const h of c.set) taken.add(h);
    classTwice += c.forced;
  }
  return { migrations: vms + firstHostTwice + classTwice, vms, firstHostTwice, classTwice };
}
