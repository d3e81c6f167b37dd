/**
 * Where the VMs of a start-up will run, checked before any of them starts (issue: a start-up that
 * piled every VM on the first hypervisor whose fleetd registered).
 *
 * fleet schedules a `loaded` unit as soon as a machine can take it: after a whole-cluster power
 * cycle, the first fleetd to register gets every unit that was left loaded, and `fleetctl start`
 * would launch them all there. While the units do not run they can be moved for free (unload, load
 * again: the scheduler then picks the least loaded machine). So the start-up first schedules every
 * VM of its list, then checks that each host can carry what will run on it — the VMs running now
 * plus the ones scheduled to start there — against the inventory's capacities, and re-places the
 * VMs of a host that cannot, heaviest first, until it can. Only then does anything start.
 *
 * Pure module: workflows and activities import it.
 */
import { byString, type ClusterSnapshot } from './cluster';

export interface HostLoad {
  host: string;
  /** Weight of what runs there now plus what is scheduled there to start. */
  load: number;
  capacity?: number;
}

export interface StartupPlacement {
  /** Every host carries at most its capacity once the scheduled VMs run. */
  ok: boolean;
  /** Where each VM to start is scheduled now (undefined: not scheduled yet). */
  placement: { vm: string; host?: string; weight: number }[];
  /** Hosts over their capacity once the scheduled VMs run. */
  overflow: HostLoad[];
  /** VMs to take off their host (not running: free) and schedule again, heaviest first. */
  replace: string[];
  /** Per host, what will run there. */
  loadAfter: Record<string, number>;
  reason?: string;
}

/**
 * The placement of `toStart` (VM names) as `s` has them scheduled. A VM of the list that already runs
 * counts where it runs and is never moved.
 */
export function checkStartupPlacement(s: ClusterSnapshot, toStart: readonly string[]): StartupPlacement {
  const wanted = new Set(toStart);
  const loadAfter: Record<string, number> = {};
  for (const h of s.hosts) loadAfter[h.name] = 0;
  const movable = new Map<string, { vm: string; weight: number }[]>();
  for (const vm of s.vms) {
    if (vm.host === undefined) continue;
    const starts = wanted.has(vm.name) && !vm.running;
    if (!vm.running && !starts) continue; // scheduled but not to start: it will not run
    loadAfter[vm.host] = (loadAfter[vm.host] ?? 0) + vm.weight;
    if (starts) movable.set(vm.host, [...(movable.get(vm.host) ?? []), { vm: vm.name, weight: vm.weight }]);
  }
  const overflow: HostLoad[] = [];
  const replace: { vm: string; weight: number }[] = [];
  for (const h of s.hosts) {
    if (h.capacity === undefined || loadAfter[h.name]! <= h.capacity) continue;
    overflow.push({ host: h.name, load: loadAfter[h.name]!, capacity: h.capacity });
    // Heaviest first: the fewest VMs re-placed to bring the host under its capacity.
    let load = loadAfter[h.name]!;
    for (const v of [...(movable.get(h.name) ?? [])].sort((a, b) => b.weight - a.weight || byString(a.vm, b.vm))) {
      if (load <= h.capacity) break;
      replace.push(v);
      load -= v.weight;
    }
  }
  const byVm = new Map(s.vms.map((v) => [v.name, v]));
  const placement = toStart.map((vm) => ({ vm, host: byVm.get(vm)?.host, weight: byVm.get(vm)?.weight ?? 0 }));
  const ok = overflow.length === 0;
  return {
    ok,
    placement,
    overflow,
    replace: replace.sort((a, b) => b.weight - a.weight || byString(a.vm, b.vm)).map((v) => v.vm),
    loadAfter,
    ...(ok ? {} : { reason: overflow.map((o) => `${o.host} would carry ${o.load} of weight for a capacity of ${o.capacity}`).join('; ') }),
  };
}
