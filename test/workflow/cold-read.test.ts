import { unpackFleet } from '../../domain/fleet-wire';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFleetUnitFile } from '../../activities/fleet-parse';
import { generateTopology } from '../../lab/topology';
import { startHarness, type Harness } from '../helpers/harness';
import type { ClusterStatus } from '../../workflows/cluster-status';

const UNITS = 600;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ topology: generateTopology({ hypervisors: 30, vms: UNITS }) });
});
afterAll(async () => {
  await h?.stop();
});

/** A clusterStatus, and how many SSH execs of the worker ran `fleetctl cat`. */
async function status(): Promise<{ s: ClusterStatus; catExecs: number }> {
  const pool = h.pool;
  const run = pool.run;
  let catExecs = 0;
  pool.run = (target, argv, opts) => {
    if (argv.some((a) => /\bfleetctl cat\b/.test(a)) || argv.join(' ').startsWith('fleetctl cat')) catExecs++;
    return run.call(pool, target, argv, opts);
  };
  try {
    const s: ClusterStatus = await h.client.workflow.execute('clusterStatus', {
      taskQueue: h.taskQueue,
      workflowId: `cold-read-${randomUUID()}`,
      args: [{ cluster: h.lab.inventory.cluster }],
    });
    return { s, catExecs };
  } finally {
    pool.run = run;
  }
}

describe('the cold read of a generated cluster', () => {
  it(`reads ${UNITS} unit files in one SSH exec, every weight as the lab's unit file says, and none again while unchanged`, async () => {
    const cold = await status();
    expect(cold.catExecs).toBe(1);
    const coldUnits = unpackFleet(cold.s.fleet!).units;
    expect(coldUnits).toHaveLength(UNITS);
    for (const u of coldUnits) expect(u.weight, u.unit).toBe(parseFleetUnitFile(h.lab.model.units.get(u.unit)!.text).weight ?? 0);
    // Every unit file was read once, by fleetctl cat.
    expect(h.lab.commandLog({ tool: 'fleetctl' }).filter((e) => e.argv[1] === 'cat')).toHaveLength(UNITS);

    const warm = await status();
    expect(warm.catExecs).toBe(0);
    expect(unpackFleet(warm.s.fleet!).units.map((u) => [u.unit, u.weight])).toEqual(coldUnits.map((u) => [u.unit, u.weight]));
  });
});
