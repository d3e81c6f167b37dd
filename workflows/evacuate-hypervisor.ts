/**
 * evacuateHypervisor — seed 000 "Hypervisor evacuation procedure":
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
import { planEvacuation, type EvacuationPlan } from '../domain/capacity';
import { checkMemberStop } from '../domain/quorum';
import { etcdMembers, glusterClients, glusterServers, hostsOf, vmSet, type Inventory } from '../domain/inventory';
import { GATE } from '../domain/contract';
import type { GlusterHealth } from '../activities/gluster';
import type { EtcdHealth } from '../activities/etcd';
import { act, waits } from './activities';
import { readFleet, type FleetView } from './fleet-state';
import { acquireClusterLock } from './cluster-lock';
import { checked, validated } from './validate';
import { Procedure, type CheckResult } from './procedure';
import type { Finished, GateRecord, ProcedureInputBase } from './messages';

export interface EvacuateHypervisorInput extends ProcedureInputBase {
  /** The hypervisor to evacuate (${HYPERVISOR} in the seed). */
  host: string;
  /** How long fleet may take to move every unit off the host. Default 10 minutes. */
  moveTimeoutMinutes?: number;
}

export interface EvacuationPlanView {
  host: string;
  roles: { glusterServer: boolean; glusterClient: boolean; etcdMember: boolean };
  units: { unit: string; vm?: string; weight: number; to?: string }[];
  stranded: { vm: string; reason: string }[];
  evacuatedWeight: number;
  loadBefore: Record<string, number>;
  loadAfter: Record<string, number>;
  gluster?: { volume: string; type: string; heals: boolean; healEntries: number | null; rebalanceRunning: boolean; tierDaemon: boolean }[];
  etcd?: { healthy: string[]; unhealthy: string[]; quorum: number; healthyAfter: string[] };
  steps: string[];
}

export interface EvacuationResult {
  host: string;
  dryRun: boolean;
  plan: EvacuationPlanView;
  /** Where each unit of the host runs now (after the evacuation). */
  moved: { unit: string; host?: string }[];
  gates: GateRecord[];
  skipped: string[];
}

const STEPS = [
  { id: 'inventory', title: 'Read the inventory' },
  { id: 'service-inventory', title: 'Service inventory: units on the hypervisor' },
  { id: 'gluster-health', title: 'GlusterFS health check (tier, rebalance, heal)' },
  { id: 'etcd-health', title: 'Etcd health check' },
  { id: 'check-etcd-quorum', title: 'Safety: etcd keeps its quorum without the host' },
  { id: 'check-gluster', title: 'Safety: no heal, rebalance or tier daemon on any volume' },
  { id: 'check-capacity', title: 'Safety: N+1, the other hypervisors have room for its weight' },
  { id: 'approve', title: 'Approval of the evacuation plan' },
  { id: 'recheck-fleet', title: 'Re-check before stopping fleet: same units, still room' },
  { id: 'stop-fleet', title: 'Fleet shutdown: systemctl stop fleet, units fail over' },
  { id: 'recheck-gluster', title: 'Re-check GlusterFS before stopping the server' },
  { id: 'stop-gluster', title: 'GlusterFS shutdown: stop daemons, stop-all-gluster-processes.sh' },
  { id: 'unmount-gluster', title: 'Gluster client stop: umount -t fuse.glusterfs -a' },
  { id: 'recheck-etcd', title: 'Re-check etcd quorum before stopping the member' },
  { id: 'stop-etcd', title: 'Etcd shutdown: systemctl stop etcd' },
];
const EXECUTION = STEPS.slice(STEPS.findIndex((s) => s.id === 'approve') + 1);

export function hostRoles(inv: Inventory, host: string) {
  const clients = glusterClients(inv);
  const servers = glusterServers(inv);
  return {
    glusterServer: servers.includes(host),
    glusterClient: clients.includes(host) || servers.includes(host),
    etcdMember: etcdMembers(inv).includes(host),
  };
}

/** etcd quorum with `host` down. */
export function etcdCheck(inv: Inventory, etcd: EtcdHealth, host: string): CheckResult {
  const c = checkMemberStop({ members: etcdMembers(inv), healthy: etcd.healthyMembers, stopping: host, service: 'etcd' });
  return {
    ok: c.ok,
    reason: c.reason,
    evidence: { members: etcdMembers(inv), healthy: etcd.healthyMembers, unhealthy: etcd.unhealthyMembers, quorum: c.quorum, healthyAfter: c.healthyAfter },
  };
}

export function glusterCheck(g: GlusterHealth): CheckResult {
  return {
    ok: g.healthy,
    reason: g.problems.join('; ') || undefined,
    evidence: {
      ranOn: g.ranOn,
      volumes: g.volumes.map((v) => ({
        volume: v.volume,
        type: v.type,
        healEntries: v.healEntries,
        rebalanceRunning: v.rebalanceRunning,
        tierDaemon: v.tierDaemon,
        bricks: v.bricks,
      })),
    },
  };
}

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

export async function evacuateHypervisor(input: EvacuateHypervisorInput): Promise<Finished<EvacuationResult>> {
  input = validated('evacuateHypervisor', input);
  const host = input.host;
  const proc = new Procedure('evacuateHypervisor', input, host);
  proc.plan(STEPS);
  proc.setPhase('checking');

  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => hostsOf(inv, host, 'host')); // must be a hypervisor of this cluster
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'evacuateHypervisor', host, input.requestedBy);
  const roles = hostRoles(inv, host);
  const neverTouch = vmSet(inv, 'neverTouch');

  // Service inventory (fleetctl is run from another hypervisor: this one is going away).
  const fleet = (await proc.step('service-inventory', `Service inventory: units on ${host}`, () => readFleet(inv, { avoid: [host] }), { skippable: false }))!;
  const onHost = unitsOn(fleet, host);
  proc.note('service-inventory', `${onHost.length} unit(s) on ${host}: ${onHost.map((u) => u.vm ?? u.unit).join(', ') || 'none'}`);

  let gluster: GlusterHealth | undefined;
  if (roles.glusterServer) {
    gluster = (await proc.step('gluster-health', 'GlusterFS health check (tier, rebalance, heal)', () => act.glusterHealth({ avoid: [host] }), {
      skippable: false,
    }))!;
  } else proc.markSkipped('gluster-health', 'GlusterFS health check (tier, rebalance, heal)', `${host} is not a GlusterFS server`);

  let etcd: EtcdHealth | undefined;
  if (roles.etcdMember) {
    etcd = (await proc.step('etcd-health', 'Etcd health check', () => act.etcdHealth({}), { skippable: false }))!;
  } else proc.markSkipped('etcd-health', 'Etcd health check', `${host} is not an etcd member`);

  // Safety rules. A failed check parks the procedure on a gate that states why.
  if (roles.etcdMember) {
    await proc.ensure('check-etcd-quorum', 'Safety: etcd keeps its quorum without the host', async () => {
      etcd = await act.etcdHealth({});
      return etcdCheck(inv, etcd, host);
    });
  } else proc.markSkipped('check-etcd-quorum', 'Safety: etcd keeps its quorum without the host', `${host} is not an etcd member`);
  if (roles.glusterServer) {
    await proc.ensure('check-gluster', 'Safety: no heal, rebalance or tier daemon on any volume', async () => {
      gluster = await act.glusterHealth({ avoid: [host] });
      return glusterCheck(gluster);
    });
  } else proc.markSkipped('check-gluster', 'Safety: no heal, rebalance or tier daemon on any volume', `${host} is not a GlusterFS server`);

  let evacuation = planEvacuation(fleet.snapshot, host, { neverTouch });
  await proc.ensure('check-capacity', 'Safety: N+1, the other hypervisors have room for its weight', async () => capacityCheck(evacuation));

  const plan = planView(inv, host, roles, fleet, evacuation, gluster, etcd);
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
  const units = onHost.map((u) => u.unit);
  const stranded = evacuation.stranded.map((s) => onHost.find((u) => (u.vm ?? u.unit) === s.vm)?.unit).filter((u): u is string => !!u);
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

  if (roles.glusterServer) {
    await proc.ensure('recheck-gluster', 'Re-check GlusterFS before stopping the server', async () => glusterCheck(await act.glusterHealth({ avoid: [host] })));
    await proc.step(
      'stop-gluster',
      `GlusterFS shutdown on ${host}: stop daemons, stop-all-gluster-processes.sh -g`,
      () => act.stopGlusterServer.executeWithOptions({ startToCloseTimeout: '5m', summary: `stop GlusterFS on ${host}` }, [{ host }]),
      { changes: true },
    );
  } else {
    proc.markSkipped('recheck-gluster', 'Re-check GlusterFS before stopping the server', `${host} is not a GlusterFS server`);
    proc.markSkipped('stop-gluster', 'GlusterFS shutdown: stop daemons, stop-all-gluster-processes.sh', `${host} is not a GlusterFS server`);
  }

  if (roles.glusterClient) {
    await proc.step(
      'unmount-gluster',
      `Gluster client stop on ${host}: umount -t fuse.glusterfs -a`,
      () => act.unmountGluster.executeWithOptions({ startToCloseTimeout: '5m', summary: `umount GlusterFS on ${host}` }, [{ host }]),
      { changes: true },
    );
  } else proc.markSkipped('unmount-gluster', 'Gluster client stop: umount -t fuse.glusterfs -a', `${host} mounts no GlusterFS volume`);

  if (roles.etcdMember) {
    await proc.ensure('recheck-etcd', 'Re-check etcd quorum before stopping the member', async () => etcdCheck(inv, await act.etcdHealth({}), host));
    await proc.step(
      'stop-etcd',
      `Etcd shutdown on ${host}: systemctl stop etcd`,
      () => act.stopEtcd.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl stop etcd on ${host}` }, [{ host }]),
      { changes: true },
    );
  } else {
    proc.markSkipped('recheck-etcd', 'Re-check etcd quorum before stopping the member', `${host} is not an etcd member`);
    proc.markSkipped('stop-etcd', 'Etcd shutdown: systemctl stop etcd', `${host} is not an etcd member`);
  }

  const result: EvacuationResult = { host, dryRun: false, plan, moved, gates: proc.progress.gates, skipped: skippedSteps(proc) };
  return proc.finish(result);
}

export function skippedSteps(proc: Procedure): string[] {
  return proc.progress.steps.filter((s) => s.state === 'skipped').map((s) => `${s.id}: ${s.detail ?? ''}`);
}

function planView(
  inv: Inventory,
  host: string,
  roles: EvacuationPlanView['roles'],
  fleet: FleetView,
  evacuation: EvacuationPlan,
  gluster: GlusterHealth | undefined,
  etcd: EtcdHealth | undefined,
): EvacuationPlanView {
  const etcdC = etcd ? checkMemberStop({ members: etcdMembers(inv), healthy: etcd.healthyMembers, stopping: host }) : undefined;
  return {
    host,
    roles,
    units: unitsOn(fleet, host).map((u) => ({ unit: u.unit, vm: u.vm, weight: u.weight, to: evacuation.moves.find((m) => m.vm === (u.vm ?? u.unit))?.to })),
    stranded: evacuation.stranded.map((s) => ({ vm: s.vm, reason: s.reason })),
    evacuatedWeight: evacuation.evacuatedWeight,
    loadBefore: evacuation.loadBefore,
    loadAfter: evacuation.loadAfter,
    gluster: gluster?.volumes.map((v) => ({
      volume: v.volume,
      type: v.type,
      heals: v.heals,
      healEntries: v.healEntries,
      rebalanceRunning: v.rebalanceRunning,
      tierDaemon: v.tierDaemon,
    })),
    etcd:
      etcd && etcdC ? { healthy: etcd.healthyMembers, unhealthy: etcd.unhealthyMembers, quorum: etcdC.quorum, healthyAfter: etcdC.healthyAfter } : undefined,
    steps: [
      `systemctl stop fleet on ${host}`,
      ...(roles.glusterServer ? [`systemctl stop glusterfsd glusterd on ${host}`, `${inv.gluster?.stopAllScript} -g on ${host}`] : []),
      ...(roles.glusterClient ? [`umount -t fuse.glusterfs -a on ${host}`] : []),
      ...(roles.etcdMember ? [`systemctl stop etcd on ${host}`] : []),
    ],
  };
}
