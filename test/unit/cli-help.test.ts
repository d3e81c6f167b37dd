/**
 * Every command of the CLI's tree (client/program.ts, walked, so a new command is covered the day it
 * is added) answers `--help` with its usage and an example, and exits 0 — parsed in-process as
 * bin.ts parses argv, which is what a spawned `hvflow ... --help` does minus node's start.
 * test/e2e/cli.test.ts spawns the real process for the top-level help and one deep command.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../client/program';

/** Every command path below the program, depth first: [], ['evacuate'], ['schedule', 'create', 'evacuate'], ... */
function commandPaths(c: Command, prefix: string[] = []): string[][] {
  return [prefix, ...c.commands.flatMap((sub) => commandPaths(sub, [...prefix, sub.name()]))];
}

/** What `hvflow <args>` prints on stdout and the code it exits with (bin.ts: --help is exit 0). */
async function helpOf(args: string[]): Promise<{ stdout: string; code: number | string }> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'hvflow', ...args]);
    return { stdout, code: 'returned without exiting' };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { stdout, code: e.code === 'commander.helpDisplayed' ? 0 : e.exitCode };
  } finally {
    write.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('hvflow --help', () => {
  it('every command of the tree exits 0 and shows its usage and an example', async () => {
    const paths = commandPaths(buildProgram());
    // the tree is what the README documents: each procedure, plan, gate answers, schedules
    for (const p of [['evacuate'], ['plan', 'shutdown'], ['approve'], ['decide'], ['schedule', 'create', 'startup'], ['schedule', 'delete']])
      expect(paths.map((x) => x.join(' '))).toContain(p.join(' '));
    expect(paths.length).toBeGreaterThanOrEqual(35);
    const failures: string[] = [];
    for (const c of paths) {
      const r = await helpOf([...c, '--help']);
      if (r.code !== 0) failures.push(`${c.join(' ')}: exit ${r.code}`);
      else if (!/Usage: hvflow/.test(r.stdout) || !/Examples?:\n\s+\$ hvflow /.test(r.stdout))
        failures.push(`${c.join(' ')}: no usage or example:\n${r.stdout}`);
    }
    expect(failures).toEqual([]);
  });

  it('the top-level help lists the exit codes', async () => {
    const top = await helpOf(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Exit codes:\n\s+0 {2}ok[\s\S]*3 {2}the cluster is busy[\s\S]*5 {2}not found/);
  });

  it('an unknown command is a usage error, not help', async () => {
    const r = await helpOf(['evacuat']);
    expect(r.code).not.toBe(0);
  });
});
