/**
 * The patch rule (README, "Upgrading hvflow"): every patched() / deprecatePatch() id of the workflow
 * code is listed in the README's table with its state, once, and every listed id is in the code.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const WORKFLOWS = path.join(ROOT, 'workflows');

/** [id, state, file] of every patch call in workflows/. */
function patchCalls(): [string, 'patched' | 'deprecated', string][] {
  return readdirSync(WORKFLOWS)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      [...readFileSync(path.join(WORKFLOWS, f), 'utf8').matchAll(/\b(patched|deprecatePatch)\(\s*(['"`])([^'"`]*)\2\s*\)/g)].map(
        (m) => [m[3]!, m[1] === 'patched' ? 'patched' : 'deprecated', `workflows/${f}`] as [string, 'patched' | 'deprecated', string],
      ),
    );
}

/** [id, state, file] of the README's patch table. */
function patchTable(): [string, string, string][] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| patch id | where | adds | state |'));
  const lines = table.split('\n').slice(2);
  return lines
    .slice(
      0,
      lines.findIndex((l) => !l.startsWith('|')),
    )
    .map((l) => {
      const [id, where, , state] = l
        .split('|')
        .slice(1)
        .map((c) => c.trim().replace(/^`|`$/g, ''));
      return [id!, state!.split(':')[0]!, where!];
    });
}

describe('patches of the workflow code', () => {
  it('finds the patch calls it checks', () => {
    expect(patchCalls().map(([id]) => id)).toContain('hvflow-gate-webhook');
  });

  it('uses each id once, named hvflow-…', () => {
    const ids = patchCalls().map(([id]) => id);
    for (const id of ids) expect(id).toMatch(/^hvflow-[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('lists every patch in the README with its state, and nothing else', () => {
    expect(patchTable().sort()).toEqual(patchCalls().sort());
  });
});
