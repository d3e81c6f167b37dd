/**
 * ClusterShell nodeset syntax: `node[01-10]`, `r[1-2]n[1-3]`, `@group`, `a,b`, `a!b`, `a&b`, `a^b`.
 *
 * This is a port of ClusterShell 1.9.1 (`RangeSet`, `RangeSetND`, `NodeSetBase` and
 * `ParsingEngine`), not a re-invention: runbooks are written for the `nodeset`/`clush`
 * tools, so an expression must mean here exactly what it means there. Folding nodes with
 * several numeric parts (`x[1-2]y[2-3],x3y9`) and even their expansion order depend on the
 * order in which ClusterShell merges its internal vectors, so those algorithms are ported
 * step by step, with the Python method names in comments to ease the comparison.
 * test/unit/nodeset.test.ts checks the result against the real `/usr/bin/nodeset`.
 *
 * Pure and deterministic (it runs inside Temporal workflow sandboxes): no Node APIs, no I/O,
 * no clock, no randomness. Indexes are BigInts, as Python ints are unbounded.
 */

/** `@top` asks `resolver('top')`, `@vm:running` asks `resolver('vm:running')`; undefined = unknown group. */
export type GroupResolver = (group: string) => string[] | undefined;

/**
 * A nodeset the real tool rejects too. `reason` is what `nodeset` prints after `Parse error: `
 * (or `ERROR: `); `expression` is the faulty argument, absent when others build the error.
 */
export class NodeSetError extends Error {
  readonly reason: string;
  readonly expression?: string;
  constructor(reason: string, expression?: string) {
    super(expression === undefined ? reason : `invalid nodeset ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'NodeSetError';
    this.reason = reason;
    this.expression = expression;
  }
}

// ---------------------------------------------------------------------------------------------
// Python string and int helpers (the parser's acceptance depends on their exact behaviour)

const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_WS = new RegExp(`^[${PY_WS}]+`);
const TRAILING_WS = new RegExp(`[${PY_WS}]+$`);
const lstrip = (s: string) => s.replace(LEADING_WS, '');
const rstrip = (s: string) => s.replace(TRAILING_WS, '');
const strip = (s: string) => rstrip(lstrip(s));

/** Python's `str.splitlines()`: the CLI splits each argument into lines, each a nodeset. */
function splitLines(s: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the separators of Python's str.splitlines() include these
  const lines = s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Python's `s.split(sep, 1)`, or undefined when sep is absent (Python raises on unpacking). */
function split1(s: string, sep: string): [string, string] | undefined {
  const i = s.indexOf(sep);
  return i < 0 ? undefined : [s.slice(0, i), s.slice(i + sep.length)];
}

/** Python's `int(str)`: surrounding blanks, a sign, digits with single `_` between them. */
function pyInt(s: string): bigint | undefined {
  const t = strip(s);
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return undefined;
  const value = BigInt(t.replace(/^[+-]/, '').replace(/_/g, ''));
  return t.startsWith('-') ? -value : value;
}

/** Python's `"%0*d" % (pad, i)`. */
function formatIndex(i: bigint, pad: number): string {
  if (pad === 0) return i.toString();
  return i < 0n ? `-${(-i).toString().padStart(pad - 1, '0')}` : i.toString().padStart(pad, '0');
}

/** Python's `(pat % args)` for our internal patterns, which only hold `%s` and `%%`. */
function formatPattern(pat: string, args: readonly string[]): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < pat.length; i++) {
    if (pat[i] !== '%') out += pat[i];
    else out += pat[++i] === '%' ? '%' : args[next++];
  }
  return out;
}

// Error texts exactly as ClusterShell builds them (RangeSetParseError, NodeSetParseError...).
const rangeSetParseError = (part: string, msg: string) => new RangeSetParseError(part ? `${msg} : "${part}"` : msg);
const nodeSetParseError = (part: string | undefined, msg: string) => new NodeSetError(part ? `${msg}: "${part}"` : msg);
/** Internal: a RangeSet error, which the nodeset parser reports as `bad range: "..."`. */
class RangeSetParseError extends Error {}
function badRange<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeSetParseError) throw nodeSetParseError(e.message, 'bad range');
    throw e;
  }
}

// Python compares 1e100 (a float) with ints; the float's rounding does not matter here.
const ONE_E100 = 10n ** 100n;
/** ClusterShell asserts `stop - start < 1e9` ("range too large"). */
const MAX_RANGE_SPAN = 1_000_000_000n;
/** Our own, stricter limit: V8 cannot hold ClusterShell's 1e9 names, a workflow must not try. */
const MAX_RANGE_SIZE = 1_000_000n;

// ---------------------------------------------------------------------------------------------
// RangeSet: a set of indexes kept as strings, so `01` and `1` are different members (v1.9).

/** ClusterShell's order: negatives first (longest first, then by value), then by length, then as text. */
function compareIndexes(a: string, b: string): number {
  const an = a.startsWith('-');
  const bn = b.startsWith('-');
  const ka = an ? -a.length : a.length;
  const kb = bn ? -b.length : b.length;
  if (ka !== kb) return ka - kb;
  if (an) {
    const d = BigInt(a) - BigInt(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Run {
  first: string;
  last: string;
}

/**
 * `RangeSet._slices_padding()` with autostep disabled (the CLI default): runs of consecutive
 * indexes that share a padding (`08-10` is one run, `9,08` are two).
 */
function foldRuns(sorted: readonly string[]): Run[] {
  const runs: Run[] = [];
  let cur: (Run & { lastIdx: bigint; padded: boolean; width: number }) | undefined;
  for (const s of sorted) {
    const idx = BigInt(s);
    const padded = s.length > 1 && s[0] === '0';
    if (cur) {
      // A padded run only continues with the same width; an unpadded one with unpadded indexes.
      const paddingMismatch = cur.padded ? s.length !== cur.width : padded;
      if (!paddingMismatch && idx === cur.lastIdx + 1n) {
        cur.last = s;
        cur.lastIdx = idx;
        continue;
      }
      runs.push({ first: cur.first, last: cur.last });
    }
    cur = { first: s, last: s, lastIdx: idx, padded, width: s.length };
  }
  if (cur) runs.push({ first: cur.first, last: cur.last });
  return runs;
}

const runText = (r: Run) => (r.first === r.last ? r.first : `${r.first}-${r.last}`);

class RangeSet {
  private readonly items: Set<string>;
  private sortedCache: string[] | undefined;

  constructor(items?: Iterable<string>) {
    this.items = new Set(items);
  }

  /** `RangeSet._parse()`: comma-separated `a`, `a-b`, `a-b/step`, with the tool's quirks. */
  static parse(pattern: string): RangeSet {
    const rs = new RangeSet();
    for (const raw of pattern.split(',')) {
      const subrange = strip(raw);
      let baserange = subrange;
      let step = 1n;
      const slash = split1(subrange, '/');
      if (slash) {
        baserange = slash[0];
        const s = pyInt(slash[1]);
        if (s === undefined) throw rangeSetParseError(subrange, 'cannot convert string to integer');
        step = s;
      }
      let beginSign = 1n;
      let endSign = 1n;
      let begin: string;
      let end: string;
      if (!baserange.includes('-')) {
        if (step !== 1n) throw rangeSetParseError(subrange, 'invalid step usage');
        begin = end = baserange;
      } else {
        // Like Python's tuple unpacking: "a-b", "-a" (negative), "-a-b", "-a--b"; the dropped
        // parts are not checked, so "1-2-3" means -2..3, as in the real tool.
        const parts = baserange.split('-').map(strip);
        if (parts.length === 2) {
          [begin, end] = parts;
          if (!begin) {
            begin = end;
            beginSign = endSign = -1n;
          }
        } else if (parts.length === 3) {
          [, begin, end] = parts;
          beginSign = -1n;
        } else if (parts.length === 4) {
          [, begin, , end] = parts;
          beginSign = endSign = -1n;
        } else {
          throw new NodeSetError('too many values to unpack (expected 4)');
        }
      }
      const notAnInteger = () => rangeSetParseError(subrange, subrange.length === 0 ? 'empty range' : 'cannot convert string to integer');
      const beginValue = pyInt(begin);
      if (beginValue === undefined) throw notAnInteger();
      let pad = 0;
      let start: bigint | undefined = 0n;
      if (beginValue !== 0n) {
        const begins = begin.replace(/^0+/, '');
        if (begin.length > begins.length) pad = begin.length;
        start = pyInt(begins);
      } else if (begin.length > 1) {
        pad = begin.length;
      }
      if (start === undefined) throw notAnInteger();
      const endValue = pyInt(end);
      if (endValue === undefined) throw notAnInteger();
      const ends = endValue !== 0n ? end.replace(/^0+/, '') : end;
      // An explicit padding on either bound requires both bounds to have the same width.
      if ((pad > 0 || end.length > ends.length) && begin.length !== end.length) {
        throw rangeSetParseError(subrange, 'padding length mismatch');
      }
      const stop = pyInt(ends);
      if (stop === undefined) throw notAnInteger();
      if (pad > 0 && beginSign < 0n) throw rangeSetParseError(subrange, 'padding not supported in negative ranges');
      if (stop > ONE_E100 || start * beginSign > stop * endSign || step < 1n) {
        throw rangeSetParseError(subrange, 'invalid values in range');
      }
      rs.addRange(start * beginSign, stop * endSign + 1n, step, pad);
    }
    return rs;
  }

  /** `RangeSet.add_range()`: start..stop-1 by step, zero-padded to `pad` digits. */
  private addRange(start: bigint, stop: bigint, step: bigint, pad: number): void {
    if (stop - start >= MAX_RANGE_SPAN || (stop - start + step - 1n) / step > MAX_RANGE_SIZE) {
      throw new NodeSetError('range too large');
    }
    for (let i = start; i < stop; i += step) this.items.add(formatIndex(i, pad));
    this.sortedCache = undefined;
  }

  get size(): number {
    return this.items.size;
  }

  sorted(): readonly string[] {
    if (!this.sortedCache) this.sortedCache = [...this.items].sort(compareIndexes);
    return this.sortedCache;
  }

  first(): string {
    return this.sorted()[0];
  }

  last(): string {
    const s = this.sorted();
    return s[s.length - 1];
  }

  copy(): RangeSet {
    return new RangeSet(this.items);
  }

  update(other: RangeSet): void {
    for (const i of other.items) this.items.add(i);
    this.sortedCache = undefined;
  }

  intersectionUpdate(other: RangeSet): void {
    for (const i of [...this.items]) if (!other.items.has(i)) this.items.delete(i);
    this.sortedCache = undefined;
  }

  differenceUpdate(other: RangeSet): void {
    for (const i of other.items) this.items.delete(i);
    this.sortedCache = undefined;
  }

  symmetricDifferenceUpdate(other: RangeSet): void {
    for (const i of other.items) {
      if (this.items.has(i)) this.items.delete(i);
      else this.items.add(i);
    }
    this.sortedCache = undefined;
  }

  union(other: RangeSet): RangeSet {
    const r = this.copy();
    r.update(other);
    return r;
  }

  intersection(other: RangeSet): RangeSet {
    return new RangeSet([...this.items].filter((i) => other.items.has(i)));
  }

  difference(other: RangeSet): RangeSet {
    return new RangeSet([...this.items].filter((i) => !other.items.has(i)));
  }

  intersects(other: RangeSet): boolean {
    for (const i of this.items) if (other.items.has(i)) return true;
    return false;
  }

  isSubset(other: RangeSet): boolean {
    if (this.size > other.size) return false;
    for (const i of this.items) if (!other.items.has(i)) return false;
    return true;
  }

  equals(other: RangeSet): boolean {
    return this.size === other.size && this.isSubset(other);
  }

  /** Python's `<` / `>` on sets: proper subset / superset. */
  lt(other: RangeSet): boolean {
    return this.size < other.size && this.isSubset(other);
  }

  gt(other: RangeSet): boolean {
    return other.lt(this);
  }

  /** `RangeSet.contiguous()` as strings. */
  contiguous(): string[] {
    return foldRuns(this.sorted()).map(runText);
  }

  /** Folded form without brackets: `1-3,5,08-10`. */
  toString(): string {
    return foldRuns(this.sorted()).map(runText).join(',');
  }
}

// ---------------------------------------------------------------------------------------------
// RangeSetND: the indexes of names with several numeric parts, as a list of RangeSet vectors
// (`x[1-2]y[2-3],x3y9` is [[1-2, 2-3], [3, 9]]). Folding is lazy, as in ClusterShell
// (`precond_fold`): the methods that Python decorates fold first, the others see raw vectors.

type Vec = RangeSet[];

function* product(vec: readonly RangeSet[]): Generator<string[]> {
  const lists = vec.map((r) => r.sorted());
  if (lists.some((l) => l.length === 0)) return;
  const at = lists.map(() => 0);
  for (;;) {
    yield lists.map((l, i) => l[at[i]]);
    let k = lists.length - 1;
    for (; k >= 0; k--) {
      if (++at[k] < lists[k].length) break;
      at[k] = 0;
    }
    if (k < 0) return;
  }
}

const vecCount = (vec: readonly RangeSet[]) => vec.reduce((n, r) => n * r.size, 1);

/** `RangeSetND._sort()` key: bigger vectors first, then per axis bigger sets, lower first/last index. */
function compareVecs(a: Vec, b: Vec): number {
  const d = vecCount(b) - vecCount(a);
  if (d !== 0) return d;
  for (let i = 0; i < a.length; i++) {
    if (a[i].size !== b[i].size) return b[i].size - a[i].size;
    for (const [x, y] of [
      [a[i].first(), b[i].first()],
      [a[i].last(), b[i].last()],
    ]) {
      if (x !== y) return x < y ? -1 : 1; // Python compares these index strings as text
    }
  }
  return 0;
}

class RangeSetND {
  private vecs: Vec[];
  private dirty = true;
  private multivarHint = false;

  /** With `copy` false, the vectors are owned (ClusterShell's `copy_rangeset=False`). */
  constructor(vecs: Vec[] = [], copy = true) {
    this.vecs = copy ? vecs.map((v) => v.map((r) => r.copy())) : vecs;
  }

  private precondFold(): void {
    if (this.dirty) this.fold();
  }

  /** The folded vectors (Python's `veclist` property getter). */
  vectors(): Vec[] {
    this.precondFold();
    return this.vecs;
  }

  private setVectors(vecs: Vec[]): void {
    this.vecs = vecs;
    this.dirty = true;
  }

  get truthy(): boolean {
    return this.vecs.length > 0;
  }

  dim(): number {
    return this.vecs.length ? this.vecs[0].length : 0;
  }

  copy(): RangeSetND {
    this.precondFold();
    const cpy = new RangeSetND(this.vecs);
    cpy.dirty = this.dirty;
    return cpy;
  }

  get size(): number {
    return this.vectors().reduce((n, v) => n + vecCount(v), 0);
  }

  *iter(): Generator<string[]> {
    for (const vec of this.vectors()) yield* product(vec);
  }

  private fold(): void {
    if (this.vecs.length > 1) {
      if (!this.foldUnivariate()) this.foldMultivariate();
    } else {
      this.dirty = false;
    }
  }

  /** Fast path: when only one axis differs between vectors, merge them along that axis. */
  private foldUnivariate(): boolean {
    const dim = this.dim();
    let vardim = 0;
    let dimdiff = 0;
    if (dim > 1) {
      for (let i = 0; i < dim; i++) {
        const first = this.vecs[0][i];
        if (!this.vecs.every((v) => v[i].equals(first))) {
          dimdiff++;
          if (dimdiff > 1) break;
          vardim = i;
        }
      }
    }
    const univar = dim === 1 || dimdiff === 1;
    if (univar) {
      for (const vec of this.vecs.slice(1)) this.vecs[0][vardim].update(vec[vardim]);
      this.vecs.splice(1);
      this.dirty = false;
    }
    this.multivarHint = !univar;
    return univar;
  }

  /** Expand to single-index vectors, then merge pairs that differ on at most one axis. */
  private foldMultivariate(): void {
    const seen = new Map<string, string[]>();
    for (const vec of this.vecs) for (const t of product(vec)) seen.set(t.join('\0'), t);
    this.vecs = [...seen.values()].map((t) => t.map((i) => new RangeSet([i])));
    this.mergeVectors();
    this.dirty = false;
  }

  /** `_fold_multivariate_merge()`: cheap passes first, then full O(n^2) passes. */
  private mergeVectors(): void {
    const vecs = this.vecs;
    let full = false;
    let chg = true;
    while (chg) {
      chg = false;
      vecs.sort(compareVecs);
      let index1 = 0;
      while (index1 + 1 < vecs.length) {
        let item1 = vecs[index1];
        let index2 = index1 + 1;
        index1++;
        while (index2 < vecs.length) {
          const item2 = vecs[index2];
          index2++;
          const merged: Vec = [];
          let nbDiff = 0;
          for (let pos = 0; pos < item1.length; pos++) {
            const rg1 = item1[pos];
            const rg2 = item2[pos];
            if (rg1.equals(rg2)) {
              merged[pos] = rg1;
            } else if (!rg1.intersects(rg2)) {
              if (++nbDiff > 1) break;
              merged[pos] = rg1.union(rg2);
            } else if (rg1.gt(rg2) || rg1.lt(rg2)) {
              if (++nbDiff > 1) break;
              merged[pos] = rg2.gt(rg1) ? rg2 : rg1; // Python's max(rg1, rg2)
            } else {
              nbDiff = 2;
              break;
            }
          }
          if (nbDiff <= 1) {
            chg = true;
            item1 = vecs[index1 - 1] = merged;
            index2--;
            vecs.splice(index2, 1);
          } else if (!full) {
            break;
          }
        }
      }
      if (!chg && !full) chg = full = true;
    }
  }

  update(other: RangeSetND | Vec[]): void {
    const vecs = other instanceof RangeSetND ? other.vecs : other;
    for (const vec of vecs) this.vecs.push(vec.map((r) => r.copy()));
    this.dirty = true;
    if (!this.multivarHint) this.foldUnivariate();
  }

  /** Cuts each vector by each vector of `other`; the pieces may overlap until the next fold. */
  differenceUpdate(other: RangeSetND): void {
    const result: Vec[] = [];
    for (const rgvec1 of this.vecs) {
      let procvx1: Vec[] = [rgvec1];
      let nextvx1: Vec[] = [];
      for (const rgvec2 of other.vecs) {
        while (procvx1.length > 0) {
          const rgproc1 = procvx1.shift() as Vec;
          let tmpvx: Vec[] = [];
          for (let pos = 0; pos < rgproc1.length; pos++) {
            const rg1 = rgproc1[pos];
            const rg2 = rgvec2[pos];
            if (rg1.isSubset(rg2)) continue;
            if (rg1.intersects(rg2)) {
              const tmpvec = [...rgproc1];
              tmpvec[pos] = rg1.difference(rg2);
              tmpvx.push(tmpvec);
            } else {
              tmpvx = [rgproc1];
              break;
            }
          }
          nextvx1.push(...tmpvx);
        }
        if (nextvx1.length) {
          procvx1 = nextvx1;
          nextvx1 = [];
        }
      }
      result.push(...procvx1);
    }
    this.setVectors(result);
  }

  difference(other: RangeSetND): RangeSetND {
    const cpy = this.copy();
    cpy.differenceUpdate(other);
    return cpy;
  }

  intersectionUpdate(other: RangeSetND): void {
    if (other === this) return;
    const tmp = new RangeSetND();
    for (const rgvec of this.vecs) {
      for (const ergvec of other.vecs) {
        const irgvec = rgvec.map((rg, i) => rg.intersection(ergvec[i]));
        if (!irgvec.some((r) => r.size === 0)) tmp.update([irgvec]);
      }
    }
    this.setVectors(tmp.vectors());
  }

  intersection(other: RangeSetND): RangeSetND {
    const cpy = this.copy();
    cpy.intersectionUpdate(other);
    return cpy;
  }

  symmetricDifferenceUpdate(other: RangeSetND): void {
    const diff2 = other.difference(this);
    this.differenceUpdate(other);
    this.update(diff2);
  }
}

// ---------------------------------------------------------------------------------------------
// NodeSetBase: pattern (`r%sn%s`, literal `%` doubled) -> indexes (none for `admin`).

type Indexes = RangeSet | RangeSetND | null;

/** Python truthiness of a pattern's indexes (a RangeSetND is true when it has raw vectors). */
const truthy = (rs: Indexes): rs is RangeSet | RangeSetND => (rs instanceof RangeSetND ? rs.truthy : rs !== null && rs.size > 0);
const sizeOf = (rs: RangeSet | RangeSetND) => rs.size;

class NodeSetBase {
  private patterns = new Map<string, Indexes>();

  constructor(pat?: string, rs: Indexes = null, copy = true) {
    if (pat) this.add(pat, rs, copy);
  }

  private sortedPatterns(): [string, Indexes][] {
    return [...this.patterns].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private add(pat: string, rs: Indexes, copy = true): void {
    if (this.patterns.has(pat)) {
      const existing = this.patterns.get(pat) as Indexes;
      if ((existing === null) !== (rs === null)) throw new NodeSetError('Invalid operation');
      if (existing instanceof RangeSet && truthy(existing)) existing.update(rs as RangeSet);
      else if (existing instanceof RangeSetND && truthy(existing)) existing.update(rs as RangeSetND);
    } else {
      this.patterns.set(pat, truthy(rs) && copy ? rs.copy() : rs);
    }
  }

  get size(): number {
    let n = 0;
    for (const rs of this.patterns.values()) n += truthy(rs) ? sizeOf(rs) : 1;
    return n;
  }

  /** Node names, in `nodeset -e` order. */
  *[Symbol.iterator](): Generator<string> {
    for (const [pat, rs] of this.sortedPatterns()) {
      if (rs instanceof RangeSet && truthy(rs)) for (const i of rs.sorted()) yield formatPattern(pat, [i]);
      else if (rs instanceof RangeSetND && truthy(rs)) for (const v of rs.iter()) yield formatPattern(pat, v);
      else yield formatPattern(pat, []);
    }
  }

  /** Folded form, as `nodeset -f` prints it. */
  toString(): string {
    const out: string[] = [];
    const bracket = (r: RangeSet) => (r.size > 1 ? `[${r}]` : `${r}`);
    for (const [pat, rs] of this.sortedPatterns()) {
      if (!truthy(rs)) out.push(formatPattern(pat, []));
      else if (rs instanceof RangeSet) out.push(formatPattern(pat, [bracket(rs)]));
      else for (const vec of rs.vectors()) out.push(formatPattern(pat, vec.map(bracket)));
    }
    return out.join(',');
  }

  update(other: NodeSetBase): void {
    for (const [pat, rs] of other.patterns) this.add(pat, rs);
  }

  differenceUpdate(other: NodeSetBase): void {
    const purge: string[] = [];
    for (const [pat, ers] of other.patterns) {
      const rs = this.patterns.get(pat) ?? null;
      if (truthy(rs)) {
        if (rs instanceof RangeSet) rs.differenceUpdate(ers as RangeSet);
        else rs.differenceUpdate(ers as RangeSetND);
        if (sizeOf(rs) === 0) purge.push(pat);
      } else if (this.patterns.has(pat)) {
        purge.push(pat);
      }
    }
    for (const pat of purge) this.patterns.delete(pat);
  }

  intersectionUpdate(other: NodeSetBase): void {
    const tmp = new NodeSetBase();
    for (const [pat, irs] of other.patterns) {
      const rs = this.patterns.get(pat) ?? null;
      if (truthy(rs)) {
        const inter = rs instanceof RangeSet ? rs.intersection(irs as RangeSet) : rs.intersection(irs as RangeSetND);
        if (sizeOf(inter) > 0) tmp.add(pat, inter, false);
      } else if (!truthy(irs) && this.patterns.has(pat)) {
        tmp.add(pat, null);
      }
    }
    this.patterns = tmp.patterns;
  }

  symmetricDifferenceUpdate(other: NodeSetBase): void {
    const purge: string[] = [];
    for (const [pat, rs] of this.patterns) {
      const brs = other.patterns.get(pat) ?? null;
      if (truthy(brs)) {
        if (rs instanceof RangeSet) rs.symmetricDifferenceUpdate(brs as RangeSet);
        else (rs as RangeSetND).symmetricDifferenceUpdate(brs as RangeSetND);
      } else if (other.patterns.has(pat)) {
        purge.push(pat);
      }
    }
    for (const [pat, brs] of other.patterns) {
      if (!truthy(this.patterns.get(pat) ?? null) && !this.patterns.has(pat)) this.add(pat, brs);
    }
    for (const [pat, rs] of this.patterns) if (rs !== null && sizeOf(rs) === 0) purge.push(pat);
    for (const pat of purge) this.patterns.delete(pat);
  }

  apply(op: Operator, other: NodeSetBase): void {
    if (op === ',') this.update(other);
    else if (op === '!') this.differenceUpdate(other);
    else if (op === '&') this.intersectionUpdate(other);
    else this.symmetricDifferenceUpdate(other);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser (`ParsingEngine`): a scanner yields (operator, pattern, indexes) tokens, evaluated
// left to right with no precedence: `a,b!c` is `(a ∪ b) ∖ c`.

type Operator = ',' | '!' | '&' | '^';
interface Token {
  op: Operator;
  pat: string;
  indexes: Indexes;
}

function nextOp(s: string): [number, Operator | undefined] {
  const m = /[,!&^]/.exec(s);
  return m ? [m.index, m[0] as Operator] : [-1, undefined];
}

/** `_rsets4nsb()`: one index is a RangeSet, several a RangeSetND, none no indexes. */
const indexesOf = (rsets: RangeSet[]): Indexes => (rsets.length > 1 ? new RangeSetND([rsets], false) : rsets.length === 1 ? rsets[0] : null);

/** `_scan_string_single()`: a name without brackets; each digit run is an index. */
function scanSingle(s: string): [string, RangeSet[]] {
  if (s === '') throw nodeSetParseError(s, 'parse error');
  let pat = '';
  const rsets: RangeSet[] = [];
  for (const [, pfx, idx] of s.matchAll(/(\D*)(\d*)/g)) {
    if (pfx === '' && idx === '') continue; // the regexp's final empty match
    pat += pfx;
    if (idx) {
      if (BigInt(idx) > ONE_E100) {
        throw nodeSetParseError(`invalid rangeset index : "${idx}"`, 'bad range');
      }
      pat += '%s';
      rsets.push(new RangeSet([idx])); // the digits as written keep their padding
    }
  }
  return [pat, rsets];
}

/** `_amend_leading_digits()`: `n1[0-2]` is `n[10-12]`. */
function amendLeadingDigits(outer: string, inner: string): [string, string] {
  const outerstrip = outer.replace(/[0-9]+$/, '');
  if (outerstrip.length < outer.length) {
    const digits = outer.slice(outerstrip.length);
    inner = RangeSet.parse(inner)
      .contiguous()
      .map((elem) =>
        elem
          .split('-')
          .map((bound) => digits + bound)
          .join('-'),
      )
      .join(',');
  }
  return [outerstrip, inner];
}

/** `_amend_trailing_digits()`: `n[0-2]5` is `n[05-25/10]`. */
function amendTrailingDigits(outer: string, inner: string): [string, string] {
  const outerstrip = outer.replace(/^[0-9]+/, '');
  if (outerstrip.length < outer.length) {
    if (inner.includes('/')) throw nodeSetParseError(outer, 'illegal trailing digits after range with steps');
    const digits = outer.slice(0, outer.length - outerstrip.length);
    inner = inner
      .split(',')
      .map((elem) =>
        elem
          .split('-')
          .map((bound) => bound + digits)
          .join('-'),
      )
      .map((s) => (s.includes('-') ? `${s}/1${'0'.repeat(digits.length)}` : s))
      .join(',');
  }
  return [outerstrip, inner];
}

/** `_scan_string()`, kept close to the original: its checks define which input is rejected. */
function* scanString(input: string): Generator<Token> {
  let nsstr: string | undefined = input;
  let nextOpCode: Operator | undefined = ',';
  while (nsstr) {
    nsstr = lstrip(nsstr);
    const rsets: RangeSet[] = [];
    const opCode = nextOpCode as Operator;
    let opIdx: number;
    [opIdx, nextOpCode] = nextOp(nsstr);
    let bracketIdx = nsstr.indexOf('[');
    let newpat = '';

    if (bracketIdx >= 0 && (opIdx > bracketIdx || opIdx < 0)) {
      // A name with brackets before the next operator: "forbin[3,4-10]-ilo".
      let sfx = nsstr;
      while (bracketIdx >= 0 && (opIdx > bracketIdx || opIdx < 0)) {
        let pfx: string;
        [pfx, sfx] = split1(sfx, '[') as [string, string];
        const closed = split1(sfx, ']');
        if (!closed) throw nodeSetParseError(nsstr, 'missing bracket');
        let rng: string;
        [rng, sfx] = closed;
        if (pfx.includes(']')) throw nodeSetParseError(pfx, 'illegal closing bracket');
        if (sfx.length > 0) {
          const braEnd = sfx.indexOf(']');
          let braStart = sfx.indexOf('[');
          if (braStart === -1) braStart = braEnd + 1;
          if (braEnd >= 0 && braEnd < braStart) throw nodeSetParseError(sfx, 'illegal closing bracket');
        }
        const pfxlen = pfx.length;
        if (sfx.length > 0) [sfx, rng] = badRange(() => amendTrailingDigits(sfx, rng));
        if (pfxlen > 0) {
          [pfx, rng] = badRange(() => amendLeadingDigits(pfx, rng));
          if (pfx) {
            // Digits between brackets are indexes too: "r1n[1-2]" has 2 axes.
            let pfxIndexes: RangeSet[];
            [pfx, pfxIndexes] = scanSingle(pfx);
            rsets.push(...pfxIndexes);
          }
        }
        bracketIdx = sfx.indexOf('[', Math.max(0, bracketIdx - pfxlen));
        [opIdx, nextOpCode] = nextOp(sfx);
        if (sfx.startsWith('[')) throw nodeSetParseError(sfx, 'illegal reopening bracket');
        newpat += `${pfx}%s`;
        const bracketIndexes = rng;
        rsets.push(badRange(() => RangeSet.parse(bracketIndexes)));
      }
      [opIdx, nextOpCode] = nextOp(sfx);
      if (opIdx < 0) {
        nsstr = undefined;
      } else {
        [sfx, nsstr] = split1(sfx, nextOpCode as Operator) as [string, string];
        if (!nsstr) throw nodeSetParseError(undefined, `missing nodeset operand with '${nextOpCode}' operator`);
      }
      sfx = rstrip(sfx);
      if (sfx) {
        const [sfxpat, sfxIndexes] = scanSingle(sfx);
        newpat += sfxpat;
        rsets.push(...sfxIndexes);
      }
    } else {
      // No bracket before the next operator: a plain name.
      let node: string;
      if (opIdx < 0) {
        node = nsstr;
        nsstr = undefined;
      } else {
        [node, nsstr] = split1(nsstr, nextOpCode as Operator) as [string, string];
        if (!node || !nsstr) {
          throw nodeSetParseError(node || nsstr, `missing nodeset operand with '${nextOpCode}' operator`);
        }
      }
      if (node.includes(']')) throw nodeSetParseError(node, 'illegal closing bracket');
      let nodeIndexes: RangeSet[];
      [newpat, nodeIndexes] = scanSingle(rstrip(node));
      rsets.push(...nodeIndexes);
    }
    yield { op: opCode, pat: newpat, indexes: indexesOf(rsets) };
  }
}

/** Python's recursion limit would stop a group that includes itself; we stop earlier. */
const MAX_GROUP_DEPTH = 64;

/** `ParsingEngine.parse_string()`: scan, resolve `@groups` (recursively), apply operators. */
function parseString(nsstr: string, groups: GroupResolver | undefined, namespace: string, depth: number): NodeSetBase {
  if (depth > MAX_GROUP_DEPTH) throw new NodeSetError('node groups nested too deeply (does a group include itself?)');
  const nodeset = new NodeSetBase();
  // ClusterShell formats names with Python's `%`, so a literal `%` is doubled first.
  for (const { op, pat, indexes } of scanString(strip(nsstr).replace(/%/g, '%%'))) {
    if (pat.startsWith('@')) {
      const nsGroup = new NodeSetBase();
      for (const group of new NodeSetBase(pat, indexes)) {
        const [text, nsp] = resolveGroup(group, namespace, groups);
        if (text) nsGroup.update(parseString(text, groups, nsp, depth + 1));
      }
      nodeset.apply(op, nsGroup);
    } else if (pat.includes('*') || pat.includes('?')) {
      // ClusterShell matches wildcards against every node of the default group source.
      throw nodeSetParseError(new NodeSetBase(pat, indexes).toString(), 'node wildcards are not supported');
    } else {
      nodeset.apply(op, new NodeSetBase(pat, indexes, false));
    }
  }
  return nodeset;
}

/**
 * `parse_group_string()`: `@g` in group source `namespace` (the one of the enclosing group, as
 * in ClusterShell), `@src:g` in source `src`. Returns the nodes as one nodeset string.
 */
function resolveGroup(group: string, namespace: string, groups: GroupResolver | undefined): [string, string] {
  let name = group.slice(1);
  const sourced = split1(name, ':');
  if (sourced) [namespace, name] = sourced;
  if (name.startsWith('@')) throw nodeSetParseError(group, 'group lists (@@source) are not supported');
  const key = namespace ? `${namespace}:${name}` : name;
  const nodes = groups?.(key);
  if (nodes === undefined) {
    throw nodeSetParseError(`@${key}`, groups ? 'unknown node group' : 'unknown node group (no group resolver)');
  }
  return [nodes.join(','), namespace];
}

/** One `nodeset` command-line argument: each line is a nodeset (`NodeSet.fromlist()`). */
function parseArgument(expr: string, groups: GroupResolver | undefined): NodeSetBase {
  try {
    const set = new NodeSetBase();
    for (const line of splitLines(expr)) set.update(parseString(line, groups, '', 0));
    return set;
  } catch (e) {
    if (e instanceof NodeSetError && e.expression === undefined) throw new NodeSetError(e.reason, expr);
    throw e;
  }
}

/** The `nodeset` command: the union of its arguments. */
function evaluate(args: Iterable<string>, groups: GroupResolver | undefined): NodeSetBase {
  const xset = new NodeSetBase();
  for (const arg of args) xset.update(parseArgument(arg, groups));
  return xset;
}

// ---------------------------------------------------------------------------------------------
// API

/** `nodeset -e expr`: the node names, in the tool's order (by name pattern, then by index). */
export function expandNodeset(expr: string, groups?: GroupResolver): string[] {
  return [...evaluate([expr], groups)];
}

/** `nodeset -f nodes...`: a string is one argument; each element of an iterable is one argument. */
export function foldNodeset(nodes: Iterable<string> | string, groups?: GroupResolver): string {
  return evaluate(typeof nodes === 'string' ? [nodes] : nodes, groups).toString();
}

/** `nodeset -c expr`. */
export function countNodeset(expr: string, groups?: GroupResolver): number {
  return evaluate([expr], groups).size;
}

/** `nodeset -e expr -x exclude`. */
export function excludeNodeset(expr: string, exclude: string, groups?: GroupResolver): string[] {
  const xset = evaluate([expr], groups);
  xset.differenceUpdate(parseArgument(exclude, groups));
  return [...xset];
}

/**
 * `nodeset -O pattern -e nodes`: `pattern` with `%s` replaced by each node, `%%` by `%`
 * (`formatNodeset('@vm:running', 'pcocc-vm-%s.service', groups)`). `nodes` is read as by
 * foldNodeset. The pattern must hold exactly one `%s`, as Python's `%` operator requires.
 */
export function formatNodeset(nodes: Iterable<string> | string, pattern: string, groups?: GroupResolver): string[] {
  const pieces = pattern.split(/(%.?)/);
  const conversions = pieces.filter((_, i) => i % 2 === 1);
  const bad = conversions.find((c) => c !== '%s' && c !== '%%');
  if (bad !== undefined) throw new NodeSetError(`unsupported format ${JSON.stringify(bad)} in output format`, pattern);
  const slots = conversions.filter((c) => c === '%s').length;
  if (slots === 0) throw new NodeSetError('not all arguments converted during string formatting', pattern);
  if (slots > 1) throw new NodeSetError('not enough arguments for format string', pattern);
  const nodeNames = [...evaluate(typeof nodes === 'string' ? [nodes] : nodes, groups)];
  return nodeNames.map((n) => pieces.map((p, i) => (i % 2 === 0 ? p : p === '%s' ? n : '%')).join(''));
}
