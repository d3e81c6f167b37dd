/**
 * Runs after every other integration file: the labs, the worker processes and the extra Temporal
 * servers the tests started are all gone (the suite's own server stops after this, in global teardown).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NETNS_PREFIX } from '../../lab/gluster-real';

function processes(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', pattern], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('nothing is left running', () => {
  it('no sshd, etcd or lab server of a test lab', () => {
    expect(processes(`${require('node:os').tmpdir()}/hvflow-lab-`)).toEqual([]);
  });
  it('no worker process started by a test', () => {
    expect(processes('worker/main.ts')).toEqual([]);
  });
  it('no extra Temporal server started by a test', () => {
    expect(processes('hvflow-restart-')).toEqual([]);
  });
  it('no glusterd, brick or FUSE client of a real-GlusterFS lab, and none of its namespaces', () => {
    expect(processes('^/?[a-z/]*gluster(d|fs|fsd)( |$)')).toEqual([]);
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith(NETNS_PREFIX));
    expect(namespaces).toEqual([]);
  });
});
