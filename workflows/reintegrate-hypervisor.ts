/**
 * reintegrateHypervisor — seed 000 "Hypervisor reintegration procedure":
 *
 *   The host is ready           etcd and glusterd run on it, its GlusterFS volumes are mounted
 *   GlusterFS start-up checks   heal entries back to 0 on every volume  (may take some time)
 *   Etcd start-up check         every member healthy again
 *   Fleet start-up              systemctl start fleet  (only units pinned to this host start)
 *   Measure the load            per hypervisor, from unit Weights
 *   Failback                    the moves that bring load back (gate, then unload + start)
 *
 * GlusterFS and etcd start at boot: hvflow checks them, and when they do not run (the host was not
 * rebooted) it says so at once and offers to start them (gate `host-ready-unsafe`: start / retry /
 * abort) rather than wait for a health that cannot come.
 */
import type { ClusterSnapshot } from '../domain/cluster';
import { loadByHost } from '../domain/cluster';
import { hostsOf } from '../domain/inventory';
import { GATE } from '../domain/contract';
import { act, waits } from './activities';
import { readFleet } from './fleet-state';
import { acquireClusterLock } from './cluster-lock';
import { glusterCheck, hostRoles, skippedSteps } from './evacuate-hypervisor';
import { ensureHostReady } from './host-ready';
import { balancedHosts, runFailback, type FailbackOptions, type FailbackResult } from './failback';
import { checked, validated } from './validate';
import { Procedure } from './procedure';
import type { Finished, GateRecord, ProcedureInputBase } from './messages';

export interface ReintegrateHypervisorInput extends ProcedureInputBase, Omit<FailbackOptions, 'prefer'> {
  host: string;
  /** Bound of the wait for heal entries to drain (seed: "may take some time and/or timeout"). Default 30. */
  healWaitMinutes?: number;
  /** Bound of the wait for etcd members to be healthy again. Default 5. */
  etcdWaitMinutes?: number;
  /** Skip the failback (moves can be done later with the `failback` procedure). */
  noFailback?: boolean;
}

export interface ReintegrationResult {
  host: string;
  dryRun: boolean;
  loadByHost: Record<string, number>;
  failback?: Omit<FailbackResult, 'gates' | 'skipped' | 'dryRun'>;
  gates: GateRecord[];
  skipped: string[];
}

export async function reintegrateHypervisor(input: ReintegrateHypervisorInput): Promise<Finished<ReintegrationResult>> {
  input = validated('reintegrateHypervisor', input);
  const host = input.host;
  const proc = new Procedure('reintegrateHypervisor', input, host);
  proc.plan([
    { id: 'inventory', title: 'Read the inventory' },
    { id: 'host-ready', title: 'The host runs its daemons (etcd, glusterd) and mounts its GlusterFS volumes' },
    { id: 'wait-heal', title: 'GlusterFS start-up check: heal entries back to 0' },
    { id: 'recheck-gluster', title: 'GlusterFS healthy (no rebalance, no tier daemon)' },
    { id: 'check-etcd', title: 'Etcd start-up check: every member healthy' },
    { id: 'recheck-host-ready', title: 'Re-check before fleet starts: daemons running, volumes mounted' },
    { id: 'start-fleet', title: 'Fleet start-up: systemctl start fleet' },
    { id: 'measure-load', title: 'Measure the load of each hypervisor (unit Weights)' },
    { id: 'check-destinations', title: 'Every host fleet may start a VM on mounts the GlusterFS volumes' },
    { id: 'plan-failback', title: 'Plan the moves that bring the spread down' },
    { id: GATE.approveFailback, title: 'Approval of the failback moves' },
    { id: 'move-vms', title: 'Move VMs: fleetctl unload, fleetctl start' },
  ]);
  proc.setPhase('checking');
  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => hostsOf(inv, host, 'host'));
  checked(() => balancedHosts(inv, input.hosts));
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'reintegrateHypervisor', host, input.requestedBy);
  const roles = hostRoles(inv, host);

  // The daemons and mounts first: without them the heal and etcd waits below could never end.
  await ensureHostReady(proc, 'host-ready', host);
  if (input.dryRun) {
    for (const [id, title] of [
      ['wait-heal', 'GlusterFS start-up check: heal entries back to 0'],
      ['recheck-gluster', 'GlusterFS healthy (no rebalance, no tier daemon)'],
      ['check-etcd', 'Etcd start-up check: every member healthy'],
      ['recheck-host-ready', 'Re-check before fleet starts: daemons running, volumes mounted'],
      ['start-fleet', 'Fleet start-up: systemctl start fleet'],
    ] as const)
      proc.markSkipped(id, title, 'dry run');
  } else {
    if (roles.glusterClient || roles.glusterServer) {
      const minutes = input.healWaitMinutes ?? 30;
      // A heal that does not drain in time fails the step, which parks on retry / skip / abort.
      await proc.step('wait-heal', `GlusterFS start-up check: heal entries back to 0 (at most ${minutes} min)`, () =>
        waits.waitHealDrained.executeWithOptions(
          { startToCloseTimeout: `${minutes + 5}m`, retry: { maximumAttempts: 1 }, summary: 'wait until every volume reports 0 heal entries' },
          [{ timeoutMs: minutes * 60_000 }],
        ),
      );
      await proc.ensure('recheck-gluster', 'GlusterFS healthy (no rebalance, no tier daemon)', async () => glusterCheck(await act.glusterHealth({})));
    } else {
      proc.markSkipped('wait-heal', 'GlusterFS start-up check: heal entries back to 0', `${host} uses no GlusterFS volume`);
      proc.markSkipped('recheck-gluster', 'GlusterFS healthy (no rebalance, no tier daemon)', `${host} uses no GlusterFS volume`);
    }

    if (inv.etcd) {
      await proc.ensure('check-etcd', 'Etcd start-up check: every member healthy', async () => {
        const e = await waits.waitEtcdHealthy({ timeoutMs: (input.etcdWaitMinutes ?? 5) * 60_000 });
        return {
          ok: e.unhealthyMembers.length === 0,
          reason: e.unhealthyMembers.length ? `etcd member(s) not healthy: ${e.unhealthyMembers.join(', ')}` : undefined,
          evidence: { healthy: e.healthyMembers, unhealthy: e.unhealthyMembers },
        };
      });
    } else proc.markSkipped('check-etcd', 'Etcd start-up check: every member healthy', 'no etcd cluster in the inventory');

    // fleet places VMs on the host as soon as fleetd runs: its images must be there.
    await ensureHostReady(proc, 'recheck-host-ready', host);
    proc.setPhase('starting fleet');
    await proc.step(
      'start-fleet',
      `Fleet start-up on ${host}: systemctl start fleet`,
      () => act.startFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl start fleet on ${host}` }, [{ host }]),
      { changes: true },
    );
  }

  const fleet = (await proc.step('measure-load', 'Measure the load of each hypervisor (unit Weights)', () => readFleet(inv), { skippable: false }))!;
  if (input.dryRun) fleet.snapshot = asIfFleetRuns(fleet.snapshot, host);
  const load = loadByHost(fleet.snapshot);
  proc.note(
    'measure-load',
    Object.entries(load)
      .filter(([, w]) => w > 0 || fleet.snapshot.hosts.some((x) => x.name === host))
      .map(([h, w]) => `${h} ${w}`)
      .join(', '),
  );

  let failbackResult: ReintegrationResult['failback'];
  if (input.noFailback) {
    for (const [id, title] of [
      ['check-destinations', 'Every host fleet may start a VM on mounts the GlusterFS volumes'],
      ['plan-failback', 'Plan the moves'],
      [GATE.approveFailback, 'Approval of the failback moves'],
      ['move-vms', 'Move VMs'],
    ] as const)
      proc.markSkipped(id, title, 'failback not asked (noFailback)');
  } else {
    proc.setPhase('failback');
    failbackResult = await runFailback(proc, inv, fleet, { ...input, prefer: host, gateOptions: ['approve', 'skip', 'abort'] });
  }
  const result: ReintegrationResult = {
    host,
    dryRun: !!input.dryRun,
    loadByHost: load,
    failback: failbackResult,
    gates: proc.progress.gates,
    skipped: skippedSteps(proc),
  };
  return proc.finish(result);
}

/**
 * The dry run plans the failback as if fleet already ran on the host again. While fleetd is down
 * fleet does not list the machine's metadata, so it is borrowed from a host of the same role.
 */
function asIfFleetRuns(s: ClusterSnapshot, host: string): ClusterSnapshot {
  const self = s.hosts.find((h) => h.name === host);
  const peer = s.hosts.find((h) => h.name !== host && h.role === self?.role && Object.keys(h.labels).length > 0);
  const labels = self && Object.keys(self.labels).length ? self.labels : { ...(peer?.labels ?? {}), ...(peer?.labels.hostname ? { hostname: host } : {}) };
  return { ...s, hosts: s.hosts.map((h) => (h.name === host ? { ...h, labels, up: true, schedulable: true } : h)) };
}
