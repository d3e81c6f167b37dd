/**
 * How evacuateHost empties a host of a XenServer pool — seed 003's per-host step, without
 * host-evacuate's one migration at a time:
 *
 *   Read the pool            xe pool-list / host-list / vm-list (activities/xen.ts)
 *   safety                   the host is live; the drain filters (a never-touch VM, one on local
 *                            storage: parks, naming it); N+1: every VM has a destination with free
 *                            memory among the enabled hosts
 *   Re-check                 a fresh read: same VMs on the host, the same destinations
 *   Disable the host         xe host-disable: the pool starts nothing new on it
 *   Live migrations          xe vm-migrate live=true host=<planned>, `threads` at a time and at most
 *                            xen.migrationsPerHost on a host, each landing read back (resident-on)
 *   Verify empty             the host holds no VM
 *
 * A retry or a worker crash never migrates a VM twice: the migrations activity reads where each VM
 * is before it acts, and waits out a migration already under way. The skeleton (guards, gate,
 * hooks) is workflows/evacuate-host.ts.
 */
import { planEvacuation, type EvacuationPlan } from '../domain/capacity';
import { DEFAULT_MIGRATION_THREADS } from '../domain/migration';
import { filterDrain, type DrainFilterResult } from '../domain/drain-filters';
import { vmSet, type Inventory } from '../domain/inventory';
import { xenSnapshot, xenVmsOn, type MigrationOutcome, type XenPoolView } from '../domain/xen-pool';
import { act, waits } from './activities';
import { guardStopCommands } from './guards';
import { hookPlanLine, hookStep, runHook } from './hooks';
import type { CheckResult } from './procedure';
import { evacuationPlanView, type EvacuationDriver } from './evacuation-driver';

const neverTouch = (inv: Inventory) => vmSet(inv, 'neverTouch');
const drainOf = (inv: Inventory, pool: XenPoolView, host: string) => filterDrain(xenSnapshot(inv, pool), host, { neverTouch: neverTouch(inv), stack: 'xen' });

export const xenEvacuation: EvacuationDriver<XenPoolView> = {
  steps: {
    read: { id: 'read-pool', title: 'Read the pool: hosts, memory, the VMs on the host' },
    checks: [
      { id: 'check-host', title: 'Safety: the host is live in the pool' },
      { id: 'check-drain', title: 'Safety: every VM of the host can live-migrate (drain filters)' },
    ],
    capacity: { id: 'check-capacity', title: 'Safety: N+1, the enabled hosts have free memory for its VMs' },
    recheck: { id: 'recheck-pool', title: 'Re-check before disabling the host: same VMs, same plan' },
    empty: [
      { id: 'disable-host', title: 'Disable the host: the pool places nothing new on it' },
      hookStep('preEmpty'),
      { id: 'migrate', title: 'Live-migrate its VMs to the planned hosts' },
      { id: 'verify-empty', title: 'Verify the host holds no VM' },
    ],
  },
  readTitle: (host) => `Read the pool: hosts, memory, the VMs on ${host}`,
  read: () => act.xenPool({}),
  describe: (pool, host) => {
    const on = xenVmsOn(pool, host);
    return `master ${pool.master}; ${on.length} VM(s) on ${host}: ${on.map((v) => v.name).join(', ') || 'none'}`;
  },
  checks: (inv, pool, host) => [hostCheck(pool, host), drainCheck(drainOf(inv, pool, host))],
  plan: (inv, pool, host) => planEvacuation(xenSnapshot(inv, pool), host, { neverTouch: neverTouch(inv), capacityAware: true, unit: 'MiB' }),
  planView(inv, pool, host, guards, evacuation, evidence, input) {
    const threads = input.threads ?? DEFAULT_MIGRATION_THREADS;
    const drain = drainOf(inv, pool, host);
    const to = new Map(evacuation.moves.map((m) => [m.vm, m.to]));
    return evacuationPlanView(inv, host, guards, evacuation, evidence, {
      stack: 'xen',
      capacityUnit: 'MiB',
      master: pool.master,
      threads,
      units: xenVmsOn(pool, host).map((v) => ({ unit: v.name, vm: v.name, weight: v.memoryMiB, to: to.get(v.name) })),
      drain: { stays: drain.stays, skipped: drain.skipped, warnings: drain.warnings },
      emptying: [
        `xe host-disable host=${host}`,
        ...hookPlanLine(inv, 'preEmpty', host),
        `xe vm-migrate live=true to the planned hosts, ${threads} at a time (${evacuation.moves.length} VM(s))`,
        `verify ${host} holds no VM`,
      ],
    });
  },
  gateMessage: (_pool, host, evacuation, guards, input, inv) =>
    `Evacuate ${host}: disable it, live-migrate ${evacuation.moves.length} VM(s) (${evacuation.evacuatedWeight} MiB) to the planned hosts, ${input.threads ?? DEFAULT_MIGRATION_THREADS} at a time${guardStopCommands(inv, host, guards).length ? ', then stop its guards' : ''}.`,
  recheck(approved, now, host, inv) {
    const before = xenVmsOn(approved.view, host).map((v) => v.name);
    const after = xenVmsOn(now.view, host).map((v) => v.name);
    if (before.join() !== after.join()) {
      return {
        ok: false,
        reason: `the VMs on ${host} changed since the plan was approved (was: ${before.join(', ') || 'none'}; now: ${after.join(', ') || 'none'})`,
        evidence: { before, after },
      };
    }
    const drain = drainCheck(drainOf(inv, now.view, host));
    if (!drain.ok) return drain;
    if (now.evacuation.ok && !sameMoves(approved.evacuation, now.evacuation)) {
      return {
        ok: false,
        reason: `the pool changed since the plan was approved: the VMs of ${host} would now go elsewhere (override runs the new plan)`,
        evidence: { approved: approved.evacuation.moves, now: now.evacuation.moves, loadAfter: now.evacuation.loadAfter },
      };
    }
    return undefined;
  },
  async empty(proc, inv, host, { evacuation }, input) {
    const threads = input.threads ?? DEFAULT_MIGRATION_THREADS;
    const moveTimeoutMs = (input.moveTimeoutMinutes ?? 10) * 60_000;
    await proc.step(
      'disable-host',
      `Disable ${host} (xe host-disable): the pool places nothing new on it`,
      () => act.disableHost.executeWithOptions({ startToCloseTimeout: '5m', summary: `xe host-disable ${host}` }, [{ host }]),
      { skippable: false, changes: true },
    );
    await runHook(proc, inv, 'preEmpty', host);
    const moves = evacuation.moves.map((m) => ({ vm: m.vm, from: m.from, to: m.to }));
    const outcomes = (await proc.step(
      'migrate',
      `Live-migrate ${moves.length} VM(s) off ${host}, ${threads} at a time`,
      () =>
        waits.migrateVms.executeWithOptions(
          { startToCloseTimeout: `${Math.ceil(moveTimeoutMs / 60_000) + 1}m`, summary: `live-migrate ${moves.length} VM(s) off ${host}, ${threads} at a time` },
          [{ moves, threads, timeoutMs: moveTimeoutMs }],
        ),
      { skippable: false, changes: true },
    ))!;
    proc.note('migrate', migrationSummary(outcomes));
    await proc.ensure('verify-empty', `Verify ${host} holds no VM`, async () => {
      const left = xenVmsOn(await act.xenPool({}), host);
      return left.length
        ? {
            ok: false,
            reason: `${host} still holds ${left.length} VM(s): ${left.map((v) => `${v.name} (${v.powerState})`).join(', ')}`,
            evidence: { left: left.map((v) => ({ vm: v.name, powerState: v.powerState, operations: v.operations })) },
          }
        : { ok: true };
    });
    return { moved: outcomes.map((o) => ({ unit: o.vm, host: o.landed })), migrations: outcomes };
  },
};

function hostCheck(pool: XenPoolView, host: string): CheckResult {
  const h = pool.hosts.find((x) => x.name === host);
  if (!h)
    return {
      ok: false,
      reason: `${host} is not a host of pool ${pool.pool} (xe host-list on ${pool.ranOn})`,
      evidence: { hosts: pool.hosts.map((x) => x.name) },
    };
  if (!h.live) return { ok: false, reason: `${host} is not live in pool ${pool.pool}: its VMs cannot live-migrate`, evidence: { host: h } };
  return { ok: true, evidence: { host: h, master: pool.master } };
}

/** Errors of the drain filters park; what stays, is skipped or warns goes in the evidence. */
export function drainCheck(d: DrainFilterResult): CheckResult {
  const evidence = { errors: d.errors, stays: d.stays, skipped: d.skipped, warnings: d.warnings };
  return d.errors.length ? { ok: false, reason: d.errors.map((e) => e.message).join('; '), evidence } : { ok: true, evidence };
}

function sameMoves(a: EvacuationPlan, b: EvacuationPlan): boolean {
  const key = (p: EvacuationPlan) =>
    p.moves
      .map((m) => `${m.vm}>${m.to}`)
      .sort()
      .join();
  return key(a) === key(b);
}

function migrationSummary(outcomes: MigrationOutcome[]): string {
  const count = (r: MigrationOutcome['result']) => outcomes.filter((o) => o.result === r).length;
  const parts = [`${count('migrated')} migrated`];
  if (count('already-there')) parts.push(`${count('already-there')} already on their planned host`);
  return `${parts.join(', ')}: ${outcomes.map((o) => `${o.vm} → ${o.landed ?? '?'}`).join(', ') || 'no VM to move'}`;
}
