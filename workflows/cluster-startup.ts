/**
 * clusterStartup — seed 001 "Cluster start-up procedure":
 *
 *   hypervisors      ipmitool power on (BMC of the inventory), wait until each answers SSH; a host
 *                    that cannot be powered parks on `power-on-failed`, one that does not come back
 *                    on `host-not-back` (retry / abort, and skip where the start-up can go on
 *                    without it: domain/startup-without.ts); a skipped host is left out of every
 *                    later step of the run, and the result lists it with the steps it missed
 *   etcd             every member healthy again (fleet needs it)
 *   GlusterFS        gluster peer status; time fping @top,@worker (slow answers are findings);
 *                    gluster volume start; gluster volume heal; heal info drains to 0
 *   islet workers    power on, wait until they answer
 *   fleet            systemctl start fleet on top, worker and islet workers
 *   VMs              DHCP VMs, then DNS VMs, then every VM of the shutdown's list (minus `exclude`
 *                    and never-touch VMs), each tier running before the next starts
 *   health           fleet machines, GlusterFS, etcd, every VM of the list running
 *
 * ipmitool runs from the first place of the inventory's `ipmiFrom` that reaches the BMCs
 * (domain/ipmi-routes.ts: a hypervisor that answers SSH, the control host first; a BMC relay; the
 * worker itself), or from `ipmiVia`; in a cold start-up nothing is up, and a relay or the worker
 * powers the first hosts on.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { loadByHost } from '../domain/cluster';
import { etcdMembers, glusterClients, hypervisor, unitOfVm, vmSet, type Inventory } from '../domain/inventory';
import { ipmiRoutes, routeName, type IpmiRoute } from '../domain/ipmi-routes';
import { unpackFleet } from '../domain/fleet-wire';
import { reasonsNotToGoOnWithout } from '../domain/startup-without';
import { networkCheck, planStartup, type StartupPlan } from '../domain/shutdown-plan';
import { failedGate, GATE } from '../domain/contract';
import { act, waits } from './activities';
import { hostBatches, hostsTimeout } from './host-batches';
import { readFleet } from './fleet-state';
import { acquireClusterLock } from './cluster-lock';
import { glusterCheck } from './guards';
import { skippedSteps } from './procedure';
import { checked, validated } from './validate';
import { readinessCheck } from './host-ready';
import { failureMessage, Procedure } from './procedure';
import type { Finished, GateRecord, ProcedureInputBase } from './messages';

export interface ClusterStartupInput extends ProcedureInputBase {
  /** The clusterShutdown whose saved VM list to start (its memo / result). */
  shutdownWorkflowId?: string;
  /** Or the VMs to start, explicitly (wins over shutdownWorkflowId). */
  vms?: string[];
  /** VMs not to start (nodeset of VM names, e.g. lnet[1-4]): seed 001 "filter ... lnet routers". */
  exclude?: string;
  /** VMs started per batch after DHCP and DNS. Default 10. */
  parallelism?: number;
  /** How long a powered-on host may take to answer SSH. Default 900. */
  hostUpTimeoutSeconds?: number;
  /** An fping round trip above this is a finding. Default 100 ms. */
  maxRttMs?: number;
  /** The whole `fping` of the hypervisors (name resolution included) above this is a finding. Default 2000 ms. */
  maxFpingMs?: number;
  /** Bound of the wait for heal entries to drain. Default 30. */
  healWaitMinutes?: number;
  /** How long a tier of VMs may take to be running. Default 600. */
  startTimeoutSeconds?: number;
  /** Host to run ipmitool on, a hypervisor or a BMC relay (default: the inventory's ipmiFrom order). */
  ipmiVia?: string;
}

export interface StartupResult {
  cluster: string;
  dryRun: boolean;
  /** Where the list came from. */
  source: { shutdownWorkflowId?: string; explicit: boolean; vms: number };
  plan: StartupPlan;
  /** Every VM started, and where it runs now. */
  started: { vm: string; host?: string }[];
  /** Hosts an operator chose to go on without (gate power-on-failed or host-not-back, decision skip). */
  hostsNotBack: string[];
  /** The same, with why, who decided, and the steps of this run that ran without them. */
  leftOut: LeftOutHost[];
  /** What the final health check found (empty when healthy). */
  problems: string[];
  /** Weight per hypervisor at the end: fleet places VMs as fleetd joins and never rebalances (see `failback`). */
  loadByHost: Record<string, number>;
  /** Not blocking, worth a look: hypervisors loaded beyond their capacity (a `failback` spreads them). */
  warnings: string[];
  gates: GateRecord[];
  skipped: string[];
}

export interface LeftOutHost {
  host: string;
  /** What happened to it: the power-on failure, or how long it was waited for. */
  why: string;
  by?: string;
  reason?: string;
  /** Steps of this run that left it out (it would have been part of them). */
  leftOutOf: string[];
}

const STEPS = [
  { id: 'inventory', title: 'Read the inventory' },
  { id: 'vm-list', title: "Read the VM list (the shutdown's, or given)" },
  { id: 'plan', title: 'Plan the order (seed 001)' },
  { id: 'power-on', title: 'Power on the top and worker hypervisors (IPMI)' },
  { id: 'wait-hosts', title: 'Wait until each hypervisor answers SSH' },
  { id: 'check-etcd', title: 'etcd: every member healthy' },
  { id: 'check-peers', title: 'gluster peer status: every peer connected' },
  { id: 'check-network', title: 'time fping of the top and worker hypervisors' },
  { id: 'start-volumes', title: 'gluster volume start' },
  { id: 'heal', title: 'gluster volume heal' },
  { id: 'wait-heal', title: 'gluster volume heal info: wait until 0 entries' },
  { id: 'recheck-gluster', title: 'GlusterFS healthy (heal 0, no rebalance, no tier daemon)' },
  { id: 'mount-gluster', title: 'Mount the GlusterFS volumes on the clients (mount -a -t glusterfs)' },
  { id: 'check-mounts', title: 'Every GlusterFS client mounts the volumes' },
  { id: 'power-on-islets', title: 'Power on the islet workers' },
  { id: 'wait-islets', title: 'Wait until each islet worker answers SSH' },
  { id: 'start-fleet', title: 'systemctl start fleet on top, worker and islet workers' },
  { id: 'check-fleet', title: 'fleet: every machine registered, every VM known' },
  { id: 'place-vms', title: 'Place every VM on a host with room (fleetctl load; re-placed while not running)' },
  { id: 'start-dhcp', title: 'Start the DHCP VMs' },
  { id: 'start-dns', title: 'Start the DNS VMs' },
  { id: 'start-vms', title: 'Start the other VMs of the list' },
  { id: 'final-health', title: 'Health checks: fleet, GlusterFS, etcd, VMs running' },
];
const EXECUTION = STEPS.slice(STEPS.findIndex((s) => s.id === 'power-on'));

export async function clusterStartup(input: ClusterStartupInput): Promise<Finished<StartupResult>> {
  input = validated('clusterStartup', input);
  const proc = new Procedure('clusterStartup', input);
  proc.plan(STEPS);
  proc.setPhase('planning');

  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  if (input.ipmiVia) checked(() => ipmiRoutes(inv, { only: input.ipmiVia, field: 'ipmiVia' }));
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'clusterStartup', inv.cluster, input.requestedBy);

  const listed = (await proc.step(
    'vm-list',
    input.vms ? `VM list given (${input.vms.length} VM(s))` : `Read the VM list of shutdown ${input.shutdownWorkflowId}`,
    async () => (input.vms ? input.vms.map((vm) => ({ vm })) : (await act.shutdownVmList({ workflowId: input.shutdownWorkflowId! })).vms),
    { skippable: false },
  ))!;
  const vms = listed.map((v) => v.vm);
  if (input.vms) await refuseUnknownVms(input.vms, inv, input);
  proc.note('vm-list', `${vms.length} VM(s): ${vms.join(', ') || 'none'}`);
  const plan = checked(() => planStartup(inv, vms, { exclude: input.exclude, parallelism: input.parallelism }));
  proc.markDone(
    'plan',
    'Plan the order (seed 001)',
    `${plan.dhcp.length} DHCP, ${plan.dns.length} DNS, ${plan.restBatches.flat().length} other VM(s); ${plan.excluded.length} not started`,
  );
  proc.plan([], plan);

  const hostsNotBack: string[] = [];
  const leftOut: LeftOutHost[] = [];
  const problems: string[] = [];
  const started: StartupResult['started'] = [];
  let load: Record<string, number> = {};
  const warnings: string[] = [];
  const result = (): StartupResult => ({
    cluster: inv.cluster,
    dryRun: !!input.dryRun,
    source: { shutdownWorkflowId: input.vms ? undefined : input.shutdownWorkflowId, explicit: !!input.vms, vms: vms.length },
    plan,
    started,
    hostsNotBack,
    leftOut,
    problems,
    loadByHost: load,
    warnings,
    gates: proc.progress.gates,
    skipped: skippedSteps(proc),
  });
  if (input.dryRun) {
    for (const s of EXECUTION) proc.markSkipped(s.id, s.title, 'dry run: the plan is shown, nothing is changed');
    const r = result();
    return proc.finish(r);
  }

  const upTimeoutMs = (input.hostUpTimeoutSeconds ?? 900) * 1000;
  const startTimeoutMs = (input.startTimeoutSeconds ?? 600) * 1000;

  /** `hosts` without the ones left out of the run; each left-out host records that `step` ran without it. */
  const present = (step: string, hosts: string[]): string[] =>
    hosts.filter((h) => {
      const out = leftOut.find((x) => x.host === h);
      if (out && !out.leftOutOf.includes(step)) out.leftOutOf.push(step);
      return !out;
    });

  /**
   * A gate about hosts that are not up: retry, abort, and skip (go on without them, left out of the
   * rest of the run) only when the start-up can go on without them.
   */
  async function hostsGate(name: string, hosts: string[], what: string, retry: string, evidence: Record<string, unknown>): Promise<'retry' | 'skip'> {
    const them = hosts.length > 1 ? 'them' : 'it';
    const cannot = reasonsNotToGoOnWithout(
      inv,
      hosts,
      leftOut.map((x) => x.host),
    );
    const gate = await proc.gate({
      name,
      kind: 'host',
      message: `${what} Retry (${retry}), ${cannot.length ? '' : `skip (go on without ${them}: left out of every later step of this run) `}or abort.${cannot.length ? ` Going on without ${them} is not offered: ${cannot.join('; ')}.` : ''}`,
      evidence: { hosts, ...evidence, cannotGoOnWithout: cannot },
      options: cannot.length ? ['retry', 'abort'] : ['retry', 'skip', 'abort'],
    });
    if (gate.decision !== 'skip') return 'retry';
    for (const host of hosts) leftOut.push({ host, why: what, by: gate.by, reason: gate.reason, leftOutOf: [] });
    hostsNotBack.push(...hosts);
    return 'skip';
  }

  /**
   * ipmitool power on `hosts` from the first route that reaches their BMCs; returns the ones powered
   * and why the others were not. `checkFirst`: hosts that answer SSH already (powered on by hand since
   * a gate) are not powered again.
   */
  async function powerOn(stepId: string, hosts: string[], checkFirst: boolean): Promise<{ powered: string[]; failed: { host: string; error: string }[] }> {
    const powered: string[] = [];
    let todo = hosts;
    if (checkFirst) {
      const up = await waits.waitHostsUp.executeWithOptions({ startToCloseTimeout: '5m', summary: `do ${hosts.join(' ')} answer SSH already?` }, [
        { hosts, timeoutMs: 0 },
      ]);
      powered.push(...up.done);
      todo = up.pending;
    }
    if (!todo.length) return { powered, failed: [] };
    const routes = ipmiRoutes(inv, { only: input.ipmiVia, first: [...plan.powerOn, ...plan.islets], without: leftOut.map((x) => x.host) });
    let via: IpmiRoute;
    try {
      via = await act.pickIpmiRoute.executeWithOptions({ startToCloseTimeout: '10m', summary: 'find where ipmitool reaches the BMCs' }, [
        { routes, probe: todo },
      ]);
    } catch (e) {
      if (isCancellation(e)) throw e;
      return { powered, failed: todo.map((host) => ({ host, error: failureMessage(e) })) };
    }
    proc.note(stepId, `ipmitool runs on ${routeName(via)}`);
    if (hostBatches()) {
      // each host's own retries are the activity's; what fails is data, for the gate
      const r = await act.ipmiPowerHosts.executeWithOptions(
        { startToCloseTimeout: hostsTimeout(todo), summary: `ipmitool power on ${todo.join(' ')} (from ${routeName(via)})` },
        [{ hosts: todo, action: 'on', via }],
      );
      return { powered: [...powered, ...r.done], failed: r.failed };
    }
    const results = await Promise.allSettled(
      todo.map((host) =>
        act.ipmiPower.executeWithOptions({ startToCloseTimeout: '5m', summary: `ipmitool power on ${host} (from ${routeName(via)})` }, [
          { host, action: 'on', via },
        ]),
      ),
    );
    const failed: { host: string; error: string }[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') powered.push(todo[i]!);
      else if (isCancellation(r.reason)) throw r.reason;
      else failed.push({ host: todo[i]!, error: failureMessage(r.reason) });
    });
    return { powered, failed };
  }

  /** Powers hosts on through their BMCs and waits for SSH; a host that cannot be powered or does not come back parks on a gate. */
  async function bringUp(powerId: string, waitId: string, hosts: string[]): Promise<void> {
    const hasBmc = (h: string) => !!hypervisor(inv, h).bmc;
    let toPower = hosts.filter(hasBmc);
    let toWait = hosts.filter((h) => !hasBmc(h)); // no BMC in the inventory: powered on by hand
    let checkFirst = false;
    for (;;) {
      if (toPower.length) {
        const batch = toPower;
        const byHand = toWait.filter((h) => !hasBmc(h));
        const r = (await proc.step(
          powerId,
          `ipmitool power on ${batch.join(' ')}${byHand.length ? `; by hand: ${byHand.join(' ')}` : ''}`,
          () => powerOn(powerId, batch, checkFirst),
          {
            changes: true,
            skippable: false,
          },
        ))!;
        toWait = [...new Set([...toWait, ...r.powered])];
        toPower = [];
        if (r.failed.length) {
          const failed = r.failed.map((f) => f.host);
          proc.note(powerId, `not powered: ${r.failed.map((f) => `${f.host} (${f.error})`).join('; ')}`);
          const decision = await hostsGate(
            failedGate(powerId),
            failed,
            `ipmitool could not power on ${failed.join(', ')}: ${[...new Set(r.failed.map((f) => f.error))].join('; ')}.`,
            'ipmitool again, once the BMC or its network is fixed; a host powered on by hand meanwhile and answering SSH is not powered again',
            { errors: r.failed, powered: r.powered },
          );
          if (decision === 'retry') {
            toPower = failed;
            checkFirst = true;
            continue;
          }
        }
      }
      if (!toWait.length) return;
      const waiting = toWait;
      const w = (await proc.step(
        waitId,
        `Wait until ${waiting.join(' ')} answer${waiting.length > 1 ? '' : 's'} SSH (at most ${Math.round(upTimeoutMs / 1000)} s)`,
        () =>
          waits.waitHostsUp.executeWithOptions(
            { startToCloseTimeout: `${Math.ceil(upTimeoutMs / 1000) + 300}s`, summary: `wait until ${waiting.join(' ')} answer SSH` },
            [{ hosts: waiting, timeoutMs: upTimeoutMs }],
          ),
        { skippable: false },
      ))!;
      if (!w.pending.length) return;
      proc.note(waitId, `not back: ${w.pending.join(', ')}`);
      const decision = await hostsGate(
        GATE.hostNotBack,
        w.pending,
        `${w.pending.join(', ')} did not answer SSH within ${Math.round(w.elapsedMs / 1000)} s of the power on. Check the console and the BMC.`,
        'power on again and wait',
        { back: w.done, waitedSeconds: Math.round(w.elapsedMs / 1000) },
      );
      if (decision === 'skip') {
        proc.note(waitId, `went on without ${w.pending.join(', ')} (skipped)`);
        return;
      }
      toPower = w.pending.filter(hasBmc);
      toWait = w.pending.filter((h) => !hasBmc(h));
      checkFirst = false;
    }
  }

  // ---- hypervisors ------------------------------------------------------------------------------
  proc.setPhase('powering on');
  await bringUp('power-on', 'wait-hosts', plan.powerOn);

  // ---- etcd, GlusterFS ----------------------------------------------------------------------------
  proc.setPhase('checking');
  if (inv.etcd) {
    const members = present('check-etcd', etcdMembers(inv));
    const ignore = etcdMembers(inv).filter((m) => !members.includes(m));
    await proc.ensure('check-etcd', 'etcd: every member healthy', async () => {
      const e = await waits.waitEtcdHealthy.executeWithOptions({ startToCloseTimeout: '10m', summary: 'wait until every etcd member is healthy' }, [
        { timeoutMs: 5 * 60_000, ignore },
      ]);
      const unhealthy = e.unhealthyMembers.filter((m) => members.includes(m));
      return {
        ok: unhealthy.length === 0,
        reason: unhealthy.length ? `etcd member(s) not healthy: ${unhealthy.join(', ')}` : undefined,
        evidence: { healthy: e.healthyMembers, unhealthy, leftOut: ignore },
      };
    });
  } else proc.markSkipped('check-etcd', 'etcd: every member healthy', 'no etcd cluster in the inventory');

  if (inv.gluster) {
    await proc.ensure('check-peers', 'gluster peer status: every peer connected', async () => {
      const { ranOn, peers } = await act.glusterPeers();
      const bad = peers.filter((p) => !p.connected || p.state !== 'Peer in Cluster');
      return {
        ok: bad.length === 0,
        reason: bad.length
          ? `GlusterFS peer(s) not connected (as ${ranOn} sees them): ${bad.map((p) => `${p.hostname} (${p.state}${p.connected ? '' : ', Disconnected'})`).join(', ')}`
          : undefined,
        evidence: { ranOn, peers },
      };
    });
  } else proc.markSkipped('check-peers', 'gluster peer status', 'no GlusterFS in the inventory');

  const maxRtt = input.maxRttMs ?? 100;
  const maxFping = input.maxFpingMs ?? 2000;
  const pingHosts = present('check-network', plan.pingHosts);
  await proc.ensure('check-network', `time fping ${pingHosts.join(' ')} (round trip ≤ ${maxRtt} ms, whole run ≤ ${maxFping} ms)`, async () =>
    networkCheck(await act.fpingHosts({ hosts: pingHosts }), maxRtt, maxFping),
  );

  if (inv.gluster) {
    proc.setPhase('starting GlusterFS');
    await proc.step(
      'start-volumes',
      `gluster volume start ${plan.volumes.join(', ')}`,
      async () => {
        for (const volume of plan.volumes)
          await act.glusterVolume.executeWithOptions({ startToCloseTimeout: '5m', summary: `gluster volume start ${volume}` }, [{ volume, op: 'start' }]);
      },
      { changes: true },
    );
    await proc.step(
      'heal',
      `gluster volume heal ${plan.volumes.join(', ')}`,
      async () => {
        for (const volume of plan.volumes) {
          const r = await act.glusterHeal.executeWithOptions({ startToCloseTimeout: '5m', summary: `gluster volume heal ${volume}` }, [{ volume }]);
          if (!r.triggered) proc.note('heal', `no heal sent: ${r.reason}`);
        }
      },
      { changes: true },
    );
    const minutes = input.healWaitMinutes ?? 30;
    await proc.step('wait-heal', `gluster volume heal info: wait until 0 entries (at most ${minutes} min)`, () =>
      waits.waitHealDrained.executeWithOptions(
        { startToCloseTimeout: `${minutes + 5}m`, retry: { maximumAttempts: 1 }, summary: 'wait until every volume reports 0 heal entries' },
        [{ timeoutMs: minutes * 60_000 }],
      ),
    );
    await proc.ensure('recheck-gluster', 'GlusterFS healthy (heal 0, no rebalance, no tier daemon)', async () => glusterCheck(await act.glusterHealth({})));
    // The volumes were stopped when the hosts booted: their fstab mounts failed. VM images live there.
    const clients = present('mount-gluster', glusterClients(inv));
    await proc.step(
      'mount-gluster',
      `mount -a -t glusterfs on the GlusterFS clients ${clients.join(' ') || '(none)'}`,
      async () => {
        if (hostBatches())
          await act.startServicesOnHosts.executeWithOptions(
            { startToCloseTimeout: hostsTimeout(clients), summary: `mount the GlusterFS volumes on ${clients.join(' ')}` },
            [{ hosts: clients }],
          );
        else
          await Promise.all(
            clients.map((host) =>
              act.startHostServices.executeWithOptions({ startToCloseTimeout: '5m', summary: `mount the GlusterFS volumes on ${host}` }, [{ host }]),
            ),
          );
      },
      { changes: true },
    );
    await proc.ensure('check-mounts', 'Every GlusterFS client mounts the volumes', async () =>
      readinessCheck(await act.hostReadiness({ hosts: clients }), { mountsOnly: true, why: 'VMs started there would find no image' }),
    );
  } else
    for (const id of ['start-volumes', 'heal', 'wait-heal', 'recheck-gluster', 'mount-gluster', 'check-mounts'])
      proc.markSkipped(id, STEPS.find((s) => s.id === id)!.title, 'no GlusterFS in the inventory');

  // ---- islet workers ------------------------------------------------------------------------------
  if (plan.islets.length) {
    proc.setPhase('powering on islets');
    await bringUp('power-on-islets', 'wait-islets', plan.islets);
  } else {
    proc.markSkipped('power-on-islets', 'Power on the islet workers', 'no islet worker in the inventory');
    proc.markSkipped('wait-islets', 'Wait until each islet worker answers SSH', 'no islet worker in the inventory');
  }

  // ---- fleet ------------------------------------------------------------------------------------
  proc.setPhase('starting fleet');
  const fleetHosts = present('start-fleet', plan.fleetHosts);
  await proc.step(
    'start-fleet',
    `systemctl start fleet on ${fleetHosts.join(' ')}`,
    async () => {
      if (hostBatches())
        await act.startFleetOnHosts.executeWithOptions(
          { startToCloseTimeout: hostsTimeout(fleetHosts), summary: `systemctl start fleet on ${fleetHosts.join(' ')}` },
          [{ hosts: fleetHosts }],
        );
      else
        await Promise.all(
          fleetHosts.map((host) => act.startFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl start fleet on ${host}` }, [{ host }])),
        );
    },
    { changes: true },
  );

  const wanted = [...plan.dhcp, ...plan.dns, ...plan.restBatches.flat()];
  let unknown: string[] = [];
  present('check-fleet', plan.fleetHosts);
  await proc.ensure('check-fleet', 'fleet: every machine registered, every VM known', async () => {
    const f = await waits.waitFleetReady.executeWithOptions(
      { startToCloseTimeout: '5m', summary: `wait until fleetd runs on ${fleetHosts.length} host(s) and fleet knows every VM` },
      [{ hosts: fleetHosts, vms: wanted, timeoutMs: 60_000 }],
    );
    unknown = f.unknown;
    if (!f.missing.length && !f.unknown.length) return { ok: true };
    const reasons = [
      ...(f.missing.length ? [`fleetd not registered on ${f.missing.join(', ')}`] : []),
      ...(f.unknown.length ? [`fleet knows no unit for ${f.unknown.join(', ')} (override: go on without them)`] : []),
    ];
    return { ok: false, reason: reasons.join('; '), evidence: { missing: f.missing, unknown: f.unknown, registered: f.registered } };
  });
  const known = (list: string[]) => list.filter((v) => !unknown.includes(v));

  // ---- placement ----------------------------------------------------------------------------------
  // fleet gave every unit left loaded to the first fleetd that registered; fleetctl start would run
  // them there. Every VM is scheduled first and the schedule made to fit the capacities while
  // nothing runs (moving a VM that does not run is free); only a placement that fits is started.
  proc.setPhase('placing VMs');
  await proc.ensure('place-vms', 'Place every VM on a host with room (fleetctl load; re-placed while not running)', async () => {
    const p = await waits.placeVms.executeWithOptions({ startToCloseTimeout: '30m', summary: `schedule ${known(wanted).length} VM(s) on hosts with room` }, [
      { vms: known(wanted) },
    ]);
    const hosts = Object.entries(p.loadAfter)
      .filter(([, l]) => l > 0)
      .map(([h, l]) => `${h} ${l}`);
    proc.note(
      'place-vms',
      `${p.rounds} round(s); weight per host once started: ${hosts.join(', ')}${p.unscheduled.length ? `; not scheduled: ${p.unscheduled.join(', ')}` : ''}`,
    );
    return {
      ok: p.ok,
      reason:
        p.reason &&
        `${p.reason}; fleet's scheduler found no placement that fits after ${p.rounds} round(s) of re-placing (override: start them where they are scheduled)`,
      evidence: { overflow: p.overflow, loadAfter: p.loadAfter, unscheduled: p.unscheduled },
    };
  });

  // ---- VMs --------------------------------------------------------------------------------------
  proc.setPhase('starting VMs');
  const unitsOf = (names: string[]) => names.map((v) => unitOfVm(inv, v));

  /** fleetctl start --no-block, then wait until every unit is active/running; returns where they run. */
  async function startTier(names: string[]) {
    const units = unitsOf(names);
    await act.startUnits.executeWithOptions({ startToCloseTimeout: '5m', summary: `fleetctl start --no-block ${names.join(' ')}` }, [{ units }]);
    const r = await waits.waitUnits.executeWithOptions(
      { startToCloseTimeout: `${Math.ceil(startTimeoutMs / 1000) + 300}s`, summary: `wait until ${names.length} VM(s) run` },
      [{ units, want: 'running', timeoutMs: startTimeoutMs }],
    );
    if (r.pending.length) notStarted(r.pending);
  }

  function notStarted(pending: { unit: string; host?: string; active?: string; sub?: string }[]): never {
    throw ApplicationFailure.create({
      type: 'VmsDidNotStart',
      message: `not running ${Math.round(startTimeoutMs / 1000)} s after fleetctl start: ${pending.map((p) => `${p.unit} (${p.active ?? '?'}/${p.sub ?? '?'}${p.host ? ` on ${p.host}` : ''})`).join(', ')}`,
    });
  }

  for (const [id, label, names] of [
    ['start-dhcp', 'DHCP', known(plan.dhcp)],
    ['start-dns', 'DNS', known(plan.dns)],
  ] as const) {
    if (names.length) await proc.step(id, `Start the ${label} VMs ${names.join(' ')}`, () => startTier(names), { changes: true });
    else proc.markSkipped(id, `Start the ${label} VMs`, `no ${label} VM in the list`);
  }
  const rest = plan.restBatches.map(known).filter((b) => b.length);
  if (rest.length) {
    await proc.step(
      'start-vms',
      `Start the ${rest.flat().length} other VM(s), ${input.parallelism ?? 10} at a time`,
      async () => {
        // One activity for every batch: the history does not grow with the VMs.
        const r = await waits.runUnitBatches.executeWithOptions(
          {
            startToCloseTimeout: `${rest.length * (Math.ceil(startTimeoutMs / 1000) + 60) + 300}s`,
            summary: `start ${rest.flat().length} VM(s) in ${rest.length} batch(es), each running before the next`,
          },
          [{ batches: rest.map(unitsOf), want: 'running', timeoutMs: startTimeoutMs, stopAtPending: true }],
        );
        proc.note('start-vms', `${r.batchesDone}/${rest.length} batch(es) running`);
        if (r.pending.length) notStarted(r.pending);
      },
      { changes: true },
    );
  } else proc.markSkipped('start-vms', 'Start the other VMs of the list', 'no other VM in the list');

  // ---- health -----------------------------------------------------------------------------------
  proc.setPhase('checking');
  const toStart = known(wanted);
  present('final-health', plan.fleetHosts);
  const etcdChecked = inv.etcd ? present('final-health', etcdMembers(inv)) : [];
  await proc.ensure('final-health', 'Health checks: fleet, GlusterFS, etcd, VMs running', async () => {
    const found: string[] = [];
    const fleet = await readFleet(inv);
    const registered = new Set(fleet.machines.map((m) => m.host));
    for (const h of fleetHosts) if (!registered.has(h)) found.push(`${h}: fleetd is not registered`);
    load = loadByHost(fleet.snapshot);
    warnings.length = 0;
    for (const h of inv.hypervisors) {
      if (h.capacity !== undefined && (load[h.name] ?? 0) > h.capacity) {
        warnings.push(
          `${h.name} carries ${load[h.name]} of weight for a capacity of ${h.capacity}: fleet placed the VMs as fleetd joined and does not rebalance; run failback to spread them`,
        );
      }
    }
    started.length = 0;
    const unitOf = new Map(fleet.units.map((u) => [u.vm, u])); // not a scan per VM: 10,000 VMs
    for (const vm of toStart) {
      const u = unitOf.get(vm);
      if (u?.active === 'active' && u.sub === 'running') started.push({ vm, host: u.host });
      else found.push(`${vm}: not running (${u?.active ?? '?'}/${u?.sub ?? '?'})`);
    }
    if (inv.gluster) found.push(...(await act.glusterHealth({})).problems);
    if (inv.etcd) {
      const e = await act.etcdHealth({ avoid: leftOut.map((x) => x.host) });
      const unhealthy = e.unhealthyMembers.filter((m) => etcdChecked.includes(m));
      if (unhealthy.length) found.push(`etcd: unhealthy member(s) ${unhealthy.join(', ')}`);
    }
    problems.splice(0, problems.length, ...found);
    return { ok: found.length === 0, reason: found.join('; ') || undefined, evidence: { problems: found } };
  });

  const r = result();
  return proc.finish(r);
}

/**
 * A VM named in `vms` must be one the cluster has: in the saved list of the shutdown when one is
 * given, otherwise a VM of the inventory or one fleet has a unit for (asked when fleet answers: a
 * cold cluster cannot tell, and its start-up says at `check-fleet` which VMs fleet does not know).
 */
async function refuseUnknownVms(vms: string[], inv: Inventory, input: ClusterStartupInput): Promise<void> {
  let known: Set<string> | undefined;
  let source: string;
  if (input.shutdownWorkflowId) {
    known = new Set((await act.shutdownVmList({ workflowId: input.shutdownWorkflowId })).vms.map((v) => v.vm));
    source = `the VM list saved by shutdown ${input.shutdownWorkflowId}`;
  } else {
    const named = new Set((['dhcp', 'dns', 'neverTouch', 'critical'] as const).flatMap((k) => vmSet(inv, k)));
    source = `a VM of cluster ${inv.cluster} (its inventory names no such VM, fleet has no unit for it)`;
    try {
      // one try: a cold cluster has no fleet to ask, and the start-up must not wait on it
      const fleet = unpackFleet(
        await act.fleetState.executeWithOptions({ startToCloseTimeout: '2m', retry: { maximumAttempts: 1 }, summary: 'which VMs fleet knows' }, [{}]),
      );
      known = new Set([...named, ...fleet.units.map((u) => u.vm).filter((v): v is string => !!v)]);
    } catch {
      return; // fleet does not answer (a cold cluster): check-fleet says which VMs it does not know
    }
  }
  const bad = vms.map((vm, i) => [vm, i] as const).filter(([vm]) => !known!.has(vm));
  if (bad.length)
    checked(() => {
      throw new Error(bad.map(([vm, i]) => `vms[${i}]: ${JSON.stringify(vm)} is not ${source}`).join('; '));
    });
}
