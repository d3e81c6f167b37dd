/**
 * The names workflows, activities and clients share are spelled once, in domain/contract.ts: no
 * other file of the product writes them as a string, and every name there is used.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as contract from '../../domain/contract';
import { FAILURE, GATE, lockWorkflowId, MEMO, SEARCH_ATTRIBUTE } from '../../domain/contract';
import { listTsFiles } from '../helpers/import-graph';

const ROOT = path.resolve(__dirname, '../..');
const CONTRACT = 'domain/contract.ts';
const files = listTsFiles(ROOT, ['domain', 'activities', 'workflows', 'worker', 'client', 'lab', 'scripts', 'bench']).filter((f) => f !== CONTRACT);
const sources = new Map(files.map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')]));

/** Names distinctive enough that any string holding one as a word is a copy of it (a prefix: anywhere). */
const DISTINCT = [lockWorkflowId(''), MEMO.shutdown, ...Object.values(GATE), ...Object.values(SEARCH_ATTRIBUTE), ...Object.values(FAILURE)].map((name) => ({
  name,
  re: new RegExp(`(?<![\\w-])${name.replace(/[-]/g, '\\-')}${name.endsWith('-') ? '' : '(?![\\w-])'}`),
}));
const parsed = new Map([...sources].map(([f, text]) => [f, ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)]));

/** Every piece of literal text of a file (strings and template parts; comments are not). */
function literals(sf: ts.SourceFile): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      out.push({ text: n.text, line: sf.getLineAndCharacterOfPosition(n.getStart()).line + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** `x.memo.holder`, `memo?.hvflow`, `memo: { holder }`: a memo key written as a property name. */
function memoKeysSpelled(sf: ts.SourceFile): string[] {
  const file = sf.fileName;
  const keys = new Set<string>(Object.values(MEMO));
  const isMemo = (e: ts.Expression) => (ts.isIdentifier(e) && e.text === 'memo') || (ts.isPropertyAccessExpression(e) && e.name.text === 'memo');
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    const line = () => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
    if (ts.isPropertyAccessExpression(n) && keys.has(n.name.text) && isMemo(n.expression)) out.push(`${file}:${line()} ${n.getText()}`);
    if (ts.isPropertyAssignment(n) && ts.isIdentifier(n.name) && n.name.text === 'memo' && ts.isObjectLiteralExpression(n.initializer)) {
      for (const p of n.initializer.properties)
        if (p.name && ts.isIdentifier(p.name) && keys.has(p.name.text)) out.push(`${file}:${line()} memo: { ${p.name.text} }`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('the contract (domain/contract.ts)', () => {
  it('is the only file that spells a shared name', () => {
    const copies: string[] = [];
    for (const [file, sf] of parsed) {
      for (const lit of literals(sf)) for (const { name, re } of DISTINCT) if (re.test(lit.text)) copies.push(`${file}:${lit.line} spells '${name}'`);
    }
    expect(copies).toEqual([]);
  });

  it('is the only file that names a memo key', () => {
    expect([...parsed.values()].flatMap(memoKeysSpelled)).toEqual([]);
  });

  it('catches a copy', () => {
    const sf = (text: string) => ts.createSourceFile('x.ts', text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const copies = (text: string) => literals(sf(text)).flatMap((l) => DISTINCT.filter((d) => d.re.test(l.text)).map((d) => d.name));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal in it
    expect(copies("const id = `hvflow-lock-${c}`; // 'InvalidInput'")).toEqual(['hvflow-lock-']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal in it
    expect(copies("q = `HvflowCluster = ${x}`; t = 'InvalidInput'; n = 'InvalidInputError'; g = 'approve-failback'")).toEqual([
      'HvflowCluster',
      'InvalidInput',
      'approve-failback',
    ]);
    expect(memoKeysSpelled(sf('d.memo?.holder; start({ memo: { hvflow: m } }); memo.hvflowShutdown; o.holder;'))).toEqual([
      'x.ts:1 d.memo?.holder',
      'x.ts:1 memo: { hvflow }',
      'x.ts:1 memo.hvflowShutdown',
    ]);
  });

  it('has no name nobody uses', () => {
    const unused: string[] = [];
    for (const [group, names] of Object.entries({ GATE, SEARCH_ATTRIBUTE, MEMO, FAILURE })) {
      for (const key of Object.keys(names))
        if (![...sources.values()].some((text) => new RegExp(`\\b${group}\\.${key}\\b`).test(text))) unused.push(`${group}.${key}`);
    }
    for (const name of Object.keys(contract)) if (![...sources.values()].some((text) => new RegExp(`\\b${name}\\b`).test(text))) unused.push(name);
    expect(unused).toEqual([]);
  });

  it('keeps the ids and names operators see', () => {
    expect(lockWorkflowId('ocean')).toBe('hvflow-lock-ocean');
    expect(contract.unsafeGate('etcd-quorum')).toBe('etcd-quorum-unsafe');
    expect(contract.failedGate('stop-fleet')).toBe('stop-fleet-failed');
    expect(contract.clusterBusyMessage('ocean', { workflowId: 'w1', procedure: 'evacuateHypervisor', target: 'worker3', startedBy: 'alice' })).toBe(
      'cluster ocean is busy: evacuateHypervisor worker3 (workflow w1, started by alice) is running; one procedure per cluster at a time',
    );
  });
});
