import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startable, type QueuedMigration } from '../../domain/migration-queue';

const m = (vm: string, from: string, to: string): QueuedMigration => ({ vm, from, to });

describe('the live-migration work queue', () => {
  it('starts at most `threads`, in order, and more as slots free', () => {
    const pending = [m('a', 'h1', 'h2'), m('b', 'h1', 'h3'), m('c', 'h1', 'h4'), m('d', 'h1', 'h5')];
    expect(startable(pending, [], { threads: 2, perHost: 5 }).map((x) => x.vm)).toEqual(['a', 'b']);
    expect(startable(pending.slice(2), [pending[0]!], { threads: 2, perHost: 5 }).map((x) => x.vm)).toEqual(['c']);
    expect(startable(pending, pending.slice(0, 2), { threads: 2, perHost: 5 })).toEqual([]);
  });

  it('never puts more than `perHost` on a host, as source or destination, and skips to a migration that fits', () => {
    const pending = [m('a', 'h1', 'h2'), m('b', 'h1', 'h2'), m('c', 'h1', 'h3'), m('d', 'h4', 'h2')];
    expect(startable(pending, [], { threads: 8, perHost: 1 }).map((x) => x.vm)).toEqual(['a']);
    expect(startable(pending, [], { threads: 8, perHost: 2 }).map((x) => x.vm)).toEqual(['a', 'b']);
    expect(startable(pending, [m('x', 'h9', 'h3')], { threads: 8, perHost: 1 }).map((x) => x.vm)).toEqual(['a']);
    expect(startable(pending.slice(1), [m('a', 'h1', 'h2')], { threads: 8, perHost: 2 }).map((x) => x.vm)).toEqual(['b']);
  });

  it('property: what starts respects both limits together with what runs, and is a prefix-ordered subset', () => {
    const host = fc.constantFrom('h1', 'h2', 'h3', 'h4', 'h5');
    const mig = fc.record({ vm: fc.string({ minLength: 1, maxLength: 3 }), from: host, to: host }).filter((x) => x.from !== x.to);
    fc.assert(
      fc.property(
        fc.array(mig, { maxLength: 20 }),
        fc.array(mig, { maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        (pending, running, threads, perHost) => {
          const limits = { threads, perHost };
          // Only a state the queue itself could reach: what runs respects the limits.
          const inFlight = startable(running, [], limits);
          const started = startable(pending, inFlight, limits);
          const all = [...inFlight, ...started];
          expect(all.length).toBeLessThanOrEqual(Math.max(threads, inFlight.length));
          const per = new Map<string, number>();
          for (const x of all) for (const h of [x.from, x.to]) per.set(h, (per.get(h) ?? 0) + 1);
          for (const n of per.values()) expect(n).toBeLessThanOrEqual(perHost);
          let i = -1;
          for (const s of started) {
            const j = pending.indexOf(s, i + 1);
            expect(j).toBeGreaterThan(i);
            i = j;
          }
          // Work-conserving: with nothing running and something pending, something starts.
          if (pending.length && !inFlight.length) expect(started.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});
