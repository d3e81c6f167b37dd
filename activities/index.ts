/**
 * Every activity of hvflow, bound to one inventory and one SSH pool (the samples' createActivities
 * pattern). Workflows use `proxyActivities<Activities>()`.
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
import type { ToolContext } from './remote';
import { FAILURE } from '../domain/contract';

export interface ActivityDeps extends ToolContext {
  webhookUrl?: string;
}

export function createActivities(deps: ActivityDeps) {
  const ctx: ToolContext = deps;
  return {
    /** The worker's inventory (no secret in it), checked against the cluster the procedure names. */
    async loadInventory(input: { cluster: string }): Promise<Inventory> {
      if (input.cluster !== deps.inventory.cluster) {
        throw ApplicationFailure.nonRetryable(
          `cluster: ${JSON.stringify(input.cluster)} is not the cluster of this worker's inventory (${deps.inventory.cluster})`,
          FAILURE.invalidInput,
        );
      }
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
  };
}

export type Activities = ReturnType<typeof createActivities>;
