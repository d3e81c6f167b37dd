/**
 * The seed lab with real GlusterFS 10 (`startLab({ gluster: 'real' })`), reached as the activities
 * reach it: over real SSH, `gluster` and the process tools run on the host, their output read by
 * hvflow's parsers. Real glusterd on top1-3 (both seed volumes, replica 3, sharded), real FUSE mounts
 * on the six management hypervisors, each host in namespaces of its own.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshPool, type SshTarget } from '../../activities/ssh';
import {
  foreignGlusterClients,
  parseGlusterHealInfo,
  parseGlusterPeerStatus,
  parseGlusterVolumeInfo,
  parseGlusterVolumeStatusClients,
} from '../../activities/gluster-parse';
import { startLab, type Lab } from '../../lab';
import { until } from '../helpers/until';

let lab: Lab;
let pool: SshPool;
const target = (host: string): SshTarget => ({ host, address: lab.hosts[host].address, port: lab.hosts[host].port, user: lab.inventory.ssh.user });
const run = (host: string, argv: string[]) => pool.run(target(host), argv, { okExitCodes: [0, 1, 2, 3, 64, 65, 251], timeoutMs: 60_000 });
const g = () => lab.gluster!;

async function heal(volume: string) {
  const r = await run('top1', ['gluster', '--mode=script', 'volume', 'heal', volume, 'info']);
  return parseGlusterHealInfo(r.stdout, r.stderr);
}

beforeAll(async () => {
  lab = await startLab({ gluster: 'real', agentTtlMs: 500, vmStopMs: 200, vmStartMs: 200 });
  pool = new SshPool({ privateKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath, connectTimeoutMs: 3000 });
});

afterAll(async () => {
  await pool?.closeAll();
  await lab?.stop();
});

describe('the lab with real GlusterFS', () => {
  it('runs the seed volumes on real glusterd: volume info, peers and heal info over SSH, parsed by hvflow', async () => {
    const info = await run('top1', ['gluster', 'volume', 'info']);
    const volumes = parseGlusterVolumeInfo(info.stdout, info.stderr);
    expect(volumes.map((v) => [v.name, v.status, v.type, v.replicaCount, v.sharded])).toEqual([
      ['volspoms1', 'Started', 'Replicate', 3, true],
      ['volspoms2', 'Started', 'Replicate', 3, true],
    ]);
    expect(volumes[0]!.bricks.map((b) => b.host)).toEqual(['top1-data', 'top2-data', 'top3-data']);

    const peers = await run('top2', ['gluster', 'peer', 'status']);
    expect(
      parseGlusterPeerStatus(peers.stdout, peers.stderr)
        .map((p) => [p.hostname, p.connected])
        .sort(),
    ).toEqual([
      ['top1-data', true],
      ['top3-data', true],
    ]);
    const h = await heal('volspoms1');
    expect(h.total).toBe(0);
    expect(h.bricks.every((b) => b.connected)).toBe(true);
    // The command ran on the host and was logged as read-only.
    const logged = lab.commandLog({ host: 'top1', tool: 'gluster' });
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged.every((e) => !e.mutating)).toBe(true);
  });

  it('the FUSE clients are the hypervisors: status clients names the workers, not the servers’ self-heal daemons', async () => {
    for (const host of ['top1', 'worker2'])
      expect((await g().mounts(host)).sort(), host).toEqual([g().mountPoint(host, 'volspoms1'), g().mountPoint(host, 'volspoms2')]);
    const r = await run('top1', ['gluster', 'volume', 'status', 'all', 'clients']);
    const status = parseGlusterVolumeStatusClients(r.stdout, r.stderr);
    const servers = ['10.5.0.1', '10.5.0.2', '10.5.0.3'];
    const foreign = new Set(foreignGlusterClients(status, servers).map((c) => c.client.host));
    expect([...foreign].sort()).toEqual(['10.5.0.4', '10.5.0.5', '10.5.0.6']); // worker1-3's mounts
    // getent on the host resolves the brick names to the addresses the self-heal daemons use
    const getent = await run('top1', ['getent', 'hosts', 'top2-data']);
    expect(getent.stdout.trim().split(/\s+/)).toEqual(['10.5.0.2', 'top2-data']);
  });

  it('heal entries are real: written while a brick is down they are pending, then the self-heal daemon drains them', async () => {
    await g().pendingHeal('volspoms2', 6, { brickHost: 'top3', writer: 'worker1' });
    const pending = await heal('volspoms2');
    expect(pending.total).toBeGreaterThanOrEqual(6); // the files, plus their parent directories
    expect(pending.bricks.find((b) => b.host === 'top3-data')!.entries).toBe(0); // the brick that missed the writes
    // stop-all-gluster-processes.sh -g refuses while heal is pending (exit 65: "Self-Heal is in progress")
    const refused = await run('top2', ['stop-all-gluster-processes.sh', '-g']);
    expect(refused.exitCode).toBe(65);
    expect(g().running('top2', 'glusterfsd')).toBe(true);
    await g().selfHeal('volspoms2', true);
    await until('heal drained', async () => ((await heal('volspoms2')).total === 0 ? true : undefined));
  });

  it('systemctl stop glusterfsd glusterd, the stop-all script and umount act on that host only, for real', async () => {
    const stop = await run('top2', ['systemctl', 'stop', 'glusterfsd', 'glusterd']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(g().running('top2', 'glusterd')).toBe(false);
    expect(g().running('top2', 'glusterfsd')).toBe(false);
    expect((await run('top2', ['systemctl', 'is-active', 'glusterd'])).stdout).toBe('inactive\n');
    const script = await run('top2', ['stop-all-gluster-processes.sh', '-g']);
    expect(script.exitCode, script.stderr).toBe(0);
    expect(script.stdout).toMatch(/sending SIGTERM to mount process with pid: \d+/);
    expect(g().running('top2', 'glusterfs')).toBe(false); // its FUSE clients and self-heal daemon
    expect(await g().mounts('worker1')).toHaveLength(2); // another host's mounts are untouched
    expect(g().running('top1', 'glusterfsd')).toBe(true);

    const peers = await run('top1', ['gluster', 'peer', 'status']);
    expect(parseGlusterPeerStatus(peers.stdout, peers.stderr).find((p) => p.hostname === 'top2-data')!.connected).toBe(false);
    const h = await heal('volspoms1');
    expect(h.bricks.find((b) => b.host === 'top2-data')!.connected).toBe(false);
    expect(h.total).toBeNull(); // unknown is not zero

    expect((await run('worker3', ['umount', '-t', 'fuse.glusterfs', '-a'])).exitCode).toBe(0);
    expect(await g().mounts('worker3')).toEqual([]);
    expect(await g().mounts('worker2')).toHaveLength(2);
    expect(lab.commandLog({ host: 'worker3', mutating: true }).map((e) => e.argv.join(' '))).toEqual(['umount -t fuse.glusterfs -a']);

    const start = await run('top2', ['systemctl', 'start', 'glusterd']);
    expect(start.exitCode, start.stderr).toBe(0);
    await until('top2 bricks back', async () => (g().running('top2', 'glusterfsd') ? true : undefined));
    await until('top2 connected', async () => {
      const p = await run('top1', ['gluster', 'peer', 'status']);
      return parseGlusterPeerStatus(p.stdout, p.stderr).every((x) => x.connected) ? true : undefined;
    });
  });

  it('a crash kills every GlusterFS process of the host; at power on glusterd starts and the volumes mount', async () => {
    await lab.faults.crash('worker2');
    expect(g().isUp('worker2')).toBe(false);
    expect(await g().mounts('worker2')).toEqual([]);
    await lab.faults.crash('top3');
    expect(g().running('top3', 'glusterd')).toBe(false);
    await lab.model.powerOn('top3');
    await lab.model.powerOn('worker2');
    expect(g().running('top3', 'glusterd')).toBe(true);
    expect(await g().mounts('worker2')).toHaveLength(2);
    await until('top3 bricks back', async () => ((await heal('volspoms1')).bricks.every((b) => b.connected) ? true : undefined));
  });

  it('the simulated-heal fault is refused with real GlusterFS, saying what to use instead', () => {
    expect(() => lab.faults.slowHeal('volspoms1', 10, 1)).toThrow(/with real GlusterFS use lab\.gluster\.pendingHeal\(\)/);
  });

  it('stop() leaves no GlusterFS process and no namespace behind', async () => {
    // This lab's own namespaces and the processes in them: another file of the run may have a real
    // GlusterFS lab up at the same time, under the same prefix.
    const namespaces = [...g().hosts.values()].map((h) => h.netns);
    const tag = namespaces[0]!.replace(/-\d+$/, '-');
    const pids = namespaces.flatMap((ns) => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number));
    expect(pids.length).toBeGreaterThan(0);
    await pool.closeAll();
    await lab.stop();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith(tag));
    expect(left).toEqual([]);
    // gone, or a zombie waiting for its reaper (it holds nothing)
    const alive = pids.filter((pid) => {
      try {
        return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});
