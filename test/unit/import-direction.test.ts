/**
 * Imports point down (the charter): domain/ is pure and imports only domain/; activities/ never
 * import workflows/; workflows/ see activities/ only through `import type` (proxyActivities<typeof
 * ...> needs the types, the workflow bundle must not load the activities' code); no cycles.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, findCycles, type ImportEdge, isRelative, parseImports } from '../helpers/import-graph';

const ROOT = path.resolve(__dirname, '../..');
const LAYERS = ['domain', 'activities', 'workflows', 'worker', 'client', 'lab'];
const PRODUCT = ['domain', 'activities', 'workflows', 'worker', 'client'];
const graph = buildImportGraph(ROOT, LAYERS);

/** Packages pure code may use: validation and YAML parsing, neither does I/O. */
const DOMAIN_PACKAGES = new Set(['zod', 'yaml']);
/** What the workflow sandbox offers: no Node built-ins, no activity, client or worker SDK. */
const WORKFLOW_FORBIDDEN = /^(node:|@temporalio\/(activity|client|worker|testing)$)/;

const layerOf = (file: string) => file.split('/')[0]!;
const at = (file: string, e: ImportEdge) => `${file}:${e.line} imports '${e.specifier}'`;

function violations(pred: (file: string, e: ImportEdge) => boolean, layers = LAYERS): string[] {
  const out: string[] = [];
  for (const [file, edges] of graph) if (layers.includes(layerOf(file))) for (const e of edges) if (pred(file, e)) out.push(at(file, e));
  return out;
}

describe('import direction', () => {
  it('reads every layer', () => {
    for (const layer of LAYERS)
      expect(
        [...graph.keys()].some((f) => layerOf(f) === layer),
        layer,
      ).toBe(true);
    expect(graph.get('workflows/activities.ts')?.some((e) => e.target === 'activities/index.ts' && e.typeOnly)).toBe(true);
  });

  it('resolves every relative import to a file', () => {
    expect(violations((_f, e) => isRelative(e.specifier) && e.target === undefined)).toEqual([]);
  });

  it('domain/ imports only domain/ and pure packages', () => {
    const bad = violations((_f, e) => (isRelative(e.specifier) ? layerOf(e.target ?? '') !== 'domain' : !DOMAIN_PACKAGES.has(e.specifier)), ['domain']);
    expect(bad).toEqual([]);
  });

  it('activities/ never import workflows/', () => {
    expect(violations((_f, e) => layerOf(e.target ?? '') === 'workflows', ['activities'])).toEqual([]);
  });

  it('workflows/ import activities/ only with `import type`', () => {
    expect(violations((_f, e) => layerOf(e.target ?? '') === 'activities' && !e.typeOnly, ['workflows'])).toEqual([]);
  });

  it('workflows/ import nothing the workflow sandbox lacks', () => {
    expect(violations((_f, e) => WORKFLOW_FORBIDDEN.test(e.specifier), ['workflows'])).toEqual([]);
  });

  it('the product never imports the lab or the tests', () => {
    expect(violations((_f, e) => ['lab', 'test'].includes(layerOf(e.target ?? '')), PRODUCT)).toEqual([]);
  });

  it('has no import cycle', () => {
    const edges = new Map([...graph].map(([file, es]) => [file, es.flatMap((e) => (e.target ? [e.target] : []))]));
    expect(findCycles(edges).map((c) => c.join(' -> '))).toEqual([]);
  });
});

describe('the import reader', () => {
  it('tells type-only imports from the rest, in every form', () => {
    const src = [
      `import type { A } from './a';`,
      `import { type B } from './b';`,
      `export type { C } from './c';`,
      `export * from './d';`,
      `import e = require('./e');`,
      `const f = () => import('./f');`,
      `const g = require('./g');`,
      `let h: import('./h').H;`,
    ].join('\n');
    expect(parseImports('x.ts', src).map((e) => [e.specifier, e.typeOnly, e.line])).toEqual([
      ['./a', true, 1],
      // an inline `type` keeps the declaration, which a bundler may load for its side effects
      ['./b', false, 2],
      ['./c', true, 3],
      ['./d', false, 4],
      ['./e', false, 5],
      ['./f', false, 6],
      ['./g', false, 7],
      ['./h', true, 8],
    ]);
  });

  it('finds every cycle with its path, and none in a tree', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', ['e']],
      ['e', ['e']],
      ['f', ['a']],
    ]);
    expect(findCycles(g)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['e', 'e'],
    ]);
    expect(
      findCycles(
        new Map([
          ['a', ['b', 'c']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
  });
});
