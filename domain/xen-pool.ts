/**
 * A XenServer pool as the procedures read it (the xenPool activity's compact result), and the
 * planners' tool-neutral model of it (domain/cluster.ts): hosts → hosts (enabled and live →
 * schedulable), VMs → VMs (memory in MiB → weight), a VM with a disk on a host's local SR → a VM that
 * cannot live-migrate (drain filters). A host's capacity is what xapi says it can still take plus what
 * its VMs use, so that load + room = capacity exactly as `host-compute-free-memory` counts room; the
 * inventory's `capacity`, when set, lowers it (a site keeping memory back).
 *
 * Pure module: no Node APIs, workflows import it.
 */
import type { ClusterSnapshot, HostState, VmState } from './cluster';
import type { Inventory } from './inventory';
import type { QueuedMigration } from './migration-queue';

export interface XenHostView {
  /** The inventory name (xe name-label). */
  name: string;
  uuid: string;
  /** Accepts VMs (xe host-enable / host-disable). */
  enabled: boolean;
  /** Its xapi answers the master (host_metrics live). */
  live: boolean;
  memoryTotalMiB: number;
  /** Room for more VMs (host-compute-free-memory). */
  memoryFreeMiB: number;
}

export type XenPowerState = 'running' | 'halted' | 'paused' | 'suspended';

export interface XenVmView {
  name: string;
  uuid: string;
  /** The host it is resident on (name), for a running or paused VM. */
  host?: string;
  powerState: XenPowerState;
  memoryMiB: number;
  /** A disk on a host's local SR: it cannot live-migrate without storage motion. */
  localStorage: boolean;
  /** xapi operations in progress (`current-operations`), e.g. a migration the worker did not see end. */
  operations: string[];
}

export interface XenPoolView {
  pool: string;
  /** The pool master's name. */
  master: string;
  haEnabled: boolean;
  hosts: XenHostView[];
  vms: XenVmView[];
  /** The host xe ran on (the master). */
  ranOn: string;
}

/** The pool in the planners' model. Only hosts of the inventory are hosts; VMs on other hosts are left out. */
export function xenSnapshot(inv: Inventory, pool: XenPoolView): ClusterSnapshot {
  const known = new Map(inv.hypervisors.map((h) => [h.name, h]));
  const used = new Map<string, number>();
  for (const vm of pool.vms) if (vm.host && vm.powerState !== 'halted') used.set(vm.host, (used.get(vm.host) ?? 0) + vm.memoryMiB);
  const hosts: HostState[] = pool.hosts
    .filter((h) => known.has(h.name))
    .map((h) => {
      const reported = h.memoryFreeMiB + (used.get(h.name) ?? 0);
      const declared = known.get(h.name)!.capacity;
      return {
        name: h.name,
        labels: {},
        capacity: declared === undefined ? reported : Math.min(declared, reported),
        schedulable: h.enabled && h.live,
        up: h.live,
      };
    });
  const names = new Set(hosts.map((h) => h.name));
  const vms: VmState[] = pool.vms
    .filter((vm) => vm.host === undefined || names.has(vm.host))
    .map((vm) => ({
      name: vm.name,
      host: vm.host,
      weight: vm.memoryMiB,
      running: vm.powerState === 'running',
      constraints: {},
      ...(vm.localStorage ? { localStorage: true } : {}),
    }));
  // xapi's own placement (host-evacuate, vm-start without a host) takes the host with most free memory.
  return { hosts, vms, scheduler: { capacityAware: true } };
}

/** The VMs resident on a host (running, paused or suspended there), by name. */
export function xenVmsOn(pool: XenPoolView, host: string): XenVmView[] {
  return pool.vms.filter((vm) => vm.host === host).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One planned live migration, as the migrateVms activity takes it (the work queue's item): a VM found
 * elsewhere than `from` or `to` is not migrated (the pool changed).
 */
export type MigrationRequest = QueuedMigration;

/** What became of a planned migration. */
export interface MigrationOutcome extends MigrationRequest {
  /** Where the VM is resident now, read after the migration. */
  landed?: string;
  /** migrated: this run moved it; already-there: found on `to` (a retry after a crash, or moved by someone); elsewhere / failed: not moved (`error` says why). */
  result: 'migrated' | 'already-there' | 'elsewhere' | 'failed';
  seconds?: number;
  error?: string;
}

/**
 * A pool's HA as it was before maintenance (seed 003: off for the run, back on after), read once and
 * kept in the procedure's history, so that a worker that dies in between still knows what to restore.
 */
export interface PoolHaSettings {
  enabled: boolean;
  hostFailuresToTolerate: number;
  /** pool-ha-enable's ha-config: entries. */
  configuration: Record<string, string>;
}
