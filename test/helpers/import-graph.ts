/**
 * The import graph of the code base, read with the TypeScript parser (no type-checking): every
 * import, re-export, `import x = require()`, `require()` and `import()` of each .ts file, relative
 * ones resolved to a file the way the build resolves them (`x.ts`, `x/index.ts`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** The specifier as written. */
  specifier: string;
  /** Repository-relative path of the file it resolves to; undefined for a package or an unresolved path. */
  target?: string;
  /** `import type` / `export type`: erased by the compiler, never loaded at run time. */
  typeOnly: boolean;
  line: number;
}

export type ImportGraph = Map<string, ImportEdge[]>;

/** Every .ts file under the given directories (repository-relative, sorted). */
export function listTsFiles(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel))) {
      const r = path.posix.join(rel, name);
      if (statSync(path.join(root, r)).isDirectory()) walk(r);
      else if (name.endsWith('.ts')) out.push(r);
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

export function parseImports(fileName: string, text: string): Omit<ImportEdge, 'target'>[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edges: Omit<ImportEdge, 'target'>[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean) => {
    if (spec && ts.isStringLiteralLike(spec)) edges.push({ specifier: spec.text, typeOnly, line: sf.getLineAndCharacterOfPosition(spec.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, !!node.importClause?.isTypeOnly);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** Resolves a relative specifier from a repository-relative file; undefined when nothing matches. */
export function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    const abs = path.join(root, candidate);
    if (existsSync(abs) && statSync(abs).isFile()) return candidate;
  }
  return undefined;
}

export const isRelative = (specifier: string) => specifier.startsWith('./') || specifier.startsWith('../');

export function buildImportGraph(root: string, dirs: string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of listTsFiles(root, dirs)) {
    const edges = parseImports(file, readFileSync(path.join(root, file), 'utf8')).map((e) => ({
      ...e,
      target: isRelative(e.specifier) ? resolveRelative(root, file, e.specifier) : undefined,
    }));
    graph.set(file, edges);
  }
  return graph;
}

/**
 * One cycle per strongly connected component of more than one file (or a file importing itself),
 * each as the path of files `a -> b -> ... -> a`, starting from its smallest name. Every edge
 * counts, `import type` too: a type-only cycle still means two files that cannot be read apart.
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const strongConnect = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strongConnect(v);
  return components.sort((a, b) => a[0]!.localeCompare(b[0]!)).map((comp) => shortestCycleThrough(graph, comp[0]!, new Set(comp)));
}

/** Breadth-first: the shortest path from `start` back to itself inside its component. */
function shortestCycleThrough(graph: Map<string, string[]>, start: string, within: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!within.has(w)) continue;
      if (w === start) {
        const cycle = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = prev.get(u)) cycle.splice(1, 0, u);
        return [...cycle, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
