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
  const opts: RebalanceOptions = { destinations: process.env.MODE === 'any' ? 'any' : 'scheduler', ...(empty ? { prefer: { host: empty } } : {}) };
  return { s: { hosts, vms }, opts };
}

let optimal = 0, cases = 0, worst = 0, nmBetter = 0, states = 0;
const N = Number(process.argv[2] ?? 50);
for (let i = 1; i <= N; i++) {
  const { s, opts } = cluster(i);
  const plan = planRebalance(s, opts);
  const ex = exhaustiveRebalance(s, opts);
  const nm = exhaustiveRebalance(s, opts, { monotone: false });
  states = Math.max(states, ex.states, nm.states); if (process.env.V) console.log(i, s.hosts.length, s.vms.length, ex.states, nm.states);
  cases++;
  const ok = plan.spreadAfter === ex.spread && plan.moves.length === ex.moves;
  if (ok) optimal++;
  if (nm.spread < ex.spread) nmBetter++;
  const gap = plan.spreadBefore === ex.spread ? 0 : (100 * (plan.spreadAfter - ex.spread)) / (plan.spreadBefore - ex.spread);
  if (!ok) console.log(i, opts.destinations, 'plan', plan.spreadBefore, plan.spreadAfter, plan.moves.length, 'ex', ex.spread, ex.moves, 'nm', nm.spread, nm.moves);
  worst = Math.max(worst, gap);
}
console.log(JSON.stringify({ cases, optimal, worstGapPercent: worst, nmBetter, states }));
