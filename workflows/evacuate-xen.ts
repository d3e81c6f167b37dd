/**
 * evacuateHost on a XenServer pool — seed 003's per-host step, without host-evacuate's one migration
 * at a time:
 *
 *   Read the pool            xe pool-list / host-list / vm-list on the pool master
 *   guards                   etcd / GlusterFS, only where the inventory lists the host in them
 *   safety                   the host is live; drain filters (never-touch, local storage...);
 *                            N+1: the enabled hosts have free memory for its VMs
 *   ── gate: approve the plan (each VM's destination) ──
 *   Re-check                 a fresh read: same VMs on the host, the same plan
 *   Disable the host         xe host-disable: the pool starts nothing new on it
 *   Live migrations          xe vm-migrate live=true host=<planned>, `threads` at a time, each
 *                            landing verified (resident-on)
 *   Verify empty             the host holds no VM
 *   guards stopped           in the runbook order
 *
 * A retry or a worker crash never migrates a VM twice: the migrations activity reads where each VM
 * is before it acts, and waits out a migration already under way.
 */
import { planEvacuation, type EvacuationPlan } from '../domain/capacity';
import { DEFAULT_MIGRATION_THREADS } from '../domain/migration';
import { filterDrain, type DrainFilterResult } from '../domain/drain-filters';
import { vmSet, type Inventory } from '../domain/inventory';
import { GATE } from '../domain/contract';
import { xenSnapshot, xenVmsOn, type MigrationOutcome, type XenPoolView } from '../domain/xen-pool';
import { act, waits } from './activities';
import {
  ensureGuardsAllowStop,
  GUARD_CHECK_STEPS,
  GUARD_STOP_STEPS,
  guardsOf,
  guardStopCommands,
  guardsView,
  readGuards,
  stopGuards,
  type GuardEvidence,
} from './guards';
import { skippedSteps, type CheckResult, type Procedure } from './procedure';
import type { EvacuateHostInput, EvacuationPlanView, EvacuationResult } from './evacuation-types';
import type { Finished } from './messages';
import { hookPlanLine, hookStep, runHook, withRunHooks } from './hooks';

const STEPS = [
  { id: 'read-pool', title: 'Read the pool: hosts, memory, the VMs on the host' },
  ...GUARD_CHECK_STEPS,
  { id: 'check-host', title: 'Safety: the host is live in the pool' },
  { id: 'check-drain', title: 'Safety: every VM of the host can live-migrate (drain filters)' },
  { id: 'check-capacity', title: 'Safety: N+1, the enabled hosts have free memory for its VMs' },
  { id: 'approve', title: 'Approval of the evacuation plan' },
  { id: 'recheck-pool', title: 'Re-check before disabling the host: same VMs, same plan' },
  hookStep('preRun'),
  { id: 'disable-host', title: 'Disable the host: the pool places nothing new on it' },
  hookStep('preEmpty'),
  { id: 'migrate', title: 'Live-migrate its VMs to the planned hosts' },
  { id: 'verify-empty', title: 'Verify the host holds no VM' },
  hookStep('postEmpty'),
  ...GUARD_STOP_STEPS,
  hookStep('postRun'),
];
const EXECUTION = STEPS.slice(STEPS.findIndex((s) => s.id === 'approve') + 1);

export async function evacuateXenHost(proc: Procedure, inv: Inventory, input: EvacuateHostInput): Promise<Finished<EvacuationResult>> {
  const host = input.host;
  const threads = input.threads ?? DEFAULT_MIGRATION_THREADS;
  const moveTimeoutMs = (input.moveTimeoutMinutes ?? 10) * 60_000;
  const neverTouch = vmSet(inv, 'neverTouch');
  const guards = guardsOf(inv, host);
  proc.plan(STEPS);

  let pool = (await proc.step('read-pool', `Read the pool: hosts, memory, the VMs on ${host}`, () => act.xenPool({}), { skippable: false }))!;
  const onHost = xenVmsOn(pool, host);
  proc.note('read-pool', `master ${pool.master}; ${onHost.length} VM(s) on ${host}: ${onHost.map((v) => v.name).join(', ') || 'none'}`);

  const guardEvidence = await readGuards(proc, host, guards);
  await ensureGuardsAllowStop(proc, inv, host, guards, guardEvidence);

  await proc.ensure('check-host', 'Safety: the host is live in the pool', async () => hostCheck(pool, host));
  let drain = filterDrain(xenSnapshot(inv, pool), host, { neverTouch, stack: 'xen' });
  await proc.ensure('check-drain', 'Safety: every VM of the host can live-migrate (drain filters)', async () => drainCheck(drain));
  let evacuation = planEvacuation(xenSnapshot(inv, pool), host, { neverTouch, capacityAware: true });
  await proc.ensure('check-capacity', 'Safety: N+1, the enabled hosts have free memory for its VMs', async () => capacityCheck(evacuation));

  const plan = planView(inv, pool, host, guards, evacuation, drain, guardEvidence, threads);
  proc.plan([], plan);
  if (input.dryRun) {
    proc.markSkipped('approve', 'Approval of the evacuation plan', 'dry run: the plan is shown, nothing is changed');
    for (const s of EXECUTION) proc.markSkipped(s.id, s.title, 'dry run');
    return proc.finish<EvacuationResult>({ host, dryRun: true, plan, moved: [], gates: proc.progress.gates, skipped: skippedSteps(proc) });
  }

  proc.setPhase('awaiting approval');
  await proc.step('approve', 'Approval of the evacuation plan', () =>
    proc.gate({
      name: GATE.approveEvacuation,
      kind: 'approval',
      message: `Evacuate ${host}: disable it, live-migrate ${evacuation.moves.length} VM(s) (${evacuation.evacuatedWeight} MiB) to the planned hosts, ${threads} at a time${guardStopCommands(inv, host, guards).length ? ', then stop its guards' : ''}.`,
      evidence: plan as unknown as Record<string, unknown>,
      options: ['approve', 'reject'],
    }),
  );

  // The plan shown at the gate is what runs: a fresh read must give the same VMs and the same destinations.
  proc.setPhase('evacuating');
  await proc.ensure('recheck-pool', 'Re-check before disabling the host: same VMs, same plan', async () => {
    pool = await act.xenPool({});
    const now = xenSnapshot(inv, pool);
    drain = filterDrain(now, host, { neverTouch, stack: 'xen' });
    const approved = evacuation;
    evacuation = planEvacuation(now, host, { neverTouch, capacityAware: true });
    const before = onHost.map((v) => v.name);
    const after = xenVmsOn(pool, host).map((v) => v.name);
    if (before.join() !== after.join()) {
      return {
        ok: false,
        reason: `the VMs on ${host} changed since the plan was approved (was: ${before.join(', ') || 'none'}; now: ${after.join(', ') || 'none'})`,
        evidence: { before, after },
      };
    }
    if (!drain.errors.length && evacuation.ok && !sameMoves(approved, evacuation)) {
      return {
        ok: false,
        reason: `the pool changed since the plan was approved: the VMs of ${host} would now go elsewhere (override runs the new plan)`,
        evidence: { approved: approved.moves, now: evacuation.moves, loadAfter: evacuation.loadAfter },
      };
    }
    const d = drainCheck(drain);
    return d.ok ? capacityCheck(evacuation) : d;
  });

  const outcomes = await withRunHooks(proc, inv, async () => {
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
      pool = await act.xenPool({});
      const left = xenVmsOn(pool, host);
      return left.length
        ? {
            ok: false,
            reason: `${host} still holds ${left.length} VM(s): ${left.map((v) => `${v.name} (${v.powerState})`).join(', ')}`,
            evidence: { left: left.map((v) => ({ vm: v.name, powerState: v.powerState, operations: v.operations })) },
          }
        : { ok: true };
    });

    await runHook(proc, inv, 'postEmpty', host);
    await stopGuards(proc, inv, host, guards);
    return outcomes;
  });

  const moved = outcomes.map((o) => ({ unit: o.vm, host: o.landed }));
  return proc.finish<EvacuationResult>({ host, dryRun: false, plan, moved, migrations: outcomes, gates: proc.progress.gates, skipped: skippedSteps(proc) });
}

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

function capacityCheck(plan: EvacuationPlan): CheckResult {
  return {
    ok: plan.ok,
    reason: plan.reason,
    evidence: { evacuatedMiB: plan.evacuatedWeight, moves: plan.moves, stranded: plan.stranded, loadBefore: plan.loadBefore, loadAfter: plan.loadAfter },
  };
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

function planView(
  inv: Inventory,
  pool: XenPoolView,
  host: string,
  guards: EvacuationPlanView['roles'],
  evacuation: EvacuationPlan,
  drain: DrainFilterResult,
  evidence: GuardEvidence,
  threads: number,
): EvacuationPlanView {
  const to = new Map(evacuation.moves.map((m) => [m.vm, m.to]));
  return {
    host,
    stack: 'xen',
    capacityUnit: 'MiB',
    master: pool.master,
    threads,
    roles: guards,
    units: xenVmsOn(pool, host).map((v) => ({ unit: v.name, vm: v.name, weight: v.memoryMiB, to: to.get(v.name) })),
    stranded: evacuation.stranded.map((s) => ({ vm: s.vm, reason: s.reason })),
    drain: { stays: drain.stays, skipped: drain.skipped, warnings: drain.warnings },
    evacuatedWeight: evacuation.evacuatedWeight,
    loadBefore: evacuation.loadBefore,
    loadAfter: evacuation.loadAfter,
    ...guardsView(inv, host, evidence),
    steps: [
      ...hookPlanLine(inv, 'preRun'),
      `xe host-disable host=${host}`,
      ...hookPlanLine(inv, 'preEmpty', host),
      `xe vm-migrate live=true to the planned hosts, ${threads} at a time (${evacuation.moves.length} VM(s))`,
      `verify ${host} holds no VM`,
      ...hookPlanLine(inv, 'postEmpty', host),
      ...guardStopCommands(inv, host, guards),
      ...hookPlanLine(inv, 'postRun'),
    ],
  };
}
