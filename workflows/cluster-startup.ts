/**
 * clusterStartup — seed 001 "Cluster start-up procedure":
 *
 *   hypervisors      ipmitool power on (BMC of the inventory), wait until each answers SSH; a host
 *                    that does not come back parks on gate `host-not-back` (retry / skip / abort)
 *   etcd             every member healthy again (fleet needs it)
 *   GlusterFS        gluster peer status; time fping @top,@worker (slow answers are findings);
 *                    gluster volume start; gluster volume heal; heal info drains to 0
 *   islet workers    power on, wait until they answer
 *   fleet            systemctl start fleet on top, worker and islet workers
 *   VMs              DHCP VMs, then DNS VMs, then every VM of the shutdown's list (minus `exclude`
 *                    and never-touch VMs), each tier running before the next starts
 *   health           fleet machines, GlusterFS, etcd, every VM of the list running
 *
 * While the control host is off, ipmitool runs on the first inventory host that answers SSH (or on
 * `ipmiVia`); once the control host is back, on it.
 */
import { ApplicationFailure, sleep } from '@temporalio/workflow';
import { loadByHost } from '../domain/cluster';
import { hypervisor, unitOfVm, type Inventory } from '../domain/inventory';
import { networkCheck, planStartup, type StartupPlan } from '../domain/shutdown-plan';
import { act, waits } from './activities';
import { acquireClusterLock } from './cluster-lock';
import { glusterCheck, skippedSteps } from './evacuate-hypervisor';
import { checked, validated } from './validate';
import { Procedure } from './procedure';
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
  /** Host to run ipmitool on while the control host is off (default: the first host that answers). */
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
  /** Hosts an operator chose to go on without (gate host-not-back, decision skip). */
  hostsNotBack: string[];
  /** What the final health check found (empty when healthy). */
  problems: string[];
  /** Weight per hypervisor at the end: fleet places VMs as fleetd joins and never rebalances (see `failback`). */
  loadByHost: Record<string, number>;
  /** Not blocking, worth a look: hypervisors loaded beyond their capacity (a `failback` spreads them). */
  warnings: string[];
  gates: GateRecord[];
  skipped: string[];
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
  { id: 'power-on-islets', title: 'Power on the islet workers' },
  { id: 'wait-islets', title: 'Wait until each islet worker answers SSH' },
  { id: 'start-fleet', title: 'systemctl start fleet on top, worker and islet workers' },
  { id: 'check-fleet', title: 'fleet: every machine registered, every VM known' },
  { id: 'start-dhcp', title: 'Start the DHCP VMs' },
  { id: 'start-dns', title: 'Start the DNS VMs' },
  { id: 'start-vms', title: 'Start the other VMs of the list' },
  { id: 'final-health', title: 'Health checks: fleet, GlusterFS, etcd, VMs running' },
];
const EXECUTION = STEPS.slice(STEPS.findIndex((s) => s.id === 'power-on'));

/** Hosts to try ipmitool from: the control host, the other managed hosts, then any other host. */
function relayCandidates(inv: Inventory, plan: StartupPlan, via?: string): string[] {
  if (via) return [via];
  const first = [plan.controlHost, ...plan.powerOn, ...plan.islets];
  return [...new Set([...first, ...inv.hypervisors.map((h) => h.name)])];
}

export async function clusterStartup(input: ClusterStartupInput): Promise<Finished<StartupResult>> {
  input = validated('clusterStartup', input);
  const proc = new Procedure('clusterStartup', input);
  proc.plan(STEPS);
  proc.setPhase('planning');

  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  if (input.ipmiVia) checked(() => hypervisor(inv, input.ipmiVia!, 'ipmiVia'));
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'clusterStartup', inv.cluster, input.requestedBy);

  const listed = (await proc.step(
    'vm-list',
    input.vms ? `VM list given (${input.vms.length} VM(s))` : `Read the VM list of shutdown ${input.shutdownWorkflowId}`,
    async () => (input.vms ? input.vms.map((vm) => ({ vm })) : (await act.shutdownVmList({ workflowId: input.shutdownWorkflowId! })).vms),
    { skippable: false },
  ))!;
  const vms = listed.map((v) => v.vm);
  proc.note('vm-list', `${vms.length} VM(s): ${vms.join(', ') || 'none'}`);
  const plan = checked(() => planStartup(inv, vms, { exclude: input.exclude, parallelism: input.parallelism }));
  proc.markDone('plan', 'Plan the order (seed 001)', `${plan.dhcp.length} DHCP, ${plan.dns.length} DNS, ${plan.restBatches.flat().length} other VM(s); ${plan.excluded.length} not started`);
  proc.plan([], plan);

  const hostsNotBack: string[] = [];
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
  const candidates = relayCandidates(inv, plan, input.ipmiVia);

  /** Powers hosts on through their BMCs and waits for SSH; a host that does not come back parks on `host-not-back`. */
  async function bringUp(powerId: string, waitId: string, hosts: string[]): Promise<void> {
    let todo = hosts;
    for (;;) {
      const withBmc = todo.filter((h) => !!hypervisor(inv, h).bmc);
      const byHand = todo.filter((h) => !withBmc.includes(h));
      await proc.step(powerId, `ipmitool power on ${withBmc.join(' ') || '(no host with a BMC)'}${byHand.length ? `; by hand: ${byHand.join(' ')}` : ''}`, async () => {
        if (!withBmc.length) return;
        const via = await act.pickRelay.executeWithOptions({ startToCloseTimeout: '10m', summary: 'find a host that reaches the BMCs' }, [{ candidates }]);
        proc.note(powerId, `ipmitool runs on ${via}`);
        await Promise.all(withBmc.map((host) => act.ipmiPower.executeWithOptions({ startToCloseTimeout: '5m', summary: `ipmitool power on ${host} (via ${via})` }, [{ host, action: 'on', via }])));
      }, { changes: true });
      const w = await proc.step(waitId, `Wait until ${todo.join(' ')} answer${todo.length > 1 ? '' : 's'} SSH (at most ${Math.round(upTimeoutMs / 1000)} s)`, () =>
        waits.waitHostsUp.executeWithOptions(
          { startToCloseTimeout: `${Math.ceil(upTimeoutMs / 1000) + 300}s`, summary: `wait until ${todo.join(' ')} answer SSH` },
          [{ hosts: todo, timeoutMs: upTimeoutMs }],
        ),
      );
      if (!w || !w.pending.length) return;
      proc.note(waitId, `not back: ${w.pending.join(', ')}`);
      const gate = await proc.gate({
        name: 'host-not-back',
        kind: 'host',
        message: `${w.pending.join(', ')} did not answer SSH within ${Math.round(w.elapsedMs / 1000)} s of the power on. Check the console and the BMC; retry (power on again and wait), skip (go on without ${w.pending.length > 1 ? 'them' : 'it'}) or abort.`,
        evidence: { hosts: w.pending, back: w.done, waitedSeconds: Math.round(w.elapsedMs / 1000) },
        options: ['retry', 'skip', 'abort'],
      });
      if (gate.decision === 'skip') {
        hostsNotBack.push(...w.pending);
        proc.note(waitId, `went on without ${w.pending.join(', ')} (skipped by ${gate.by}: ${gate.reason})`);
        return;
      }
      todo = w.pending;
    }
  }

  // ---- hypervisors ------------------------------------------------------------------------------
  proc.setPhase('powering on');
  await bringUp('power-on', 'wait-hosts', plan.powerOn);
  const up = (hosts: string[]) => hosts.filter((h) => !hostsNotBack.includes(h));

  // ---- etcd, GlusterFS ----------------------------------------------------------------------------
  proc.setPhase('checking');
  if (inv.etcd) {
    await proc.ensure('check-etcd', 'etcd: every member healthy', async () => {
      const e = await waits.waitEtcdHealthy.executeWithOptions({ startToCloseTimeout: '10m', summary: 'wait until every etcd member is healthy' }, [{ timeoutMs: 5 * 60_000 }]);
      return {
        ok: e.unhealthyMembers.length === 0,
        reason: e.unhealthyMembers.length ? `etcd member(s) not healthy: ${e.unhealthyMembers.join(', ')}` : undefined,
        evidence: { healthy: e.healthyMembers, unhealthy: e.unhealthyMembers },
      };
    });
  } else proc.markSkipped('check-etcd', 'etcd: every member healthy', 'no etcd cluster in the inventory');

  if (inv.gluster) {
    await proc.ensure('check-peers', 'gluster peer status: every peer connected', async () => {
      const { ranOn, peers } = await act.glusterPeers();
      const bad = peers.filter((p) => !p.connected || p.state !== 'Peer in Cluster');
      return {
        ok: bad.length === 0,
        reason: bad.length ? `GlusterFS peer(s) not connected (as ${ranOn} sees them): ${bad.map((p) => `${p.hostname} (${p.state}${p.connected ? '' : ', Disconnected'})`).join(', ')}` : undefined,
        evidence: { ranOn, peers },
      };
    });
  } else proc.markSkipped('check-peers', 'gluster peer status', 'no GlusterFS in the inventory');

  const maxRtt = input.maxRttMs ?? 100;
  const maxFping = input.maxFpingMs ?? 2000;
  await proc.ensure('check-network', `time fping ${plan.pingHosts.join(' ')} (round trip ≤ ${maxRtt} ms, whole run ≤ ${maxFping} ms)`, async () => networkCheck(await act.fpingHosts({ hosts: plan.pingHosts }), maxRtt, maxFping));

  if (inv.gluster) {
    proc.setPhase('starting GlusterFS');
    await proc.step('start-volumes', `gluster volume start ${plan.volumes.join(', ')}`, async () => {
      for (const volume of plan.volumes) await act.glusterVolume.executeWithOptions({ startToCloseTimeout: '5m', summary: `gluster volume start ${volume}` }, [{ volume, op: 'start' }]);
    }, { changes: true });
    await proc.step('heal', `gluster volume heal ${plan.volumes.join(', ')}`, async () => {
      for (const volume of plan.volumes) {
        const r = await act.glusterHeal.executeWithOptions({ startToCloseTimeout: '5m', summary: `gluster volume heal ${volume}` }, [{ volume }]);
        if (!r.triggered) proc.note('heal', `no heal sent: ${r.reason}`);
      }
    }, { changes: true });
    const minutes = input.healWaitMinutes ?? 30;
    await proc.step('wait-heal', `gluster volume heal info: wait until 0 entries (at most ${minutes} min)`, () =>
      waits.waitHealDrained.executeWithOptions(
        { startToCloseTimeout: `${minutes + 5}m`, retry: { maximumAttempts: 1 }, summary: 'wait until every volume reports 0 heal entries' },
        [{ timeoutMs: minutes * 60_000 }],
      ),
    );
    await proc.ensure('recheck-gluster', 'GlusterFS healthy (heal 0, no rebalance, no tier daemon)', async () => glusterCheck(await act.glusterHealth({})));
  } else for (const id of ['start-volumes', 'heal', 'wait-heal', 'recheck-gluster']) proc.markSkipped(id, STEPS.find((s) => s.id === id)!.title, 'no GlusterFS in the inventory');

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
  const fleetHosts = up(plan.fleetHosts);
  await proc.step('start-fleet', `systemctl start fleet on ${fleetHosts.join(' ')}`, async () => {
    await Promise.all(fleetHosts.map((host) => act.startFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl start fleet on ${host}` }, [{ host }])));
  }, { changes: true });

  const wanted = [...plan.dhcp, ...plan.dns, ...plan.restBatches.flat()];
  let unknown: string[] = [];
  await proc.ensure('check-fleet', 'fleet: every machine registered, every VM known', async () => {
    for (let i = 0; ; i++) {
      const fleet = await act.fleetState({});
      const registered = new Set(fleet.machines.map((m) => m.host));
      const missing = fleetHosts.filter((h) => !registered.has(h));
      unknown = wanted.filter((vm) => !fleet.units.some((u) => u.vm === vm));
      if (!missing.length && !unknown.length) return { ok: true };
      if (i >= 20) {
        const reasons = [
          ...(missing.length ? [`fleetd not registered on ${missing.join(', ')}`] : []),
          ...(unknown.length ? [`fleet knows no unit for ${unknown.join(', ')} (override: go on without them)`] : []),
        ];
        return { ok: false, reason: reasons.join('; '), evidence: { missing, unknown, registered: [...registered] } };
      }
      await sleep('3s');
    }
  });
  const known = (list: string[]) => list.filter((v) => !unknown.includes(v));

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
    if (r.pending.length) {
      throw ApplicationFailure.create({
        type: 'VmsDidNotStart',
        message: `not running ${Math.round(startTimeoutMs / 1000)} s after fleetctl start: ${r.pending.map((p) => `${p.unit} (${p.active ?? '?'}/${p.sub ?? '?'}${p.host ? ` on ${p.host}` : ''})`).join(', ')}`,
      });
    }
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
    await proc.step('start-vms', `Start the ${rest.flat().length} other VM(s), ${input.parallelism ?? 10} at a time`, async () => {
      for (const [i, batch] of rest.entries()) {
        await startTier(batch);
        proc.note('start-vms', `batch ${i + 1}/${rest.length} running`);
      }
    }, { changes: true });
  } else proc.markSkipped('start-vms', 'Start the other VMs of the list', 'no other VM in the list');

  // ---- health -----------------------------------------------------------------------------------
  proc.setPhase('checking');
  const toStart = known(wanted);
  await proc.ensure('final-health', 'Health checks: fleet, GlusterFS, etcd, VMs running', async () => {
    const found: string[] = [];
    const fleet = await act.fleetState({});
    const registered = new Set(fleet.machines.map((m) => m.host));
    for (const h of fleetHosts) if (!registered.has(h)) found.push(`${h}: fleetd is not registered`);
    load = loadByHost(fleet.snapshot);
    warnings.length = 0;
    for (const h of inv.hypervisors) {
      if (h.capacity !== undefined && (load[h.name] ?? 0) > h.capacity) {
        warnings.push(`${h.name} carries ${load[h.name]} of weight for a capacity of ${h.capacity}: fleet placed the VMs as fleetd joined and does not rebalance; run failback to spread them`);
      }
    }
    started.length = 0;
    for (const vm of toStart) {
      const u = fleet.units.find((x) => x.vm === vm);
      if (u?.active === 'active' && u.sub === 'running') started.push({ vm, host: u.host });
      else found.push(`${vm}: not running (${u?.active ?? '?'}/${u?.sub ?? '?'})`);
    }
    if (inv.gluster) found.push(...(await act.glusterHealth({})).problems);
    if (inv.etcd) {
      const e = await act.etcdHealth({});
      if (e.unhealthyMembers.length) found.push(`etcd: unhealthy member(s) ${e.unhealthyMembers.join(', ')}`);
    }
    problems.splice(0, problems.length, ...found);
    return { ok: found.length === 0, reason: found.join('; ') || undefined, evidence: { problems: found } };
  });

  const r = result();
  return proc.finish(r);
}
