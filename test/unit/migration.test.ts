import { describe, expect, it } from 'vitest';
import { loadByHost, Placement, type ClusterSnapshot, type HostState, type VmState } from '../../domain/cluster';
import { batches, DEFAULT_MIGRATION_THREADS, planRollingReboot, type RollingRebootOptions, type RollingRebootPlan } from '../../domain/migration';
import fc from 'fast-check';
import { rollingRebootLowerBound } from '../../domain/migration-bound';
import { listMakespan, makespanLowerBound, scheduleOrder } from '../../domain/migration-order';
import { rng } from '../helpers/random-cluster';

// ---- seed 003: a XenServer pool of 6 hosts used at ~83% (N+1), pool master first ---------------

function pool(opts: { hosts?: number; vmsPerHost?: number; weight?: number; capacity?: number } = {}): ClusterSnapshot {
  const n = opts.hosts ?? 6;
  const per = opts.vmsPerHost ?? 5;
  const hosts: HostState[] = Array.from({ length: n }, (_, i) => ({
    name: `xen${i + 1}`,
    labels: { pool: 'cluster-1' },
    capacity: opts.capacity ?? 120,
    schedulable: true,
    up: true,
  }));
  const vms: VmState[] = [];
  for (const h of hosts) {
    for (let j = 1; j <= per; j++) {
      vms.push({ name: `${h.name}-vm${j}`, host: h.name, weight: opts.weight ?? 20, running: true, constraints: { labels: { pool: ['cluster-1'] } } });
    }
  }
  return { hosts, vms };
}

const ORDER = ['xen1', 'xen2', 'xen3', 'xen4', 'xen5', 'xen6'];

/**
 * Replays a plan and checks what must hold: a step only empties its own host, never into itself,
 * each migration is eligible and fits when made (in any order inside a step: its destinations only
 * receive), the host is empty before it reboots (stranded VMs aside), batches cover the migrations.
 */
function checkPlan(s: ClusterSnapshot, plan: RollingRebootPlan, opts: RollingRebootOptions = {}): void {
  const p = new Placement(s, opts);
  const threads = opts.threads ?? DEFAULT_MIGRATION_THREADS;
  const later = new Set(plan.order);
  let total = 0;
  for (const step of plan.steps) {
    later.delete(step.host);
    p.setHost(step.host, { schedulable: false });
    expect(step.parallel.flat()).toEqual(expect.arrayContaining(step.migrations));
    expect(step.parallel.flat()).toHaveLength(step.migrations.length);
    for (const batch of step.parallel) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(threads);
    }
    for (const m of step.migrations) {
      const vm = s.vms.find((v) => v.name === m.vm)!;
      expect(m.from).toBe(step.host);
      expect(m.to).not.toBe(step.host);
      expect(p.hostOf(vm.name)).toBe(step.host);
      const to = p.host(m.to)!;
      expect(p.isEligible(vm, to)).toBe(true);
      if (plan.ok) expect(p.fits(vm, to)).toBe(true);
      expect(m.final).toBe(!later.has(m.to));
      p.place(vm, m.to);
    }
    const left = p
      .vmsOn(step.host)
      .filter((v) => v.running)
      .map((v) => v.name);
    expect(left.sort()).toEqual([...step.stranded.map((x) => x.vm), ...step.untouchable].sort());
    expect(step.loadAfter).toEqual({ ...p.loads(), [step.host]: p.loadOf(step.host) - step.stranded.reduce((a, x) => a + x.weight, 0) });
    p.setHost(step.host, { schedulable: true, up: true });
    total += step.migrations.length;
  }
  expect(plan.totalMigrations).toBe(total);
  expect(Object.values(plan.migrationsPerVm).reduce((a, b) => a + b, 0)).toBe(total);
  expect(p.loads()).toEqual(plan.loadAfter);
}

describe('planRollingReboot, seed 003', () => {
  it('VMs on the pool master are live migrated twice, all others only once', () => {
    const s = pool();
    const plan = planRollingReboot(s, ORDER);
    expect(plan.ok).toBe(true);
    expect(plan.threads).toBe(5);
    expect(plan.steps.map((st) => st.host)).toEqual(ORDER);
    // the master's 5 VMs go to 5 different hosts still to be rebooted: they will move again
    expect(plan.steps[0].migrations.map((m) => [m.vm, m.to, m.final])).toEqual([
      ['xen1-vm1', 'xen2', false],
      ['xen1-vm2', 'xen3', false],
      ['xen1-vm3', 'xen4', false],
      ['xen1-vm4', 'xen5', false],
      ['xen1-vm5', 'xen6', false],
    ]);
    // each next host empties into the hosts already rebooted, for good
    for (const step of plan.steps.slice(1)) {
      expect(step.migrations).toHaveLength(6);
      expect(step.migrations.every((m) => m.final)).toBe(true);
      expect(step.migrations.every((m) => ORDER.indexOf(m.to) < ORDER.indexOf(step.host))).toBe(true);
    }
    expect(plan.steps[1].migrations.every((m) => m.to === 'xen1')).toBe(true);
    expect(plan.totalMigrations).toBe(35);
    for (const [vm, n] of Object.entries(plan.migrationsPerVm)) expect(n).toBe(vm.startsWith('xen1-') ? 2 : 1);
    expect(Object.keys(plan.migrationsPerVm)).toHaveLength(30);
    checkPlan(s, plan);
  });

  it('runs the migrations of a host in batches of `threads` (xargs -P), distinct destinations first', () => {
    const s = pool();
    const plan = planRollingReboot(s, ORDER);
    expect(plan.steps[0].parallel).toHaveLength(1);
    expect(plan.steps[1].parallel.map((b) => b.length)).toEqual([5, 1]);
    const two = planRollingReboot(s, ORDER, { threads: 2 });
    expect(two.steps[0].parallel.map((b) => b.map((m) => m.to))).toEqual([['xen2', 'xen3'], ['xen4', 'xen5'], ['xen6']]);
    expect(two.steps[0].parallel.flat()).toEqual(two.steps[0].migrations);
    checkPlan(s, two, { threads: 2 });
  });

  it('batches prefer distinct destinations, heaviest first', () => {
    const items = ['a', 'a', 'b', 'b', 'c'].map((to, i) => ({ vm: `v${i}`, to }));
    expect(batches(items, 2).map((b) => b.map((x) => x.vm))).toEqual([['v0', 'v2'], ['v1', 'v3'], ['v4']]);
    expect(batches(items, 3).map((b) => b.map((x) => x.to))).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b'],
    ]);
    expect(batches([], 5)).toEqual([]);
  });

  it('falls back to a host still to be rebooted when the rebooted ones lack room (the VM will move again)', () => {
    // a is small: when b reboots, its two VMs of 8 do not fit on a (the only rebooted host) and go
    // to c, which reboots later: they move twice
    const host = (name: string, capacity: number): HostState => ({ name, labels: {}, capacity, schedulable: true, up: true });
    const vm = (name: string, on: string, weight: number): VmState => ({ name, host: on, weight, running: true, constraints: {} });
    const s: ClusterSnapshot = {
      hosts: [host('a', 6), host('b', 30), host('c', 30)],
      vms: [vm('a1', 'a', 3), vm('a2', 'a', 3), vm('b1', 'b', 8), vm('b2', 'b', 8), vm('c1', 'c', 4)],
    };
    const plan = planRollingReboot(s, ['a', 'b', 'c']);
    expect(plan.ok).toBe(true);
    expect(plan.steps[1].migrations.map((m) => [m.vm, m.to, m.final])).toEqual([
      ['b1', 'c', false],
      ['b2', 'c', false],
    ]);
    expect(plan.migrationsPerVm).toEqual({ a1: 2, a2: 2, b1: 2, b2: 2, c1: 1 });
    expect(plan.steps[2].migrations.every((m) => m.final)).toBe(true);
    checkPlan(s, plan);
  });

  it('fails N+1 when a host cannot be emptied, naming the VM, its weight and the best room left', () => {
    const s = pool({ capacity: 100 }); // 100% used
    const plan = planRollingReboot(s, ORDER);
    expect(plan.ok).toBe(false);
    expect(plan.steps[0].ok).toBe(false);
    expect(plan.steps[0].stranded[0]).toEqual({
      vm: 'xen1-vm1',
      weight: 20,
      expected: false,
      reason: 'xen1-vm1 (weight 20) fits nowhere: the best room left is 0 on xen2',
    });
    expect(plan.reason).toMatch(/^emptying xen1: xen1-vm1 \(weight 20\) fits nowhere/);
    checkPlan(s, plan);
  });

  it('a pinned VM stays, goes down with its host and is planned back on it', () => {
    const s = pool({ capacity: 130 });
    s.vms.push({ name: 'license1', host: 'xen3', weight: 5, running: true, constraints: { pinnedHost: 'xen3' } });
    const plan = planRollingReboot(s, ORDER);
    expect(plan.ok).toBe(true);
    const step3 = plan.steps[2];
    expect(step3.stranded).toEqual([
      {
        vm: 'license1',
        weight: 5,
        expected: true,
        reason: 'license1 (weight 5) is pinned to xen3: it stops while xen3 is away and starts again when it is back',
      },
    ]);
    expect(plan.migrationsPerVm.license1).toBeUndefined();
    checkPlan(s, plan);
  });

  it('a never-touch VM makes its host impossible to empty', () => {
    const s = pool();
    const plan = planRollingReboot(s, ORDER, { neverTouch: ['xen4-vm2'] });
    expect(plan.ok).toBe(false);
    expect(plan.steps[3].untouchable).toEqual(['xen4-vm2']);
    expect(plan.reason).toBe('emptying xen4: xen4 runs never-touch VM xen4-vm2');
    checkPlan(s, plan, { neverTouch: ['xen4-vm2'] });
  });

  it('hosts outside the order are final destinations from the start', () => {
    const s = pool({ hosts: 4, vmsPerHost: 2, capacity: 100 });
    const plan = planRollingReboot(s, ['xen1', 'xen2']);
    expect(plan.steps[0].migrations.every((m) => m.final && ['xen3', 'xen4'].includes(m.to))).toBe(true);
    expect(Object.values(plan.migrationsPerVm).every((n) => n === 1)).toBe(true);
    checkPlan(s, plan);
  });

  it('refuses an order it cannot follow', () => {
    const s = pool();
    expect(planRollingReboot(s, []).reason).toBe('the order names no host');
    expect(planRollingReboot(s, ['xen1', 'xen1']).reason).toBe('xen1 appears twice in the order');
    expect(planRollingReboot(s, ['xen9']).reason).toBe('xen9 is not a host of this cluster');
    const down = { ...s, hosts: s.hosts.map((h) => (h.name === 'xen2' ? { ...h, up: false } : h)) };
    expect(planRollingReboot(down, ORDER)).toMatchObject({ ok: false, reason: 'xen2 is down', steps: [] });
    expect(planRollingReboot(s, ORDER, { threads: 0 }).ok).toBe(false);
  });
});

// ---- the seed fleet cluster (seed 000 loads) ----------------------------------------------------

describe('planRollingReboot on the seed cluster', () => {
  const TOPS = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
  const seed = (): ClusterSnapshot => {
    const w: [string, string, number][] = [
      ['admin1', 'top1', 4000],
      ['batch1', 'top1', 4000],
      ['infra1', 'top1', 2000],
      ['infra2', 'top1', 2000],
      ['siteprep2', 'top1', 8000],
      ['admin2', 'top2', 8000],
      ['i0conf2', 'top2', 8000],
      ['i0log1', 'top2', 8000],
      ['batch2', 'top3', 4000],
      ['db1', 'top3', 6000],
      ['lb1', 'top3', 4000],
      ['ns3', 'top3', 2000],
      ['nsrelay1', 'top3', 2000],
      ['webrelay1', 'top3', 2000],
      ['i0conf1', 'worker1', 16000],
      ['ns1', 'worker1', 2000],
      ['ns2', 'worker1', 2000],
      ['auto1', 'worker2', 30000],
      ['monitor1', 'worker2', 28000],
      ['batch3', 'worker3', 40000],
      ['lb2', 'worker3', 10000],
    ];
    return {
      hosts: TOPS.map((name) => ({ name, role: 'top', labels: { hostname: name, role: 'top' }, capacity: 100000, schedulable: true, up: true })),
      vms: w.map(([name, host, weight]) => ({ name, host, weight, running: true, constraints: { labels: { role: ['top'] } } })),
    };
  };

  it('reboots top1 first; only its VMs move twice', () => {
    const s = seed();
    expect(loadByHost(s)).toEqual({ top1: 20000, top2: 24000, top3: 20000, worker1: 20000, worker2: 58000, worker3: 50000 });
    const plan = planRollingReboot(s, TOPS);
    expect(plan.ok).toBe(true);
    const onTop1 = ['admin1', 'batch1', 'infra1', 'infra2', 'siteprep2'];
    for (const [vm, n] of Object.entries(plan.migrationsPerVm)) expect(n).toBe(onTop1.includes(vm) ? 2 : 1);
    expect(plan.totalMigrations).toBe(21 + 5);
    checkPlan(s, plan);
  });
});

// ---- properties ----------------------------------------------------------------------------------

describe('planRollingReboot properties (random pools)', () => {
  it('with room enough, every VM not on the first host moves at most once, the first host’s at most twice', () => {
    for (let i = 1; i <= 200; i++) {
      const r = rng(i);
      const n = 2 + Math.floor(r() * 8);
      const hosts: HostState[] = Array.from({ length: n }, (_, k) => ({ name: `h${k}`, labels: {}, schedulable: true, up: true }));
      const vms: VmState[] = Array.from({ length: Math.floor(r() * 40) }, (_, k) => ({
        name: `vm${k}`,
        host: hosts[Math.floor(r() * n)].name,
        weight: 1 + Math.floor(r() * 9),
        running: r() < 0.9,
        constraints: {},
      }));
      const s = { hosts, vms };
      const order = hosts.map((h) => h.name).reverse(); // any order will do: order[0] plays the pool master
      const threads = 1 + Math.floor(r() * 6);
      const plan = planRollingReboot(s, order, { threads });
      expect(plan.ok).toBe(true);
      for (const [vm, count] of Object.entries(plan.migrationsPerVm)) {
        const first = s.vms.find((v) => v.name === vm)!.host === order[0];
        expect(count).toBeLessThanOrEqual(first ? 2 : 1);
      }
      checkPlan(s, plan, { threads });
    }
  });

  it('with capacities and constraints, the plan stays consistent (ok or not)', () => {
    for (let i = 1; i <= 200; i++) {
      const r = rng(1000 + i);
      const n = 2 + Math.floor(r() * 8);
      const hosts: HostState[] = Array.from({ length: n }, (_, k) => ({
        name: `h${k}`,
        labels: { zone: r() < 0.5 ? 'a' : 'b' },
        ...(r() < 0.8 ? { capacity: 10 + Math.floor(r() * 40) } : {}),
        schedulable: r() < 0.9,
        up: true,
      }));
      const vms: VmState[] = Array.from({ length: Math.floor(r() * 30) }, (_, k) => ({
        name: `vm${k}`,
        host: hosts[Math.floor(r() * n)].name,
        weight: 1 + Math.floor(r() * 9),
        running: r() < 0.9,
        constraints:
          r() < 0.3
            ? { labels: { zone: [r() < 0.5 ? 'a' : 'b'] } }
            : r() < 0.1
              ? { pinnedHost: `h${Math.floor(r() * n)}` }
              : r() < 0.2
                ? { conflicts: [`vm${Math.floor(r() * 30)}`] }
                : {},
      }));
      const s = { hosts, vms };
      const order = hosts.filter(() => r() < 0.8).map((h) => h.name);
      if (!order.length) continue;
      const plan = planRollingReboot(s, order);
      expect(plan.steps).toHaveLength(order.length);
      expect(plan.ok).toBe(plan.steps.every((st) => st.ok));
      checkPlan(s, plan);
    }
  });
});

describe('scale: 60 hosts, 1,500 VMs', () => {
  it('plans a rolling reboot of the whole cluster', () => {
    const r = rng(5);
    const hosts: HostState[] = Array.from({ length: 60 }, (_, i) => ({
      name: `hv${i + 1}`,
      labels: { role: 'top' },
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
    const s = { hosts, vms };
    const order = hosts.map((h) => h.name);
    const plan = planRollingReboot(s, order);
    expect(plan.ok).toBe(true);
    const onMaster = vms.filter((v) => v.host === 'hv1').length;
    expect(plan.totalMigrations).toBe(1500 + onMaster);
    checkPlan(s, plan);
  });
});

/** A small pool: hosts with capacities, running VMs with their host and weight, no constraint. */
function smallPool(hosts: [string, number][], vms: [string, string, number][]): ClusterSnapshot {
  return {
    hosts: hosts.map(([name, capacity]) => ({ name, labels: {}, capacity, schedulable: true, up: true })),
    vms: vms.map(([name, host, weight]) => ({ name, host, weight, running: true, constraints: {} })),
    scheduler: { capacityAware: true },
  };
}

describe('planRollingReboot when the fewest-moves placement finds no room', () => {
  // Order fixed h1, h2, h3. h1's vm2 must wait on h3 (h2, emptied next, then weighs 10 > h1's 9).
  // h2 then goes to h1 (6 of 9), and h3's vm1 (5) and vm2 (4) find 3 on h1 and 8 on h2: one of them
  // cannot go to a rebooted host, and when emptying h2 sends vm4 to h3 instead, h3 sends 10 to 4 + 8
  // with a 5, a 4 and a 1: again no room for all. No plan of 5 migrations (the bound) exists; the
  // fewest-moves placements find no room at all, seed 003's (most room, rebooted or not) fits with 6.
  const s = smallPool(
    [
      ['h1', 9],
      ['h2', 8],
      ['h3', 15],
    ],
    [
      ['vm1', 'h3', 5],
      ['vm2', 'h1', 4],
      ['vm3', 'h2', 5],
      ['vm4', 'h2', 1],
    ],
  );

  it('falls back to the most-room placement, which fits, and says so', () => {
    const plan = planRollingReboot(s, ['h1', 'h2', 'h3']);
    expect(plan.ok).toBe(true);
    expect(plan.strategy).toBe('most-room');
    // Every step fits: replay the plan's loads.
    for (const step of plan.steps)
      for (const [h, load] of Object.entries(step.loadAfter))
        expect(load, `${step.host}: ${h}`).toBeLessThanOrEqual(s.hosts.find((x) => x.name === h)!.capacity!);
    expect(plan.totalMigrations).toBe(6);
    expect(rollingRebootLowerBound(s, ['h1', 'h2', 'h3']).migrations).toBe(5);
    checkPlan(s, plan);
  });

  it('keeps the fewest-moves plan whenever it fits', () => {
    const roomy = { ...s, hosts: s.hosts.map((h) => ({ ...h, capacity: 40 })) };
    const plan = planRollingReboot(roomy, ['h1', 'h2', 'h3']);
    expect(plan.strategy).toBe('fewest-moves');
    expect(plan.totalMigrations).toBe(s.vms.length + 1); // the lower bound: h1's VM twice, the others once
  });
});

describe('planRollingReboot parking the first host’s VMs', () => {
  // The least loaded host (h4, 4 of 8) takes h1's vm7 and is emptied next: h1 takes it whole (8 of 8),
  // then h2's 9 finds h1 full and 8 on h4: vm4 (1) goes to h3, to be rebooted, and moves twice. Parked
  // on h3 (most room, not the next host), vm7 leaves h4 light: h1 takes h4 (4), h1 and h4 take h2.
  const s = smallPool(
    [
      ['h1', 8],
      ['h2', 14],
      ['h3', 15],
      ['h4', 8],
    ],
    [
      ['vm1', 'h4', 4],
      ['vm2', 'h3', 4],
      ['vm3', 'h2', 4],
      ['vm4', 'h2', 1],
      ['vm5', 'h3', 5],
      ['vm6', 'h2', 4],
      ['vm7', 'h1', 4],
    ],
  );
  const ORDER4 = ['h1', 'h2', 'h3', 'h4'];

  it('reaches the bound where parking on the least loaded host moved a VM of another host twice', () => {
    const plan = planRollingReboot(s, ORDER4, { chooseOrder: true });
    expect(plan.ok).toBe(true);
    expect(plan.strategy).toBe('fewest-moves');
    expect(plan.steps[0].migrations).toEqual([{ vm: 'vm7', from: 'h1', to: 'h3', weight: 4, final: false }]);
    expect(plan.totalMigrations).toBe(rollingRebootLowerBound(s, ORDER4).migrations);
    expect(plan.totalMigrations).toBe(8);
    for (const [vm, n] of Object.entries(plan.migrationsPerVm)) expect(n, vm).toBe(vm === 'vm7' ? 2 : 1);
    checkPlan(s, plan);
  });
});

describe('rollingRebootLowerBound', () => {
  it('counts the first host’s VMs twice, a zone’s forced second moves, not the VMs that stay', () => {
    const host = (name: string, zone: string): HostState => ({ name, labels: { zone }, schedulable: true, up: true });
    const vm = (name: string, on: string, zone?: string, pinned = false): VmState => ({
      name,
      host: on,
      weight: 1,
      running: true,
      constraints: { ...(zone ? { labels: { zone: [zone] } } : {}), ...(pinned ? { pinnedHost: on } : {}) },
    });
    const s: ClusterSnapshot = {
      hosts: [host('a1', 'a'), host('b1', 'b'), host('a2', 'a'), host('b2', 'b')],
      vms: [
        vm('m1', 'a1'),
        vm('m2', 'a1', 'a'),
        vm('x1', 'b1', 'b'),
        vm('x2', 'b1', 'b'),
        vm('y1', 'b2', 'b'),
        vm('free', 'b2'),
        vm('pin', 'a2', undefined, true),
      ],
    };
    const order = ['a1', 'b1', 'a2', 'b2'];
    // 6 movable VMs, m1 and m2 twice, and whichever zone-b host goes first sends its b-bound VMs to
    // the other, rebooted later: b2 first costs 1 (y1), b1 first 2.
    expect(rollingRebootLowerBound(s, order)).toEqual({ migrations: 9, vms: 6, firstHostTwice: 2, classTwice: 1 });
    const plan = planRollingReboot(s, order, { chooseOrder: true });
    expect(plan.ok).toBe(true);
    expect(plan.totalMigrations).toBe(9);
    expect(plan.migrationsPerVm.y1).toBe(2);
    checkPlan(s, plan);
  });
});

describe('planRollingReboot N+1 (property, random pools)', () => {
  it('never over capacity at any step, every host emptied, the first host’s VMs twice, counts consistent, never under the bound', () => {
    const pools = fc.record({
      hosts: fc.array(fc.record({ capacity: fc.integer({ min: 8, max: 40 }), zone: fc.constantFrom('a', 'b') }), { minLength: 2, maxLength: 7 }),
      vms: fc.array(fc.record({ host: fc.nat(), weight: fc.integer({ min: 1, max: 8 }), zone: fc.constantFrom(undefined, 'a', 'b') }), { maxLength: 30 }),
      choose: fc.boolean(),
    });
    fc.assert(
      fc.property(pools, ({ hosts: hs, vms: vs, choose }) => {
        const hosts: HostState[] = hs.map((h, i) => ({ name: `h${i}`, labels: { zone: h.zone }, capacity: h.capacity, schedulable: true, up: true }));
        const load = new Array<number>(hosts.length).fill(0);
        const vms: VmState[] = [];
        vs.forEach((v, i) => {
          const k = v.host % hosts.length;
          if (load[k]! + v.weight > hosts[k]!.capacity! || (v.zone && hosts[k]!.labels.zone !== v.zone)) return; // the pool starts within capacity
          load[k] += v.weight;
          vms.push({ name: `v${i}`, host: hosts[k]!.name, weight: v.weight, running: true, constraints: v.zone ? { labels: { zone: [v.zone] } } : {} });
        });
        const s: ClusterSnapshot = { hosts, vms, scheduler: { capacityAware: true } };
        const order = hosts.map((h) => h.name);
        const plan = planRollingReboot(s, order, { chooseOrder: choose });
        checkPlan(s, plan); // each migration fits when made, each host empty before it reboots, counts add up
        if (!plan.ok) return;
        for (const step of plan.steps) {
          for (const h of hosts) expect(step.loadAfter[h.name]!).toBeLessThanOrEqual(h.capacity!);
          expect(step.stranded.every((x) => x.expected)).toBe(true);
        }
        expect(plan.totalMigrations).toBeGreaterThanOrEqual(rollingRebootLowerBound(s, order).migrations);
        const perVm: Record<string, number> = {};
        for (const st of plan.steps) for (const m of st.migrations) perVm[m.vm] = (perVm[m.vm] ?? 0) + 1;
        expect(plan.migrationsPerVm).toEqual(perVm);
        // Every host is rebooted: whatever the first host's VMs go to is emptied later.
        for (const v of vms.filter((x) => x.host === order[0])) if (perVm[v.name] !== undefined) expect(perVm[v.name], v.name).toBeGreaterThanOrEqual(2);
      }),
      { numRuns: 300 },
    );
  });
});

describe('step order on the threads', () => {
  it('orders a step’s migrations so that the work queue ends no later than longest first', () => {
    // 7 migrations on 3 threads: longest first ends at 11 (5+3+3 on one thread), an exact schedule at 9 (5+4, 5+4, 3+3+3).
    expect(listMakespan([5, 5, 4, 4, 3, 3, 3], 3)).toBe(11);
    const best = scheduleOrder([5, 5, 4, 4, 3, 3, 3], 3);
    expect(best.exact).toBe(true);
    expect(best.makespan).toBe(9);
    expect(
      listMakespan(
        best.order.map((i) => [5, 5, 4, 4, 3, 3, 3][i]!),
        3,
      ),
    ).toBe(9);
    expect([...best.order].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // 6 equal migrations on 5 threads: 2 units, whatever the order; the bound max(sum/5, longest) says 1.2.
    expect(scheduleOrder([1, 1, 1, 1, 1, 1], 5).makespan).toBe(2);
    expect(makespanLowerBound([1, 1, 1, 1, 1, 1], 5)).toBe(2);
  });

  it('property: the order is a permutation, never worse than longest first, never under the lower bound', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 24 }), fc.integer({ min: 1, max: 6 }), (d, threads) => {
        const r = scheduleOrder(d, threads);
        expect([...r.order].sort((a, b) => a - b)).toEqual(d.map((_, i) => i));
        const lpt = listMakespan(
          [...d].sort((a, b) => b - a),
          threads,
        );
        expect(r.makespan).toBe(
          listMakespan(
            r.order.map((i) => d[i]!),
            threads,
          ),
        );
        expect(r.makespan).toBeLessThanOrEqual(lpt);
        expect(r.makespan).toBeGreaterThanOrEqual(makespanLowerBound(d, threads) - 1e-9);
      }),
    );
  });
});

describe('planRollingReboot choosing the order after the first host', () => {
  // Given order h1..h4: h2's VMs (9 in all) do not all fit on h1 (8) once it is back, so one moves to a
  // host still to be rebooted and moves again. h3 next (3: fits on h1), then h2 (h1 and h3 take it).
  const s = smallPool(
    [
      ['h1', 8],
      ['h2', 9],
      ['h3', 11],
      ['h4', 12],
    ],
    [
      ['vm1', 'h2', 4],
      ['vm2', 'h4', 1],
      ['vm3', 'h4', 3],
      ['vm4', 'h2', 2],
      ['vm5', 'h3', 3],
      ['vm6', 'h2', 3],
    ],
  );
  const ORDER4 = ['h1', 'h2', 'h3', 'h4'];

  it('keeps the first host first and reaches the lower bound where the given order does not', () => {
    const given = planRollingReboot(s, ORDER4);
    const chosen = planRollingReboot(s, ORDER4, { chooseOrder: true });
    expect(given.totalMigrations).toBe(7);
    expect(chosen.ok).toBe(true);
    expect(chosen.order).toEqual(['h1', 'h3', 'h2', 'h4']);
    expect(chosen.steps.map((st) => st.host)).toEqual(chosen.order);
    expect(chosen.totalMigrations).toBe(s.vms.length + 0); // h1 holds no VM: every VM moves once
    expect(Object.values(chosen.migrationsPerVm).every((n) => n === 1)).toBe(true);
  });

  it('property: the chosen order is the given hosts, the first one first, each once; the plan fits at every step', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const hosts: HostState[] = Array.from({ length: 3 + Math.floor(r() * 5) }, (_, i) => ({
        name: `x${i}`,
        labels: {},
        capacity: 20 + Math.floor(r() * 30),
        schedulable: true,
        up: true,
      }));
      const load = new Map(hosts.map((h) => [h.name, 0]));
      const vms: VmState[] = [];
      for (let i = 0; i < 25; i++) {
        const h = hosts[Math.floor(r() * hosts.length)]!;
        const w = 1 + Math.floor(r() * 6);
        if (load.get(h.name)! + w > h.capacity! * 0.75) continue;
        load.set(h.name, load.get(h.name)! + w);
        vms.push({ name: `v${i}`, host: h.name, weight: w, running: true, constraints: {} });
      }
      const order = hosts.map((h) => h.name);
      const plan = planRollingReboot({ hosts, vms, scheduler: { capacityAware: true } }, order, { chooseOrder: true });
      expect(plan.order[0], `seed ${seed}`).toBe(order[0]);
      expect([...plan.order].sort(), `seed ${seed}`).toEqual([...order].sort());
      if (!plan.ok) continue;
      for (const step of plan.steps) for (const h of hosts) expect(step.loadAfter[h.name]!, `seed ${seed} ${step.host}`).toBeLessThanOrEqual(h.capacity!);
    }
  });

  it('keeps the given order when a host of it takes no VM at the start', () => {
    const disabled = { ...s, hosts: s.hosts.map((h) => (h.name === 'h4' ? { ...h, schedulable: false } : h)) };
    expect(planRollingReboot(disabled, ORDER4, { chooseOrder: true }).order).toEqual(ORDER4);
  });
});
