/**
 * evacuateHost — seed 000 "Hypervisor evacuation procedure" (registered as evacuateHypervisor too,
 * its name before hvflow served other stacks: procedures in flight and users' `temporal` commands):
 *
 *   Service inventory        fleetctl list-unit-files | grep HYPERVISOR
 *   GlusterFS health check   no tier daemon, no rebalance, heal entries 0   (GlusterFS servers)
 *   Etcd health check        etcdctl cluster-health                         (etcd members)
 *   safety                   etcd quorum without the host, N+1 room for its weight
 *   ── gate: approve the plan ──
 *   Fleet shutdown           systemctl stop fleet   → units fail over elsewhere
 *   GlusterFS shutdown       systemctl stop glusterfsd glusterd; stop-all-gluster-processes.sh -g
 *   Gluster client stop      umount -t fuse.glusterfs -a
 *   Etcd shutdown            systemctl stop etcd
 *
 * Every check is made twice: once for the plan shown at the gate (its evidence), and again right
 * before the destructive step it guards; a changed state parks the procedure instead of acting on
 * stale evidence.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { planEvacuation, type EvacuationPlan } from '../domain/capacity';
import { hostsOf, stackOf, vmSet, type Inventory } from '../domain/inventory';
import { FAILURE, GATE } from '../domain/contract';
import { act, waits } from './activities';
import { readFleet, type FleetView } from './fleet-state';
import { acquireClusterLock } from './cluster-lock';
import { checked, validated } from './validate';
import { Procedure, skippedSteps, type CheckResult } from './procedure';
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
import { evacuateXenHost } from './evacuate-xen';
import { hookPlanLine, hookStep, runHook, withRunHooks } from './hooks';
import type { Finished } from './messages';
import type { EvacuateHostInput, EvacuationPlanView, EvacuationResult } from './evacuation-types';

export type { EvacuateHostInput, EvacuationPlanView, EvacuationResult } from './evacuation-types';

const STEPS = [
  { id: 'inventory', title: 'Read the inventory' },
  { id: 'service-inventory', title: 'Service inventory: units on the hypervisor' },
  ...GUARD_CHECK_STEPS,
  { id: 'check-capacity', title: 'Safety: N+1, the other hypervisors have room for its weight' },
  { id: 'approve', title: 'Approval of the evacuation plan' },
  { id: 'recheck-fleet', title: 'Re-check before stopping fleet: same units, still room' },
  hookStep('preRun'),
  hookStep('preEmpty'),
  { id: 'stop-fleet', title: 'Fleet shutdown: systemctl stop fleet, units fail over' },
  hookStep('postEmpty'),
  ...GUARD_STOP_STEPS,
  hookStep('postRun'),
];
const EXECUTION = STEPS.slice(STEPS.findIndex((s) => s.id === 'approve') + 1);

function capacityCheck(plan: EvacuationPlan): CheckResult {
  return {
    ok: plan.ok,
    reason: plan.reason,
    evidence: { evacuatedWeight: plan.evacuatedWeight, moves: plan.moves, stranded: plan.stranded, loadBefore: plan.loadBefore, loadAfter: plan.loadAfter },
  };
}

function unitsOn(fleet: FleetView, host: string) {
  return fleet.units.filter((u) => u.host === host && u.active === 'active');
}

export async function evacuateHost(input: EvacuateHostInput): Promise<Finished<EvacuationResult>> {
  input = validated('evacuateHost', input);
  // The type it was started as (evacuateHost, or its old name): what the lock, progress and search attributes say.
  const procedure = workflowInfo().workflowType;
  const host = input.host;
  const proc = new Procedure(procedure, input, host);
  proc.plan(STEPS.slice(0, 1)); // the rest once the inventory says which stack
  proc.setPhase('checking');

  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => hostsOf(inv, host, 'host')); // must be a hypervisor of this cluster
  const stack = stackOf(inv);
  if (stack === 'fleet' && input.threads !== undefined) {
    throw ApplicationFailure.nonRetryable(
      `threads: ${inv.cluster} is a fleet cluster: fleet moves the units itself, one evacuation has no threads`,
      FAILURE.invalidInput,
    );
  }
  if (!input.dryRun) await acquireClusterLock(inv.cluster, procedure, host, input.requestedBy);
  if (stack === 'xen') return evacuateXenHost(proc, inv, input);
  proc.plan(STEPS);
  const roles = guardsOf(inv, host);
  const neverTouch = vmSet(inv, 'neverTouch');

  // Service inventory (fleetctl is run from another hypervisor: this one is going away).
  const fleet = (await proc.step('service-inventory', `Service inventory: units on ${host}`, () => readFleet(inv, { avoid: [host] }), { skippable: false }))!;
  const onHost = unitsOn(fleet, host);
  proc.note('service-inventory', `${onHost.length} unit(s) on ${host}: ${onHost.map((u) => u.vm ?? u.unit).join(', ') || 'none'}`);

  const guardEvidence = await readGuards(proc, host, roles);
  // Safety rules. A failed check parks the procedure on a gate that states why.
  await ensureGuardsAllowStop(proc, inv, host, roles, guardEvidence);
  let evacuation = planEvacuation(fleet.snapshot, host, { neverTouch });
  await proc.ensure('check-capacity', 'Safety: N+1, the other hypervisors have room for its weight', async () => capacityCheck(evacuation));

  const plan = planView(inv, host, roles, fleet, evacuation, guardEvidence);
  proc.plan([], plan);
  if (input.dryRun) {
    proc.markSkipped('approve', 'Approval of the evacuation plan', 'dry run: the plan is shown, nothing is changed');
    for (const s of EXECUTION) proc.markSkipped(s.id, s.title, 'dry run');
    const result: EvacuationResult = { host, dryRun: true, plan, moved: [], gates: proc.progress.gates, skipped: skippedSteps(proc) };
    return proc.finish(result);
  }

  proc.setPhase('awaiting approval');
  await proc.step('approve', 'Approval of the evacuation plan', () =>
    proc.gate({
      name: GATE.approveEvacuation,
      kind: 'approval',
      message: `Evacuate ${host}: stop fleet (${onHost.length} unit(s), weight ${evacuation.evacuatedWeight}, move elsewhere)${roles.glusterServer ? ', stop GlusterFS' : ''}${roles.glusterClient ? ', unmount GlusterFS' : ''}${roles.etcdMember ? ', stop etcd' : ''}.`,
      evidence: plan as unknown as Record<string, unknown>,
      options: ['approve', 'reject'],
    }),
  );

  // Fleet shutdown — re-check the units and the N+1 plan first.
  proc.setPhase('evacuating');
  await proc.ensure('recheck-fleet', 'Re-check before stopping fleet: same units, still room', async () => {
    const now = await readFleet(inv, { avoid: [host] });
    const before = onHost.map((u) => u.unit).sort();
    const after = unitsOn(now, host)
      .map((u) => u.unit)
      .sort();
    evacuation = planEvacuation(now.snapshot, host, { neverTouch });
    if (before.join() !== after.join()) {
      return {
        ok: false,
        reason: `the units on ${host} changed since the plan was approved (was: ${before.join(', ') || 'none'}; now: ${after.join(', ') || 'none'})`,
        evidence: { before, after },
      };
    }
    return capacityCheck(evacuation);
  });
  // The hooks run only where the inventory declares them (an inventory from before hooks has none).
  const moved = await withRunHooks(proc, inv, async () => {
    const units = onHost.map((u) => u.unit);
    const stranded = evacuation.stranded.map((s) => onHost.find((u) => (u.vm ?? u.unit) === s.vm)?.unit).filter((u): u is string => !!u);
    await runHook(proc, inv, 'preEmpty', host);
    const moved = (await proc.step(
      'stop-fleet',
      `Fleet shutdown on ${host}: systemctl stop fleet, units fail over`,
      async () => {
        await act.stopFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl stop fleet on ${host}` }, [{ host }]);
        return waits.waitUnitsLeft.executeWithOptions(
          { startToCloseTimeout: `${(input.moveTimeoutMinutes ?? 10) + 1}m`, summary: `wait until the ${units.length} unit(s) of ${host} run elsewhere` },
          [{ host, units, stranded, timeoutMs: (input.moveTimeoutMinutes ?? 10) * 60_000 }],
        );
      },
      { skippable: false, changes: true },
    ))!;
    proc.note('stop-fleet', moved.map((m) => `${m.unit.replace(/\.service$/, '')} → ${m.host ?? 'stopped'}`).join(', ') || 'no unit to move');

    await runHook(proc, inv, 'postEmpty', host);
    await stopGuards(proc, inv, host, roles);
    return moved;
  });

  const result: EvacuationResult = { host, dryRun: false, plan, moved, gates: proc.progress.gates, skipped: skippedSteps(proc) };
  return proc.finish(result);
}

function planView(
  inv: Inventory,
  host: string,
  roles: EvacuationPlanView['roles'],
  fleet: FleetView,
  evacuation: EvacuationPlan,
  evidence: GuardEvidence,
): EvacuationPlanView {
  return {
    host,
    roles,
    units: unitsOn(fleet, host).map((u) => ({ unit: u.unit, vm: u.vm, weight: u.weight, to: evacuation.moves.find((m) => m.vm === (u.vm ?? u.unit))?.to })),
    stranded: evacuation.stranded.map((s) => ({ vm: s.vm, reason: s.reason })),
    evacuatedWeight: evacuation.evacuatedWeight,
    loadBefore: evacuation.loadBefore,
    loadAfter: evacuation.loadAfter,
    ...guardsView(inv, host, evidence),
    steps: [
      ...hookPlanLine(inv, 'preRun'),
      ...hookPlanLine(inv, 'preEmpty', host),
      `systemctl stop fleet on ${host}`,
      ...hookPlanLine(inv, 'postEmpty', host),
      ...guardStopCommands(inv, host, roles),
      ...hookPlanLine(inv, 'postRun'),
    ],
  };
}
