/**
 * Seed 001 in the seed lab on the real Temporal server: a full cluster shutdown (with a VM that
 * hangs on stop) then the ordered start-up (with a host that stays off and a slow fping answer).
 * The tests run in order and share the cluster's state: the start-up starts what the shutdown stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { startHarness, waitForProgress, gateWaiting, type Harness } from '../helpers/harness';
import { approveSignal, decideSignal, progressQuery } from '../../workflows/messages';
import type { ShutdownResult } from '../../workflows/cluster-shutdown';
import type { StartupResult } from '../../workflows/cluster-startup';
import type { CommandLogEntry } from '../../lab/model';
import { lockWorkflowId } from '../../domain/contract';

let h: Harness;
const started: WorkflowHandle[] = [];
/** What was true of the cluster when given commands finished (checked by a listener on the lab). */
const violations: string[] = [];

const DNS = ['ns1', 'ns2', 'ns3'];
const DHCP = ['infra1', 'infra2'];
const NEVER = ['irene271a', 'irene271b'];
const MANAGED = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
const ISLETS = ['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55'];

const vmOf = (unit: string) => unit.replace(/^pcocc-vm-/, '').replace(/\.service$/, '');
const running = () => new Map([...h.lab.model.units.values()].filter((u) => u.active === 'active' && u.sub === 'running').map((u) => [u.vm, u.host!]));
const roleClass = (host: string) =>
  (({ top: 'managed', worker: 'managed' }) as Record<string, string>)[h.lab.model.machine(host).role] ?? h.lab.model.machine(host).role;
const lastSeq = () => h.lab.commandLog().reduce((m, e) => Math.max(m, e.seq), 0);
const mutatingSince = (seq: number) => h.lab.commandLog({ mutating: true }).filter((e) => e.seq > seq);
const line = (e: { host: string; argv: string[] }) => `${e.host}: ${e.argv.join(' ')}`;

/** Seed 001's ordering rules, checked on the lab's state at the moment the command completed. */
function watchOrder(e: CommandLogEntry) {
  const [tool, verb] = e.argv;
  const m = h.lab.model;
  const units = e.argv.filter((a) => a.startsWith('pcocc-vm-')).map(vmOf);
  if (tool === 'fleetctl' && verb === 'stop' && units.some((u) => DNS.includes(u))) {
    const still = [...m.units.values()].filter((u) => !DNS.includes(u.vm) && !NEVER.includes(u.vm) && u.active === 'active');
    if (still.length) violations.push(`DNS VM stopped while ${still.map((u) => u.vm).join(', ')} still ran`);
  }
  if (tool === 'gluster' && e.argv.includes('stop') && e.argv.includes('volume')) {
    const mounted = [...m.machines.values()].filter((x) => x.power && x.mounts.size > 0);
    if (mounted.length) violations.push(`volume stopped while ${mounted.map((x) => x.name).join(', ')} still mounted it`);
  }
  if (tool === 'fleetctl' && verb === 'start' && units.length) {
    const noFleet = [...MANAGED, ...ISLETS].filter((x) => !m.machine(x).fleetd);
    if (noFleet.length) violations.push(`VM(s) ${units.join(' ')} started while fleetd was not running on ${noFleet.join(', ')}`);
    const up = (vms: string[]) => vms.every((v) => m.unit(v)!.active === 'active' && m.unit(v)!.sub === 'running');
    if (units.some((u) => DNS.includes(u)) && !up(DHCP)) violations.push('DNS VMs started before the DHCP VMs ran');
    if (units.some((u) => !DNS.includes(u) && !DHCP.includes(u)) && !(up(DHCP) && up(DNS)))
      violations.push(`${units.join(' ')} started before DHCP and DNS VMs ran`);
  }
}

beforeAll(async () => {
  h = await startHarness();
  h.lab.model.on('command', watchOrder);
});
afterAll(async () => {
  for (const handle of started) await handle.terminate('test file over').catch(() => undefined);
  await h?.stop();
});

async function start(workflow: 'clusterShutdown' | 'clusterStartup', input: Record<string, unknown>) {
  const handle = await h.client.workflow.start(workflow, {
    taskQueue: h.taskQueue,
    workflowId: `${workflow}-${randomUUID()}`,
    args: [{ cluster: 'ocean', requestedBy: 'alice', ...input }],
  });
  started.push(handle);
  return handle;
}

describe('clusterShutdown and clusterStartup (seed 001)', () => {
  let before: Map<string, string>;
  let shutdownId: string;

  it('refuses a start-up with no VM list, a bad VM name or an unknown shutdown, before touching anything', async () => {
    const seq = lastSeq();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /shutdownWorkflowId: .*give shutdownWorkflowId \(the shutdown whose VM list to start\) or vms/],
      [{ vms: ['admin1;reboot'] }, /vms\[0\]: "admin1;reboot" must be a lowercase letter/],
      [{ exclude: 'lnet[1-', vms: ['admin1'] }, /exclude: invalid nodeset "lnet\[1-"/],
      [{ shutdownWorkflowId: `no-such-${randomUUID()}`, dryRun: true }, /shutdownWorkflowId: no workflow "no-such-/],
    ];
    for (const [input, re] of cases) {
      const err = await (await start('clusterStartup', input)).result().catch((e) => e);
      expect(String(err.cause?.message), JSON.stringify(input)).toMatch(re);
      expect(err.cause?.type).toBe('InvalidInput');
    }
    expect(h.lab.commandLog().filter((e) => e.seq > seq)).toEqual([]);
  });

  it('dry-run shutdown returns the running VMs and the order, and changes nothing', async () => {
    before = running();
    const seq = lastSeq();
    const handle = await start('clusterShutdown', { dryRun: true });
    const r: ShutdownResult = await handle.result();
    expect(r.dryRun).toBe(true);
    expect(new Set(r.vms.map((v) => v.vm))).toEqual(new Set(before.keys()));
    expect(r.plan.dns).toEqual(DNS);
    expect(r.plan.untouched).toEqual(NEVER);
    expect(r.plan.poweroffLast).toBe('top1');
    expect(r.skipped.some((s) => s.startsWith('poweroff-control: dry run'))).toBe(true);
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('a VM list that changed while the approval waited parks the shutdown before anything stops', async () => {
    const seq = lastSeq();
    const handle = await start('clusterShutdown', {});
    await waitForProgress(handle, gateWaiting('approve-shutdown'));
    // Somebody starts a VM meanwhile; approved at once, before fleet has even scheduled it.
    h.lab.model.fleetStart('i12conf1');
    await handle.signal(approveSignal, { by: 'bob', reason: 'go' });
    const p = await waitForProgress(handle, gateWaiting('recheck-vms-unsafe'));
    expect(p.gate!.message).toMatch(/the running VMs changed since the list was approved: now running i12conf1/);
    await handle.signal(decideSignal, { decision: 'abort', by: 'bob', reason: 'find out who started i12conf1' });
    const err = await handle.result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/aborted at gate recheck-vms-unsafe by bob.*nothing was changed on the cluster/);
    // The failure says where it stopped; it does not carry the progress (the plan lists every VM).
    expect(err.cause?.details).toEqual([{ procedure: 'clusterShutdown', cluster: 'ocean', phase: 'stopping VMs', changed: [] }]);
    expect(mutatingSince(seq)).toEqual([]);
    // Back to the state of the dry run, and the lock free again.
    h.lab.model.fleetStop('i12conf1');
    await h.lab.model.waitFor(() => h.lab.model.unit('i12conf1')!.active === 'inactive');
    expect(running()).toEqual(before);
    for (let i = 0; i < 50 && (await h.client.workflow.getHandle(lockWorkflowId('ocean')).describe()).status.name === 'RUNNING'; i++)
      await new Promise((r) => setTimeout(r, 100));
  });

  it('shuts the cluster down in the seed order; a VM hung on stop gets the seed remedy', async () => {
    h.lab.faults.hangOnStop('db1'); // runs on top3
    const seq = lastSeq();
    const handle = await start('clusterShutdown', {
      parallelism: 10,
      stopTimeoutSeconds: 6,
      poweroffDelaySeconds: 1,
      hostDownTimeoutSeconds: 60,
      reason: 'power work in the machine room',
    });
    shutdownId = handle.workflowId;
    const p = await waitForProgress(handle, gateWaiting('approve-shutdown'));
    expect(mutatingSince(seq)).toEqual([]);
    expect(p.gate!.evidence).toMatchObject({ vms: before.size, listIn: 'memo hvflowShutdown' });
    expect(p.gate!.evidence.order).toEqual((p.plan as ShutdownResult['plan']).order);
    // The list is in the memo before anything is stopped (the start-up reads it from there).
    const memo = (await handle.describe()).memo as { hvflowShutdown: { vms: { vm: string }[]; dryRun: boolean } };
    expect(memo.hvflowShutdown.dryRun).toBe(false);
    expect(new Set(memo.hvflowShutdown.vms.map((v) => v.vm))).toEqual(new Set(before.keys()));
    await handle.signal(approveSignal, { by: 'bob', reason: 'maintenance window 2024-W12' });

    const q = await waitForProgress(handle, gateWaiting('approve-poweroff'), 120_000);
    // Every VM but the never-touch ones is down, the volumes are stopped, islets are off.
    expect([...running().keys()].sort()).toEqual(NEVER);
    expect([...h.lab.model.volumes.values()].map((v) => v.status)).toEqual(['Stopped', 'Stopped']);
    for (const islet of ISLETS) expect(h.lab.model.machine(islet).power).toBe(false);
    for (const host of MANAGED) expect(h.lab.model.machine(host).power).toBe(true);
    expect(q.steps.find((s) => s.id === 'remedy-vms')!.state).toBe('done');
    await handle.signal(approveSignal, { by: 'bob', reason: 'go' });

    const r: ShutdownResult = await handle.result();
    expect(new Set(r.vms.map((v) => v.vm))).toEqual(new Set(before.keys()));
    for (const v of r.vms) expect(v.host).toBe(before.get(v.vm));
    expect(r.hung).toEqual([expect.objectContaining({ vm: 'db1', unit: 'pcocc-vm-db1.service', host: 'top3' })]);
    expect(r.poweredOff[r.poweredOff.length - 1]).toBe('top1');
    for (const host of [...MANAGED, ...ISLETS]) expect(h.lab.model.machine(host).power, host).toBe(false);
    expect(h.lab.model.machine('irene271').power).toBe(true); // routers are out of scope
    expect((await handle.query(progressQuery)).phase).toBe('done');

    // The command log, in the seed's order.
    const log = mutatingSince(seq).map(line);
    const at = (re: RegExp) => log.findIndex((l) => re.test(l));
    const lastAt = (re: RegExp) => log.length - 1 - [...log].reverse().findIndex((l) => re.test(l));
    const firstDnsStop = at(/fleetctl stop --no-block .*pcocc-vm-ns\d/);
    expect(firstDnsStop).toBeGreaterThan(0);
    for (const [i, l] of log.entries()) {
      if (/fleetctl stop/.test(l) && !/pcocc-vm-ns\d/.test(l)) expect(i, l).toBeLessThan(firstDnsStop);
    }
    // The remedy on db1's hypervisor, after its first stop and before the DNS VMs.
    const db1Stops = log
      .map((l, i) => [l, i] as const)
      .filter(([l]) => /fleetctl stop --no-block .*pcocc-vm-db1\.service/.test(l))
      .map(([, i]) => i);
    expect(db1Stops).toHaveLength(2);
    const stopFleet = log.indexOf('top3: systemctl stop fleet');
    const startFleet = log.indexOf('top3: systemctl start fleet');
    expect(db1Stops[0]).toBeLessThan(stopFleet);
    expect(stopFleet).toBeLessThan(db1Stops[1]);
    expect(db1Stops[1]).toBeLessThan(startFleet);
    expect(startFleet).toBeLessThan(firstDnsStop);
    // islets, then GlusterFS (unmount, volumes, daemons), then the hypervisors, top1 last.
    const isletOff = ISLETS.map((x) => log.findIndex((l) => l.startsWith(`${x}: systemd-run`)));
    for (const i of isletOff) expect(i).toBeGreaterThan(firstDnsStop);
    const firstUmount = at(/umount -t fuse.glusterfs -a/);
    expect(firstUmount).toBeGreaterThan(Math.max(...isletOff));
    expect(at(/gluster --mode=script volume stop volspoms1/)).toBeGreaterThan(lastAt(/umount -t fuse.glusterfs -a/));
    expect(at(/systemctl stop glusterd/)).toBeGreaterThan(lastAt(/volume stop/));
    const hvOff = MANAGED.map((x) => log.findIndex((l) => l.startsWith(`${x}: systemd-run`)));
    for (const i of hvOff) expect(i).toBeGreaterThan(lastAt(/pkill glusterfsd/));
    expect(log[log.length - 1]).toBe('top1: systemd-run --on-active=1 --unit=hvflow-poweroff poweroff');
    // Nothing ran twice but the seed's second stop of the hung VM.
    const dup = log.filter((l, i) => log.indexOf(l) !== i && !/pcocc-vm-db1/.test(l));
    expect(dup).toEqual([]);
    // The BMC password went through stdin: no command line holds it.
    expect(h.lab.commandLog().some((e) => e.argv.join(' ').includes('lab-bmc-password'))).toBe(false);
    expect(violations).toEqual([]);
  });

  it('dry-run start-up reads the shutdown list and plans DHCP, DNS, then the rest, touching nothing', async () => {
    const seq = lastSeq();
    const r: StartupResult = await (await start('clusterStartup', { shutdownWorkflowId: shutdownId, dryRun: true, exclude: 'webrelay1' })).result();
    expect(r.dryRun).toBe(true);
    expect(r.source).toEqual({ shutdownWorkflowId: shutdownId, explicit: false, vms: before.size });
    expect(r.plan.dhcp).toEqual(DHCP);
    expect(r.plan.dns).toEqual(DNS);
    expect(r.plan.restBatches.flat()).not.toContain('webrelay1');
    expect(r.plan.excluded.map((x) => x.vm).sort()).toEqual([...NEVER, 'webrelay1'].sort());
    expect(h.lab.commandLog().filter((e) => e.seq > seq)).toEqual([]);
  });

  it('starts the cluster in the seed order; a host that stays off parks it, a slow answer is a finding', async () => {
    h.lab.faults.stayOff('worker3');
    h.lab.faults.slowPing('top2', 250);
    const seq = lastSeq();
    const handle = await start('clusterStartup', { shutdownWorkflowId: shutdownId, hostUpTimeoutSeconds: 8, startTimeoutSeconds: 60 });

    const p = await waitForProgress(handle, gateWaiting('host-not-back'), 90_000);
    expect(p.gate!.kind).toBe('host');
    expect(p.gate!.options).toEqual(['retry', 'skip', 'abort']);
    expect(p.gate!.evidence.hosts).toEqual(['worker3']);
    expect(p.gate!.message).toMatch(/worker3 did not answer SSH/);
    expect(mutatingSince(seq).filter((e) => e.argv[0] === 'fleetctl' || e.argv[0] === 'gluster')).toEqual([]);
    const search = (await handle.describe()).searchAttributes as Record<string, unknown[]>;
    expect(search.HvflowAwaitingApproval).toEqual([true]);
    // The BMC: power on went through ipmitool, whose password never is an argument.
    expect(
      mutatingSince(seq)
        .filter((e) => e.argv[0] === 'sh' || e.argv[0] === 'ipmitool')
        .every((e) => !e.argv.includes('lab-bmc-password')),
    ).toBe(true);

    h.lab.faults.stayOff('worker3', false); // the PSU was replaced
    await handle.signal(decideSignal, { decision: 'retry', by: 'carol' });

    const q = await waitForProgress(handle, gateWaiting('check-network-unsafe'), 90_000);
    expect(q.gate!.message).toMatch(/top2 answers in 250 ms \(> 100 ms\)/);
    await handle.signal(decideSignal, { decision: 'override', by: 'carol', reason: 'top2 link known slow, ticket 77' });

    const r: StartupResult = await handle.result();
    expect(r.hostsNotBack).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.gates.map((g) => [g.name, g.decision, g.by])).toEqual([
      ['host-not-back', 'retry', 'carol'],
      ['check-network-unsafe', 'override', 'carol'],
    ]);

    // Exactly the VMs that were running before the shutdown run again, on hypervisors of the same role.
    const now = running();
    expect(new Set(now.keys())).toEqual(new Set(before.keys()));
    for (const [vm, host] of now) {
      expect(roleClass(host), `${vm} on ${host}`).toBe(roleClass(before.get(vm)!));
      expect(h.lab.model.satisfies(h.lab.model.unit(vm)!, h.lab.model.machine(host)), `${vm} on ${host}`).toBe(true);
    }
    expect(new Set(r.started.map((s) => s.vm))).toEqual(new Set([...before.keys()].filter((v) => !NEVER.includes(v))));

    // The command log in the seed's order: hosts, GlusterFS, islets, fleetd, DHCP, DNS, the rest.
    const log = mutatingSince(seq).map(line);
    const at = (re: RegExp) => log.findIndex((l) => re.test(l));
    const lastAt = (re: RegExp) => log.length - 1 - [...log].reverse().findIndex((l) => re.test(l));
    expect(at(/gluster --mode=script volume start/)).toBeGreaterThan(0);
    expect(at(/volume heal volspoms1$/)).toBeGreaterThan(at(/volume start volspoms2/));
    const firstFleet = at(/systemctl start fleet/);
    expect(firstFleet).toBeGreaterThan(at(/volume heal volspoms2$/));
    const starts = log.filter((l) => /fleetctl start/.test(l));
    expect(at(/fleetctl start/)).toBeGreaterThan(lastAt(/systemctl start fleet/));
    expect(starts[0]).toBe('top1: fleetctl start --no-block pcocc-vm-infra1.service pcocc-vm-infra2.service');
    expect(starts[1]).toBe('top1: fleetctl start --no-block pcocc-vm-ns1.service pcocc-vm-ns2.service pcocc-vm-ns3.service');
    expect(starts.slice(2).every((l) => !/infra|pcocc-vm-ns\d/.test(l))).toBe(true);
    expect(violations).toEqual([]);
    const final = await handle.query(progressQuery);
    expect(final.phase).toBe('done');
    h.lab.faults.slowPing('top2', 0);
  });
});
