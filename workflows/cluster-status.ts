/**
 * clusterStatus: the read-only picture a runbook starts from — machines, units and where they run,
 * the weight on each hypervisor (seed 000's load measurement), GlusterFS heal / rebalance / tier
 * state and etcd health. Touches nothing; takes no lock.
 */
import { loadByHost, weightSpread } from '../domain/cluster';
import { act } from './activities';
import { readFleet } from './fleet-state';
import { fleetGroup, stackOf, type Inventory } from '../domain/inventory';
import { xenSnapshot, type XenPoolView } from '../domain/xen-pool';
import { Procedure } from './procedure';
import { validated } from './validate';
import type { ProcedureInputBase } from './messages';
import type { PackedFleet } from '../domain/fleet-wire';
import type { GlusterHealth } from '../activities/gluster';
import type { EtcdHealth } from '../activities/etcd';

export interface ClusterStatusInput extends Pick<ProcedureInputBase, 'cluster'> {}

export interface ClusterStatus {
  cluster: string;
  /** Absent: a fleet cluster (a status recorded before hvflow knew other stacks). */
  stack?: 'xen';
  /** fleet: `fleet` is whether fleetd is registered; Xen: whether the host is live and enabled in the pool. */
  machines: { host: string; role?: string; fleet: boolean; metadata: Record<string, string> }[];
  /** fleet: every unit, where it runs, its state, Weight and constraints; packed (domain/fleet-wire.ts unpackFleet) to fit a payload at 10,000 VMs. */
  fleet?: PackedFleet;
  /** Xen: the pool (master, HA, hosts with their memory, VMs with where they are resident). */
  xen?: XenPoolView;
  /** Sum of the Weight of the running units (Xen: MiB of the running VMs), per hypervisor (seed 000 "measure the hypervisor load"). */
  loadByHost: Record<string, number>;
  weightSpread: number;
  gluster?: GlusterHealth;
  etcd?: EtcdHealth;
  /** Everything that is not as a healthy cluster should be, in words. */
  problems: string[];
}

export async function clusterStatus(input: ClusterStatusInput): Promise<ClusterStatus> {
  input = validated('clusterStatus', input);
  const proc = new Procedure('clusterStatus', { cluster: input.cluster });
  proc.plan([
    { id: 'inventory', title: 'Read the inventory' },
    { id: 'fleet', title: 'List fleet machines, units and weights' },
    { id: 'gluster', title: 'Check GlusterFS (tier, rebalance, heal)' },
    { id: 'etcd', title: 'Check etcd cluster health' },
  ]);
  proc.setPhase('checking');
  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster })))!;
  if (stackOf(inv) === 'xen') return xenPoolStatus(proc, inv);
  const fleet = (await proc.step('fleet', 'List fleet machines, units and weights', () => readFleet(inv), { skippable: false }))!;
  if (!inv.gluster) proc.markSkipped('gluster', 'Check GlusterFS (tier, rebalance, heal)', 'no GlusterFS volume in the inventory');
  const gluster = inv.gluster ? await proc.step('gluster', 'Check GlusterFS (tier, rebalance, heal)', () => act.glusterHealth({})) : undefined;
  if (!inv.etcd) proc.markSkipped('etcd', 'Check etcd cluster health', 'no etcd cluster in the inventory');
  const etcd = inv.etcd ? await proc.step('etcd', 'Check etcd cluster health', () => act.etcdHealth({})) : undefined;

  const load = loadByHost(fleet.snapshot);
  const managed = fleetGroup(inv, 'managed');
  const problems: string[] = [];
  const registered = new Set(fleet.machines.map((m) => m.host));
  for (const h of inv.hypervisors) if (!registered.has(h.name)) problems.push(`${h.name}: fleetd is not registered (fleet down or host off)`);
  problems.push(...(gluster?.problems ?? []));
  if (etcd?.unhealthyMembers.length) problems.push(`etcd: unhealthy member(s) ${etcd.unhealthyMembers.join(', ')}`);
  const machines = new Map(fleet.machines.map((m) => [m.host, m]));
  const status: ClusterStatus = {
    cluster: inv.cluster,
    machines: inv.hypervisors.map((h) => ({
      host: h.name,
      role: h.role,
      fleet: registered.has(h.name),
      metadata: machines.get(h.name)?.metadata ?? {},
    })),
    fleet: fleet.packed,
    loadByHost: load,
    weightSpread: weightSpread(load, managed),
    gluster: gluster ?? undefined,
    etcd: etcd ?? undefined,
    problems,
  };
  proc.finish({ problems });
  return status;
}

/** The same picture of a XenServer pool: hosts live / enabled, memory used per host, HA, guards where declared. */
async function xenPoolStatus(proc: Procedure, inv: Inventory): Promise<ClusterStatus> {
  proc.plan([{ id: 'pool', title: 'Read the pool: master, HA, hosts, VMs and their memory' }]);
  const pool = (await proc.step('pool', 'Read the pool: master, HA, hosts, VMs and their memory', () => act.xenPool({}), { skippable: false }))!;
  const gluster = inv.gluster ? await proc.step('gluster', 'Check GlusterFS (tier, rebalance, heal)', () => act.glusterHealth({})) : undefined;
  const etcd = inv.etcd ? await proc.step('etcd', 'Check etcd cluster health', () => act.etcdHealth({})) : undefined;
  const snapshot = xenSnapshot(inv, pool);
  const load = loadByHost(snapshot);
  const problems: string[] = [];
  const inPool = new Map(pool.hosts.map((h) => [h.name, h]));
  for (const h of inv.hypervisors) {
    const x = inPool.get(h.name);
    if (!x) problems.push(`${h.name}: not a host of pool ${pool.pool}`);
    else if (!x.live) problems.push(`${h.name}: not live (xapi does not answer the master)`);
    else if (!x.enabled) problems.push(`${h.name}: disabled (the pool places no VM on it)`);
  }
  for (const x of pool.hosts)
    if (!inv.hypervisors.some((h) => h.name === x.name)) problems.push(`${x.name}: a host of pool ${pool.pool} the inventory does not list`);
  if (!pool.haEnabled) problems.push(`pool ${pool.pool}: HA is off`);
  for (const vm of pool.vms) if (vm.operations.length) problems.push(`${vm.name}: ${vm.operations.join(', ')} in progress`);
  problems.push(...(gluster?.problems ?? []));
  if (etcd?.unhealthyMembers.length) problems.push(`etcd: unhealthy member(s) ${etcd.unhealthyMembers.join(', ')}`);
  const status: ClusterStatus = {
    cluster: inv.cluster,
    stack: 'xen',
    machines: inv.hypervisors.map((h) => {
      const x = inPool.get(h.name);
      return {
        host: h.name,
        role: h.role ?? (pool.master === h.name ? 'master' : 'member'),
        fleet: !!x && x.live && x.enabled,
        metadata: hostMetadata(x),
      };
    }),
    xen: pool,
    loadByHost: load,
    weightSpread: weightSpread(
      load,
      snapshot.hosts.map((h) => h.name),
    ),
    gluster: gluster ?? undefined,
    etcd: etcd ?? undefined,
    problems,
  };
  proc.finish({ problems });
  return status;
}

function hostMetadata(x: XenPoolView['hosts'][number] | undefined): Record<string, string> {
  if (!x) return {};
  return { enabled: String(x.enabled), live: String(x.live), memoryTotalMiB: String(x.memoryTotalMiB), memoryFreeMiB: String(x.memoryFreeMiB) };
}
