/**
 * The start-up's placement check (domain/startup-placement.ts): what will run on each host once the
 * scheduled VMs start, against the capacities, and which VMs to schedule again.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkStartupPlacement } from '../../domain/startup-placement';
import type { ClusterSnapshot, VmState } from '../../domain/cluster';

const host = (name: string, capacity?: number) => ({ name, labels: {}, capacity, schedulable: true, up: true });
const vm = (name: string, weight: number, at: string | undefined, running = false): VmState => ({ name, weight, host: at, running, constraints: {} });

describe('checkStartupPlacement', () => {
  it('every VM piled on the first host to register: that host overflows, its heaviest VMs are re-placed', () => {
    const s: ClusterSnapshot = {
      hosts: [host('a', 10), host('b', 10), host('c', 10)],
      vms: [vm('v1', 4, 'a'), vm('v2', 3, 'a'), vm('v3', 3, 'a'), vm('v4', 2, 'a'), vm('v5', 2, 'a')],
    };
    const p = checkStartupPlacement(s, ['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(p.ok).toBe(false);
    expect(p.overflow).toEqual([{ host: 'a', load: 14, capacity: 10 }]);
    expect(p.replace).toEqual(['v1']); // 14 - 4 = 10 fits
    expect(p.reason).toBe('a would carry 14 of weight for a capacity of 10');
  });

  it('counts what already runs, never moves it, and ignores units scheduled but not to start', () => {
    const s: ClusterSnapshot = {
      hosts: [host('a', 10), host('b', 10)],
      vms: [vm('run', 8, 'a', true), vm('idle', 9, 'b'), vm('new1', 1, 'a'), vm('new2', 2, 'a')],
    };
    const p = checkStartupPlacement(s, ['run', 'new1', 'new2']);
    expect(p.loadAfter).toEqual({ a: 11, b: 0 });
    expect(p.replace).toEqual(['new2']);
    expect(p.placement).toEqual([
      { vm: 'run', host: 'a', weight: 8 },
      { vm: 'new1', host: 'a', weight: 1 },
      { vm: 'new2', host: 'a', weight: 2 },
    ]);
  });

  it('a host without capacity is unbounded; an unscheduled VM weighs nowhere', () => {
    const s: ClusterSnapshot = { hosts: [host('a'), host('b', 1)], vms: [vm('x', 100, 'a'), vm('y', 5, undefined)] };
    const p = checkStartupPlacement(s, ['x', 'y']);
    expect(p).toMatchObject({ ok: true, overflow: [], replace: [] });
    expect(p.placement[1]).toEqual({ vm: 'y', host: undefined, weight: 5 });
  });

  it('property: after taking the VMs to re-place off, every host fits, or only running VMs overflow it', () => {
    const arb = fc.record({
      caps: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }),
      vms: fc.array(fc.record({ w: fc.integer({ min: 1, max: 20 }), h: fc.nat(), running: fc.boolean(), start: fc.boolean() }), { maxLength: 30 }),
    });
    fc.assert(
      fc.property(arb, ({ caps, vms }) => {
        const s: ClusterSnapshot = {
          hosts: caps.map((c, i) => host(`h${i}`, c)),
          vms: vms.map((v, i) => vm(`v${i}`, v.w, `h${v.h % caps.length}`, v.running)),
        };
        const toStart = vms.flatMap((v, i) => (v.start || v.running ? [`v${i}`] : []));
        const p = checkStartupPlacement(s, toStart);
        const gone = new Set(p.replace);
        for (const [i, c] of caps.entries()) {
          const on = s.vms.filter((v) => v.host === `h${i}` && (v.running || toStart.includes(v.name)) && !gone.has(v.name));
          const load = on.reduce((a, v) => a + v.weight, 0);
          const runningLoad = on.filter((v) => v.running).reduce((a, v) => a + v.weight, 0);
          if (load > c) expect(runningLoad).toBe(load); // only what runs is left, and it is never moved
        }
        for (const name of p.replace) expect(s.vms.find((v) => v.name === name)!.running).toBe(false);
        expect(p.ok).toBe(p.overflow.length === 0);
      }),
    );
  });
});
