/**
 * Runs after every other integration file: the labs, the worker processes and the extra Temporal
 * servers the tests started are all gone (the suite's own server stops after this, in global teardown).
 * Those of this run only: its labs and servers live in the run's TMPDIR (test/global-setup.ts), its
 * worker processes run this checkout's worker/main.ts; another run on the machine is not this run's leftover.
 * The real-GlusterFS check stays machine-wide (its daemons' command lines name no directory).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
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

const runDir = inject('runDir');
const workerMain = path.resolve(__dirname, '..', '..', 'worker', 'main.ts');

describe('nothing is left running', () => {
  it('no sshd, etcd or lab server of a test lab', () => {
    expect(processes(`${runDir}/hvflow-lab-`)).toEqual([]);
  });
  it('no worker process started by a test', () => {
    expect(processes(workerMain)).toEqual([]);
  });
  it('no extra Temporal server started by a test', () => {
    expect(processes(`${runDir}/hvflow-restart-`)).toEqual([]);
  });
  it('no glusterd, brick or FUSE client of a real-GlusterFS lab, and none of its namespaces', () => {
    expect(processes('^/?[a-z/]*gluster(d|fs|fsd)( |$)')).toEqual([]);
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith(NETNS_PREFIX));
    expect(namespaces).toEqual([]);
  });
});
