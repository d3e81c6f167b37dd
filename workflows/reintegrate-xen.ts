/**
 * reintegrateHost on a XenServer pool — the end of seed 003's per-host step, on its own:
 *
 *   Wait until the host is back   xapi live in the pool (the master sees it), bounded
 *   guards                        daemons and mounts, heal drained, etcd healthy — only where the
 *                                 inventory lists the host in them
 *   Enable the host               xe host-enable: the pool may place VMs on it again
 *   Measure the load              memory used per host
 *
 * VMs are not failed back: seed 003 leaves them where they are ("I'm OK with some hosts being
 * almost empty"); the result says so.
 */
import { GATE } from '../domain/contract';
import { loadByHost } from '../domain/cluster';
import { xenSnapshot } from '../domain/xen-pool';
import type { Inventory } from '../domain/inventory';
import { act, waits } from './activities';
import { GUARD_WAIT_STEPS, guardsOf, waitGuardsHealthy } from './guards';
import { ensureHostReady } from './host-ready';
import { skippedSteps, type Procedure } from './procedure';
import type { ReintegrateHostInput, ReintegrationResult } from './reintegration-types';
import type { Finished } from './messages';

const STEPS = [
  { id: 'wait-host-live', title: 'Wait until the host is live in the pool again' },
  { id: 'host-ready', title: 'The host runs its daemons (etcd, glusterd) and mounts its GlusterFS volumes' },
  ...GUARD_WAIT_STEPS,
  { id: 'enable-host', title: 'Enable the host: the pool may place VMs on it again' },
  { id: 'measure-load', title: 'Measure the memory used on each host' },
  { id: GATE.approveFailback, title: 'Failback' },
];

export async function reintegrateXenHost(proc: Procedure, inv: Inventory, input: ReintegrateHostInput): Promise<Finished<ReintegrationResult>> {
  const host = input.host;
  const guards = guardsOf(inv, host);
  const hasGuards = guards.etcdMember || guards.glusterClient || guards.glusterServer;
  proc.plan(STEPS);
  const waitMinutes = input.healWaitMinutes ?? 30;
  await proc.step(`wait-host-live`, `Wait until ${host} is live in the pool again (at most ${waitMinutes} min)`, () =>
    waits.waitXenHostLive.executeWithOptions(
      { startToCloseTimeout: `${waitMinutes + 5}m`, retry: { maximumAttempts: 1 }, summary: `wait until ${host} is live in the pool` },
      [{ host, timeoutMs: waitMinutes * 60_000 }],
    ),
  );
  if (hasGuards) await ensureHostReady(proc, 'host-ready', host);
  else proc.markSkipped('host-ready', STEPS[1].title, `${host} has no guard in the inventory (no etcd, no GlusterFS)`);

  if (input.dryRun) {
    for (const s of STEPS.slice(2, 6)) proc.markSkipped(s.id, s.title, 'dry run');
  } else {
    await waitGuardsHealthy(proc, inv, host, guards, input);
    await proc.step(
      'enable-host',
      `Enable ${host} (xe host-enable): the pool may place VMs on it again`,
      () => act.enableHost.executeWithOptions({ startToCloseTimeout: '5m', summary: `xe host-enable ${host}` }, [{ host }]),
      { changes: true },
    );
  }

  const pool = (await proc.step('measure-load', 'Measure the memory used on each host', () => act.xenPool({}), { skippable: false }))!;
  const load = loadByHost(xenSnapshot(inv, pool));
  proc.note(
    'measure-load',
    Object.entries(load)
      .map(([h, mib]) => `${h} ${mib} MiB`)
      .join(', '),
  );
  proc.markSkipped(GATE.approveFailback, 'Failback', 'a Xen pool keeps its VMs where they are after a host comes back (seed 003)');
  return proc.finish<ReintegrationResult>({ host, dryRun: !!input.dryRun, loadByHost: load, gates: proc.progress.gates, skipped: skippedSteps(proc) });
}
