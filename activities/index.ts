/**
 * Every activity of hvflow (the samples' createActivities pattern). One worker serves many
 * clusters: `clusterActivities` binds the activities to one inventory, and `createActivities`
 * registers, under each activity's name, a function that runs it for the cluster its input names
 * (workflows/cluster-scope.ts adds the procedure's cluster to every activity input). Workflows use
 * `proxyActivities<Activities>()`.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Inventory } from '../domain/inventory';
import { fleetActivities } from './fleet';
import { glusterActivities } from './gluster';
import { etcdActivities } from './etcd';
import { notifyActivities } from './notify';
import { describeLockHolder, shutdownVmList } from './temporal-info';
import { powerActivities } from './power';
import { hostServicesActivities } from './host-services';
import { hookActivities } from './hooks';
import { hostRebootActivities } from './host-reboot';
import { xenActivities } from './xen';
import type { ToolContext } from './remote';
import type { SshPool } from './ssh';
import { FAILURE } from '../domain/contract';

export interface ActivityDeps {
  /** The inventories of the clusters this worker serves (worker/config.ts loadInventories); cluster names are unique. */
  inventories: Inventory[];
  pool: SshPool;
  ipmi?: ToolContext['ipmi'];
  webhookUrl?: string;
}

/** The activities bound to one cluster's inventory. */
export function clusterActivities(deps: ToolContext & { webhookUrl?: string }) {
  const ctx: ToolContext = deps;
  return {
    /** The cluster's inventory (no secret in it). */
    async loadInventory(_input: { cluster: string }): Promise<Inventory> {
      return deps.inventory;
    },
    describeLockHolder,
    shutdownVmList,
    ...fleetActivities(ctx),
    ...glusterActivities(ctx),
    ...etcdActivities(ctx),
    ...notifyActivities(deps),
    ...powerActivities(ctx),
    ...hostServicesActivities(ctx),
    ...hookActivities(ctx),
    ...hostRebootActivities(ctx),
    ...xenActivities(ctx),
  };
}

export type Activities = ReturnType<typeof clusterActivities>;

export function createActivities(deps: ActivityDeps): Activities {
  if (!deps.inventories.length) throw new Error('createActivities: no inventory');
  const byCluster = new Map<string, Activities>();
  for (const inventory of deps.inventories) {
    if (byCluster.has(inventory.cluster)) throw new Error(`createActivities: two inventories of cluster ${inventory.cluster}`);
    byCluster.set(inventory.cluster, clusterActivities({ inventory, pool: deps.pool, ipmi: deps.ipmi, webhookUrl: deps.webhookUrl }));
  }
  const served = [...byCluster.keys()].sort();
  const forInput = (input: unknown): Activities => {
    const cluster = typeof input === 'object' && input !== null ? (input as { cluster?: unknown }).cluster : undefined;
    if (cluster === undefined) {
      // Scheduled by a procedure started before activities carried their cluster: it can only be the one served.
      if (byCluster.size === 1) return byCluster.values().next().value!;
      throw ApplicationFailure.nonRetryable(
        `cluster: the activity input names no cluster, and this worker serves several (${served.join(', ')})`,
        FAILURE.invalidInput,
      );
    }
    const set = byCluster.get(String(cluster));
    if (!set) {
      throw ApplicationFailure.nonRetryable(
        `cluster: ${JSON.stringify(cluster)} is not a cluster this worker serves (${served.join(', ')}: one inventory each in HVFLOW_INVENTORY)`,
        FAILURE.invalidInput,
      );
    }
    return set;
  };
  const first = byCluster.values().next().value!;
  const dispatch: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of Object.keys(first)) {
    dispatch[name] = async (...args: unknown[]) => (forInput(args[0]) as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...args);
  }
  return dispatch as unknown as Activities;
}
