import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planEvacuation } from '../../domain/capacity';
import type { ClusterSnapshot, HostState, VmState } from '../../domain/cluster';
import {
  BASE_DRAIN_FILTERS,
  drainContext,
  drainFiltersFor,
  filterDrain,
  misplacedWarning,
  narrowPlacementWarning,
  neverTouchFilter,
  notRunningFilter,
  onlyHereFilter,
  openstackErrorStateFilter,
  runDrainFilters,
  xenLocalStorageFilter,
  type DrainFilter,
  type DrainStack,
} from '../../domain/drain-filters';

// ---- a small cluster in the seeds' shape: three tops, an islet pair, a router pinned host --------

const host = (name: string, role: string, extra: Record<string, string> = {}): HostState => ({
  name,
  role,
  labels: { hostname: name, role, ...extra },
  schedulable: true,
  up: true,
});
const vm = (name: string, on: string | undefined, constraints: VmState['constraints'] = {}, extra: Partial<VmState> = {}): VmState => ({
  name,
  host: on,
  weight: 1000,
  running: true,
  constraints,
  ...extra,
});
const ON_TOP = { labels: { role: ['top'] } };
const ISLET_PAIR = { labels: { hostname: ['islet54', 'islet55'] } };

function cluster(vms: VmState[], hosts?: HostState[]): ClusterSnapshot {
  return {
    hosts: hosts ?? [
      host('top1', 'top'),
      host('top2', 'top'),
      host('top3', 'top'),
      host('islet54', 'islet'),
      host('islet55', 'islet'),
      host('irene271', 'router'),
    ],
    vms,
  };
}

/** The verdict of `filters` (default: the fleet list) on the one VM `v`, drained from its host. */
function verdictOf(v: VmState, opts: { others?: VmState[]; hosts?: HostState[]; neverTouch?: string[]; stack?: DrainStack } = {}) {
  const s = cluster([v, ...(opts.others ?? [])], opts.hosts);
  return runDrainFilters(v, drainContext(s, v.host!, opts.neverTouch), drainFiltersFor(opts.stack ?? 'fleet'));
}

// ---- each filter --------------------------------------------------------------------------------

describe('never-touch filter', () => {
  it('blocks the drain, naming the VM and what to do', () => {
    expect(verdictOf(vm('dns1', 'top1', ON_TOP), { neverTouch: ['dns1'] })).toEqual({
      verdict: 'error',
      message: 'dns1 is never-touch (vms.neverTouch); hvflow does not move it — move it by hand or remove it from the list',
      warnings: [],
    });
  });

  it('wins over every later filter: pinned, stopped, on local storage', () => {
    const v = vm('dns1', 'irene271', { pinnedHost: 'irene271' }, { running: false, localStorage: true });
    expect(verdictOf(v, { neverTouch: ['dns1'], stack: 'xen' }).verdict).toBe('error');
  });

  it('says move for any other VM', () => {
    const s = cluster([vm('a', 'top1')]);
    expect(neverTouchFilter(s.vms[0], drainContext(s, 'top1', ['b']))).toEqual({ verdict: 'move' });
  });
});

describe('only-here filter', () => {
  it('a VM pinned to the drained host stays', () => {
    expect(verdictOf(vm('irene271a', 'irene271', { pinnedHost: 'irene271' }))).toEqual({
      verdict: 'stays',
      message: 'irene271a is pinned to irene271: the drain leaves it on irene271',
      warnings: [],
    });
  });

  it('a VM whose labels no other host has stays', () => {
    expect(verdictOf(vm('r1', 'irene271', { labels: { role: ['router'] } }))).toMatchObject({
      verdict: 'stays',
      message: 'r1 needs role=router, which no other host has: the drain leaves it on irene271',
    });
  });

  it('several label keys are all required (AND between keys, OR within a key)', () => {
    const v = vm('x', 'top1', { labels: { role: ['top', 'islet'], hostname: ['top1', 'islet54'] } });
    // islet54 has role islet and hostname islet54: it matches, so x moves
    expect(verdictOf(v).verdict).toBe('move');
    const only = vm('y', 'top1', { labels: { role: ['top'], hostname: ['top1', 'islet54'] } });
    expect(verdictOf(only)).toMatchObject({
      verdict: 'stays',
      message: 'y needs hostname=top1|islet54 and role=top, which no other host has: the drain leaves it on top1',
    });
  });

  it('a VM pinned to a host the snapshot does not list stays, and says so', () => {
    expect(verdictOf(vm('lost', 'top1', { pinnedHost: 'top9' }))).toMatchObject({
      verdict: 'stays',
      message: 'lost is pinned to top9, which is not a host of this cluster: the drain leaves it on top1',
    });
  });

  it('a VM pinned to another host whose labels it refuses stays', () => {
    expect(verdictOf(vm('odd', 'top1', { pinnedHost: 'islet54', labels: { role: ['top'] } }))).toMatchObject({
      verdict: 'stays',
      message: 'odd is pinned to islet54, which lacks its labels role=top: the drain leaves it on top1',
    });
  });

  it('a VM in a one-host cluster stays', () => {
    expect(verdictOf(vm('solo', 'top1'), { hosts: [host('top1', 'top')] })).toMatchObject({
      verdict: 'stays',
      message: 'solo has no other host to go to in this cluster: the drain leaves it on top1',
    });
  });

  it('counts the other hosts whatever their state: down or cordoned is a capacity problem, not an expected stay', () => {
    const hosts = [host('top1', 'top'), { ...host('top2', 'top'), up: false }, { ...host('top3', 'top'), schedulable: false }];
    expect(verdictOf(vm('a', 'top1', ON_TOP), { hosts }).verdict).toBe('move');
  });
});

describe('not-running filter', () => {
  it('a stopped VM is skipped: nothing to move', () => {
    expect(verdictOf(vm('stopped1', 'top2', ON_TOP, { running: false }))).toEqual({
      verdict: 'skip',
      message: 'stopped1 is not running: nothing to move; it stays placed on top2',
      warnings: [],
    });
  });

  it('comes after the only-here filter: a stopped pinned VM stays', () => {
    expect(verdictOf(vm('p', 'irene271', { pinnedHost: 'irene271' }, { running: false })).verdict).toBe('stays');
  });

  it('says move for a running VM', () => {
    const s = cluster([vm('a', 'top1')]);
    expect(notRunningFilter(s.vms[0], drainContext(s, 'top1'))).toEqual({ verdict: 'move' });
  });
});

describe('xen: local storage', () => {
  it('a running VM on local storage blocks the drain', () => {
    expect(verdictOf(vm('db1', 'top1', ON_TOP, { localStorage: true }), { stack: 'xen' })).toEqual({
      verdict: 'error',
      message: 'db1 has a disk on the local storage of top1: it cannot live-migrate — move its disks to shared storage, or shut it down for the maintenance',
      warnings: [],
    });
  });

  it('a stopped or pinned VM on local storage is not an error: nothing migrates', () => {
    expect(verdictOf(vm('db1', 'top1', ON_TOP, { localStorage: true, running: false }), { stack: 'xen' }).verdict).toBe('skip');
    expect(verdictOf(vm('db2', 'irene271', { pinnedHost: 'irene271' }, { localStorage: true }), { stack: 'xen' }).verdict).toBe('stays');
  });

  it('only the xen list has it', () => {
    const v = vm('db1', 'top1', ON_TOP, { localStorage: true });
    expect(verdictOf(v, { stack: 'fleet' }).verdict).toBe('move');
    expect(verdictOf(v, { stack: 'openstack' }).verdict).toBe('move');
    const s = cluster([vm('shared', 'top1', ON_TOP, { localStorage: false })]);
    expect(xenLocalStorageFilter(s.vms[0], drainContext(s, 'top1'))).toEqual({ verdict: 'move' });
  });
});

describe('openstack: ERROR state', () => {
  it('an instance in ERROR blocks the drain, quoting nova fault', () => {
    expect(verdictOf(vm('web1', 'top1', ON_TOP, { fault: 'No valid host was found.' }), { stack: 'openstack' })).toEqual({
      verdict: 'error',
      message: 'web1 is in ERROR state (No valid host was found.): nova will not migrate it — repair it or move it by hand first',
      warnings: [],
    });
  });

  it('an empty fault is still ERROR state, said without empty parentheses', () => {
    expect(verdictOf(vm('web2', 'top1', ON_TOP, { fault: '' }), { stack: 'openstack' })).toMatchObject({
      verdict: 'error',
      message: 'web2 is in ERROR state: nova will not migrate it — repair it or move it by hand first',
    });
  });

  it('only the openstack list has it', () => {
    const v = vm('web1', 'top1', ON_TOP, { fault: 'boom' });
    expect(verdictOf(v, { stack: 'xen' }).verdict).toBe('move');
    const s = cluster([vm('ok', 'top1')]);
    expect(openstackErrorStateFilter(s.vms[0], drainContext(s, 'top1'))).toEqual({ verdict: 'move' });
  });
});

describe('advisory warnings', () => {
  it('a VM running where its pin says it must not: moves, with a warning', () => {
    expect(verdictOf(vm('drift', 'top1', { pinnedHost: 'top2' }))).toEqual({
      verdict: 'move',
      warnings: [
        'drift runs on top1, although it is pinned to top2: the drain moves it where its constraints allow, undoing a placement that may have been made on purpose',
      ],
    });
  });

  it('a VM running on a host that lacks its labels: moves, with a warning', () => {
    expect(verdictOf(vm('drift', 'islet54', ON_TOP))).toEqual({
      verdict: 'move',
      warnings: [
        'drift runs on islet54, which lacks role=top: the drain moves it where its constraints allow, undoing a placement that may have been made on purpose',
      ],
    });
  });

  it('a VM only one other host may run (islet pair) moves with a warning', () => {
    expect(verdictOf(vm('i54log1', 'islet55', ISLET_PAIR))).toEqual({
      verdict: 'move',
      warnings: [
        'i54log1 can run on one host besides islet55 (islet54, by its labels hostname=islet54|islet55): while islet55 is away it has no spare if islet54 fails',
      ],
    });
  });

  it('a two-host cluster leaves every VM without a spare', () => {
    expect(verdictOf(vm('a', 'top1'), { hosts: [host('top1', 'top'), host('top2', 'top')] }).warnings).toEqual([
      'a can run on one host besides top1 (top2, the only other host of the cluster): while top1 is away it has no spare if top2 fails',
    ]);
  });

  it('no warning with two or more other hosts, nor for a pinned VM (one host is its design)', () => {
    expect(verdictOf(vm('a', 'top1', ON_TOP)).warnings).toEqual([]);
    const s = cluster([vm('drift', 'top1', { pinnedHost: 'top2' })]);
    expect(narrowPlacementWarning(s.vms[0], drainContext(s, 'top1'))).toEqual({ verdict: 'move' });
  });

  it('both warnings accumulate on one VM, in filter order', () => {
    const v = vm('both', 'top1', { labels: { hostname: ['islet54', 'islet55'] } });
    expect(verdictOf(v, { hosts: [host('top1', 'top'), host('islet54', 'islet')] })).toEqual({
      verdict: 'move',
      warnings: [
        'both runs on top1, which lacks hostname=islet54|islet55: the drain moves it where its constraints allow, undoing a placement that may have been made on purpose',
        'both can run on one host besides top1 (islet54, by its labels hostname=islet54|islet55): while top1 is away it has no spare if islet54 fails',
      ],
    });
  });

  it('run after the blockers: a VM that errors, stays or is skipped gets no advisory', () => {
    const narrow = { labels: { hostname: ['islet54', 'islet55'] } };
    expect(verdictOf(vm('i', 'islet55', narrow), { neverTouch: ['i'] })).toMatchObject({ verdict: 'error', warnings: [] });
    expect(verdictOf(vm('i', 'islet55', narrow, { running: false }))).toMatchObject({ verdict: 'skip', warnings: [] });
    expect(verdictOf(vm('i', 'islet55', narrow, { localStorage: true }), { stack: 'xen' })).toMatchObject({ verdict: 'error', warnings: [] });
  });

  it('no misplacement warning when the drained host is not in the snapshot', () => {
    const s = cluster([vm('a', 'ghost', ON_TOP)]);
    expect(misplacedWarning(s.vms[0], drainContext(s, 'ghost'))).toEqual({ verdict: 'move' });
  });
});

// ---- the pipeline -------------------------------------------------------------------------------

describe('pipeline', () => {
  it('the first non-move status decides; later filters do not run; warnings accumulate up to it', () => {
    const ran: string[] = [];
    const f =
      (name: string, status: ReturnType<DrainFilter>): DrainFilter =>
      () => {
        ran.push(name);
        return status;
      };
    const s = cluster([vm('a', 'top1')]);
    const filters = [
      f('w1', { verdict: 'move', warning: 'first' }),
      f('ok', { verdict: 'move' }),
      f('stay', { verdict: 'stays', message: 'a stays', warning: 'second' }),
      f('err', { verdict: 'error', message: 'never reached' }),
    ];
    expect(runDrainFilters(s.vms[0], drainContext(s, 'top1'), filters)).toEqual({ verdict: 'stays', message: 'a stays', warnings: ['first', 'second'] });
    expect(ran).toEqual(['w1', 'ok', 'stay']);
  });

  it('no filter: move', () => {
    const s = cluster([vm('a', 'top1')]);
    expect(runDrainFilters(s.vms[0], drainContext(s, 'top1'), [])).toEqual({ verdict: 'move', warnings: [] });
  });

  it('per-stack lists: base filters first, the stack own ones, the advisories last', () => {
    expect(BASE_DRAIN_FILTERS).toEqual([neverTouchFilter, onlyHereFilter, notRunningFilter]);
    const advisories = [misplacedWarning, narrowPlacementWarning];
    expect(drainFiltersFor('fleet')).toEqual([...BASE_DRAIN_FILTERS, ...advisories]);
    expect(drainFiltersFor('xen')).toEqual([...BASE_DRAIN_FILTERS, xenLocalStorageFilter, ...advisories]);
    expect(drainFiltersFor('openstack')).toEqual([...BASE_DRAIN_FILTERS, openstackErrorStateFilter, ...advisories]);
    expect(Object.isFrozen(drainFiltersFor('xen'))).toBe(true);
  });
});

describe('filterDrain', () => {
  const s = cluster([
    vm('zeta', 'islet55', ISLET_PAIR),
    vm('web1', 'islet55', { labels: { role: ['islet'] } }, { localStorage: true }),
    vm('dns1', 'islet55', ISLET_PAIR),
    vm('cold', 'islet55', {}, { running: false }),
    vm('own', 'islet55', { pinnedHost: 'islet55' }),
    vm('top-vm', 'top1', ON_TOP),
    vm('nowhere', undefined, ISLET_PAIR),
  ]);

  it('sorts every VM of the host into one list, by name, with messages naming the VM', () => {
    expect(filterDrain(s, 'islet55', { stack: 'xen', neverTouch: ['dns1', 'top-vm'] })).toEqual({
      move: ['zeta'],
      stays: [{ vm: 'own', message: 'own is pinned to islet55: the drain leaves it on islet55' }],
      skipped: [{ vm: 'cold', message: 'cold is not running: nothing to move; it stays placed on islet55' }],
      errors: [
        { vm: 'dns1', message: 'dns1 is never-touch (vms.neverTouch); hvflow does not move it — move it by hand or remove it from the list' },
        {
          vm: 'web1',
          message:
            'web1 has a disk on the local storage of islet55: it cannot live-migrate — move its disks to shared storage, or shut it down for the maintenance',
        },
      ],
      warnings: [
        {
          vm: 'zeta',
          message:
            'zeta can run on one host besides islet55 (islet54, by its labels hostname=islet54|islet55): while islet55 is away it has no spare if islet54 fails',
        },
      ],
    });
  });

  it('the same snapshot drained under fleet moves the local-storage VM', () => {
    const r = filterDrain(s, 'islet55', { stack: 'fleet' });
    expect(r.move).toEqual(['dns1', 'web1', 'zeta']);
    expect(r.errors).toEqual([]);
  });

  it('an empty host, or one the snapshot does not list, gives empty lists', () => {
    const empty = { move: [], stays: [], skipped: [], errors: [], warnings: [] };
    expect(filterDrain(s, 'top2', { stack: 'fleet' })).toEqual(empty);
    expect(filterDrain(s, 'nowhere', { stack: 'fleet' })).toEqual(empty);
  });

  it('does not modify the snapshot', () => {
    const copy = JSON.parse(JSON.stringify(s));
    filterDrain(s, 'islet55', { stack: 'openstack', neverTouch: ['dns1'] });
    expect(s).toEqual(copy);
  });
});

// ---- properties ---------------------------------------------------------------------------------

const HOST_NAMES = ['h0', 'h1', 'h2', 'h3', 'h4'];
const arbLabels = fc.record({ role: fc.constantFrom('top', 'islet'), zone: fc.constantFrom('a', 'b') });
// Mostly VMs that can move (no constraint, or labels several hosts have), some pinned or narrow.
const arbConstraints: fc.Arbitrary<VmState['constraints']> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 3, arbitrary: fc.record({ labels: fc.record({ role: fc.subarray(['top', 'islet'], { minLength: 1 }) }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ labels: fc.dictionary(fc.constantFrom('role', 'zone', 'rack'), fc.subarray(['top', 'islet', 'a', 'b']), { maxKeys: 2 }) }),
  },
  { weight: 1, arbitrary: fc.record({ pinnedHost: fc.constantFrom(...HOST_NAMES, 'ghost') }) },
);

// Optional fields absent or set, as a driver fills them: placed nowhere now and then, ERROR state rarely.
const arbVm: fc.Arbitrary<VmState> = fc
  .record({
    name: fc.integer({ min: 0, max: 40 }).map((i) => `vm${i}`),
    host: fc.constantFrom(...HOST_NAMES, 'ghost', 'nowhere'),
    weight: fc.integer({ min: 1, max: 10 }),
    running: fc.constantFrom(true, true, true, false),
    constraints: arbConstraints,
    localStorage: fc.constantFrom('absent', 'no', 'yes'),
    fault: fc.constantFrom('absent', 'absent', 'absent', 'absent', '', 'boom'),
  })
  .map(({ host, localStorage, fault, ...v }) => ({
    ...v,
    ...(host === 'nowhere' ? {} : { host }),
    ...(localStorage === 'absent' ? {} : { localStorage: localStorage === 'yes' }),
    ...(fault === 'absent' ? {} : { fault }),
  }));

const arbCase = fc
  .record({
    hosts: fc.uniqueArray(fc.record({ name: fc.constantFrom(...HOST_NAMES), labels: arbLabels, schedulable: fc.boolean(), up: fc.boolean() }), {
      minLength: 1,
      maxLength: 5,
      selector: (h) => h.name,
    }),
    vms: fc.uniqueArray(arbVm, { maxLength: 25, selector: (v) => v.name }),
    drained: fc.constantFrom(...HOST_NAMES, 'ghost'),
    stack: fc.constantFrom<DrainStack>('fleet', 'xen', 'openstack'),
    neverTouch: fc.subarray(
      Array.from({ length: 30 }, (_, i) => `vm${i}`),
      { maxLength: 4 },
    ),
  })
  .map(({ hosts, vms, ...rest }) => ({ snapshot: { hosts, vms } as ClusterSnapshot, ...rest }));

const listed = (r: ReturnType<typeof filterDrain>) => [...r.move, ...[...r.stays, ...r.skipped, ...r.errors].map((e) => e.vm)];
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('filterDrain properties', () => {
  it('every VM of the host gets exactly one verdict; no other VM is listed, not even in warnings', () => {
    fc.assert(
      fc.property(arbCase, ({ snapshot, drained, stack, neverTouch }) => {
        const r = filterDrain(snapshot, drained, { stack, neverTouch });
        const onHost = snapshot.vms.filter((v) => v.host === drained).map((v) => v.name);
        expect(listed(r).sort(byName)).toEqual(onHost.sort(byName));
        for (const w of r.warnings) expect(onHost).toContain(w.vm);
        for (const e of [...r.stays, ...r.skipped, ...r.errors, ...r.warnings]) expect(e.message.startsWith(`${e.vm} `)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('never moves a never-touch VM; every never-touch VM of the host is an error', () => {
    fc.assert(
      fc.property(arbCase, ({ snapshot, drained, stack, neverTouch }) => {
        const r = filterDrain(snapshot, drained, { stack, neverTouch });
        for (const name of r.move) expect(neverTouch).not.toContain(name);
        const ours = snapshot.vms.filter((v) => v.host === drained && neverTouch.includes(v.name)).map((v) => v.name);
        for (const name of ours) expect(r.errors.map((e) => e.vm)).toContain(name);
      }),
      { numRuns: 400 },
    );
  });

  it('moves only running VMs; lists are sorted by VM name', () => {
    fc.assert(
      fc.property(arbCase, ({ snapshot, drained, stack, neverTouch }) => {
        const r = filterDrain(snapshot, drained, { stack, neverTouch });
        for (const name of r.move) expect(snapshot.vms.find((v) => v.name === name)!.running).toBe(true);
        for (const list of [r.move, ...[r.stays, r.skipped, r.errors, r.warnings].map((l) => l.map((e) => e.vm))]) expect(list).toEqual([...list].sort(byName));
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on the order of the snapshot VMs (nor of its hosts)', () => {
    const arb = arbCase.chain((c) =>
      fc.record({
        c: fc.constant(c),
        vms: fc.shuffledSubarray(c.snapshot.vms, { minLength: c.snapshot.vms.length }),
        hosts: fc.shuffledSubarray(c.snapshot.hosts, { minLength: c.snapshot.hosts.length }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ c, vms, hosts }) => {
        const opts = { stack: c.stack, neverTouch: c.neverTouch };
        expect(filterDrain({ ...c.snapshot, vms, hosts }, c.drained, opts)).toEqual(filterDrain(c.snapshot, c.drained, opts));
      }),
      { numRuns: 300 },
    );
  });

  it('stays agrees with the capacity planner: exactly the running VMs it strands as expected', () => {
    fc.assert(
      fc.property(arbCase, ({ snapshot, stack }) => {
        const drained = snapshot.hosts[0].name;
        const r = filterDrain(snapshot, drained, { stack });
        const running = new Set(snapshot.vms.filter((v) => v.running).map((v) => v.name));
        const expected = planEvacuation(snapshot, drained)
          .stranded.filter((x) => x.expected)
          .map((x) => x.vm);
        expect(r.stays.map((e) => e.vm).filter((n) => running.has(n))).toEqual(expected.sort(byName));
      }),
      { numRuns: 300 },
    );
  });
});
