/**
 * Guards: the quorum and storage services a host takes part in (DESIGN.md), as the inventory lists
 * them: an etcd member (its quorum), a GlusterFS server (replica safety: no heal, rebalance or tier
 * daemon) and a GlusterFS client (its mounts). Every stack's procedures check a host's guards before
 * taking it down, stop them in the runbook's order (seed 000: GlusterFS daemons, unmount, etcd), and
 * wait for them after it comes back. A Xen pool has none unless its inventory declares them.
 */
import { checkMemberStop } from '../domain/quorum';
import { etcdMembers, glusterClients, glusterServers, type Inventory } from '../domain/inventory';
import type { GlusterHealth } from '../activities/gluster';
import type { EtcdHealth } from '../activities/etcd';
import { act, waits } from './activities';
import type { CheckResult, Procedure, StepDef } from './procedure';

export interface HostGuards {
  glusterServer: boolean;
  glusterClient: boolean;
  etcdMember: boolean;
}

export function guardsOf(inv: Inventory, host: string): HostGuards {
  const servers = glusterServers(inv);
  return {
    glusterServer: servers.includes(host),
    // A server mounts what it serves (seed 000).
    glusterClient: glusterClients(inv).includes(host) || servers.includes(host),
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

/** The guard steps of a procedure that takes a host down, by what they do. */
const STEP = {
  glusterHealth: { id: 'gluster-health', title: 'GlusterFS health check (tier, rebalance, heal)' },
  etcdHealth: { id: 'etcd-health', title: 'Etcd health check' },
  etcdQuorum: { id: 'check-etcd-quorum', title: 'Safety: etcd keeps its quorum without the host' },
  glusterSafe: { id: 'check-gluster', title: 'Safety: no heal, rebalance or tier daemon on any volume' },
  recheckGluster: { id: 'recheck-gluster', title: 'Re-check GlusterFS before stopping the server' },
  stopGluster: { id: 'stop-gluster', title: 'GlusterFS shutdown: stop daemons, stop-all-gluster-processes.sh' },
  unmount: { id: 'unmount-gluster', title: 'Gluster client stop: umount -t fuse.glusterfs -a' },
  recheckEtcd: { id: 'recheck-etcd', title: 'Re-check etcd quorum before stopping the member' },
  stopEtcd: { id: 'stop-etcd', title: 'Etcd shutdown: systemctl stop etcd' },
};
/** For the plan: before the gate, and after the host is emptied. */
export const GUARD_CHECK_STEPS = [STEP.glusterHealth, STEP.etcdHealth, STEP.etcdQuorum, STEP.glusterSafe];
export const GUARD_STOP_STEPS = [STEP.recheckGluster, STEP.stopGluster, STEP.unmount, STEP.recheckEtcd, STEP.stopEtcd];
/** After the host is back (waitGuardsHealthy). */
export const GUARD_WAIT_STEPS = [
  { id: 'wait-heal', title: 'GlusterFS start-up check: heal entries back to 0' },
  { id: 'recheck-gluster', title: 'GlusterFS healthy (no rebalance, no tier daemon)' },
  { id: 'check-etcd', title: 'Etcd start-up check: every member healthy' },
];

export interface GuardEvidence {
  gluster?: GlusterHealth;
  etcd?: EtcdHealth;
}

/** The health of the host's guards, for the plan shown at the gate (read elsewhere than on the host). */
export async function readGuards(proc: Procedure, host: string, guards: HostGuards): Promise<GuardEvidence> {
  const { glusterHealth: gluster, etcdHealth: etcd } = STEP;
  const evidence: GuardEvidence = {};
  if (guards.glusterServer) evidence.gluster = (await proc.step(gluster.id, gluster.title, () => act.glusterHealth({ avoid: [host] }), { skippable: false }))!;
  else proc.markSkipped(gluster.id, gluster.title, `${host} is not a GlusterFS server`);
  if (guards.etcdMember) evidence.etcd = (await proc.step(etcd.id, etcd.title, () => act.etcdHealth({}), { skippable: false }))!;
  else proc.markSkipped(etcd.id, etcd.title, `${host} is not an etcd member`);
  return evidence;
}

/** Safety: the host's guards allow it to go down (fresh reads); a failed check parks on its gate. Updates `evidence`. */
export async function ensureGuardsAllowStop(proc: Procedure, inv: Inventory, host: string, guards: HostGuards, evidence: GuardEvidence): Promise<void> {
  const { etcdQuorum: quorum, glusterSafe: gluster } = STEP;
  if (guards.etcdMember) {
    await proc.ensure(quorum.id, quorum.title, async () => {
      evidence.etcd = await act.etcdHealth({});
      return etcdCheck(inv, evidence.etcd, host);
    });
  } else proc.markSkipped(quorum.id, quorum.title, `${host} is not an etcd member`);
  if (guards.glusterServer) {
    await proc.ensure(gluster.id, gluster.title, async () => {
      evidence.gluster = await act.glusterHealth({ avoid: [host] });
      return glusterCheck(evidence.gluster);
    });
  } else proc.markSkipped(gluster.id, gluster.title, `${host} is not a GlusterFS server`);
}

/** The guards' health as an evacuation plan shows it (EvacuationPlanView's gluster and etcd). */
export function guardsView(inv: Inventory, host: string, { gluster, etcd }: GuardEvidence) {
  const etcdC = etcd ? checkMemberStop({ members: etcdMembers(inv), healthy: etcd.healthyMembers, stopping: host }) : undefined;
  return {
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
  };
}

/** The commands that stop the host's guards, in order, for the plan. */
export function guardStopCommands(inv: Inventory, host: string, guards: HostGuards): string[] {
  return [
    ...(guards.glusterServer ? [`systemctl stop glusterfsd glusterd on ${host}`, `${inv.gluster?.stopAllScript} -g on ${host}`] : []),
    ...(guards.glusterClient ? [`umount -t fuse.glusterfs -a on ${host}`] : []),
    ...(guards.etcdMember ? [`systemctl stop etcd on ${host}`] : []),
  ];
}

/** Stops the host's guards in the runbook's order (seed 000), each re-checked right before. */
export async function stopGuards(proc: Procedure, inv: Inventory, host: string, guards: HostGuards): Promise<void> {
  const { recheckGluster, stopGluster, unmount, recheckEtcd, stopEtcd } = STEP;
  if (guards.glusterServer) {
    await proc.ensure(recheckGluster.id, recheckGluster.title, async () => glusterCheck(await act.glusterHealth({ avoid: [host] })));
    await proc.step(
      stopGluster.id,
      `GlusterFS shutdown on ${host}: stop daemons, stop-all-gluster-processes.sh -g`,
      () => act.stopGlusterServer.executeWithOptions({ startToCloseTimeout: '5m', summary: `stop GlusterFS on ${host}` }, [{ host }]),
      { changes: true },
    );
  } else {
    proc.markSkipped(recheckGluster.id, recheckGluster.title, `${host} is not a GlusterFS server`);
    proc.markSkipped(stopGluster.id, stopGluster.title, `${host} is not a GlusterFS server`);
  }

  if (guards.glusterClient) {
    await proc.step(
      unmount.id,
      `Gluster client stop on ${host}: umount -t fuse.glusterfs -a`,
      () => act.unmountGluster.executeWithOptions({ startToCloseTimeout: '5m', summary: `umount GlusterFS on ${host}` }, [{ host }]),
      { changes: true },
    );
  } else proc.markSkipped(unmount.id, unmount.title, `${host} mounts no GlusterFS volume`);

  if (guards.etcdMember) {
    await proc.ensure(recheckEtcd.id, recheckEtcd.title, async () => etcdCheck(inv, await act.etcdHealth({}), host));
    await proc.step(
      stopEtcd.id,
      `Etcd shutdown on ${host}: systemctl stop etcd`,
      () => act.stopEtcd.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl stop etcd on ${host}` }, [{ host }]),
      { changes: true },
    );
  } else {
    proc.markSkipped(recheckEtcd.id, recheckEtcd.title, `${host} is not an etcd member`);
    proc.markSkipped(stopEtcd.id, stopEtcd.title, `${host} is not an etcd member`);
  }
}

/**
 * After a host came back (seed 000 reintegration): GlusterFS heal drained on its volumes and the
 * volumes healthy, every etcd member healthy — each bounded, a wait that runs out parks.
 */
export async function waitGuardsHealthy(
  proc: Procedure,
  inv: Inventory,
  host: string,
  roles: HostGuards,
  input: { healWaitMinutes?: number; etcdWaitMinutes?: number },
): Promise<void> {
  const [heal, gluster, etcd] = GUARD_WAIT_STEPS as [StepDef, StepDef, StepDef];
  if (roles.glusterClient || roles.glusterServer) {
    const minutes = input.healWaitMinutes ?? 30;
    // A heal that does not drain in time fails the step, which parks on retry / skip / abort.
    await proc.step(heal.id, `${heal.title} (at most ${minutes} min)`, () =>
      waits.waitHealDrained.executeWithOptions(
        { startToCloseTimeout: `${minutes + 5}m`, retry: { maximumAttempts: 1 }, summary: 'wait until every volume reports 0 heal entries' },
        [{ timeoutMs: minutes * 60_000 }],
      ),
    );
    await proc.ensure(gluster.id, gluster.title, async () => glusterCheck(await act.glusterHealth({})));
  } else {
    proc.markSkipped(heal.id, heal.title, `${host} uses no GlusterFS volume`);
    proc.markSkipped(gluster.id, gluster.title, `${host} uses no GlusterFS volume`);
  }

  if (inv.etcd) {
    await proc.ensure(etcd.id, etcd.title, async () => {
      const e = await waits.waitEtcdHealthy({ timeoutMs: (input.etcdWaitMinutes ?? 5) * 60_000 });
      return {
        ok: e.unhealthyMembers.length === 0,
        reason: e.unhealthyMembers.length ? `etcd member(s) not healthy: ${e.unhealthyMembers.join(', ')}` : undefined,
        evidence: { healthy: e.healthyMembers, unhealthy: e.unhealthyMembers },
      };
    });
  } else proc.markSkipped(etcd.id, etcd.title, 'no etcd cluster in the inventory');
}
