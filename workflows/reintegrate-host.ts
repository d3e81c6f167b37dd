/**
 * reintegrateHost — seed 000 "Hypervisor reintegration procedure" (registered as reintegrateHypervisor
 * too, its name before hvflow served other stacks):
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
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { hostsOf, stackOf } from '../domain/inventory';
import { reintegrateXenHost } from './reintegrate-xen';
import { FAILURE, GATE } from '../domain/contract';
import { act } from './activities';
import { readFleet } from './fleet-state';
import { acquireClusterLock } from './cluster-lock';
import { GUARD_WAIT_STEPS, guardsOf, waitGuardsHealthy } from './guards';
import { skippedSteps } from './procedure';
import { ensureHostReady } from './host-ready';
import { balancedHosts, runFailback } from './failback';
import { checked, validated } from './validate';
import { Procedure } from './procedure';
import type { Finished } from './messages';
import type { ReintegrateHostInput, ReintegrationResult } from './reintegration-types';

export type { ReintegrateHostInput, ReintegrationResult } from './reintegration-types';

export async function reintegrateHost(input: ReintegrateHostInput): Promise<Finished<ReintegrationResult>> {
  input = validated('reintegrateHost', input);
  // The type it was started as (reintegrateHost, or its old name): what the lock, progress and search attributes say.
  const procedure = workflowInfo().workflowType;
  const host = input.host;
  const proc = new Procedure(procedure, input, host);
  proc.plan([{ id: 'inventory', title: 'Read the inventory' }]); // the rest once the inventory says which stack
  proc.setPhase('checking');
  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => hostsOf(inv, host, 'host'));
  if (stackOf(inv) === 'xen') refuseFailbackOptions(inv.cluster, input);
  else checked(() => balancedHosts(inv, input.hosts));
  if (!input.dryRun) await acquireClusterLock(inv.cluster, procedure, host, input.requestedBy);
  if (stackOf(inv) === 'xen') return reintegrateXenHost(proc, inv, input);
  proc.plan([
    { id: 'host-ready', title: 'The host runs its daemons (etcd, glusterd) and mounts its GlusterFS volumes' },
    ...GUARD_WAIT_STEPS,
    { id: 'recheck-host-ready', title: 'Re-check before fleet starts: daemons running, volumes mounted' },
    { id: 'start-fleet', title: 'Fleet start-up: systemctl start fleet' },
    { id: 'measure-load', title: 'Measure the load of each hypervisor (unit Weights)' },
    { id: 'check-destinations', title: 'Every host fleet may start a VM on mounts the GlusterFS volumes' },
    { id: 'plan-failback', title: 'Plan the moves that bring the spread down' },
    { id: GATE.approveFailback, title: 'Approval of the failback moves' },
    { id: 'move-vms', title: 'Move VMs: fleetctl unload, fleetctl start' },
  ]);
  const roles = guardsOf(inv, host);

  // The daemons and mounts first: without them the heal and etcd waits below could never end.
  await ensureHostReady(proc, 'host-ready', host);
  if (input.dryRun) {
    for (const [id, title] of [
      ...GUARD_WAIT_STEPS.map((g) => [g.id, g.title] as const),
      ['recheck-host-ready', 'Re-check before fleet starts: daemons running, volumes mounted'],
      ['start-fleet', 'Fleet start-up: systemctl start fleet'],
    ] as const)
      proc.markSkipped(id, title, 'dry run');
  } else {
    await waitGuardsHealthy(proc, inv, host, roles, input);

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

/** A Xen pool's reintegration fails no VM back (seed 003): options of the failback would be silently ignored. */
function refuseFailbackOptions(cluster: string, input: ReintegrateHostInput): void {
  for (const field of ['hosts', 'maxMoves', 'parallelism', 'moveCost', 'moveInfra'] as const) {
    if (input[field] !== undefined) {
      throw ApplicationFailure.nonRetryable(
        `${field}: ${cluster} is a Xen pool, whose reintegration moves no VM back (seed 003); leave the failback options out`,
        FAILURE.invalidInput,
      );
    }
  }
}
