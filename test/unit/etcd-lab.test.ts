/**
 * The lab's REAL etcd cluster (Debian's etcd-server / etcd-client 3.4.23).
 *
 * Addresses are in 127.0.3.0/24; ports are picked at random (and checked free on every address) so
 * that two runs of this file at the same time do not collide. The fixtures of test/fixtures/etcd come
 * from scripts/capture-etcd-fixtures.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClusterHealthV2, parseEndpointHealthV3, withMemberNames, type EtcdHealthReport } from '../../activities/etcd-parse';
import { clusterHealthV2, endpointHealthV3, startEtcdCluster, type EtcdCluster, type EtcdMemberSpec } from '../../lab/etcd';

const NAMES = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function freePortPair(addresses: string[]): Promise<[number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = 20_000 + 2 * Math.floor(Math.random() * 15_000);
    let ok = true;
    for (const a of addresses) {
      if (!(await canBind(a, p)) || !(await canBind(a, p + 1))) {
        ok = false;
        break;
      }
    }
    if (ok) return [p, p + 1];
  }
  throw new Error('no free port pair on ' + addresses.join(','));
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const settle = (connected: boolean) => {
      s.destroy();
      resolve(connected);
    };
    s.setTimeout(500, () => settle(false));
    s.once('connect', () => settle(true));
    s.once('error', () => resolve(false));
  });
}

/** pids of processes whose command line mentions `needle` (pgrep exits 1 when there is none). */
function pgrep(needle: string): string[] {
  const r = spawnSync('pgrep', ['-f', '--', needle], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

const byName = (r: EtcdHealthReport, name: string) => r.members.find((m) => m.name === name);

describe('lab etcd cluster (real etcd)', () => {
  let dir: string;
  let cluster: EtcdCluster | undefined;
  let members: EtcdMemberSpec[];
  let clientPort: number;
  let startMs: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hvflow-etcd-lab-'));
    // A block of 6 addresses in 127.0.3.0/24 (.20 - .249), e.g. 127.0.3.20 - 127.0.3.25.
    const base = 20 + 6 * Math.floor(Math.random() * 38);
    members = NAMES.map((name, i) => ({ name, address: `127.0.3.${base + i}` }));
    const [cp, pp] = await freePortPair(members.map((m) => m.address));
    clientPort = cp;
    const t0 = performance.now();
    cluster = await startEtcdCluster({ members, dir, clientPort: cp, peerPort: pp });
    startMs = performance.now() - t0;
  }, 30_000);

  afterAll(async () => {
    await cluster?.stopAll();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // How long it takes is a figure (bench/lab-start.ts measures the whole lab), not an assertion.
  it('starts 6 members in parallel', () => {
    expect(cluster).toBeDefined();
    console.log(`etcd lab: 6-member cluster healthy in ${Math.round(startMs)} ms`);
    for (const m of members) {
      expect(cluster!.endpoints[m.name]).toBe(`http://${m.address}:${clientPort}`);
      expect(cluster!.isRunning(m.name)).toBe(true);
    }
    expect(cluster!.clientUrls()).toEqual(members.map((m) => `http://${m.address}:${clientPort}`));
  });

  it('binds each member only on its own loopback address', async () => {
    for (const m of members) expect(await connects(m.address, clientPort)).toBe(true);
    // Not on a wildcard address: another loopback address of the /24 and 127.0.0.1 refuse.
    expect(await connects('127.0.3.250', clientPort)).toBe(false);
    expect(await connects('127.0.0.1', clientPort)).toBe(false);
  });

  it('v2 cluster-health (the seed command) reports 6 healthy members', async () => {
    const r = await clusterHealthV2(cluster!.endpoints.top1);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rep = withMemberNames(parseClusterHealthV2(r.stdout, r.stderr), cluster!.endpoints);
    expect(rep.verdict).toBe('healthy');
    expect(rep.clusterHealthy).toBe(true);
    expect(rep.members.map((m) => m.name).sort()).toEqual([...NAMES].sort());
    expect(rep.members.every((m) => m.healthy && /^[0-9a-f]+$/.test(m.id))).toBe(true);
  });

  it('v3 endpoint health --cluster reports 6 healthy endpoints', async () => {
    const r = await endpointHealthV3(cluster!.endpoints.worker3);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rep = withMemberNames(parseEndpointHealthV3(r.stdout, r.stderr), cluster!.endpoints);
    expect(rep.clusterHealthy).toBe(true);
    expect(rep.members.map((m) => m.name).sort()).toEqual([...NAMES].sort());
  });

  it('stopping worker1 degrades the cluster: worker1 unhealthy, the others healthy', async () => {
    await cluster!.stopMember('worker1');
    expect(cluster!.isRunning('worker1')).toBe(false);
    await cluster!.stopMember('worker1'); // idempotent

    const r = await clusterHealthV2(cluster!.endpoints.top1);
    expect(r.code).toBe(5);
    const rep = withMemberNames(parseClusterHealthV2(r.stdout, r.stderr), cluster!.endpoints);
    expect(rep.verdict).toBe('degraded');
    expect(rep.clusterHealthy).toBe(false);
    expect(rep.members).toHaveLength(6);
    expect(byName(rep, 'worker1')).toMatchObject({ healthy: false });
    expect(byName(rep, 'worker1')!.reason).toMatch(/unreachable: .*connection refused/);
    for (const n of NAMES.filter((n) => n !== 'worker1')) expect(byName(rep, n)?.healthy, n).toBe(true);

    const r3 = await endpointHealthV3(cluster!.endpoints.top1);
    expect(r3.code).toBe(1);
    const rep3 = withMemberNames(parseEndpointHealthV3(r3.stdout, r3.stderr), cluster!.endpoints);
    expect(rep3.error).toBe('unhealthy cluster');
    expect(byName(rep3, 'worker1')).toMatchObject({ healthy: false });
    expect(rep3.members.filter((m) => m.healthy)).toHaveLength(5);
  });

  it('starting worker1 again (existing data dir) makes the cluster healthy', async () => {
    await cluster!.startMember('worker1');
    expect(cluster!.isRunning('worker1')).toBe(true);
    await cluster!.startMember('worker1'); // idempotent
    const r = await clusterHealthV2(cluster!.endpoints.top1);
    expect(r.code, r.stdout).toBe(0);
    const rep = parseClusterHealthV2(r.stdout);
    expect(rep.clusterHealthy).toBe(true);
    expect(rep.members.filter((m) => m.healthy)).toHaveLength(6);
  });

  it('killing 4 of 6 members loses quorum, and etcdctl shows it', async () => {
    const killed = ['top2', 'top3', 'worker2', 'worker3'];
    await Promise.all(killed.map((n) => cluster!.killMember(n)));
    for (const n of killed) expect(cluster!.isRunning(n)).toBe(false);

    const r = await clusterHealthV2(cluster!.endpoints.top1);
    expect(r.code).toBe(5);
    const rep = withMemberNames(parseClusterHealthV2(r.stdout, r.stderr), cluster!.endpoints);
    expect(rep.verdict).toBe('unavailable');
    expect(rep.clusterHealthy).toBe(false);
    expect(rep.members.filter((m) => m.healthy)).toHaveLength(0);
    // the two survivors answer, but without a leader
    expect(byName(rep, 'top1')).toMatchObject({ healthy: false, reason: 'got unhealthy result' });
    expect(byName(rep, 'worker1')).toMatchObject({ healthy: false, reason: 'got unhealthy result' });
    for (const n of killed) expect(byName(rep, n)?.reason, n).toMatch(/^unreachable/);

    const r3 = await endpointHealthV3(cluster!.endpoints.top1);
    expect(r3.code).toBe(1);
    const rep3 = parseEndpointHealthV3(r3.stdout, r3.stderr);
    expect(rep3.members).toHaveLength(6);
    expect(rep3.members.some((m) => m.healthy)).toBe(false);

    // a member restarted without quorum: startMember returns once it is up, it cannot be healthy
    await cluster!.startMember('top2');
    expect(cluster!.isRunning('top2')).toBe(true);
  });

  it('stopAll leaves no etcd process behind', async () => {
    expect(pgrep(dir).length).toBeGreaterThan(0);
    await cluster!.stopAll();
    await cluster!.stopAll(); // idempotent
    for (const n of NAMES) expect(cluster!.isRunning(n)).toBe(false);
    expect(pgrep(dir)).toEqual([]);
  });
});

describe('lab etcd cluster: process exit', () => {
  it('kills its members when the node process exits without stopAll', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hvflow-etcd-exit-'));
    try {
      const address = `127.0.3.${250 + Math.floor(Math.random() * 5)}`;
      const [cp, pp] = await freePortPair([address]);
      const script = path.join(dir, 'start.ts');
      const lab = path.resolve(__dirname, '../../lab/etcd');
      fs.writeFileSync(
        script,
        `import { startEtcdCluster } from ${JSON.stringify(lab)};\n` +
          `startEtcdCluster({ members: [{ name: 'solo', address: '${address}' }], dir: ${JSON.stringify(dir)}, clientPort: ${cp}, peerPort: ${pp} })\n` +
          `  .then(() => { console.log('up'); process.exit(0); }, (e) => { console.error(e); process.exit(2); });\n`,
      );
      const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
      const r = spawnSync(tsx, [script], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('up');
      expect(fs.existsSync(path.join(dir, 'solo.etcd', 'member'))).toBe(true);
      // SIGKILL delivery is asynchronous: give the kernel a moment.
      for (let i = 0; i < 20 && pgrep(path.join(dir, 'solo.etcd')).length; i++) await new Promise((res) => setTimeout(res, 50));
      expect(pgrep(path.join(dir, 'solo.etcd'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 25_000);
});
