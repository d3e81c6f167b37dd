/**
 * evacuateHost — empty one host of its VMs and take it out of the cluster, on every stack
 * (registered as evacuateHypervisor too, its name before hvflow served other stacks: procedures in
 * flight and users' `temporal` commands). The shape seed 000 gives it, written once:
 *
 *   read the cluster         what runs on the host (the stack's read)
 *   guards                   GlusterFS and etcd health where the inventory lists the host in them
 *   safety                   the guards allow it (etcd quorum without the host; no heal, rebalance
 *                            or tier daemon); the stack's own checks; N+1 room for its VMs
 *   ── gate: approve the plan ──
 *   re-check                 a fresh read: the same VMs, the same plan, still room
 *   hooks.preRun
 *   empty the host           the stack's driver: fleet (evacuate-fleet.ts) stops fleetd, its units
 *                            fail over; Xen (evacuate-xen.ts) disables the host and live-migrates
 *                            its VMs as planned; hooks.preEmpty at the stack's point
 *   hooks.postEmpty
 *   stop the guards          GlusterFS daemons + stop-all script; unmount; etcd (seed 000's order)
 *   hooks.postRun            also when the procedure fails or is aborted after preRun
 *
 * Every check is made twice: once for the plan shown at the gate (its evidence), and again right
 * before the destructive step it guards; a changed state parks the procedure instead of acting on
 * stale evidence.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { EvacuationPlan } from '../domain/capacity';
import { hostsOf, stackOf } from '../domain/inventory';
import { FAILURE, GATE } from '../domain/contract';
import { act } from './activities';
import { acquireClusterLock } from './cluster-lock';
import { checked, validated } from './validate';
import { Procedure, skippedSteps, type CheckResult } from './procedure';
import { ensureGuardsAllowStop, GUARD_CHECK_STEPS, GUARD_STOP_STEPS, guardsOf, readGuards, stopGuards } from './guards';
import { hookStep, runHook, withRunHooks } from './hooks';
import { fleetEvacuation } from './evacuate-fleet';
import { xenEvacuation } from './evacuate-xen';
import type { EvacuationDriver } from './evacuation-driver';
import type { Finished } from './messages';
import type { EvacuateHostInput, EvacuationResult } from './evacuation-types';

export type { EvacuateHostInput, EvacuationPlanView, EvacuationResult } from './evacuation-types';

const INVENTORY = { id: 'inventory', title: 'Read the inventory' };
const APPROVE = { id: 'approve', title: 'Approval of the evacuation plan' };

/** The plan's steps in the order they run, the stack's own in their place. */
function stepsOf(d: EvacuationDriver<object>) {
  const s = d.steps;
  const execution = [s.recheck, hookStep('preRun'), ...s.empty, hookStep('postEmpty'), ...GUARD_STOP_STEPS, hookStep('postRun')];
  return { all: [INVENTORY, s.read, ...GUARD_CHECK_STEPS, ...s.checks, s.capacity, APPROVE, ...execution], execution };
}

function capacityCheck(plan: EvacuationPlan, unit?: string): CheckResult {
  return {
    ok: plan.ok,
    reason: plan.reason,
    evidence: {
      evacuatedWeight: plan.evacuatedWeight,
      ...(unit ? { capacityUnit: unit } : {}),
      moves: plan.moves,
      stranded: plan.stranded,
      loadBefore: plan.loadBefore,
      loadAfter: plan.loadAfter,
    },
  };
}

export async function evacuateHost(input: EvacuateHostInput): Promise<Finished<EvacuationResult>> {
  input = validated('evacuateHost', input);
  // The type it was started as (evacuateHost, or its old name): what the lock, progress and search attributes say.
  const procedure = workflowInfo().workflowType;
  const host = input.host;
  const proc = new Procedure(procedure, input, host);
  proc.plan([INVENTORY]); // the rest once the inventory says which stack
  proc.setPhase('checking');

  const inv = (await proc.step(INVENTORY.id, INVENTORY.title, () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => hostsOf(inv, host, 'host')); // must be a hypervisor of this cluster
  const stack = stackOf(inv);
  if (stack === 'fleet' && input.threads !== undefined) {
    throw ApplicationFailure.nonRetryable(
      `threads: ${inv.cluster} is a fleet cluster: fleet moves the units itself, one evacuation has no threads`,
      FAILURE.invalidInput,
    );
  }
  if (!input.dryRun) await acquireClusterLock(inv.cluster, procedure, host, input.requestedBy);
  return stack === 'xen' ? evacuate(proc, inv, input, xenEvacuation) : evacuate(proc, inv, input, fleetEvacuation);
}

async function evacuate<View extends object>(
  proc: Procedure,
  inv: Parameters<EvacuationDriver<View>['read']>[0],
  input: EvacuateHostInput,
  driver: EvacuationDriver<View>,
): Promise<Finished<EvacuationResult>> {
  const host = input.host;
  const steps = stepsOf(driver as unknown as EvacuationDriver<object>);
  proc.plan(steps.all);
  const guards = guardsOf(inv, host);

  const { read, capacity, recheck } = driver.steps;
  const approved = (await proc.step(read.id, driver.readTitle(host), () => driver.read(inv, host), { skippable: false }))!;
  proc.note(read.id, driver.describe(approved, host));

  const guardEvidence = await readGuards(proc, host, guards);
  // Safety rules. A failed check parks the procedure on a gate that states why; a retry reads the cluster again.
  await ensureGuardsAllowStop(proc, inv, host, guards, guardEvidence);
  let view = approved;
  for (const [i, check] of driver.steps.checks.entries()) {
    let attempt = 0;
    await proc.ensure(check.id, check.title, async () => {
      if (attempt++ > 0) view = await driver.read(inv, host);
      return driver.checks(inv, view, host)[i]!;
    });
  }
  let evacuation = driver.plan(inv, view, host);
  await proc.ensure(capacity.id, capacity.title, async () => capacityCheck(evacuation, inv.capacityUnit));

  const plan = driver.planView(inv, view, host, guards, evacuation, guardEvidence, input);
  proc.plan([], plan);
  if (input.dryRun) {
    proc.markSkipped(APPROVE.id, APPROVE.title, 'dry run: the plan is shown, nothing is changed');
    for (const s of steps.execution) proc.markSkipped(s.id, s.title, 'dry run');
    return proc.finish<EvacuationResult>({ host, dryRun: true, plan, moved: [], gates: proc.progress.gates, skipped: skippedSteps(proc) });
  }

  proc.setPhase('awaiting approval');
  await proc.step(APPROVE.id, APPROVE.title, () =>
    proc.gate({
      name: GATE.approveEvacuation,
      kind: 'approval',
      message: driver.gateMessage(view, host, evacuation, guards, input, inv),
      evidence: plan as unknown as Record<string, unknown>,
      options: ['approve', 'reject'],
    }),
  );

  // The plan shown at the gate is what runs: a fresh read must give the same VMs, the same plan, still room.
  proc.setPhase('evacuating');
  const shown = { view, evacuation };
  await proc.ensure(recheck.id, recheck.title, async () => {
    view = await driver.read(inv, host);
    evacuation = driver.plan(inv, view, host);
    return driver.recheck(shown, { view, evacuation }, host, inv) ?? capacityCheck(evacuation, inv.capacityUnit);
  });

  // The hooks run only where the inventory declares them (an inventory from before hooks has none).
  const emptied = await withRunHooks(proc, inv, async () => {
    const r = await driver.empty(proc, inv, host, { approved: shown.view, evacuation }, input);
    await runHook(proc, inv, 'postEmpty', host);
    await stopGuards(proc, inv, host, guards);
    return r;
  });
  return proc.finish<EvacuationResult>({ host, dryRun: false, plan, ...emptied, gates: proc.progress.gates, skipped: skippedSteps(proc) });
}
