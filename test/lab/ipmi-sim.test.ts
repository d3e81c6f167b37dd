/**
 * The worker's own ipmitool path against a real BMC: hvflow's power activities run Debian's real
 * ipmitool (`-I lanplus -E`, the password in its environment only) on the worker, against OpenIPMI's
 * ipmi_sim serving RMCP+ on the lab's loopback block (test/helpers/ipmi-sim.ts).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseInventory } from '../../domain/inventory';
import { WORKER_ROUTE } from '../../domain/ipmi-routes';
import { powerActivities } from '../../activities/power';
import { SshPool } from '../../activities/ssh';
import { startIpmiSim, type IpmiSimBmc } from '../helpers/ipmi-sim';

const ADDRESS = `${process.env.HVFLOW_LAB_NET || '127.0.2'}.250`;
const PASSWORD = 'lab-bmc-password';
let dir: string;
let bmc: IpmiSimBmc;
let pool: SshPool;

function activities() {
  const doc = parseYaml(readFileSync('config/ocean.example.yaml', 'utf8')) as any;
  doc.hypervisors[1].bmc = ADDRESS; // top2's BMC is the real one
  return powerActivities({ inventory: parseInventory(doc), pool, ipmi: { user: 'ADMIN', password: () => PASSWORD, ipmitool: '/usr/bin/ipmitool' } });
}
const run = <T>(fn: () => Promise<T>) => new MockActivityEnvironment().run(fn);

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hvflow-ipmi-sim-'));
  bmc = await startIpmiSim({ dir, address: ADDRESS, user: 'ADMIN', password: PASSWORD, power: 'off' });
  // Never used: the worker's ipmitool needs no SSH.
  pool = new SshPool({ privateKeyPath: path.join(dir, 'no-key'), knownHostsPath: path.join(dir, 'no-known-hosts') });
});
afterAll(async () => {
  await bmc?.stop();
  await pool?.closeAll();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

describe("the worker's ipmitool against a real BMC (ipmi_sim)", () => {
  it('is the route found for it, reads the power status, and powers the host on', async () => {
    const power = activities();
    expect(await run(() => power.pickIpmiRoute({ routes: [WORKER_ROUTE], probe: ['top2'] }))).toEqual(WORKER_ROUTE);
    expect(await run(() => power.ipmiPower({ host: 'top2', action: 'status', via: WORKER_ROUTE }))).toEqual({ host: 'top2', state: 'off' });
    expect(await run(() => power.ipmiPower({ host: 'top2', action: 'on', via: WORKER_ROUTE }))).toEqual({ host: 'top2', control: 'Up/On' });
    expect(bmc.power()).toBe('on');
    expect(bmc.calls()).toContain('0x20 set power 1');
  });
});
