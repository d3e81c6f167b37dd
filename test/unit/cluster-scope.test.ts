/**
 * One worker, many clusters: every activity input carries the procedure's cluster
 * (workflows/cluster-scope.ts) and the worker runs the activity with that cluster's inventory
 * (activities/index.ts createActivities). The end-to-end run on two labs is in test/workflow.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { SshPool } from '../../activities/ssh';
import { parseInventory, parseInventoryYaml } from '../../domain/inventory';
import { withCluster, workOnCluster } from '../../workflows/cluster-scope';

const ocean = parseInventoryYaml(readFileSync('config/ocean.example.yaml', 'utf8'));
const pool1 = parseInventory({ cluster: 'pool1', stack: 'xen', controlHost: 'xs1', hypervisors: [{ name: 'xs1', address: '10.3.0.1' }] });
const ssh = () => new SshPool({ privateKeyPath: '/nonexistent/key', knownHostsPath: '/nonexistent/known_hosts' });

describe('the cluster of an activity call', () => {
  it("is added to the input object of every activity of the procedure, never over the call's own", () => {
    workOnCluster('pool1');
    expect(withCluster([{ host: 'xs1' }])).toEqual([{ host: 'xs1', cluster: 'pool1' }]);
    expect(withCluster([])).toEqual([{ cluster: 'pool1' }]);
    expect(withCluster([{ cluster: 'ocean' }])).toEqual([{ cluster: 'ocean' }]);
    expect(withCluster([{ host: 'xs1' }, 5])).toEqual([{ host: 'xs1', cluster: 'pool1' }, 5]);
    expect(withCluster(['not an object'])).toEqual(['not an object']);
  });
});

describe('a worker serving several clusters', () => {
  it('runs each activity with the inventory of the cluster its input names', async () => {
    const acts = createActivities({ inventories: [ocean, pool1], pool: ssh() });
    expect((await acts.loadInventory({ cluster: 'pool1' })).stack).toBe('xen');
    expect((await acts.loadInventory({ cluster: 'ocean' })).controlHost).toBe('top1');
  });

  it('refuses a cluster it does not serve, and an input with no cluster, naming what it serves', async () => {
    const acts = createActivities({ inventories: [ocean, pool1], pool: ssh() });
    await expect(acts.loadInventory({ cluster: 'pool9' })).rejects.toMatchObject({
      message: 'cluster: "pool9" is not a cluster this worker serves (ocean, pool1: one inventory each in HVFLOW_INVENTORY)',
      type: 'InvalidInput',
      nonRetryable: true,
    });
    await expect((acts.loadInventory as (i: unknown) => Promise<unknown>)({})).rejects.toMatchObject({
      message: 'cluster: the activity input names no cluster, and this worker serves several (ocean, pool1)',
      nonRetryable: true,
    });
  });

  it("runs an input with no cluster (scheduled before inputs carried one) on a one-cluster worker's inventory", async () => {
    const acts = createActivities({ inventories: [ocean], pool: ssh() });
    expect((await (acts.loadInventory as (i: unknown) => Promise<{ cluster: string }>)({})).cluster).toBe('ocean');
  });

  it('refuses two inventories of one cluster', () => {
    expect(() => createActivities({ inventories: [ocean, ocean], pool: ssh() })).toThrow('two inventories of cluster ocean');
  });
});
