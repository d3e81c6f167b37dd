/**
 * The exact failback planner (issue 11, item 15): where the search is cheap the plan is the best any
 * sequence of moves reaches, checked against an exhaustive search written independently
 * (test/helpers/rebalance-exhaustive.ts); the cases a greedy step cannot see.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Placement, weightSpread, type ClusterSnapshot, type HostState, type VmState } from '../../domain/cluster';
import { planRebalance, type RebalanceOptions } from '../../domain/rebalance';
import { exhaustiveRebalance } from '../helpers/rebalance-exhaustive';

const host = (name: string, capacity?: number): HostState => ({
  name,
  labels: {},
  schedulable: true,
  up: true,
  ...(capacity !== undefined ? { capacity } : {}),
});
const vm = (name: string, on: string, weight: number): VmState => ({ name, host: on, weight, running: true, constraints: {} });

/** Replays a plan the way its executor does: each move allowed at its point, the spreads it claims. */
function replay(s: ClusterSnapshot, opts: RebalanceOptions, plan: ReturnType<typeof planRebalance>): void {
  const p = new Placement(s, opts);
  for (const m of plan.moves) {
    const v = p.vm(m.vm)!;
    expect(p.hostOf(m.vm)).toBe(m.from);
    expect(p.fits(v, p.host(m.to)!)).toBe(true);
    if (m.pinTo === undefined) expect(p.choose(v).ties).toContain(m.to);
    p.place(v, m.to);
    expect(weightSpread(p.loads(), plan.hosts)).toBe(m.spreadAfter);
  }
}

describe('planRebalance where exact search is cheap', () => {
  it('sees what a greedy step cannot: the same two moves reach a spread of 1, not 4 (scheduler mode)', () => {
    const s: ClusterSnapshot = {
      hosts: [host('hv1'), host('hv2'), host('hv3')],
      vms: [vm('vm1', 'hv3', 5), vm('vm2', 'hv1', 6), vm('vm3', 'hv1', 3), vm('vm4', 'hv3', 8), vm('vm5', 'hv1', 4)],
    };
    const opts: RebalanceOptions = { minGain: 1 };
    const greedy = planRebalance(s, opts, 'greedy only');
    expect([greedy.spreadBefore, greedy.spreadAfter, greedy.moves.length]).toEqual([13, 4, 2]);
    const plan = planRebalance(s, opts);
    expect(plan.optimal).toBe(true);
    expect(plan.moves.map((m) => [m.vm, m.from, m.to])).toEqual([
      ['vm1', 'hv3', 'hv2'],
      ['vm5', 'hv1', 'hv2'],
    ]);
    expect(plan.spreadAfter).toBe(1);
    replay(s, opts, plan);
  });

  it('makes a swap: the first move raises the spread, the second brings it to 1', () => {
    const s: ClusterSnapshot = {
      hosts: [host('hv1'), host('hv2')],
      vms: [vm('vm1', 'hv1', 9), vm('vm2', 'hv1', 5), vm('vm3', 'hv1', 7), vm('vm4', 'hv2', 9), vm('vm5', 'hv2', 9), vm('vm6', 'hv2', 8)],
    };
    const opts: RebalanceOptions = { destinations: 'any', minGain: 1 };
    expect(planRebalance(s, opts, 'greedy only').moves).toEqual([]);
    const plan = planRebalance(s, opts);
    expect(plan.optimal).toBe(true);
    expect(plan.moves.map((m) => [m.vm, m.to, m.spreadAfter])).toEqual([
      ['vm6', 'hv1', 11],
      ['vm2', 'hv2', 1],
    ]);
    replay(s, opts, plan);
  });

  it('a swap never overfills a host on the way', () => {
    // the same swap with hv1 full: vm6 cannot go first, so no swap
    const s: ClusterSnapshot = {
      hosts: [host('hv1', 21), host('hv2')],
      vms: [vm('vm1', 'hv1', 9), vm('vm2', 'hv1', 5), vm('vm3', 'hv1', 7), vm('vm4', 'hv2', 9), vm('vm5', 'hv2', 9), vm('vm6', 'hv2', 8)],
    };
    const plan = planRebalance(s, { destinations: 'any', minGain: 1 });
    expect(plan.optimal).toBe(true);
    expect(plan.moves).toEqual([]);
  });

  it('matches exhaustive search on random small clusters, both modes (fast-check)', () => {
    const cluster = fc
      .record({
        hosts: fc.array(fc.record({ capacity: fc.option(fc.integer({ min: 8, max: 30 }), { nil: undefined }), zone: fc.constantFrom('a', 'b') }), {
          minLength: 2,
          maxLength: 5,
        }),
        vms: fc.array(
          fc.record({ on: fc.nat(), weight: fc.integer({ min: 1, max: 9 }), zone: fc.option(fc.constantFrom('a', 'b'), { freq: 4, nil: undefined }) }),
          { minLength: 1, maxLength: 7 },
        ),
        destinations: fc.constantFrom<'scheduler' | 'any'>('scheduler', 'any'),
        minGain: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        moveCost: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
        prefer: fc.boolean(),
      })
      .map((c) => {
        const hosts = c.hosts.map((h, i) => ({ ...host(`hv${i + 1}`, h.capacity), labels: { zone: h.zone } }));
        const vms = c.vms.map((v, i) => ({
          ...vm(`vm${i + 1}`, hosts[v.on % hosts.length].name, v.weight),
          constraints: v.zone ? { labels: { zone: [v.zone] } } : {},
        }));
        const opts: RebalanceOptions = {
          destinations: c.destinations,
          ...(c.minGain !== undefined ? { minGain: c.minGain } : {}),
          ...(c.moveCost !== undefined ? { moveCost: c.moveCost } : {}),
          ...(c.prefer ? { prefer: { host: hosts[0].name } } : {}),
        };
        return { s: { hosts, vms } as ClusterSnapshot, opts };
      });
    fc.assert(
      fc.property(cluster, ({ s, opts }) => {
        const plan = planRebalance(s, opts);
        const best = exhaustiveRebalance(s, opts);
        expect(plan.optimal).toBe(true);
        expect([plan.spreadAfter, plan.moves.length]).toEqual([best.spread, best.moves]);
        replay(s, opts, plan);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
