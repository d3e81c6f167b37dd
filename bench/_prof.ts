import { Placement, loadByHost, weightSpread } from '../domain/cluster';
import { rebalanceInstance } from '../domain/rebalance-moves';
import { searchRebalance } from '../domain/rebalance-search';
import { randomCluster, rng } from '../test/helpers/random-cluster';
const SHAPE: any = { hosts: [2, 10], vms: 40, capacity: { chance: 0.7, min: 20, spread: 60 }, hostUp: 0.95, maxWeight: 12, zoneWithRole: false };
let tot = 0, tw = 0, complete = 0, n = 0;
const hist: number[] = [];
for (let i = 1; i <= 100; i++) {
  const s = randomCluster(i, SHAPE);
  for (const destinations of ['scheduler', 'any'] as const) {
    const opts = { destinations };
    const p = new Placement(s, opts);
    const inst = rebalanceInstance(s, opts, p);
    const sb = weightSpread(loadByHost(s), inst.scope);
    const t = performance.now();
    const r = searchRebalance(inst, p, sb, [], Number(process.argv[2] ?? 300000));
    const dt = performance.now() - t;
    tot += dt; tw += r.work; n++; if (r.complete) { complete++; hist.push(r.work); }
  }
}
hist.sort((a, b) => a - b);
console.log({ n, complete, msTotal: tot, work: tw, usPerWork: (1000 * tot) / tw, p50: hist[hist.length >> 1], p90: hist[Math.floor(hist.length * 0.9)], max: hist[hist.length - 1] });
