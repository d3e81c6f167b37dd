/**
 * Pool HA around maintenance (seed 003: off for the run, back to what it was after): the xe
 * driver's activities against a lab pool over real SSH. The settings are read before anything
 * changes (the procedure keeps them in its history); turning HA off twice, or restoring it twice,
 * is what a retry does, and is success.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshPool } from '../../activities/ssh';
import { xenActivities } from '../../activities/xen';
import { startLab, type Lab } from '../../lab';
import { xenPoolTopology } from '../../lab/xen-topology';

let lab: Lab;
let pool: SshPool;
const run = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn) as Promise<T>;

beforeAll(async () => {
  lab = await startLab({
    topology: xenPoolTopology({ cluster: 'hapool', hosts: 3, vms: 6, seed: 2, ha: { enabled: true, hostFailuresToTolerate: 1 } }),
    timeScale: 0.001,
  });
  pool = new SshPool({ privateKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath });
});
afterAll(async () => {
  await pool?.closeAll();
  await lab?.stop();
});

describe('pool HA, off for maintenance and back', () => {
  it('reads the settings, turns HA off (twice is success), and restores them (twice is success)', async () => {
    const xen = xenActivities({ inventory: lab.inventory, pool });
    const settings = await run(() => xen.poolHa());
    expect(settings).toEqual({ enabled: true, hostFailuresToTolerate: 1, configuration: {} });

    expect(await run(() => xen.disablePoolHa())).toEqual({ changed: true });
    expect(lab.xen!.pool.haEnabled).toBe(false);
    expect(await run(() => xen.disablePoolHa())).toEqual({ changed: false });

    // Someone changed the tolerance meanwhile: the restore puts back what was read before.
    lab.xen!.pool.haHostFailuresToTolerate = 0;
    expect(await run(() => xen.restorePoolHa({ settings }))).toEqual({ changed: true });
    expect(lab.xen!.pool.haEnabled).toBe(true);
    expect(lab.xen!.pool.haHostFailuresToTolerate).toBe(1);
    expect(await run(() => xen.restorePoolHa({ settings }))).toEqual({ changed: false });

    // Settings with HA off restore nothing.
    expect(await run(() => xen.restorePoolHa({ settings: { ...settings, enabled: false } }))).toEqual({ changed: false });
    const xeCommands = lab.commandLog({ tool: 'xe', mutating: true }).map((e) => e.argv.slice(1, 2).join(' '));
    expect(xeCommands).toEqual(['pool-ha-disable', 'pool-ha-enable', 'pool-param-set']);
  });
});
