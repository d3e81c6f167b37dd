/**
 * Failback planner against exhaustive search (issue 11, item 15): random clusters of 4-6 hosts and
 * 8-14 VMs (capacities, zones, pinned VMs, conflicts, often one empty host: the reintegrated one), in
 * the scheduler mode failback uses on fleet. Prints one JSON line: `cases`, `optimal` (the plan has the
 * exhaustive search's spread and number of moves), `worstGapPercent` (the share of the reachable
 * improvement a plan missed, worst case), `provenOptimal` (plans the planner itself proved optimal),
 * `planMsMax`. Usage: npm run bench:failback [-- --cases 50]
 */
import { planRebalance, type RebalanceOptions } from '../domain/rebalance';
import type { ClusterSnapshot, HostState, VmState } from '../domain/cluster';
import { rng } from '../lab/random';
import { exhaustiveRebalance } from '../test/helpers/rebalance-exhaustive';

function cluster(seed: number): { s: ClusterSnapshot; opts: RebalanceOptions } {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const nh = int(4, 6);
  const nv = int(8, 14);
  const hosts: HostState[] = Array.from({ length: nh }, (_, i) => ({
    name: `hv${i + 1}`,
    labels: { zone: r() < 0.5 ? 'a' : 'b' },
    ...(r() < 0.5 ? { capacity: int(20, 40) } : {}),
    schedulable: true,
    up: true,
  }));
  const load = new Map(hosts.map((h) => [h.name, 0]));
  const empty = r() < 0.5 ? hosts[int(0, nh - 1)].name : undefined;
  const vms: VmState[] = [];
  for (let i = 0; i < nv; i++) {
    const weight = int(1, 8);
    const c: VmState['constraints'] = {};
    const k = r();
    if (k < 0.15) c.labels = { zone: [r() < 0.5 ? 'a' : 'b'] };
    else if (k < 0.2) c.pinnedHost = hosts[int(0, nh - 1)].name;
    if (r() < 0.1 && i > 0) c.conflicts = [`vm${int(0, i - 1)}`];
    const fits = hosts.filter((h) => h.name !== empty && (h.capacity === undefined || load.get(h.name)! + weight <= h.capacity));
    const h = (fits.length ? fits : hosts)[int(0, (fits.length || nh) - 1)].name;
    load.set(h, load.get(h)! + weight);
    vms.push({ name: `vm${i}`, host: h, weight, running: true, constraints: c });
  }
  const opts: RebalanceOptions = { destinations: 'scheduler', ...(empty ? { prefer: { host: empty } } : {}) };
  return { s: { hosts, vms }, opts };
}

const N = Number(argValue('--cases') ?? 50);
let optimal = 0;
let proven = 0;
let worstGapPercent = 0;
let planMsMax = 0;
let exhaustiveStatesMax = 0;
const misses: unknown[] = [];
for (let i = 1; i <= N; i++) {
  const { s, opts } = cluster(i);
  const t = performance.now();
  const plan = planRebalance(s, opts);
  planMsMax = Math.max(planMsMax, performance.now() - t);
  const best = exhaustiveRebalance(s, opts);
  exhaustiveStatesMax = Math.max(exhaustiveStatesMax, best.states);
  if (plan.optimal) proven++;
  if (plan.spreadAfter === best.spread && plan.moves.length === best.moves) optimal++;
  else misses.push({ case: i, plan: { spread: plan.spreadAfter, moves: plan.moves.length }, exhaustive: { spread: best.spread, moves: best.moves } });
  // how much of the reachable improvement the plan missed
  const reachable = plan.spreadBefore - best.spread;
  if (reachable > 0) worstGapPercent = Math.max(worstGapPercent, (100 * (plan.spreadAfter - best.spread)) / reachable);
}
for (const m of misses) console.log(JSON.stringify(m));
console.log(
  JSON.stringify({
    cases: N,
    optimal,
    worstGapPercent: Math.round(worstGapPercent * 10) / 10,
    provenOptimal: proven,
    planMsMax: Math.round(planMsMax),
    exhaustiveStatesMax,
    hosts: '4-6',
    vms: '8-14',
    destinations: 'scheduler',
  }),
);

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
