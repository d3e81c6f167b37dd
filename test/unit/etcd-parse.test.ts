/**
 * etcdctl health parsers, against REAL outputs of Debian 12's etcdctl 3.4.23 captured from the lab
 * (test/fixtures/etcd/<scenario>.{stdout,stderr}.txt + <scenario>.json with command and exit code;
 * regenerate with npx tsx scripts/capture-etcd-fixtures.ts)
 * and the seed's sample (seed-cluster-health.txt).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nameFromUrl, parseClusterHealthV2, parseEndpointHealthV3, withMemberNames, type EtcdHealthReport } from '../../activities/etcd-parse';

const DIR = path.resolve(__dirname, '../fixtures/etcd');

interface Fixture {
  stdout: string;
  stderr: string;
  meta: { command: string; exitCode: number; etcdctl: string; stopped: string[]; endpoints: Record<string, string> };
}

function fixture(scenario: string): Fixture {
  const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');
  return {
    stdout: read(`${scenario}.stdout.txt`),
    stderr: read(`${scenario}.stderr.txt`),
    meta: JSON.parse(read(`${scenario}.json`)) as Fixture['meta'],
  };
}

const ALL = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
const named = (r: EtcdHealthReport, f: Fixture) => withMemberNames(r, f.meta.endpoints);
const healthyNames = (r: EtcdHealthReport) =>
  r.members
    .filter((m) => m.healthy)
    .map((m) => m.name)
    .sort();
const unhealthyNames = (r: EtcdHealthReport) =>
  r.members
    .filter((m) => !m.healthy)
    .map((m) => m.name)
    .sort();

describe('parseClusterHealthV2 (etcdctl cluster-health, v2 API)', () => {
  it('parses the seed sample (host names, https, no verdict line)', () => {
    const r = parseClusterHealthV2(fs.readFileSync(path.join(DIR, 'seed-cluster-health.txt'), 'utf8'));
    expect(r.clusterHealthy).toBe(true);
    expect(r.verdict).toBeUndefined();
    expect(r.members).toHaveLength(6);
    expect(r.members[0]).toEqual({
      id: '21ba43a3db03bf64',
      name: 'top1',
      url: 'https://top1.mg1.hpc.domain.fr:2379',
      healthy: true,
    });
    expect(r.members.map((m) => m.name).sort()).toEqual(ALL);
    expect(r.members.map((m) => m.id)).toContain('e8d3e2afaf64ac7c');
  });

  it('all healthy (exit 0)', () => {
    const f = fixture('v2-healthy');
    expect(f.meta.exitCode).toBe(0);
    const r = named(parseClusterHealthV2(f.stdout, f.stderr), f);
    expect(r.verdict).toBe('healthy');
    expect(r.clusterHealthy).toBe(true);
    expect(r.error).toBeUndefined();
    expect(healthyNames(r)).toEqual(ALL);
    expect(r.members.find((m) => m.name === 'top1')).toEqual({
      id: '33a780d2016e5606',
      name: 'top1',
      url: 'http://127.0.3.11:2379',
      healthy: true,
    });
  });

  it('one member stopped: "cluster is degraded" (exit 5), the member unreachable with the dial error', () => {
    const f = fixture('v2-one-stopped');
    expect(f.meta.exitCode).toBe(5);
    const r = named(parseClusterHealthV2(f.stdout, f.stderr), f);
    expect(r.verdict).toBe('degraded');
    expect(r.clusterHealthy).toBe(false);
    expect(r.members).toHaveLength(6);
    expect(unhealthyNames(r)).toEqual(['worker1']);
    const w1 = r.members.find((m) => m.name === 'worker1')!;
    expect(w1.id).toBe('791eb83500a2aeaa');
    expect(w1.url).toBe('http://127.0.3.14:2379');
    expect(w1.reason).toMatch(/^unreachable: http:\/\/127\.0\.3\.14:2379: Get .*connect: connection refused$/);
  });

  it('majority stopped: "cluster is unavailable" (exit 5); survivors up but unhealthy (no leader)', () => {
    const f = fixture('v2-majority-stopped');
    expect(f.meta.exitCode).toBe(5);
    const r = named(parseClusterHealthV2(f.stdout, f.stderr), f);
    expect(r.verdict).toBe('unavailable');
    expect(r.clusterHealthy).toBe(false);
    expect(r.members).toHaveLength(6);
    expect(healthyNames(r)).toEqual([]);
    for (const m of r.members) {
      if (f.meta.stopped.includes(m.name!)) expect(m.reason, m.name).toMatch(/^unreachable: .*connection refused/);
      else expect(m.reason, m.name).toBe('got unhealthy result');
    }
  });

  it('queried member down: "cluster may be unhealthy: failed to list members" (exit 4), no members', () => {
    const f = fixture('v2-endpoint-down');
    expect(f.meta.exitCode).toBe(4);
    const r = parseClusterHealthV2(f.stdout, f.stderr);
    expect(r.members).toEqual([]);
    expect(r.clusterHealthy).toBe(false);
    expect(r.error).toMatch(
      /^failed to list members: client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127\.0\.3\.14:2379: connect: connection refused$/,
    );
    expect(parseClusterHealthV2(f.stdout).error).toBe('failed to list members');
  });

  it('handles the rarer lines: several URLs, no published URL, older "cluster is unhealthy", --forever rounds', () => {
    const r = parseClusterHealthV2(
      [
        'member aa is unreachable: no available published client urls',
        'failed to check the health of member bb on http://10.0.0.2:2379: Get "http://10.0.0.2:2379/health": dial tcp: i/o timeout',
        'failed to check the health of member bb on http://10.0.0.3:2379: Get "http://10.0.0.3:2379/health": dial tcp: i/o timeout',
        'member bb is unreachable: [http://10.0.0.2:2379 http://10.0.0.3:2379] are all unreachable',
        'cluster is unhealthy',
      ].join('\n'),
    );
    expect(r.verdict).toBe('unhealthy');
    expect(r.members).toEqual([
      { id: 'aa', url: '', healthy: false, reason: 'unreachable: no available published client urls' },
      {
        id: 'bb',
        url: 'http://10.0.0.2:2379',
        healthy: false,
        reason: expect.stringMatching(/^unreachable: http:\/\/10\.0\.0\.2:2379: .*; http:\/\/10\.0\.0\.3:2379: .*i\/o timeout$/),
      },
    ]);

    const forever = parseClusterHealthV2(
      [
        'member aa is unhealthy: got unhealthy result from http://h1.x:2379',
        'cluster is unavailable',
        '',
        'next check after 10 second...',
        '',
        'member aa is healthy: got healthy result from http://h1.x:2379',
        'cluster is healthy',
      ].join('\n'),
    );
    expect(forever).toEqual({ members: [{ id: 'aa', name: 'h1', url: 'http://h1.x:2379', healthy: true }], clusterHealthy: true, verdict: 'healthy' });
  });

  it('empty or foreign output is never healthy', () => {
    expect(parseClusterHealthV2('')).toEqual({ members: [], clusterHealthy: false });
    expect(parseClusterHealthV2('cluster is healthy\n').clusterHealthy).toBe(false);
    expect(parseClusterHealthV2('bash: etcdctl: command not found\n').clusterHealthy).toBe(false);
  });
});

describe('parseEndpointHealthV3 (etcdctl endpoint health --cluster, v3 API)', () => {
  it('all healthy (exit 0); 3.4 prints the results on stderr', () => {
    const f = fixture('v3-healthy');
    expect(f.meta.exitCode).toBe(0);
    expect(f.stdout).toBe('');
    const r = named(parseEndpointHealthV3(f.stdout, f.stderr), f);
    expect(r.clusterHealthy).toBe(true);
    expect(r.error).toBeUndefined();
    expect(healthyNames(r)).toEqual(ALL);
    expect(r.members[0]).toEqual({ id: 'http://127.0.3.11:2379', name: 'top1', url: 'http://127.0.3.11:2379', healthy: true });
  });

  it('accepts result lines on stdout too (etcdctl >= 3.5)', () => {
    const f = fixture('v3-healthy');
    expect(parseEndpointHealthV3(f.stderr, '')).toEqual(parseEndpointHealthV3('', f.stderr));
  });

  it('one member stopped (exit 1): that endpoint unhealthy, "Error: unhealthy cluster", client log lines ignored', () => {
    const f = fixture('v3-one-stopped');
    expect(f.meta.exitCode).toBe(1);
    const r = named(parseEndpointHealthV3(f.stdout, f.stderr), f);
    expect(r.clusterHealthy).toBe(false);
    expect(r.error).toBe('unhealthy cluster');
    expect(r.members).toHaveLength(6);
    expect(unhealthyNames(r)).toEqual(['worker1']);
    expect(r.members.find((m) => m.name === 'worker1')!.reason).toBe('failed to commit proposal: context deadline exceeded');
  });

  it('majority stopped (exit 1): every endpoint unhealthy, the survivors included', () => {
    const f = fixture('v3-majority-stopped');
    expect(f.meta.exitCode).toBe(1);
    const r = named(parseEndpointHealthV3(f.stdout, f.stderr), f);
    expect(r.clusterHealthy).toBe(false);
    expect(r.members).toHaveLength(6);
    expect(healthyNames(r)).toEqual([]);
  });

  it('queried member down (exit 1): no members, the member-list error', () => {
    const f = fixture('v3-endpoint-down');
    expect(f.meta.exitCode).toBe(1);
    const r = parseEndpointHealthV3(f.stdout, f.stderr);
    expect(r).toEqual({
      members: [],
      clusterHealthy: false,
      error: 'failed to fetch endpoints from etcd cluster member list: context deadline exceeded',
    });
  });

  it('names members from host names', () => {
    const r = parseEndpointHealthV3('', 'https://top2.mg1.hpc.domain.fr:2379 is healthy: successfully committed proposal: took = 1.2ms\n');
    expect(r.members).toEqual([{ id: 'https://top2.mg1.hpc.domain.fr:2379', name: 'top2', url: 'https://top2.mg1.hpc.domain.fr:2379', healthy: true }]);
    expect(r.clusterHealthy).toBe(true);
  });
});

describe('nameFromUrl', () => {
  it('takes the first label of a host name, nothing from an IP', () => {
    expect(nameFromUrl('https://worker3.mg1.hpc.domain.fr:2379')).toBe('worker3');
    expect(nameFromUrl('http://top1:2379')).toBe('top1');
    expect(nameFromUrl('http://127.0.3.11:2379')).toBeUndefined();
    expect(nameFromUrl('http://[::1]:2379')).toBeUndefined();
    expect(nameFromUrl('')).toBeUndefined();
  });
});
