/**
 * The seed lab over real SSH (activities/ssh.ts SshPool, the lab's key and known_hosts) with real etcd.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshPool, type SshTarget } from '../../activities/ssh';
import { parseFleetListMachines, parseFleetListUnits } from '../../activities/fleet-parse';
import { parseClusterHealthV2 } from '../../activities/etcd-parse';
import { startLab, type Lab } from '../../lab';
import { until } from '../helpers/until';

const SEED_MACHINES = `
21f839cc...        islet39     10.1.0.39  hostname=islet39,role=islet
24d45a17...        islet12     10.1.0.12  hostname=islet12,role=islet
29b0afbf...        top2        10.1.0.2   hostname=top2,role=top
3280f87e...        top3        10.1.0.3   hostname=top3,role=top
551bb3cf...        islet55     10.1.0.55  hostname=islet55,role=islet
5b285f6d...        islet13     10.1.0.13  hostname=islet13,role=islet
5e1a5a8f...        islet38     10.1.0.38  hostname=islet38,role=islet
70b8f750...        irene271    10.8.0.171 hostname=irene271,role=router
944cd548...        top1        10.1.0.1   hostname=top1,role=top
9dde1b72...        worker3     10.1.0.6   hostname=worker3,role=top
a1ff44e6...        worker1     10.1.0.4   hostname=worker1,role=top
a858697c...        islet54     10.1.0.54  hostname=islet54,role=islet
c8014c48...        worker2     10.1.0.5   hostname=worker2,role=top`;

let lab: Lab;
let pool: SshPool;
let startMs = 0;
const target = (host: string): SshTarget => ({ host, address: lab.hosts[host].address, port: lab.hosts[host].port, user: lab.inventory.ssh.user });
const run = (host: string, argv: string[]) => pool.run(target(host), argv, { okExitCodes: [0, 1, 3, 5] });

async function placement(): Promise<Map<string, string>> {
  const r = await run('top1', ['fleetctl', 'list-units', '--no-legend', '--fields', 'unit,hostname,active,sub']);
  const map = new Map<string, string>();
  for (const line of r.stdout.trim().split('\n')) {
    const [unit, host, active, sub] = line.split(/\s+/);
    map.set(unit, `${host} ${active}/${sub}`);
  }
  return map;
}

beforeAll(async () => {
  const t0 = Date.now();
  lab = await startLab({ agentTtlMs: 1000, vmStopMs: 300, vmStartMs: 300 });
  startMs = Date.now() - t0;
  pool = new SshPool({ privateKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath, connectTimeoutMs: 3000 });
});

afterAll(async () => {
  await pool?.closeAll();
  await lab?.stop();
});

describe('seed lab', () => {
  // How long it takes is a figure of bench/lab-start.ts, not an assertion.
  it('starts and writes a valid inventory', () => {
    console.log(`seed lab started in ${startMs} ms`);
    expect(lab.inventory.hypervisors.map((h) => h.name)).toContain('irene271');
    expect(lab.inventory.etcd?.endpointPattern).toMatch(/^http:\/\/%a:\d+$/);
  });

  it('fleetctl list-machines over SSH matches seed 002', async () => {
    const r = await run('top1', ['fleetctl', 'list-machines']);
    expect(r.exitCode).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/).join(' '));
    expect(rows).toEqual(
      SEED_MACHINES.trim()
        .split('\n')
        .map((l) => l.split(/\s+/).join(' ')),
    );
    const parsed = parseFleetListMachines(r.stdout);
    expect(parsed.find((m) => m.hostname === 'worker1')).toMatchObject({ id: 'a1ff44e6', ip: '10.1.0.4', metadata: { role: 'top' } });
  });

  it('systemctl stop fleet on worker1 reschedules its units onto other role=top hosts, never back', async () => {
    const before = await placement();
    const moved = [...before].filter(([, p]) => p.startsWith('worker1 ')).map(([u]) => u);
    expect(moved.sort()).toEqual(['pcocc-vm-i0conf1.service', 'pcocc-vm-ns1.service', 'pcocc-vm-ns2.service']);
    const stop = await run('worker1', ['systemctl', 'stop', 'fleet']);
    expect(stop.exitCode).toBe(0);
    const after = await until('rescheduled units running', async () => {
      const p = await placement();
      return moved.every((u) => p.get(u)?.endsWith('active/running') && !p.get(u)!.startsWith('worker1')) ? p : undefined;
    });
    const tops = new Set(['top1', 'top2', 'top3', 'worker2', 'worker3']);
    for (const u of moved) expect(tops.has(after.get(u)!.split(' ')[0])).toBe(true);
    const machines = await run('top1', ['fleetctl', 'list-machines', '--no-legend', '--fields', 'hostname']);
    expect(machines.stdout.split('\n')).not.toContain('worker1');
    // start fleet again: nothing moves back (fleet never rebalances)
    expect((await run('worker1', ['systemctl', 'start', 'fleet'])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 800));
    const later = await placement();
    for (const u of moved) expect(later.get(u)).toBe(after.get(u));
    expect((await run('worker1', ['systemctl', 'is-active', 'fleet'])).stdout).toBe('active\n');
  });

  it('a crashed host: units rescheduled, etcd degraded (real etcdctl), SSH refused; power on brings it back', async () => {
    const crashedUnits = [...(await placement())].filter(([, p]) => p.startsWith('worker2 ')).map(([u]) => u);
    expect(crashedUnits.length).toBeGreaterThan(0);
    await lab.faults.crash('worker2');
    await expect(pool.run(target('worker2'), ['true'])).rejects.toThrow();
    const after = await until('units of worker2 rescheduled', async () => {
      const p = await placement();
      return crashedUnits.every((u) => p.get(u)?.endsWith('active/running') && !p.get(u)!.startsWith('worker2')) ? p : undefined;
    });
    expect(crashedUnits.every((u) => !after.get(u)!.startsWith('worker2'))).toBe(true);

    const endpoint = `http://${lab.hosts.top1.address}:2379`;
    const health = await run('top1', ['env', 'ETCDCTL_API=2', 'etcdctl', '-C', endpoint, 'cluster-health']);
    expect(health.exitCode).toBe(5);
    const report = parseClusterHealthV2(health.stdout, health.stderr);
    expect(report.verdict).toBe('degraded');
    const worker2Url = `http://${lab.hosts.worker2.address}:2379`;
    expect(report.members.find((m) => m.url === worker2Url)?.healthy).toBe(false);
    expect(report.members.filter((m) => m.healthy)).toHaveLength(5);

    const on = await run('top1', [
      'env',
      'IPMI_PASSWORD=lab',
      'ipmitool',
      '-I',
      'lanplus',
      '-H',
      lab.inventory.hypervisors.find((h) => h.name === 'worker2')!.bmc!,
      '-U',
      'admin',
      '-E',
      'power',
      'on',
    ]);
    expect(on.stdout).toBe('Chassis Power Control: Up/On\n');
    // same host key: known_hosts verification still passes
    expect((await pool.run(target('worker2'), ['systemctl', 'is-active', 'fleet'], { okExitCodes: [3] })).stdout).toBe('inactive\n');
    const healthy = await until('etcd healthy again', async () => {
      const h = await run('top1', ['env', 'ETCDCTL_API=2', 'etcdctl', '-C', endpoint, 'cluster-health']);
      return h.exitCode === 0 ? h : undefined;
    });
    expect(parseClusterHealthV2(healthy.stdout).verdict).toBe('healthy');
  });

  it('list-units output parses with the activities parser', async () => {
    const r = await run('top1', ['fleetctl', 'list-units']);
    const units = parseFleetListUnits(r.stdout);
    expect(units.find((u) => u.unit === 'pcocc-vm-admin1.service')).toMatchObject({
      machineId: '944cd548',
      hostname: 'top1',
      active: 'active',
      sub: 'running',
    });
  });

  it('the command log records argv and exit codes in order', () => {
    const w1 = lab.commandLog({ host: 'worker1' });
    expect(w1.map((e) => [e.argv.join(' '), e.exitCode, e.mutating])).toEqual([
      ['systemctl stop fleet', 0, true],
      ['systemctl start fleet', 0, true],
      ['systemctl is-active fleet', 0, false],
    ]);
    const all = lab.commandLog();
    expect(all.map((e) => e.seq)).toEqual([...all.keys()].map((i) => i + 1));
    expect(lab.commandLog({ tool: 'ipmitool' })).toHaveLength(1);
  });

  it('a powered-off host refuses SSH', async () => {
    const bmc = lab.inventory.hypervisors.find((h) => h.name === 'islet12')!.bmc!;
    const off = await run('top1', ['env', 'IPMI_PASSWORD=lab', 'ipmitool', '-I', 'lanplus', '-H', bmc, '-U', 'admin', '-E', 'power', 'off']);
    expect(off.exitCode).toBe(0);
    await expect(pool.run(target('islet12'), ['true'])).rejects.toThrow(/refused|ECONNREFUSED|connect/i);
    const status = await run('top1', ['env', 'IPMI_PASSWORD=lab', 'ipmitool', '-I', 'lanplus', '-H', bmc, '-U', 'admin', '-E', 'power', 'status']);
    expect(status.stdout).toBe('Chassis Power is off\n');
  });

  it('stop() leaves no sshd, etcd or lab process behind', async () => {
    await pool.closeAll();
    const dir = lab.dir;
    await lab.stop();
    let left = '';
    try {
      left = execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' });
    } catch {
      left = ''; // pgrep exits 1 when nothing matches
    }
    expect(left).toBe('');
  });
});
