/**
 * Seed 001's order, as planned from the inventory and fleet's units (domain/shutdown-plan.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventoryYaml } from '../../domain/inventory';
import { batches, isletWorkers, networkCheck, planShutdown, planStartup, runningVms, type UnitView } from '../../domain/shutdown-plan';
import { seedTopology } from '../../lab/topology';

const inv = parseInventoryYaml(readFileSync(path.join(__dirname, '../../config/ocean.example.yaml'), 'utf8'));

/** fleet's view of the seed cluster (seed 002): launched units with a host run. */
function seedUnits(): UnitView[] {
  return seedTopology().units.map((u) => {
    const running = u.dstate === 'launched' && u.host !== undefined;
    return { unit: `pcocc-vm-${u.vm}.service`, vm: u.vm, host: u.host, active: running ? 'active' : 'inactive', sub: running ? 'running' : 'dead' };
  });
}

describe('planShutdown', () => {
  const plan = planShutdown(inv, seedUnits(), { parallelism: 10 });

  it('records exactly the active/running VMs, with their host and its role', () => {
    expect(plan.running).toHaveLength(30);
    expect(plan.running.map((v) => v.vm)).not.toContain('i12conf1'); // loaded, not running
    expect(plan.running.map((v) => v.vm)).not.toContain('i42log1'); // unscheduled
    expect(plan.running.find((v) => v.vm === 'ns3')).toEqual({ vm: 'ns3', unit: 'pcocc-vm-ns3.service', host: 'top3', role: 'top' });
    expect(plan.running.find((v) => v.vm === 'i54log1')).toMatchObject({ host: 'islet55', role: 'islet' });
  });

  it('stops every VM but DNS and never-touch VMs first, in batches of the parallelism', () => {
    const first = plan.stopBatches.flat();
    expect(first).toHaveLength(30 - 3 - 2);
    for (const vm of ['ns1', 'ns2', 'ns3', 'irene271a', 'irene271b']) expect(first).not.toContain(vm);
    expect(plan.stopBatches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(plan.dns).toEqual(['ns1', 'ns2', 'ns3']);
    expect(plan.untouched).toEqual(['irene271a', 'irene271b']);
  });

  it('powers off islet workers, then the hypervisors, the control host last', () => {
    expect(plan.islets).toEqual(['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55']);
    expect(plan.managed).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(plan.poweroffFirst).toEqual(['top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(plan.poweroffLast).toBe('top1');
    expect(plan.volumes).toEqual(['volspoms1', 'volspoms2']);
    const order = plan.order.join('\n');
    expect(order.indexOf('DNS')).toBeLessThan(order.indexOf('islet'));
    expect(order.indexOf('umount')).toBeLessThan(order.indexOf('volume stop'));
    expect(plan.order[plan.order.length - 1]).toBe('poweroff top1 (last)');
  });

  it('counts a VM that is starting (activating) as one to stop and start again, not one stopping or failed', () => {
    const units = seedUnits().map((u) =>
      u.vm === 'i12conf1'
        ? { ...u, host: 'islet12', active: 'activating', sub: 'start-pre' }
        : u.vm === 'db1'
          ? { ...u, active: 'deactivating', sub: 'stop-sigterm' }
          : u.vm === 'lb1'
            ? { ...u, active: 'failed', sub: 'failed' }
            : u,
    );
    const vms = runningVms(inv, units).map((v) => v.vm);
    expect(vms).toContain('i12conf1');
    expect(vms).not.toContain('db1');
    expect(vms).not.toContain('lb1');
  });

  it('counts a VM fleet was told to start but has not scheduled yet (DSTATE launched): fleet would start it at boot', () => {
    const units = seedUnits().map((u) =>
      u.vm === 'i42log1' ? { ...u, dstate: 'launched' } : u.vm === 'lb2' ? { ...u, active: 'failed', sub: 'failed', dstate: 'launched' } : u,
    );
    const vms = runningVms(inv, units);
    expect(vms.find((v) => v.vm === 'i42log1')).toEqual({ vm: 'i42log1', unit: 'pcocc-vm-i42log1.service', host: undefined, role: undefined });
    expect(vms.map((v) => v.vm)).not.toContain('lb2'); // failed: not running, nothing to stop
  });

  it('warns about VMs that stay up without etcd', () => {
    expect(plan.warnings.join('\n')).toMatch(/irene271a on irene271, irene271b on irene271/);
  });

  it('islet workers are the hosts of role islet: a group named island_worker means nothing by its name', () => {
    const other = { ...inv, controlHost: 'irene271', groups: { island_worker: 'islet[54-55],worker3' } };
    expect(isletWorkers(other)).toEqual(['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55']);
    const renamed = { ...inv, groups: { compute_islands: 'islet[12-13]' } };
    expect(isletWorkers(renamed)).toEqual(['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55']);
    const noIslets = { ...inv, hypervisors: inv.hypervisors.map((h) => (h.role === 'islet' ? { ...h, role: 'router' as const } : h)) };
    expect(isletWorkers(noIslets)).toEqual([]);
    expect(planShutdown(noIslets, seedUnits()).islets).toEqual([]);
  });

  it('a control host outside top/worker still plans, powered off last', () => {
    const other = { ...inv, controlHost: 'irene271' };
    const p = planShutdown(other, seedUnits());
    expect(p.poweroffLast).toBe('irene271');
    expect(p.poweroffFirst).not.toContain('irene271');
    expect(p.managed[0]).toBe('irene271');
  });

  it('GlusterFS is unmounted on its clients and servers, and its daemons stopped on its servers only', () => {
    // the seeds: servers top[1-3], clients @top,@worker
    expect(plan.glusterUnmount).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(plan.glusterServers).toEqual(['top1', 'top2', 'top3']);
    expect(plan.order).toContain('systemctl stop glusterd; pkill glusterfs; pkill glusterfsd on top1 top2 top3');
    // worker3 mounts nothing and serves nothing; the router mounts the volumes; an islet mounts them but is off by then
    const other = { ...inv, gluster: { ...inv.gluster!, clients: 'top[1-3],worker[1-2],irene271,islet12' } };
    const p = planShutdown(other, seedUnits());
    expect(p.glusterUnmount).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'irene271']);
    expect(p.glusterServers).toEqual(['top1', 'top2', 'top3']);
    expect(p.order.filter((l) => /umount|glusterd/.test(l)).join('\n')).not.toMatch(/worker3/);
    expect(p.order).toContain('umount -t fuse.glusterfs -a on top1 top2 top3 worker1 worker2 irene271');
    // no clients listed: the servers, which mount what they serve (seed 000), are the only ones
    const serversOnly = { ...inv, gluster: { ...inv.gluster!, clients: undefined } };
    expect(planShutdown(serversOnly, seedUnits()).glusterUnmount).toEqual(['top1', 'top2', 'top3']);
    // no GlusterFS at all
    const none = { ...inv, gluster: undefined };
    expect(planShutdown(none, seedUnits())).toMatchObject({ glusterUnmount: [], glusterServers: [], volumes: [] });
  });

  it('parallelism 1 gives one VM per batch; an empty cluster plans nothing to stop', () => {
    expect(planShutdown(inv, seedUnits(), { parallelism: 1 }).stopBatches.every((b) => b.length === 1)).toBe(true);
    const empty = planShutdown(inv, []);
    expect(empty.running).toEqual([]);
    expect(empty.stopBatches).toEqual([]);
    expect(empty.dns).toEqual([]);
  });
});

describe('planStartup', () => {
  const list = runningVms(inv, seedUnits()).map((v) => v.vm);

  it('starts DHCP, then DNS, then the rest; never-touch and excluded VMs are left out', () => {
    const p = planStartup(inv, list, { exclude: 'webrelay1,lb[1-2]', parallelism: 8 });
    expect(p.dhcp).toEqual(['infra1', 'infra2']);
    expect(p.dns).toEqual(['ns1', 'ns2', 'ns3']);
    const rest = p.restBatches.flat();
    expect(rest).toHaveLength(30 - 2 - 3 - 2 - 3);
    for (const vm of ['infra1', 'ns1', 'irene271a', 'webrelay1', 'lb1', 'lb2']) expect(rest).not.toContain(vm);
    expect(p.restBatches[0]).toHaveLength(8);
    expect(p.excluded).toEqual(
      expect.arrayContaining([
        { vm: 'irene271a', why: 'never touched by hvflow (vms.neverTouch)' },
        { vm: 'lb1', why: 'excluded by the operator' },
      ]),
    );
    expect(p.powerOn[0]).toBe('top1');
    expect(p.fleetHosts).toEqual([...p.powerOn, ...p.islets]);
    expect(p.pingHosts).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
  });

  it('a DHCP or DNS VM that was not running is not started, and said so', () => {
    const p = planStartup(
      inv,
      list.filter((v) => v !== 'infra2' && v !== 'ns3'),
    );
    expect(p.dhcp).toEqual(['infra1']);
    expect(p.dns).toEqual(['ns1', 'ns2']);
    expect(p.notInList).toEqual(['infra2', 'ns3']);
  });

  it('a bad exclude names the field', () => {
    expect(() => planStartup(inv, list, { exclude: 'lnet[1-' })).toThrow(/^exclude: invalid nodeset "lnet\[1-"/);
    expect(() => planStartup(inv, list, { exclude: 'LNET1' })).toThrow(/^exclude: "LNET1" is not a valid VM name/);
  });

  it('duplicates in the list are started once', () => {
    const p = planStartup(inv, ['admin1', 'admin1', 'ns1']);
    expect(p.restBatches.flat()).toEqual(['admin1']);
    expect(p.dns).toEqual(['ns1']);
  });
});

describe('networkCheck (seed 001: anything that slows communications is a finding)', () => {
  const hosts = (rtts: Record<string, number | null>) =>
    Object.entries(rtts).map(([host, rtt]) => (rtt === null ? { host, alive: false } : { host, alive: true, rttMs: rtt }));

  it('fast answers pass', () => {
    expect(networkCheck({ elapsedMs: 40, hosts: hosts({ top1: 0.04, top2: 0.05 }) }, 100, 2000).ok).toBe(true);
  });

  it('a slow round trip, an unreachable host, a name that does not resolve, a slow run: each is a finding', () => {
    const r = networkCheck(
      { elapsedMs: 5300, hosts: [...hosts({ top1: 0.04, top2: 250, worker3: null }), { host: 'worker9', alive: false, error: 'Name or service not known' }] },
      100,
      2000,
    );
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/top2 answers in 250 ms \(> 100 ms\)/);
    expect(r.reason).toMatch(/worker3 is unreachable/);
    expect(r.reason).toMatch(/worker9 does not resolve \(Name or service not known\)/);
    expect(r.reason).toMatch(/took 5300 ms \(> 2000 ms\): slow name resolution/);
  });
});

describe('batches', () => {
  it('splits in order', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 3)).toEqual([]);
  });
});
