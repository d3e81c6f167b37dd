/**
 * lab/sshd.ts kills a powered-off host's sshd with every process under it (its per-connection
 * children call setsid: no process group holds them). The walk of the kernel's children files and
 * the scan of all of /proc find the same tree.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { descendants, descendantsByChildrenFiles, descendantsByScan } from '../../lab/sshd';

const tree = spawn('sh', ['-c', 'sleep 30 & (sleep 30 & sleep 30 & wait) & wait'], { stdio: 'ignore' });
afterAll(() => {
  for (const p of descendantsByScan(tree.pid!)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  tree.kill('SIGKILL');
});

describe('a process tree', () => {
  it('is found whole, grandchildren included, and the same by both methods', async () => {
    // sh, a subshell, four sleeps: wait until every one is there
    let scan: number[] = [];
    for (let i = 0; i < 100 && scan.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 20));
      scan = descendantsByScan(tree.pid!);
    }
    expect(scan.length).toBe(4);
    const walked = descendantsByChildrenFiles(tree.pid!);
    if (walked !== undefined) expect([...walked].sort()).toEqual([...scan].sort());
    expect([...descendants(tree.pid!)].sort()).toEqual([...scan].sort());
  });

  it('a process that is gone has no descendants', () => {
    expect(descendants(2 ** 22 + 12345)).toEqual([]);
  });
});
