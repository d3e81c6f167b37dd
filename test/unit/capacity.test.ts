import { describe, expect, it } from 'vitest';
import { eligibleHosts, loadByHost, Placement, weightSpread, type ClusterSnapshot, type HostState, type VmState } from '../../domain/cluster';
import { checkNPlusOne, planEvacuation } from '../../domain/capacity';
import { randomCluster, rng, type RandomClusterShape } from '../helpers/random-cluster';

// ---- the seed cluster (seeds 000 and 002): Weights that give seed 000's measured loads ----------

const TOPS = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
const ON_TOP = { labels: { role: ['top'] } };
const islet = (a: string, b: string) => ({ labels: { hostname: [a, b] } });

function seed(capacity = 100000): ClusterSnapshot {
  const host = (name: string, role: string, cap: number): HostState => ({
    name,
    role,
    labels: { hostname: name, role },
    capacity: cap,
    schedulable: true,
    up: true,
  });
  const vm = (name: string, host: string | undefined, weight: number, constraints: VmState['constraints'] = ON_TOP, running = true): VmState => ({
    name,
    host,
    weight,
    running,
    constraints,
  });
  return {
    hosts: [...TOPS.map((n) => host(n, 'top', capacity)), host('islet54', 'islet', 60000), host('islet55', 'islet', 60000), host('irene271', 'router', 200000)],
    vms: [
      vm('admin1', 'top1', 4000),
      vm('batch1', 'top1', 4000),
      vm('infra1', 'top1', 2000),
      vm('infra2', 'top1', 2000),
      vm('siteprep2', 'top1', 8000),
      vm('admin2', 'top2', 8000),
      vm('i0conf2', 'top2', 8000),
      vm('i0log1', 'top2', 8000),
      vm('batch2', 'top3', 4000),
      vm('db1', 'top3', 6000),
      vm('lb1', 'top3', 4000),
      vm('ns3', 'top3', 2000),
      vm('nsrelay1', 'top3', 2000),
      vm('webrelay1', 'top3', 2000),
      vm('i0conf1', 'worker1', 16000),
      vm('ns1', 'worker1', 2000),
      vm('ns2', 'worker1', 2000),
      vm('auto1', 'worker2', 30000),
      vm('monitor1', 'worker2', 28000),
      vm('batch3', 'worker3', 40000),
      vm('lb2', 'worker3', 10000),
      vm('i54conf1', 'islet55', 4000, islet('islet54', 'islet55')),
      vm('i54conf2', 'islet55', 4000, islet('islet54', 'islet55')),
      vm('i54dkless1', 'islet55', 12000, islet('islet54', 'islet55')),
      vm('i54dkless2', 'islet55', 12000, islet('islet54', 'islet55')),
      vm('i54log1', 'islet55', 12000, islet('islet54', 'islet55')),
      vm('irene271a', 'irene271', 60000, { pinnedHost: 'irene271' }),
      vm('irene271b', 'irene271', 60000, { pinnedHost: 'irene271' }),
      // scheduled nowhere / not running: no load
      vm('i42log1', undefined, 12000, { labels: { hostname: ['islet42'] } }, false),
      vm('stopped1', 'top2', 50000, ON_TOP, false),
    ],
  };
}

const SEED_LOAD = { top1: 20000, top2: 24000, top3: 20000, worker1: 20000, worker2: 58000, worker3: 50000 };

function withHost(s: ClusterSnapshot, name: string, change: Partial<HostState>): ClusterSnapshot {
  return { ...s, hosts: s.hosts.map((h) => (h.name === name ? { ...h, ...change } : h)) };
}

// ---- random clusters for properties (deterministic PRNG: same seed, same cluster) --------------

const SHAPE: RandomClusterShape = { hosts: [3, 10], vms: 30, capacity: { chance: 0.8, min: 10, spread: 40 }, hostUp: 0.9, maxWeight: 8, zoneWithRole: true };

// ---- cluster.ts -------------------------------------------------------------------------------

describe('cluster model', () => {
  it('measures the seed loads (seed 000) and lists every host', () => {
    const load = loadByHost(seed());
    expect(load).toEqual({ ...SEED_LOAD, islet54: 0, islet55: 44000, irene271: 120000 });
    expect(weightSpread(load, TOPS)).toBe(38000);
    expect(weightSpread({})).toBe(0);
    expect(weightSpread({ a: 3 }, ['a', 'nowhere'])).toBe(3);
  });

  it('eligible hosts: up, schedulable, labels, pinning, exclusions', () => {
    const s = withHost(withHost(seed(), 'top2', { schedulable: false }), 'top3', { up: false });
    const vm = (n: string) => s.vms.find((v) => v.name === n)!;
    expect(eligibleHosts(s, vm('ns1')).map((h) => h.name)).toEqual(['top1', 'worker1', 'worker2', 'worker3']);
    expect(eligibleHosts(s, vm('ns1'), ['worker1']).map((h) => h.name)).toEqual(['top1', 'worker2', 'worker3']);
    expect(eligibleHosts(s, vm('i54log1')).map((h) => h.name)).toEqual(['islet54', 'islet55']);
    expect(eligibleHosts(s, vm('irene271a')).map((h) => h.name)).toEqual(['irene271']);
    expect(eligibleHosts(s, vm('i42log1'))).toEqual([]);
  });

  it('a label key the host lacks, or an empty allowed list, matches nothing', () => {
    const s: ClusterSnapshot = {
      hosts: [{ name: 'a', labels: { role: 'top' }, schedulable: true, up: true }],
      vms: [],
    };
    const vm = (labels: Record<string, string[]>): VmState => ({ name: 'x', weight: 1, running: true, constraints: { labels } });
    expect(eligibleHosts(s, vm({ role: ['top', 'islet'] }))).toHaveLength(1);
    expect(eligibleHosts(s, vm({ zone: ['a'] }))).toHaveLength(0);
    expect(eligibleHosts(s, vm({ role: [] }))).toHaveLength(0);
  });

  it('conflicts are checked both ways, against running and merely placed VMs', () => {
    const host = (name: string): HostState => ({ name, labels: {}, schedulable: true, up: true });
    const s: ClusterSnapshot = {
      hosts: [host('a'), host('b'), host('c')],
      vms: [
        { name: 'ns1', host: 'a', weight: 1, running: true, constraints: { conflicts: ['ns2'] } },
        { name: 'ns2', host: 'b', weight: 1, running: true, constraints: {} },
        { name: 'ns3', host: 'c', weight: 1, running: false, constraints: { conflicts: ['ns2'] } },
      ],
    };
    const ns2 = s.vms[1];
    // ns2 names nobody, but ns1 (on a) and ns3 (placed on c, not running) name it
    expect(eligibleHosts(s, ns2).map((h) => h.name)).toEqual(['b']);
    expect(eligibleHosts(s, s.vms[0]).map((h) => h.name)).toEqual(['a', 'c']);
  });

  it('does not lose the weight of a VM on a host the snapshot does not list', () => {
    const s: ClusterSnapshot = {
      hosts: [{ name: 'a', labels: {}, schedulable: true, up: true }],
      vms: [{ name: 'x', host: 'ghost', weight: 5, running: true, constraints: {} }],
    };
    expect(loadByHost(s)).toEqual({ a: 0, ghost: 5 });
  });
});

// ---- planEvacuation ---------------------------------------------------------------------------

describe('planEvacuation on the seed cluster', () => {
  it('evacuating worker1 (seed 000 sample): heaviest first, each to the least loaded eligible host', () => {
    const plan = planEvacuation(seed(), 'worker1');
    expect(plan.ok).toBe(true);
    expect(plan.evacuatedWeight).toBe(20000);
    // top1, top3 and worker1... all at 20000: ties go by name (top1), then the loads move on
    expect(plan.moves).toEqual([
      { vm: 'i0conf1', from: 'worker1', to: 'top1', weight: 16000 },
      { vm: 'ns1', from: 'worker1', to: 'top3', weight: 2000 },
      { vm: 'ns2', from: 'worker1', to: 'top3', weight: 2000 },
    ]);
    expect(plan.stranded).toEqual([]);
    expect(plan.loadBefore).toMatchObject(SEED_LOAD);
    expect(plan.loadAfter).toMatchObject({ top1: 36000, top2: 24000, top3: 24000, worker1: 0, worker2: 58000, worker3: 50000 });
    expect(plan.reason).toBeUndefined();
  });

  it('evacuating worker2 spreads its two heavy VMs on two hosts', () => {
    const plan = planEvacuation(seed(), 'worker2');
    expect(plan.moves.map((m) => [m.vm, m.to])).toEqual([
      ['auto1', 'top1'],
      ['monitor1', 'top3'],
    ]);
    expect(plan.ok).toBe(true);
  });

  it('breaks ties in the scheduler order when given (fleet: machine id order)', () => {
    const plan = planEvacuation(seed(), 'worker1', { tieOrder: ['worker3', 'top3', 'top1'] });
    expect(plan.moves[0]).toMatchObject({ vm: 'i0conf1', to: 'top3' });
  });

  it('places heaviest first by default, or in name order for an engine that walks units by name', () => {
    const host = (name: string): HostState => ({ name, labels: {}, schedulable: true, up: true });
    const vm = (name: string, on: string, weight: number): VmState => ({ name, host: on, weight, running: true, constraints: {} });
    const s: ClusterSnapshot = {
      hosts: [host('a'), host('b'), host('c')],
      vms: [vm('big', 'a', 5), vm('alpha', 'a', 1), vm('b1', 'b', 10), vm('c1', 'c', 12)],
    };
    expect(planEvacuation(s, 'a').moves.map((m) => [m.vm, m.to])).toEqual([
      ['big', 'b'],
      ['alpha', 'c'],
    ]);
    expect(planEvacuation(s, 'a', { order: 'by-name' }).moves.map((m) => [m.vm, m.to])).toEqual([
      ['alpha', 'b'],
      ['big', 'b'],
    ]);
  });

  it('refuses when a VM fits nowhere, naming the VM, its weight and the best room left', () => {
    const plan = planEvacuation(seed(55000), 'worker3');
    expect(plan.ok).toBe(false);
    expect(plan.stranded).toEqual([
      { vm: 'batch3', weight: 40000, expected: false, reason: 'batch3 (weight 40000) fits nowhere: the best room left is 35000 on top1' },
    ]);
    // the smaller VM still has a place
    expect(plan.moves).toEqual([{ vm: 'lb2', from: 'worker3', to: 'top1', weight: 10000 }]);
    expect(plan.reason).toBe('batch3 (weight 40000) fits nowhere: the best room left is 35000 on top1');
  });

  it('a capacity-blind scheduler overloads the least loaded host: reported as a failure', () => {
    const plan = planEvacuation(seed(55000), 'worker3', { capacityAware: false });
    expect(plan.ok).toBe(false);
    expect(plan.moves[0]).toMatchObject({ vm: 'batch3', to: 'top1' });
    expect(plan.reason).toMatch(/batch3 \(weight 40000\) would go to top1, the least loaded host, beyond its capacity \(60000 of 55000\)/);
  });

  it('a host without capacity is unbounded', () => {
    const s = seed(55000);
    const plan = planEvacuation(withHost(s, 'top2', { capacity: undefined }), 'worker3');
    expect(plan.ok).toBe(true);
    expect(plan.moves[0]).toMatchObject({ vm: 'batch3', to: 'top2' });
  });

  it('islet VMs go to the other host of their pair', () => {
    const plan = planEvacuation(seed(), 'islet55');
    expect(plan.ok).toBe(true);
    expect(new Set(plan.moves.map((m) => m.to))).toEqual(new Set(['islet54']));
    expect(plan.loadAfter.islet54).toBe(44000);
  });

  it('an islet VM whose partner host is down has nowhere to go: ok=false', () => {
    const plan = planEvacuation(withHost(seed(), 'islet54', { up: false }), 'islet55');
    expect(plan.ok).toBe(false);
    expect(plan.stranded).toHaveLength(5);
    expect(plan.stranded[0]).toEqual({
      vm: 'i54dkless1',
      weight: 12000,
      expected: false,
      reason: 'i54dkless1 (weight 12000) has nowhere to go: islet54 is down',
    });
  });

  it('pinned VMs are stranded: they stop with the host, which the plan says, and ok stays true', () => {
    const plan = planEvacuation(seed(), 'irene271');
    expect(plan.ok).toBe(true);
    expect(plan.moves).toEqual([]);
    expect(plan.stranded.map((x) => [x.vm, x.expected])).toEqual([
      ['irene271a', true],
      ['irene271b', true],
    ]);
    expect(plan.stranded[0].reason).toBe('irene271a (weight 60000) is pinned to irene271: it stops while irene271 is away and starts again when it is back');
    expect(plan.loadAfter.irene271).toBe(0);
  });

  it('refuses to evacuate a host running never-touch VMs', () => {
    const plan = planEvacuation(seed(), 'irene271', { neverTouch: ['irene271a', 'irene271b'] });
    expect(plan.ok).toBe(false);
    expect(plan.untouchable).toEqual(['irene271a', 'irene271b']);
    expect(plan.reason).toMatch(/irene271 runs never-touch VMs irene271a and irene271b/);
    // neverTouch VMs elsewhere do not matter
    expect(planEvacuation(seed(), 'worker1', { neverTouch: ['irene271a'] }).ok).toBe(true);
  });

  it('an unknown host is refused', () => {
    expect(planEvacuation(seed(), 'nowhere')).toMatchObject({ ok: false, reason: 'nowhere is not a host of this cluster' });
  });

  it('does not modify the snapshot', () => {
    const s = seed();
    const copy = JSON.parse(JSON.stringify(s));
    planEvacuation(s, 'worker2');
    expect(s).toEqual(copy);
  });
});

describe('checkNPlusOne', () => {
  it('the seed cluster survives the loss of any one host', () => {
    const r = checkNPlusOne(seed());
    expect(r.ok).toBe(true);
    expect(r.hosts.map((h) => h.host)).toEqual([...TOPS, 'islet54', 'islet55', 'irene271']);
    expect(r.hosts.find((h) => h.host === 'irene271')!.stranded).toHaveLength(2);
  });

  it('names the hosts whose loss the others cannot absorb', () => {
    const r = checkNPlusOne(seed(55000), { hosts: TOPS });
    expect(r.ok).toBe(false);
    expect(r.failing).toEqual(['worker3']);
    expect(r.reason).toBe('losing worker3: batch3 (weight 40000) fits nowhere: the best room left is 35000 on top1');
  });
});

describe('planEvacuation properties (random clusters)', () => {
  it('never places on the evacuated host; every move is eligible and fits when made; weight is kept', () => {
    let checked = 0;
    for (let i = 1; i <= 300; i++) {
      const s = randomCluster(i, SHAPE);
      for (const host of s.hosts) {
        const plan = planEvacuation(s, host.name);
        const onHost = s.vms.filter((v) => v.running && v.host === host.name);
        expect(plan.moves.length + plan.stranded.length).toBe(onHost.length);
        expect(plan.loadAfter[host.name]).toBe(0);
        const p = new Placement(s);
        p.setHost(host.name, { schedulable: false });
        for (const m of plan.moves) {
          const vm = s.vms.find((v) => v.name === m.vm)!;
          expect(m.to).not.toBe(host.name);
          expect(m.from).toBe(host.name);
          const to = p.host(m.to)!;
          expect(p.isEligible(vm, to)).toBe(true);
          expect(p.fits(vm, to)).toBe(true);
          p.place(vm, m.to);
          checked++;
        }
        for (const x of plan.stranded) p.unplace(s.vms.find((v) => v.name === x.vm)!);
        expect(p.loads()).toEqual(plan.loadAfter);
        const total = (l: Record<string, number>) => Object.values(l).reduce((a, b) => a + b, 0);
        expect(total(plan.loadAfter) + plan.stranded.reduce((a, x) => a + x.weight, 0)).toBe(total(plan.loadBefore));
        expect(plan.ok).toBe(plan.stranded.every((x) => x.expected));
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

describe('scale: 60 hosts, 1,500 VMs', () => {
  it('checks N+1 for every host', () => {
    const r = rng(42);
    const hosts: HostState[] = Array.from({ length: 60 }, (_, i) => ({
      name: `hv${i + 1}`,
      labels: { role: 'top' },
      // ~112,500 of weight per host on average: 75% used, N+1 holds
      capacity: 150000,
      schedulable: true,
      up: true,
    }));
    const load = new Map(hosts.map((h) => [h.name, 0]));
    const vms: VmState[] = Array.from({ length: 1500 }, (_, i) => {
      const weight = 1000 * (1 + Math.floor(r() * 8));
      const host = [...load.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
      load.set(host, load.get(host)! + weight);
      return { name: `vm${i + 1}`, host, weight, running: true, constraints: { labels: { role: ['top'] } } };
    });
    const report = checkNPlusOne({ hosts, vms });
    expect(report.ok).toBe(true);
    expect(report.hosts).toHaveLength(60);
  });
});
