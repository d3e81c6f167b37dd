/**
 * Capacity planning: N+1 (DESIGN.md: "before evacuating, the remaining hypervisors must have room for
 * the evacuated weight").
 *
 * `planEvacuation` simulates what the cluster's scheduler does when a host is evacuated without
 * targets: the seeds' patched fleet, when fleetd stops on a host, reschedules each launched unit of the
 * host on the least loaded eligible machine (by the sum of unit `Weight`s); XenServer's host-evacuate
 * and nova's evacuate behave alike. VMs are placed one at a time, heaviest first, then by name (`order:
 * 'by-name'` for an engine that walks its units alphabetically), each on the eligible host other than
 * the evacuated one with the least load at that moment; ties go to `tieOrder`, then to the name. Only
 * running VMs are moved and weigh; a VM that is merely scheduled on the host (fleet's "loaded") carries
 * no load and is not planned (a driver that wants fleet's accounting marks such units running).
 *
 * Pure module: no Node APIs, workflows import it.
 */
import {
  byString,
  heaviestFirst,
  listNames,
  loadByHost,
  Placement,
  type ClusterSnapshot,
  type HostState,
  type Move,
  type PlacementOptions,
  type VmState,
} from './cluster';

export interface EvacuationOptions extends PlacementOptions {
  /** What weights count, for the messages ("(16384 MiB)"); default fleet's "(weight 4000)". */
  unit?: string;
  /** VMs hvflow must never stop, move or start: evacuating their host is refused (ok=false). */
  neverTouch?: string[];
  /**
   * Order in which the scheduler re-places the host's VMs: heaviest first (default, then by name),
   * or by name (an engine that walks its units alphabetically, as the lab's fleet does).
   */
  order?: 'heaviest-first' | 'by-name';
}

export interface StrandedVm {
  vm: string;
  weight: number;
  reason: string;
  /**
   * true: the VM can only ever run on the evacuated host (pinned, or labels that match no other host):
   * it stops with the host and comes back with it, as the runbook expects; it does not make ok false.
   * false: it could run elsewhere but has nowhere to go now (no room, hosts down, conflicts): ok=false.
   */
  expected: boolean;
}

export interface EvacuationPlan {
  ok: boolean;
  host: string;
  moves: Move[];
  stranded: StrandedVm[];
  /** neverTouch VMs running on the host: the evacuation would move or stop them. */
  untouchable: string[];
  /** Weight running on the host before the evacuation. */
  evacuatedWeight: number;
  loadBefore: Record<string, number>;
  loadAfter: Record<string, number>;
  /** Every problem, in placement order; `reason` joins them. */
  problems: string[];
  reason?: string;
}

/**
 * The plan of the scheduler's own evacuation of `host`: where each running VM goes, which VMs stop,
 * and whether the other hosts have room (N+1).
 */
export function planEvacuation(s: ClusterSnapshot, host: string, opts: EvacuationOptions = {}): EvacuationPlan {
  const loadBefore = loadByHost(s);
  const p = new Placement(s, opts);
  const target = p.host(host);
  const onHost = s.vms.filter((v) => v.running && v.host === host).sort(opts.order === 'by-name' ? (a, b) => byString(a.name, b.name) : heaviestFirst);
  const evacuatedWeight = onHost.reduce((a, v) => a + v.weight, 0);
  if (!target) {
    const reason = `${host} is not a host of this cluster`;
    return { ok: false, host, moves: [], stranded: [], untouchable: [], evacuatedWeight, loadBefore, loadAfter: loadBefore, problems: [reason], reason };
  }
  const neverTouch = new Set(opts.neverTouch ?? []);
  const exclude = new Set([host]);
  const others = s.hosts.filter((h) => h.name !== host);
  const moves: Move[] = [];
  const stranded: StrandedVm[] = [];
  const problems: string[] = [];
  const untouchable = onHost.filter((v) => neverTouch.has(v.name)).map((v) => v.name);
  if (untouchable.length) {
    problems.push(
      `${host} runs ${untouchable.length === 1 ? 'the never-touch VM' : 'never-touch VMs'} ${listNames(untouchable)}: evacuating it would move or stop ${untouchable.length === 1 ? 'it' : 'them'}`,
    );
  }
  for (const vm of onHost) {
    const outcome = placeElsewhere(p, vm, host, others, exclude, undefined, opts.unit);
    if (outcome.kind === 'moved') {
      moves.push({ vm: vm.name, from: host, to: outcome.to, weight: vm.weight });
      if (outcome.problem) problems.push(outcome.problem);
    } else {
      stranded.push({ vm: vm.name, weight: vm.weight, reason: outcome.reason, expected: outcome.expected });
      if (!outcome.expected) problems.push(outcome.reason);
    }
  }
  const ok = problems.length === 0;
  return {
    ok,
    host,
    moves,
    stranded,
    untouchable,
    evacuatedWeight,
    loadBefore,
    loadAfter: p.loads(),
    problems,
    ...(ok ? {} : { reason: problems.join('; ') }),
  };
}

type Outcome = { kind: 'moved'; to: string; problem?: string } | { kind: 'stranded'; reason: string; expected: boolean };

/**
 * Places one VM of `from` as the scheduler would (mutating `p`): least loaded eligible host among
 * `candidates` not in `exclude`, with `tier` preference. Shared with the rolling-reboot planner.
 */
export function placeElsewhere(
  p: Placement,
  vm: VmState,
  from: string,
  candidates: HostState[],
  exclude: ReadonlySet<string>,
  tier?: (host: string) => number,
  unit?: string,
): Outcome {
  const w = vm.weight;
  const weighs = unit ? `${w} ${unit}` : `weight ${w}`;
  const possible = candidates.filter((h) => !exclude.has(h.name) && p.matchesConstraints(vm, h));
  if (possible.length === 0) {
    p.unplace(vm);
    const why =
      vm.constraints.pinnedHost !== undefined
        ? `${vm.name} (${weighs}) is pinned to ${vm.constraints.pinnedHost}`
        : `${vm.name} (${weighs}) matches no other host`;
    return { kind: 'stranded', expected: true, reason: `${why}: it stops while ${from} is away and starts again when it is back` };
  }
  const choice = p.choose(vm, { exclude, tier, candidates: possible });
  if (choice.host !== undefined) {
    const to = p.host(choice.host)!;
    const problem = choice.overflow
      ? `${vm.name} (${weighs}) would go to ${to.name}, the least loaded host, beyond its capacity (${p.loadOf(to.name) + w} of ${to.capacity})`
      : undefined;
    p.place(vm, to.name);
    return problem ? { kind: 'moved', to: to.name, problem } : { kind: 'moved', to: to.name };
  }
  p.unplace(vm);
  const eligible = possible.filter((h) => p.isEligible(vm, h));
  if (eligible.length === 0) {
    const whys = possible
      .map((h) => p.whyNot(vm, h))
      .filter((x): x is string => x !== undefined)
      .sort(byString);
    return { kind: 'stranded', expected: false, reason: `${vm.name} (${weighs}) has nowhere to go: ${whys.join(', ')}` };
  }
  const best = p.bestRoom(vm, eligible)!;
  return {
    kind: 'stranded',
    expected: false,
    reason: `${vm.name} (${weighs}) fits nowhere: the best room left is ${best.room ?? 'unbounded'}${unit ? ` ${unit}` : ''} on ${best.host}`,
  };
}

export interface NPlusOneOptions extends EvacuationOptions {
  /** Hosts whose loss is checked (default: every host that is up). */
  hosts?: string[];
}

export interface NPlusOneReport {
  ok: boolean;
  hosts: { host: string; ok: boolean; evacuatedWeight: number; stranded: StrandedVm[]; reason?: string }[];
  /** Hosts whose loss the others cannot absorb. */
  failing: string[];
  reason?: string;
}

/** Can every single host be lost (evacuated or crashed) with its VMs restarting elsewhere? */
export function checkNPlusOne(s: ClusterSnapshot, opts: NPlusOneOptions = {}): NPlusOneReport {
  const names = opts.hosts ?? s.hosts.filter((h) => h.up).map((h) => h.name);
  const hosts = names.map((host) => {
    const plan = planEvacuation(s, host, opts);
    return {
      host,
      ok: plan.ok,
      evacuatedWeight: plan.evacuatedWeight,
      stranded: plan.stranded,
      ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
    };
  });
  const failing = hosts.filter((h) => !h.ok).map((h) => h.host);
  const ok = failing.length === 0;
  return {
    ok,
    hosts,
    failing,
    ...(ok
      ? {}
      : {
          reason: hosts
            .filter((h) => !h.ok)
            .map((h) => `losing ${h.host}: ${h.reason}`)
            .join('; '),
        }),
  };
}
