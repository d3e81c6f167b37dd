/**
 * Prints figures, asserts nothing: the rolling-reboot planner (domain/migration.ts) on generated
 * XenServer pools (seed 003), against seed 003's scheme as cloudstackOps implements it and against
 * the lower bound.
 *
 *   npm run bench:rolling-reboot [-- --pools 200 --seed 1 --threads 5]
 *
 * Pools: 4-64 hosts, 10-2000 VMs of 1-16 GiB (MiB here), each host 10-40 % free, a third of the
 * pools in two zones with a fifth of their VMs bound to one (a zone's storage or network). The
 * order reboots every host, the pool master (the first host) first.
 *
 * - hvflow: planRollingReboot's migrations, the order after the master chosen by the planner
 *   (chooseOrder, as the procedure will on a Xen pool: seed 003 fixes only the master first).
 * - seedScheme: each VM of the host being emptied, biggest first, goes to the enabled host with the
 *   most free memory among those it may run on, rebooted or not (cloudstackOps'
 *   xenserver_rolling_reboot.py); a VM that fits nowhere is its N+1 failure.
 * - lowerBound: every VM of a rebooted host moves once, and the first host's VMs twice (every host
 *   is rebooted, so whatever the first host's VMs go to is rebooted later).
 * - n1FailuresWhereFeasible: pools where the scheme fails N+1 although another scheme found a plan.
 * - makespan: the plan's migrations with `threads` at once, in the lab's timing (lab/xen.ts
 *   XEN_DEFAULTS: setup + memory at one stream's rate), as a work queue per host and as the
 *   `parallel` batches; the physical bound: for each host, the sum of its VMs' migration times /
 *   threads (or its longest migration, when that is longer: a host of two VMs cannot empty in a fifth
 *   of their time), summed over hosts. `makespanRatio`: the worst pool's queue makespan over its bound.
 *
 * The last line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { heaviestFirst, type ClusterSnapshot, type HostState, type VmState } from '../domain/cluster';
import { planRollingReboot, type RollingRebootPlan } from '../domain/migration';
import { rng } from '../lab/random';
import { XEN_DEFAULTS } from '../lab/xen';

const { values: args } = parseArgs({
  options: { pools: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' }, threads: { type: 'string', default: '5' } },
});
const POOLS = Number(args.pools);
const SEED = Number(args.seed);
const THREADS = Number(args.threads);
const MiB = 1024 * 1024;

/** A generated pool and its reboot order (master first). */
function generatePool(seed: number): { snapshot: ClusterSnapshot; order: string[] } {
  const r = rng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const nHosts = between(4, 64);
  const nVms = Math.min(2000, between(10, Math.max(10, nHosts * 32)));
  const zoned = r() < 1 / 3;
  const hostNames = Array.from({ length: nHosts }, (_, i) => `h${i + 1}`);
  const zoneOf = (i: number) => (zoned ? (i % 2 === 0 ? 'a' : 'b') : 'a');
  const load = new Array<number>(nHosts).fill(0);
  const vms: VmState[] = [];
  for (let i = 0; i < nVms; i++) {
    const weight = between(1, 16) * 1024;
    const bound = zoned && r() < 0.2 ? (r() < 0.5 ? 'a' : 'b') : undefined;
    // Placed on the least loaded host it may run on, as a pool fills up.
    let best = -1;
    for (let h = 0; h < nHosts; h++) if ((!bound || zoneOf(h) === bound) && (best < 0 || load[h]! < load[best]!)) best = h;
    load[best] += weight;
    vms.push({ name: `vm${i + 1}`, host: hostNames[best], weight, running: true, constraints: bound ? { labels: { zone: [bound] } } : {} });
  }
  const hosts: HostState[] = hostNames.map((name, i) => ({
    name,
    labels: { zone: zoneOf(i) },
    // 10-40 % of the host free, at least one VM's worth on an empty host.
    capacity: Math.max(16 * 1024, Math.ceil(load[i]! / (1 - (0.1 + 0.3 * r())))),
    schedulable: true,
    up: true,
  }));
  return { snapshot: { hosts, vms, scheduler: { capacityAware: true } }, order: hostNames };
}

/** seed 003's scheme (cloudstackOps): most free memory, rebooted or not. */
function seedScheme(s: ClusterSnapshot, order: string[]): { ok: boolean; migrations: number; steps: { host: string; moved: VmState[] }[] } {
  const capacity = new Map(s.hosts.map((h) => [h.name, h.capacity!]));
  const labels = new Map(s.hosts.map((h) => [h.name, h.labels]));
  const where = new Map(s.vms.map((v) => [v.name, v.host!]));
  const used = new Map<string, number>();
  for (const v of s.vms) used.set(v.host!, (used.get(v.host!) ?? 0) + v.weight);
  const fits = (v: VmState, h: string) => Object.entries(v.constraints.labels ?? {}).every(([k, vals]) => vals.includes(labels.get(h)![k]!));
  let migrations = 0;
  const steps: { host: string; moved: VmState[] }[] = [];
  for (const host of order) {
    const mine = s.vms.filter((v) => where.get(v.name) === host).sort(heaviestFirst);
    for (const v of mine) {
      let best: string | undefined;
      for (const h of order) {
        if (h === host || !fits(v, h)) continue;
        const free = capacity.get(h)! - (used.get(h) ?? 0);
        if (free >= v.weight && (best === undefined || free > capacity.get(best)! - (used.get(best) ?? 0))) best = h;
      }
      if (!best) return { ok: false, migrations, steps };
      used.set(host, used.get(host)! - v.weight);
      used.set(best, (used.get(best) ?? 0) + v.weight);
      where.set(v.name, best);
      migrations++;
    }
    steps.push({ host, moved: mine });
  }
  return { ok: true, migrations, steps };
}

/** One migration's simulated seconds in the lab's timing (alone on its link). */
const seconds = (weightMiB: number) => (XEN_DEFAULTS.migrationSetupMs + (weightMiB * MiB) / XEN_DEFAULTS.streamBytesPerMs) / 1000;

/** `threads` workers taking the next migration as soon as one is free (a work queue): when the last ends. */
function queueMakespan(durations: number[], threads: number): number {
  const free = new Array<number>(threads).fill(0);
  for (const d of durations) {
    let i = 0;
    for (let j = 1; j < threads; j++) if (free[j]! < free[i]!) i = j;
    free[i] += d;
  }
  return Math.max(0, ...free);
}

function makespans(plan: RollingRebootPlan, threads: number) {
  let queue = 0;
  let batches = 0;
  let bound = 0;
  for (const step of plan.steps) {
    const d = step.migrations.map((m) => seconds(m.weight));
    queue += queueMakespan(d, threads);
    for (const b of step.parallel) batches += Math.max(0, ...b.map((m) => seconds(m.weight)));
    // A host cannot empty faster than its VMs' time spread over the threads, nor than its longest migration.
    bound += Math.max(d.reduce((a, x) => a + x, 0) / threads, ...d, 0);
  }
  return { queue, batches, bound };
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

function main() {
  let lowerBound = 0;
  const h = {
    migrations: 0,
    failures: 0,
    n1FailuresWhereFeasible: 0,
    maxRatio: 1,
    sumRatio: 0,
    atBound: 0,
    twiceMovedNotFirst: 0,
    makespanRatio: 0,
    batchesRatio: 0,
  };
  const seed = { migrations: 0, failures: 0, n1FailuresWhereFeasible: 0, maxRatio: 1, sumRatio: 0 };
  let compared = 0;
  let infeasible = 0;
  for (let p = 0; p < POOLS; p++) {
    const { snapshot, order } = generatePool(SEED * 100_003 + p);
    const first = snapshot.vms.filter((v) => v.host === order[0]).length;
    const bound = snapshot.vms.length + first;
    const plan = planRollingReboot(snapshot, order, { threads: THREADS, chooseOrder: true });
    const scheme = seedScheme(snapshot, order);
    if (!plan.ok && !scheme.ok) {
      infeasible++;
      continue;
    }
    if (!plan.ok) h.n1FailuresWhereFeasible++;
    if (!scheme.ok) seed.n1FailuresWhereFeasible++;
    if (!plan.ok || !scheme.ok) {
      h.failures += plan.ok ? 0 : 1;
      seed.failures += scheme.ok ? 0 : 1;
      continue;
    }
    // Both found a plan: compare their migrations on the same pool.
    compared++;
    lowerBound += bound;
    h.migrations += plan.totalMigrations;
    seed.migrations += scheme.migrations;
    const hr = plan.totalMigrations / bound;
    const sr = scheme.migrations / bound;
    h.maxRatio = Math.max(h.maxRatio, hr);
    seed.maxRatio = Math.max(seed.maxRatio, sr);
    h.sumRatio += hr;
    seed.sumRatio += sr;
    if (plan.totalMigrations === bound) h.atBound++;
    const firstVms = new Set(snapshot.vms.filter((v) => v.host === order[0]).map((v) => v.name));
    h.twiceMovedNotFirst += Object.entries(plan.migrationsPerVm).filter(([vm, n]) => n > 1 && !firstVms.has(vm)).length;
    const ms = makespans(plan, THREADS);
    if (ms.bound > 0) {
      h.makespanRatio = Math.max(h.makespanRatio, ms.queue / ms.bound);
      h.batchesRatio = Math.max(h.batchesRatio, ms.batches / ms.bound);
    }
  }
  console.log(
    JSON.stringify({
      pools: POOLS,
      compared,
      infeasible,
      threads: THREADS,
      lowerBound,
      hvflow: {
        migrations: h.migrations,
        meanRatioToLowerBound: round(h.sumRatio / Math.max(1, compared)),
        maxRatioToLowerBound: round(h.maxRatio),
        poolsAtLowerBound: h.atBound,
        vmsMovedTwiceNotOnTheFirstHost: h.twiceMovedNotFirst,
        n1FailuresWhereFeasible: h.n1FailuresWhereFeasible,
        makespanRatio: round(h.makespanRatio),
        batchesMakespanRatio: round(h.batchesRatio),
      },
      seedScheme: {
        migrations: seed.migrations,
        meanRatioToLowerBound: round(seed.sumRatio / Math.max(1, compared)),
        maxRatioToLowerBound: round(seed.maxRatio),
        n1FailuresWhereFeasible: seed.n1FailuresWhereFeasible,
      },
    }),
  );
}

main();
