/**
 * clusterShutdown — seed 001 "Cluster shutdown procedure":
 *
 *   health           GlusterFS (tier, rebalance, heal) and etcd, as the evacuation starts
 *   VM inventory     fleetctl list-units | grep running   → the result and the memo (for the start-up)
 *   ── gate: approve the list and the order ──
 *   VM shutdown      fleetctl stop --no-block, `parallelism` at a time, all but DNS VMs; a VM that
 *                    does not stop: systemctl stop fleet on its hypervisor, fleetctl stop again,
 *                    systemctl start fleet
 *   DNS VMs          fleetctl stop --no-block ns...
 *   islet workers    poweroff
 *   GlusterFS        umount -a -t fuse.glusterfs on the inventory's GlusterFS clients and servers;
 *                    wait until only self-heal daemons are connected; gluster volume stop (script
 *                    mode); on the servers only: systemctl stop glusterd; pkill glusterfs; pkill glusterfsd
 *   ── gate: approve the power off ──
 *   hypervisors      poweroff all but the control host, then the control host
 *
 * The workflow runs on the hvflow worker, not on the cluster: it keeps going while the hosts go
 * down. Nothing after the control host's power off needs a host (its down-check is an SSH probe
 * from the worker).
 */
import { ApplicationFailure, sleep, upsertMemo } from '@temporalio/workflow';
import { etcdMembers, unitOfVm, type Inventory } from '../domain/inventory';
import { planShutdown, type RunningVm, type ShutdownPlan } from '../domain/shutdown-plan';
import { GATE, MEMO, type ShutdownMemo } from '../domain/contract';
import type { EtcdHealth } from '../activities/etcd';
import { act, waits } from './activities';
import { hostBatches, hostsTimeout } from './host-batches';
import { acquireClusterLock } from './cluster-lock';
import { readFleet } from './fleet-state';
import { glusterCheck } from './guards';
import { skippedSteps } from './procedure';
import { validated } from './validate';
import { Procedure, type CheckResult } from './procedure';
import type { Finished, GateRecord, ProcedureInputBase } from './messages';

export interface ClusterShutdownInput extends ProcedureInputBase {
  /** VMs stopped per batch (fleetctl stop --no-block). Default 10. */
  parallelism?: number;
  /** How long a batch of VMs may take to stop before the hung-VM remedy. Default 300. */
  stopTimeoutSeconds?: number;
  /** How long GlusterFS clients may take to disconnect after the unmount. Default 120. */
  clientsTimeoutSeconds?: number;
  /** How long a host may take to power off. Default 600. */
  hostDownTimeoutSeconds?: number;
  /** systemd-run --on-active delay of the poweroff (lets the SSH command return). Default 5. */
  poweroffDelaySeconds?: number;
}

export interface HungVm {
  vm: string;
  unit: string;
  host?: string;
  /** What was done: the seed's remedy on its hypervisor. */
  remedy: string;
}

export interface ShutdownResult {
  cluster: string;
  dryRun: boolean;
  /** The VMs that were running and where (seed 001's saved list, as in the memo): what clusterStartup starts again. */
  vms: SavedVm[];
  /** The plan that ran; its running VMs are `vms` (not carried twice: the result stays small at 10,000 VMs). */
  plan: Omit<ShutdownPlan, 'running'>;
  hung: HungVm[];
  poweredOff: string[];
  gates: GateRecord[];
  skipped: string[];
}

/** How many VMs of the list run on each host (the approval's evidence). */
function countByHost(vms: SavedVm[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const v of vms) n[v.host ?? '-'] = (n[v.host ?? '-'] ?? 0) + 1;
  return n;
}

/** A VM of the saved list. */
export type SavedVm = Pick<RunningVm, 'vm' | 'host'>;

const STEPS = [
  { id: 'inventory', title: 'Read the inventory' },
  { id: 'check-gluster', title: 'Health: GlusterFS (no heal, rebalance or tier daemon)' },
  { id: 'check-etcd', title: 'Health: every etcd member healthy' },
  { id: 'running-vms', title: 'Collect the running VMs (fleetctl list-units)' },
  { id: 'plan', title: 'Plan the order (seed 001)' },
  { id: 'approve', title: 'Approval of the VM list and the order' },
  { id: 'recheck-vms', title: 'Re-check: the running VMs are the approved list' },
  { id: 'stop-vms', title: 'Stop every VM but DNS VMs (fleetctl stop --no-block, in batches)' },
  { id: 'remedy-vms', title: 'Hung VMs: stop fleet on the hypervisor, stop the VM again, start fleet' },
  { id: 'stop-dns', title: 'Stop the DNS VMs' },
  { id: 'remedy-dns', title: 'Hung DNS VMs: stop fleet on the hypervisor, stop the VM again, start fleet' },
  { id: 'poweroff-islets', title: 'Power off the islet workers' },
  { id: 'unmount-gluster', title: 'umount -a -t fuse.glusterfs on the GlusterFS clients and servers' },
  { id: 'check-gluster-clients', title: 'No GlusterFS client left but self-heal daemons' },
  { id: 'stop-volumes', title: 'gluster volume stop (script mode)' },
  { id: 'stop-gluster', title: 'systemctl stop glusterd; pkill glusterfs glusterfsd on the GlusterFS servers' },
  { id: GATE.approvePoweroff, title: 'Approval of the hypervisors power off' },
  { id: 'poweroff-hypervisors', title: 'Power off the hypervisors but the control host' },
  { id: 'poweroff-control', title: 'Power off the control host (last)' },
];
const EXECUTION = STEPS.slice(STEPS.findIndex((s) => s.id === 'approve'));

function etcdAllHealthy(inv: Inventory, e: EtcdHealth): CheckResult {
  const members = etcdMembers(inv);
  return {
    ok: e.unhealthyMembers.length === 0,
    reason: e.unhealthyMembers.length
      ? `etcd member(s) not healthy: ${e.unhealthyMembers.join(', ')}; investigate before shutting the cluster down`
      : undefined,
    evidence: { members, healthy: e.healthyMembers, unhealthy: e.unhealthyMembers },
  };
}

export async function clusterShutdown(input: ClusterShutdownInput): Promise<Finished<ShutdownResult>> {
  input = validated('clusterShutdown', input);
  const proc = new Procedure('clusterShutdown', input);
  proc.plan(STEPS);
  proc.setPhase('checking');

  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'clusterShutdown', inv.cluster, input.requestedBy);
  const control = inv.controlHost;
  const stopTimeoutMs = (input.stopTimeoutSeconds ?? 300) * 1000;
  const downTimeoutMs = (input.hostDownTimeoutSeconds ?? 600) * 1000;
  const delaySeconds = input.poweroffDelaySeconds ?? 5;

  // Health: the beginning of the evacuation procedure (seed 001 "the cluster is in good shape").
  if (inv.gluster) {
    await proc.ensure('check-gluster', 'Health: GlusterFS (no heal, rebalance or tier daemon)', async () => glusterCheck(await act.glusterHealth({})));
  } else proc.markSkipped('check-gluster', 'Health: GlusterFS', 'no GlusterFS volume in the inventory');
  if (inv.etcd) {
    await proc.ensure('check-etcd', 'Health: every etcd member healthy', async () => etcdAllHealthy(inv, await act.etcdHealth({})));
  } else proc.markSkipped('check-etcd', 'Health: every etcd member healthy', 'no etcd cluster in the inventory');

  const fleet = (await proc.step('running-vms', 'Collect the running VMs (fleetctl list-units)', () => readFleet(inv), { skippable: false }))!;
  let plan = planShutdown(inv, fleet.units, { parallelism: input.parallelism });
  let vms = plan.running;
  proc.note('running-vms', `${vms.length} VM(s) running: ${vms.map((v) => v.vm).join(', ') || 'none'}`);
  // The saved list (seed 001: "keep this service name list"), visible in the Web UI and read by the start-up.
  const saved = (): SavedVm[] => vms.map((v) => ({ vm: v.vm, host: v.host }));
  // The start-up reads it back (activities/temporal-info.ts shutdownVmList).
  const saveList = () => {
    const list: ShutdownMemo = { dryRun: !!input.dryRun, vms: saved() };
    upsertMemo({ [MEMO.shutdown]: list });
  };
  saveList();
  proc.markDone(
    'plan',
    'Plan the order (seed 001)',
    `${plan.stopBatches.length} batch(es), then ${plan.dns.length} DNS VM(s)${plan.warnings.length ? `; ${plan.warnings.length} warning(s)` : ''}`,
  );
  proc.plan([], plan);

  const hung: HungVm[] = [];
  const poweredOff: string[] = [];
  const result = (): ShutdownResult => {
    const { running: _inVms, ...ran } = plan;
    return { cluster: inv.cluster, dryRun: !!input.dryRun, vms: saved(), plan: ran, hung, poweredOff, gates: proc.progress.gates, skipped: skippedSteps(proc) };
  };

  if (input.dryRun) {
    for (const s of EXECUTION) proc.markSkipped(s.id, s.title, 'dry run: the plan is shown, nothing is changed');
    const r = result();
    return proc.finish(r);
  }

  proc.setPhase('awaiting approval');
  await proc.step('approve', 'Approval of the VM list and the order', () =>
    proc.gate({
      name: GATE.approveShutdown,
      kind: 'approval',
      message: `Shut the whole cluster ${inv.cluster} down: stop ${vms.length - plan.untouched.length} VM(s) (DNS last), power off ${plan.islets.length} islet worker(s), stop GlusterFS, power off ${plan.managed.length} hypervisor(s), ${control} last.${plan.warnings.length ? ` Warnings: ${plan.warnings.join('; ')}` : ''}`,
      // counts per host, not the names: the list itself is the memo's (hvflowShutdown), shown by the Web UI and the CLI
      evidence: {
        vms: vms.length,
        vmsPerHost: countByHost(vms),
        listIn: `memo ${MEMO.shutdown}`,
        order: plan.order,
        warnings: plan.warnings,
        untouched: plan.untouched,
      },
      options: ['approve', 'reject'],
    }),
  );

  // The list may have changed while the gate waited: stop only what was approved, or adopt the new list.
  proc.setPhase('stopping VMs');
  let current = plan;
  const recheck = await proc.ensure('recheck-vms', 'Re-check: the running VMs are the approved list', async () => {
    current = planShutdown(inv, (await readFleet(inv)).units, { parallelism: input.parallelism });
    const was = new Set(vms.map((v) => v.vm));
    const is = new Set(current.running.map((v) => v.vm));
    const added = [...is].filter((v) => !was.has(v));
    const gone = [...was].filter((v) => !is.has(v));
    if (!added.length && !gone.length) return { ok: true };
    return {
      ok: false,
      reason: `the running VMs changed since the list was approved: ${added.length ? `now running ${added.join(', ')}` : ''}${added.length && gone.length ? '; ' : ''}${gone.length ? `no longer running ${gone.join(', ')}` : ''} (override: shut down the list as it is now)`,
      evidence: { added, gone },
    };
  });
  if (recheck.overriddenBy) {
    // Go on with the list as it is now, and save it for the start-up.
    plan = current;
    vms = current.running;
    saveList();
    proc.plan([], plan);
  }

  // ---- VMs ------------------------------------------------------------------------------------
  const unitsOf = (names: string[]) => names.map((v) => unitOfVm(inv, v));

  /** fleetctl stop --no-block per batch, waits for each batch; returns the units that did not stop in time. */
  async function stopInBatches(id: string, batchList: string[][]) {
    // One activity for every batch: the history does not grow with the VMs.
    const r = await waits.runUnitBatches.executeWithOptions(
      {
        startToCloseTimeout: `${batchList.length * (Math.ceil(stopTimeoutMs / 1000) + 60) + 300}s`,
        summary: `stop ${batchList.flat().length} VM(s) in ${batchList.length} batch(es), each stopped before the next`,
      },
      [{ batches: batchList.map(unitsOf), want: 'stopped', timeoutMs: stopTimeoutMs }],
    );
    const pending = r.pending.map((p) => ({ unit: p.unit, host: p.host }));
    proc.note(id, `${r.batchesDone}/${batchList.length} batch(es) done${pending.length ? `; not stopping: ${pending.map((p) => p.unit).join(', ')}` : ''}`);
    return pending;
  }

  // Stopping the VMs cannot be skipped (retry / abort only): the shutdown would then unmount
  // GlusterFS and power the hosts off under VMs that still run.

  /** Seed 001: stop fleet on the hosting hypervisor, stop the VM again, start fleet again. */
  async function remedy(id: string, title: string, pending: { unit: string; host?: string }[]) {
    if (!pending.length) return proc.markSkipped(id, title, 'every VM stopped in time');
    await proc.step(
      id,
      `${title}: ${pending.map((p) => `${p.unit}${p.host ? ` on ${p.host}` : ''}`).join(', ')}`,
      async () => {
        const hosts = [...new Set(pending.map((p) => p.host).filter((h): h is string => !!h))];
        for (const host of hosts) {
          const units = pending.filter((p) => p.host === host).map((p) => p.unit);
          await act.stopFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl stop fleet on ${host} (hung VM remedy)` }, [{ host }]);
          await act.stopUnits.executeWithOptions({ startToCloseTimeout: '5m', summary: `fleetctl stop --no-block ${units.join(' ')} again` }, [{ units }]);
          await act.startFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl start fleet on ${host}` }, [{ host }]);
          for (const unit of units) {
            if (!hung.some((x) => x.unit === unit))
              hung.push({
                unit,
                vm: vms.find((v) => v.unit === unit)?.vm ?? unit,
                host,
                remedy: `systemctl stop fleet on ${host}; fleetctl stop --no-block ${unit}; systemctl start fleet on ${host}`,
              });
          }
        }
        const units = pending.map((p) => p.unit);
        const r = await waits.waitUnits.executeWithOptions(
          { startToCloseTimeout: `${Math.ceil(stopTimeoutMs / 1000) + 300}s`, summary: `wait until the ${units.length} hung VM(s) are stopped` },
          [{ units, want: 'stopped', timeoutMs: stopTimeoutMs }],
        );
        if (r.pending.length) {
          throw ApplicationFailure.create({
            type: 'VmsDidNotStop',
            message: `still running after the remedy: ${r.pending.map((p) => `${p.unit} (${p.active}/${p.sub}${p.host ? ` on ${p.host}` : ''})`).join(', ')}`,
          });
        }
      },
      { changes: true, skippable: false },
    );
  }

  const firstPending = (await proc.step(
    'stop-vms',
    `Stop ${plan.stopBatches.flat().length} VM(s) but DNS VMs, ${input.parallelism ?? 10} at a time`,
    () => stopInBatches('stop-vms', plan.stopBatches),
    { changes: true, skippable: false },
  ))!;
  await remedy('remedy-vms', 'Hung VMs: stop fleet on the hypervisor, stop the VM again, start fleet', firstPending);

  if (plan.dns.length) {
    const dnsPending = (await proc.step('stop-dns', `Stop the DNS VMs ${plan.dns.join(' ')}`, () => stopInBatches('stop-dns', [plan.dns]), {
      changes: true,
      skippable: false,
    }))!;
    await remedy('remedy-dns', 'Hung DNS VMs: stop fleet on the hypervisor, stop the VM again, start fleet', dnsPending);
  } else {
    proc.markSkipped('stop-dns', 'Stop the DNS VMs', 'no DNS VM running');
    proc.markSkipped('remedy-dns', 'Hung DNS VMs', 'no DNS VM running');
  }

  // ---- islet workers ----------------------------------------------------------------------------
  proc.setPhase('powering off islets');
  if (plan.islets.length) {
    await proc.step('poweroff-islets', `Power off the islet workers ${plan.islets.join(' ')}`, () => powerOff(plan.islets, control), { changes: true });
    poweredOff.push(...plan.islets);
  } else proc.markSkipped('poweroff-islets', 'Power off the islet workers', 'no islet worker in the inventory');

  // ---- GlusterFS --------------------------------------------------------------------------------
  if (inv.gluster) {
    proc.setPhase('stopping GlusterFS');
    await proc.step(
      'unmount-gluster',
      `umount -a -t fuse.glusterfs on ${plan.glusterUnmount.join(' ')}`,
      async () => {
        const hosts = plan.glusterUnmount;
        if (hostBatches())
          await act.unmountGlusterOnHosts.executeWithOptions({ startToCloseTimeout: hostsTimeout(hosts), summary: `umount GlusterFS on ${hosts.join(' ')}` }, [
            { hosts },
          ]);
        else
          await Promise.all(
            hosts.map((host) => act.unmountGluster.executeWithOptions({ startToCloseTimeout: '5m', summary: `umount GlusterFS on ${host}` }, [{ host }])),
          );
      },
      { changes: true },
    );
    const clientsTimeoutMs = (input.clientsTimeoutSeconds ?? 120) * 1000;
    await proc.ensure('check-gluster-clients', 'No GlusterFS client left but self-heal daemons', async () => {
      const deadline = Date.now() + clientsTimeoutMs;
      for (;;) {
        const { ranOn, clients } = await act.glusterForeignClients({});
        if (!clients.length) return { ok: true };
        if (Date.now() >= deadline) {
          const who = [...new Set(clients.map((c) => c.client))];
          return {
            ok: false,
            reason: `GlusterFS client(s) still connected ${Math.round(clientsTimeoutMs / 1000)} s after the unmount: ${who.join(', ')}; stopping the volumes now would cut them off`,
            evidence: { clients, ranOn },
          };
        }
        await sleep('3s');
      }
    });
    await proc.step(
      'stop-volumes',
      `gluster --mode=script volume stop ${plan.volumes.join(', ')}`,
      async () => {
        for (const volume of plan.volumes)
          await act.glusterVolume.executeWithOptions({ startToCloseTimeout: '5m', summary: `gluster volume stop ${volume}` }, [{ volume, op: 'stop' }]);
      },
      { changes: true },
    );
    await proc.step(
      'stop-gluster',
      `systemctl stop glusterd; pkill glusterfs; pkill glusterfsd on ${plan.glusterServers.join(' ')}`,
      async () => {
        await Promise.all(
          plan.glusterServers.map((host) =>
            act.stopGlusterProcesses.executeWithOptions({ startToCloseTimeout: '5m', summary: `stop GlusterFS processes on ${host}` }, [{ host }]),
          ),
        );
      },
      { changes: true },
    );
  } else {
    for (const id of ['unmount-gluster', 'check-gluster-clients', 'stop-volumes', 'stop-gluster'])
      proc.markSkipped(id, STEPS.find((s) => s.id === id)!.title, 'no GlusterFS in the inventory');
  }

  // ---- hypervisors ------------------------------------------------------------------------------
  proc.setPhase('awaiting approval');
  await proc.step(GATE.approvePoweroff, 'Approval of the hypervisors power off', () =>
    proc.gate({
      name: GATE.approvePoweroff,
      kind: 'approval',
      message: `Every VM is stopped and GlusterFS is down. Power off ${plan.poweroffFirst.join(', ') || 'no other hypervisor'}, then ${control}.`,
      evidence: { poweroffFirst: plan.poweroffFirst, poweroffLast: control, hung: hung.map((x) => x.vm) },
      options: ['approve', 'reject'],
    }),
  );
  proc.setPhase('powering off');
  if (plan.poweroffFirst.length) {
    await proc.step('poweroff-hypervisors', `Power off ${plan.poweroffFirst.join(' ')}`, () => powerOff(plan.poweroffFirst, control), { changes: true });
    poweredOff.push(...plan.poweroffFirst);
  } else proc.markSkipped('poweroff-hypervisors', 'Power off the hypervisors but the control host', 'no other hypervisor');
  // The control host last: its down-check is an SSH probe from the worker, nothing else needs it.
  await proc.step('poweroff-control', `Power off ${control} (last)`, () => powerOff([control], undefined), { changes: true });
  poweredOff.push(control);

  const r = result();
  return proc.finish(r);

  async function powerOff(hosts: string[], via: string | undefined): Promise<void> {
    if (hostBatches())
      await act.powerOffHosts.executeWithOptions(
        { startToCloseTimeout: hostsTimeout(hosts), summary: `systemd-run --on-active=${delaySeconds} poweroff on ${hosts.join(' ')}` },
        [{ hosts, delaySeconds, via }],
      );
    else
      await Promise.all(
        hosts.map((host) =>
          act.powerOffHost.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemd-run --on-active=${delaySeconds} poweroff on ${host}` }, [
            { host, delaySeconds, via },
          ]),
        ),
      );
    const w = await waits.waitHostsDown.executeWithOptions(
      { startToCloseTimeout: `${Math.ceil(downTimeoutMs / 1000) + 300}s`, summary: `wait until ${hosts.join(' ')} ${hosts.length > 1 ? 'are' : 'is'} off` },
      [{ hosts, via, timeoutMs: downTimeoutMs }],
    );
    if (w.pending.length) {
      throw ApplicationFailure.create({
        type: 'HostsStillOn',
        message: `still on ${Math.round(w.elapsedMs / 1000)} s after poweroff: ${w.pending.join(', ')}`,
      });
    }
  }
}
