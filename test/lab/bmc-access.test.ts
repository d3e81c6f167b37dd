/**
 * Where the lab's BMCs answer ipmitool from: a hypervisor's SSH session, a BMC relay's (an sshd
 * with ipmitool only), and the worker itself (`lab.workerIpmitool`, HVFLOW_IPMITOOL), each printing
 * what ipmitool 1.8.19 prints (test/fixtures/ipmitool) and logged by where it ran.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshPool } from '../../activities/ssh';
import { startLab, type Lab } from '../../lab';
import { seedTopology } from '../../lab/topology';
import { WORKER_ORIGIN } from '../../lab/tools/ipmitool';

let lab: Lab;
let pool: SshPool;
const fixture = (name: string) => readFileSync(`test/fixtures/ipmitool/${name}`, 'utf8');

/** The worker's ipmitool, run as the worker runs it: argv only, the password in its environment alone. */
function workerIpmitool(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(lab.workerIpmitool, args, { env: { PATH: process.env.PATH!, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const lanplus = (host: string, action: string) => ['-I', 'lanplus', '-H', lab.model.machine(host).bmc, '-U', 'ADMIN', '-E', 'power', action];

beforeAll(async () => {
  lab = await startLab({ topology: { ...seedTopology(), bmcRelays: ['bmcgw1'] }, addressBase: process.env.HVFLOW_LAB_NET || undefined });
  pool = new SshPool({ privateKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath, connectTimeoutMs: 3000 });
});
afterAll(async () => {
  await pool?.closeAll();
  await lab?.stop();
});

describe("the worker's ipmitool", () => {
  it('powers a host on and reads its status as ipmitool prints it, logged as run by the worker', async () => {
    await lab.model.shutdown('islet12');
    expect(await workerIpmitool(lanplus('islet12', 'status'), { IPMI_PASSWORD: 'x' })).toEqual({
      code: 0,
      stdout: fixture('power-status-off.stdout.txt'),
      stderr: '',
    });
    expect(await workerIpmitool(lanplus('islet12', 'on'), { IPMI_PASSWORD: 'x' })).toEqual({ code: 0, stdout: fixture('power-on.stdout.txt'), stderr: '' });
    expect(lab.model.machine('islet12').power).toBe(true);
    const log = lab.commandLog({ tool: 'ipmitool' }).slice(-2);
    expect(log.map((e) => [e.host, e.argv.at(-1), e.mutating])).toEqual([
      [WORKER_ORIGIN, 'status', false],
      [WORKER_ORIGIN, 'on', true],
    ]);
  });

  it('without IPMI_PASSWORD it fails as ipmitool does with -E and no password', async () => {
    expect(await workerIpmitool(lanplus('top1', 'on'), {})).toEqual({
      code: 1,
      stdout: fixture('captured-power-on-no-password.stdout.txt'),
      stderr: fixture('captured-power-on-no-password.stderr.txt'),
    });
  });
});

describe('a BMC relay of the inventory', () => {
  const relay = () => lab.inventory.bmcRelays[0]!;
  const onRelay = (argv: string[]) =>
    pool.run({ host: relay().name, address: relay().address, port: relay().sshPort ?? lab.inventory.ssh.port, user: lab.inventory.ssh.user }, argv, {
      okExitCodes: [0, 1, 127],
    });

  it('is in the inventory, answers SSH and reaches the BMCs; cut off from them, it reaches none', async () => {
    expect(lab.inventory.bmcRelays.map((r) => r.name)).toEqual(['bmcgw1']);
    const env = ['env', 'IPMI_PASSWORD=x', 'ipmitool', ...lanplus('top2', 'status')];
    expect(await onRelay(env)).toMatchObject({ exitCode: 0, stdout: fixture('power-status-on.stdout.txt') });
    lab.faults.cutOffFromBmcs('bmcgw1');
    expect(await onRelay(env)).toMatchObject({ exitCode: 1, stderr: fixture('captured-power-status-no-bmc.stderr.txt') });
    lab.faults.cutOffFromBmcs('bmcgw1', false);
    expect(lab.commandLog({ host: 'bmcgw1' }).map((e) => e.argv[0])).toEqual(['ipmitool', 'ipmitool']);
  });

  it('has no other tool of the lab', async () => {
    const r = await onRelay(['fleetctl', 'list-machines']);
    expect(r.exitCode).toBe(127);
    expect(lab.commandLog({ host: 'bmcgw1', tool: 'fleetctl' })).toEqual([]);
  });
});
