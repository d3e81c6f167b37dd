/**
 * Rolling reboot planning (seed 003: XenServer pool, pool master first; the same idea applies to fleet
 * clusters and to OpenStack compute nodes).
 *
 * Hosts are emptied one at a time in `order`. While a host is emptied it accepts no VM (maintenance);
 * once rebooted it accepts VMs again. Each VM of the host goes, heaviest first, to:
 *   1. a host that will not be emptied again in this run — one already rebooted, or one not in `order`
 *      — so that the VM never moves again ("VMs on the pool master will be live migrated twice. All
 *      others only once"), the least loaded one with room (ties by `tieOrder`, then name);
 *   2. only when none of those has room (or is eligible), the least loaded host still to be rebooted
 *      (the VM will move again; the migration is marked `final: false`).
 * The first host (pool master) can only use hosts of the second kind (unless some hosts are outside
 * `order`), so its VMs move twice; with enough capacity every other VM moves once.
 *
 * A VM that cannot leave its host (pinned, labels matching no other host, no room, conflicts) is
 * `stranded`: it goes down with the host and starts again on it after the reboot. Only the expected
 * ones (pinned / labels) keep `ok` true; no room is an N+1 failure (ok=false with the reason).
 *
 * When that plan moves more VMs than the lower bound (domain/migration-bound.ts: what the labels
 * alone force), the first host's VMs are parked otherwise — on the hosts with the most room left,
 * never on the host emptied next unless nothing else has room (it must then fit whole on the first
 * host) — and the plan with fewer migrations is kept.
 *
 * A step's `migrations` are in the order the work queue starts them (domain/migration-order.ts):
 * longest first, or an exact shorter schedule on the threads for a few migrations (durations:
 * `migrationSetupWeight` + weight). `parallel` splits them into batches of at most `threads`
 * (default 5, the seed's `xargs -P 5`), within a batch distinct destinations first (so concurrent
 * migrations do not all land on one host). Every destination of a step only receives VMs during the
 * step, and the step's final placement fits, so any batch order stays within capacity.
 *
 * Pure module: no Node APIs, workflows import it.
 */
import { heaviestFirst, listNames, loadByHost, Placement, type ClusterSnapshot, type Move, type PlacementOptions, type VmState } from './cluster';
import { placeElsewhere, type StrandedVm } from './capacity';
import { rollingRebootLowerBound } from './migration-bound';
import { scheduleOrder } from './migration-order';

export const DEFAULT_MIGRATION_THREADS = 5;

export interface RollingRebootOptions extends PlacementOptions {
  /** Concurrent migrations per host (default 5). */
  threads?: number;
  /** VMs hvflow never moves or stops: a host running one cannot be emptied (ok=false). */
  neverTouch?: string[];
  /**
   * Keep the first host of `order` first (the pool master) and choose the others: next, each time,
   * the host whose VMs the hosts already rebooted take best (the fewest moved to a host still to
   * be rebooted, which would move them again), ties in `order`'s order. Only when every host of the
   * order takes VMs at the start; otherwise `order` is kept as given.
   */
  chooseOrder?: boolean;
  /**
   * What one migration costs besides its weight, in weight units, for ordering a step's migrations
   * (a migration lasts about setup + weight): Xen in MiB at 1 GB/s with 9 s of setup (the lab's
   * timing) is about 8583. Default 0: the order balances weights alone.
   */
  migrationSetupWeight?: number;
  /** Migrations a host takes part in at once (xen.migrationsPerHost): a step runs min(threads, this) at once. Default: threads. */
  migrationsPerHost?: number;
}

export interface Migration extends Move {
  /** The destination is not emptied again in this run: the VM will not move again. */
  final: boolean;
}

export interface RebootStep {
  host: string;
  migrations: Migration[];
  /** `migrations` in batches of at most `threads`, to run one batch after the other. */
  parallel: Migration[][];
  stranded: StrandedVm[];
  /** neverTouch VMs running on the host. */
  untouchable: string[];
  /** Loads when the host is empty, just before it reboots. */
  loadAfter: Record<string, number>;
  ok: boolean;
  reason?: string;
}

export interface RollingRebootPlan {
  ok: boolean;
  reason?: string;
  problems: string[];
  /** fewest-moves: each VM to a host it will not leave again where there is room; most-room: seed 003's placement, the fallback when the first finds no room. */
  strategy: 'fewest-moves' | 'most-room';
  /** The order the plan reboots in: `order` as given, or as chosen (chooseOrder). */
  order: string[];
  threads: number;
  steps: RebootStep[];
  totalMigrations: number;
  /** How many times each migrated VM moves. */
  migrationsPerVm: Record<string, number>;
  loadBefore: Record<string, number>;
  loadAfter: Record<string, number>;
}

/**
 * The plan of a rolling reboot. When the fewest-moves placement finds no room for some VM (N+1),
 * the order as given (when it was chosen) and the placement of seed 003's script are tried too —
 * each VM to the host with the most room left, rebooted or not — and the first that fits is kept:
 * it moves more VMs twice, but it may find room the first one filled too early (`strategy` and
 * `order` say which plan it is).
 */
export function planRollingReboot(s: ClusterSnapshot, order: string[], opts: RollingRebootOptions = {}): RollingRebootPlan {
  const first = planWith(s, order, opts, BASE);
  if (first.steps.length === 0) return first;
  const bound = rollingRebootLowerBound(s, order, opts).migrations;
  if (first.ok && first.totalMigrations <= bound) return first;
  // Above the bound or no room: other placements of the same strategy, the first plan at the bound
  // wins, else the fewest migrations (then the earliest variant).
  let best = first.ok ? first : undefined;
  for (const variant of VARIANTS) {
    const p = planWith(s, order, opts, variant);
    if (!p.ok) continue;
    if (p.totalMigrations <= bound) return p;
    if (!best || p.totalMigrations < best.totalMigrations) best = p;
  }
  if (best) return best;
  // No room: the given order, then seed 003's placement, may find some (a chosen order is a heuristic).
  const fallbacks = [
    ...(opts.chooseOrder ? [() => planWith(s, order, { ...opts, chooseOrder: false }, BASE)] : []),
    () => planWith(s, order, opts, MOST_ROOM),
    ...(opts.chooseOrder ? [() => planWith(s, order, { ...opts, chooseOrder: false }, MOST_ROOM)] : []),
  ];
  for (const plan of fallbacks) {
    const p = plan();
    if (p.ok) return p;
  }
  return first;
}

/**
 * Where the first host's VMs wait (they move again): `least-loaded`, the least loaded host still to
 * be rebooted (the scheduler's rule); `most-room-but-next`, the host with the most room left, the host
 * emptied next only when no other has room: that host must then fit whole on the first host, its
 * only rebooted host, and its own load is what it sends there. (Best fit among the rebooted hosts,
 * instead of the least loaded, was measured too: it closed no gap on the bench and was dropped.)
 */
interface Variant {
  strategy: RollingRebootPlan['strategy'];
  park: 'least-loaded' | 'most-room-but-next';
}
const BASE: Variant = { strategy: 'fewest-moves', park: 'least-loaded' };
const MOST_ROOM: Variant = { strategy: 'most-room', park: 'least-loaded' };
const VARIANTS: Variant[] = [{ strategy: 'fewest-moves', park: 'most-room-but-next' }];

function planWith(s: ClusterSnapshot, order: string[], opts: RollingRebootOptions, variant: Variant): RollingRebootPlan {
  const strategy = variant.strategy;
  const threads = opts.threads ?? DEFAULT_MIGRATION_THREADS;
  const loadBefore = loadByHost(s);
  const p = new Placement(s, opts);
  const problems: string[] = [];
  if (!Number.isInteger(threads) || threads < 1) problems.push(`threads must be a positive integer, not ${threads}`);
  const seen = new Set<string>();
  for (const h of order) {
    const host = p.host(h);
    if (!host) problems.push(`${h} is not a host of this cluster`);
    else if (!host.up) problems.push(`${h} is down`);
    if (seen.has(h)) problems.push(`${h} appears twice in the order`);
    seen.add(h);
  }
  if (order.length === 0) problems.push('the order names no host');
  if (problems.length) {
    return {
      ok: false,
      reason: problems.join('; '),
      problems,
      strategy,
      order,
      threads,
      steps: [],
      totalMigrations: 0,
      migrationsPerVm: {},
      loadBefore,
      loadAfter: loadBefore,
    };
  }

  const position = new Map(order.map((h, i) => [h, i]));
  const done = new Set<string>();
  const neverTouch = new Set(opts.neverTouch ?? []);
  const steps: RebootStep[] = [];
  const migrationsPerVm: Record<string, number> = {};
  let totalMigrations = 0;
  const finalFirst = (h: string) => (done.has(h) || !position.has(h) ? 0 : 1);
  // seed 003's script: the most room left, whatever is rebooted (a host without capacity has all the room).
  const mostRoom = (h: string) => {
    const c = p.host(h)?.capacity;
    return c === undefined ? Number.NEGATIVE_INFINITY : p.loadOf(h) - c;
  };
  const BIG = Number.MAX_SAFE_INTEGER / 4;
  const roomOf = (h: string) => {
    const c = p.host(h)?.capacity;
    return c === undefined ? BIG / 8 : c - p.loadOf(h);
  };
  const tier = strategy === 'most-room' ? mostRoom : finalFirst;
  /** Where the first host's VMs wait: a host still to be rebooted, the most room left, the next to be emptied last. */
  let nextHost: string | undefined;
  const parkTier = (h: string) => (finalFirst(h) === 0 ? 0 : h === nextHost ? BIG : BIG / 2 - roomOf(h));

  const remaining = [...order];
  const choosing = !!opts.chooseOrder && order.every((h) => p.host(h)?.schedulable && p.host(h)?.up);
  const planned: string[] = [];
  while (remaining.length) {
    const host = choosing && planned.length > 0 ? nextToEmpty(remaining) : remaining[0]!;
    remaining.splice(remaining.indexOf(host), 1);
    planned.push(host);
    p.setHost(host, { schedulable: false });
    const exclude = new Set([host]);
    const others = s.hosts.filter((h) => h.name !== host);
    const vms = p
      .vmsOn(host)
      .filter((v) => v.running)
      .sort(heaviestFirst);
    const stepProblems: string[] = [];
    const untouchable = vms.filter((v) => neverTouch.has(v.name)).map((v) => v.name);
    if (untouchable.length) stepProblems.push(`${host} runs never-touch ${untouchable.length === 1 ? 'VM' : 'VMs'} ${listNames(untouchable)}`);
    const migrations: Migration[] = [];
    const stranded: StrandedVm[] = [];
    const parking = planned.length === 1 && variant.park === 'most-room-but-next' && strategy === 'fewest-moves';
    if (parking) nextHost = nextAfterFirst(host, remaining, vms);
    for (const vm of vms) {
      if (neverTouch.has(vm.name)) continue;
      const outcome = placeElsewhere(p, vm, host, others, exclude, parking ? parkTier : tier);
      if (outcome.kind === 'moved') {
        migrations.push({ vm: vm.name, from: host, to: outcome.to, weight: vm.weight, final: finalFirst(outcome.to) === 0 });
        migrationsPerVm[vm.name] = (migrationsPerVm[vm.name] ?? 0) + 1;
        if (outcome.problem) stepProblems.push(outcome.problem);
      } else {
        stranded.push({ vm: vm.name, weight: vm.weight, reason: outcome.reason, expected: outcome.expected });
        if (!outcome.expected) stepProblems.push(outcome.reason);
      }
    }
    // The order the work queue starts them in: longest first, or a shorter schedule on the threads.
    const setup = Math.max(0, opts.migrationSetupWeight ?? 0);
    const workers = Math.min(threads, opts.migrationsPerHost ?? threads);
    const scheduled =
      Number.isInteger(workers) && workers >= 1
        ? scheduleOrder(
            migrations.map((m) => setup + m.weight),
            workers,
          ).order.map((i) => migrations[i]!)
        : migrations;
    migrations.splice(0, migrations.length, ...scheduled);
    const loadAfter = p.loads();
    // Rebooted: the host accepts VMs again; what could not leave it starts again on it.
    p.setHost(host, { schedulable: true, up: true });
    for (const x of stranded) p.place(p.vm(x.vm)!, host);
    done.add(host);
    totalMigrations += migrations.length;
    const ok = stepProblems.length === 0;
    steps.push({
      host,
      migrations,
      parallel: batches(migrations, threads),
      stranded,
      untouchable,
      loadAfter,
      ok,
      ...(ok ? {} : { reason: stepProblems.join('; ') }),
    });
    for (const pr of stepProblems) problems.push(`emptying ${host}: ${pr}`);
  }

  /**
   * The host to empty after the first one (the first host empties into it last): the given order's
   * next when the order is kept, else the one with the least load whose VMs all may run on the first host
   * and fit on it whole (ties in `order`'s order).
   */
  function nextAfterFirst(firstHost: string, candidates: string[], firstVms: VmState[]): string | undefined {
    if (!choosing) return candidates[0];
    const f = p.host(firstHost)!;
    const room =
      f.capacity === undefined ? Number.POSITIVE_INFINITY : f.capacity - firstVms.filter((v) => neverTouch.has(v.name)).reduce((a, v) => a + v.weight, 0);
    let best: string | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const c of candidates) {
      const vms = p.vmsOn(c).filter((v) => v.running && !neverTouch.has(v.name));
      const load = vms.reduce((a, v) => a + v.weight, 0);
      if (load > room || !vms.every((v) => p.matchesConstraints(v, f))) continue;
      if (load < bestLoad) {
        bestLoad = load;
        best = c;
      }
    }
    return best;
  }

  /** The candidate whose VMs, placed now, would go least to hosts still to be rebooted; the placement is left as it was. */
  function nextToEmpty(candidates: string[]): string {
    let best = candidates[0]!;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const c of candidates) {
      const vms = p
        .vmsOn(c)
        .filter((v) => v.running && !neverTouch.has(v.name))
        .sort(heaviestFirst);
      p.setHost(c, { schedulable: false });
      const exclude = new Set([c]);
      const others = s.hosts.filter((h) => h.name !== c);
      let cost = 0;
      for (const vm of vms) {
        const outcome = placeElsewhere(p, vm, c, others, exclude, tier);
        if (outcome.kind === 'moved') cost += finalFirst(outcome.to) === 0 ? 0 : 1;
        else if (!outcome.expected) cost += vms.length + 1; // no room: worse than any number of second moves
      }
      for (const vm of vms) p.place(vm, c);
      p.setHost(c, { schedulable: true });
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
        if (cost === 0) break; // none can do better, and ties go to the earliest
      }
    }
    return best;
  }

  const ok = problems.length === 0;
  return {
    ok,
    ...(ok ? {} : { reason: problems.join('; ') }),
    problems,
    strategy,
    order: planned,
    threads,
    steps,
    totalMigrations,
    migrationsPerVm,
    loadBefore,
    loadAfter: p.loads(),
  };
}

/** Batches of at most `threads`, in the given order, preferring distinct destinations within a batch. */
export function batches<T extends { to: string }>(items: T[], threads: number): T[][] {
  const rest = [...items];
  const out: T[][] = [];
  while (rest.length) {
    const batch: T[] = [];
    const dests = new Set<string>();
    for (let i = 0; i < rest.length && batch.length < threads; ) {
      if (dests.has(rest[i].to)) i++;
      else {
        dests.add(rest[i].to);
        batch.push(rest.splice(i, 1)[0]);
      }
    }
    while (batch.length < threads && rest.length) batch.push(rest.shift()!);
    out.push(batch);
  }
  return out;
}
