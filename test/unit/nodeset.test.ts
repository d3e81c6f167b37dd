/**
 * ClusterShell nodeset syntax, checked against the real `nodeset` (ClusterShell 1.9.1).
 *
 * FIXTURES and FOLD_LISTS hold the real tool's answers, recorded with GROUPS below served as a
 * YAML group source (default source `hv`). The static suite needs no tool; the second suite
 * re-runs `/usr/bin/nodeset` on every row when it is installed (scripts/ensure-system.sh
 * installs it), so a fixture can never drift from the tool.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countNodeset, excludeNodeset, expandNodeset, foldNodeset, formatNodeset, type GroupResolver, NodeSetError } from '../../domain/nodeset';

const NODESET = '/usr/bin/nodeset';
const HAS_NODESET = existsSync(NODESET);

/** Group sources: `@top` is `hv:top` (the default source), `@vm:running` is in source `vm`. */
const GROUPS: Record<string, Record<string, string[]>> = {
  hv: {
    top: ['top[1-3]'],
    worker: ['worker[1-3]'],
    islet: ['islet[12-13,38-39,54-55]'],
    island_worker: ['@islet'],
    mgmt: ['@top', '@worker'],
    rack1: ['r1n[1-4]'],
    rack2: ['r2n[1-4]'],
    empty: [],
  },
  vm: {
    running: ['admin[1-2]', 'batch[1-3]', 'ns[1-3]'],
    dns: ['ns[1-3]'],
    // `@dns` inside a `vm` group means `@vm:dns`, as in ClusterShell.
    infra: ['@dns', 'infra[1-2]'],
  },
};

const groups: GroupResolver = (group) => {
  const [source, name] = group.includes(':') ? group.split(':', 2) : ['hv', group];
  return GROUPS[source]?.[name];
};

/**
 * One expression and what `nodeset` answers: `-e`/`-f`/`-c`, or `-e expr -x exclude`, or
 * `-O format -e expr`; `error` is what it prints after `nodeset: Parse error: ` (or `ERROR: `).
 */
interface Fixture {
  expr: string;
  exclude?: string;
  format?: string;
  fold?: string;
  count?: number;
  expand?: string[];
  error?: string;
}

// prettier-ignore
const FIXTURES: Fixture[] = [
  { expr: 'admin[1-2],batch[1-3]', fold: 'admin[1-2],batch[1-3]', count: 5, expand: ['admin1', 'admin2', 'batch1', 'batch2', 'batch3'] },
  { expr: 'top[1-3]', fold: 'top[1-3]', count: 3, expand: ['top1', 'top2', 'top3'] },
  { expr: 'ns[1-3]', fold: 'ns[1-3]', count: 3, expand: ['ns1', 'ns2', 'ns3'] },
  { expr: 'islet[12,38]', fold: 'islet[12,38]', count: 2, expand: ['islet12', 'islet38'] },
  { expr: 'worker[2-3]', fold: 'worker[2-3]', count: 2, expand: ['worker2', 'worker3'] },
  { expr: 'top1,top2,top3', fold: 'top[1-3]', count: 3, expand: ['top1', 'top2', 'top3'] },
  { expr: 'top[1-3],worker[1-3]', fold: 'top[1-3],worker[1-3]', count: 6, expand: ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'] },
  { expr: 'irene271a,irene271b', fold: 'irene271a,irene271b', count: 2, expand: ['irene271a', 'irene271b'] },
  { expr: 'islet[12-13,38-39,54-55]', fold: 'islet[12-13,38-39,54-55]', count: 6, expand: ['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55'] },
  {
    expr: 'node[01-10]',
    fold: 'node[01-10]',
    count: 10,
    expand: ['node01', 'node02', 'node03', 'node04', 'node05', 'node06', 'node07', 'node08', 'node09', 'node10'],
  },
  { expr: 'n[001-003,010]', fold: 'n[001-003,010]', count: 4, expand: ['n001', 'n002', 'n003', 'n010'] },
  { expr: 'n[9-11],n[08-10]', fold: 'n[9,08-11]', count: 5, expand: ['n9', 'n08', 'n09', 'n10', 'n11'] },
  { expr: 'n[1,1-3,02]', fold: 'n[1-3,02]', count: 4, expand: ['n1', 'n2', 'n3', 'n02'] },
  { expr: 'n[1-3],n[01-03]', fold: 'n[1-3,01-03]', count: 6, expand: ['n1', 'n2', 'n3', 'n01', 'n02', 'n03'] },
  { expr: 'n[0-2]5', fold: 'n[05,15,25]', count: 3, expand: ['n05', 'n15', 'n25'] },
  { expr: 'n1[0-2]', fold: 'n[10-12]', count: 3, expand: ['n10', 'n11', 'n12'] },
  { expr: 'n[-1-2]', fold: 'n[-1-2]', count: 4, expand: ['n-1', 'n0', 'n1', 'n2'] },
  { expr: 'n[ 1 - 3 ]', fold: 'n[1-3]', count: 3, expand: ['n1', 'n2', 'n3'] },
  {
    expr: 'n[99999999999999999998-100000000000000000001]',
    fold: 'n[99999999999999999998-100000000000000000001]',
    count: 4,
    expand: ['n99999999999999999998', 'n99999999999999999999', 'n100000000000000000000', 'n100000000000000000001'],
  },
  { expr: 'n[1-10/2]', fold: 'n[1,3,5,7,9]', count: 5, expand: ['n1', 'n3', 'n5', 'n7', 'n9'] },
  { expr: 'n[00-20/5]', fold: 'n[00,05,10,15,20]', count: 5, expand: ['n00', 'n05', 'n10', 'n15', 'n20'] },
  { expr: 'n[1-10/3],n[2-10/3]', fold: 'n[1-2,4-5,7-8,10]', count: 7, expand: ['n1', 'n2', 'n4', 'n5', 'n7', 'n8', 'n10'] },
  { expr: 'r[1-2]n[1-3]', fold: 'r[1-2]n[1-3]', count: 6, expand: ['r1n1', 'r1n2', 'r1n3', 'r2n1', 'r2n2', 'r2n3'] },
  { expr: 'r1n1,r1n2,r2n1,r2n2', fold: 'r[1-2]n[1-2]', count: 4, expand: ['r1n1', 'r1n2', 'r2n1', 'r2n2'] },
  { expr: 'a1b2,a1b3,a2b2', fold: 'a1b[2-3],a2b2', count: 3, expand: ['a1b2', 'a1b3', 'a2b2'] },
  { expr: 'x1y2,x1y3,x2y2,x2y3,x3y9', fold: 'x[1-2]y[2-3],x3y9', count: 5, expand: ['x1y2', 'x1y3', 'x2y2', 'x2y3', 'x3y9'] },
  { expr: 'c[1-2]x[1-2]!c1x1', fold: 'c2x[1-2],c1x2', count: 3, expand: ['c2x1', 'c2x2', 'c1x2'] },
  { expr: 'r[1-2]n[1-3]&r2n[2-5]', fold: 'r2n[2-3]', count: 2, expand: ['r2n2', 'r2n3'] },
  { expr: 'n[1-3]x[2,4]y', fold: 'n[1-3]x[2,4]y', count: 6, expand: ['n1x2y', 'n1x4y', 'n2x2y', 'n2x4y', 'n3x2y', 'n3x4y'] },
  {
    expr: 'rack[1-2]-node[01-02]-ib0',
    fold: 'rack[1-2]-node[01-02]-ib0',
    count: 4,
    expand: ['rack1-node01-ib0', 'rack1-node02-ib0', 'rack2-node01-ib0', 'rack2-node02-ib0'],
  },
  { expr: 'n[1-10]!n[3-5]', fold: 'n[1-2,6-10]', count: 7, expand: ['n1', 'n2', 'n6', 'n7', 'n8', 'n9', 'n10'] },
  { expr: 'n[1-5]&n[3-9]', fold: 'n[3-5]', count: 3, expand: ['n3', 'n4', 'n5'] },
  { expr: 'n[1-5]^n[3-9]', fold: 'n[1-2,6-9]', count: 6, expand: ['n1', 'n2', 'n6', 'n7', 'n8', 'n9'] },
  { expr: 'n[1-5]&n[3-9]^n[4-12]', fold: 'n[3,6-12]', count: 8, expand: ['n3', 'n6', 'n7', 'n8', 'n9', 'n10', 'n11', 'n12'] },
  { expr: 'n[1-5],m[1-2]!n3', fold: 'm[1-2],n[1-2,4-5]', count: 6, expand: ['m1', 'm2', 'n1', 'n2', 'n4', 'n5'] },
  { expr: 'n[1-3]!n[1-3]', fold: '', count: 0, expand: [] },
  { expr: 'a,b,c!b', fold: 'a,c', count: 2, expand: ['a', 'c'] },
  { expr: ' n1 , n2 ', fold: 'n[1-2]', count: 2, expand: ['n1', 'n2'] },
  { expr: 'n1\nn[2-3]', fold: 'n[1-3]', count: 3, expand: ['n1', 'n2', 'n3'] },
  { expr: '', fold: '', count: 0, expand: [] },
  { expr: 'foo', fold: 'foo', count: 1, expand: ['foo'] },
  { expr: 'a%1,a%2', fold: 'a%[1-2]', count: 2, expand: ['a%1', 'a%2'] },
  { expr: '@top', fold: 'top[1-3]', count: 3, expand: ['top1', 'top2', 'top3'] },
  { expr: '@top,@worker', fold: 'top[1-3],worker[1-3]', count: 6, expand: ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'] },
  { expr: '@hv:top', fold: 'top[1-3]', count: 3, expand: ['top1', 'top2', 'top3'] },
  { expr: '@mgmt', fold: 'top[1-3],worker[1-3]', count: 6, expand: ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'] },
  { expr: '@island_worker', fold: 'islet[12-13,38-39,54-55]', count: 6, expand: ['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55'] },
  { expr: '@vm:running', fold: 'admin[1-2],batch[1-3],ns[1-3]', count: 8, expand: ['admin1', 'admin2', 'batch1', 'batch2', 'batch3', 'ns1', 'ns2', 'ns3'] },
  { expr: '@vm:infra', fold: 'infra[1-2],ns[1-3]', count: 5, expand: ['infra1', 'infra2', 'ns1', 'ns2', 'ns3'] },
  { expr: '@mgmt!@top', fold: 'worker[1-3]', count: 3, expand: ['worker1', 'worker2', 'worker3'] },
  { expr: '@vm:running&ns[2-5]', fold: 'ns[2-3]', count: 2, expand: ['ns2', 'ns3'] },
  { expr: '@rack[1-2]', fold: 'r[1-2]n[1-4]', count: 8, expand: ['r1n1', 'r1n2', 'r1n3', 'r1n4', 'r2n1', 'r2n2', 'r2n3', 'r2n4'] },
  { expr: '@empty,n1', fold: 'n1', count: 1, expand: ['n1'] },
  { expr: '@top^top[2-4]', fold: 'top[1,4]', count: 2, expand: ['top1', 'top4'] },
  { expr: '@vm:running', exclude: 'ns[1-3]', expand: ['admin1', 'admin2', 'batch1', 'batch2', 'batch3'] },
  { expr: 'n[1-10]', exclude: 'n[2-3],n[8-9]', expand: ['n1', 'n4', 'n5', 'n6', 'n7', 'n10'] },
  { expr: 'top[1-3],worker[1-3]', exclude: '@top', expand: ['worker1', 'worker2', 'worker3'] },
  {
    expr: '@vm:running',
    format: 'pcocc-vm-%s.service',
    expand: [
      'pcocc-vm-admin1.service',
      'pcocc-vm-admin2.service',
      'pcocc-vm-batch1.service',
      'pcocc-vm-batch2.service',
      'pcocc-vm-batch3.service',
      'pcocc-vm-ns1.service',
      'pcocc-vm-ns2.service',
      'pcocc-vm-ns3.service',
    ],
  },
  { expr: 'n[1-2]', format: '100%%-%s', expand: ['100%-n1', '100%-n2'] },
  { expr: 'n[1-2]', format: 'vm-%s-%s', error: 'not enough arguments for format string' },
  { expr: 'n[1-2]', format: 'vm', error: 'not all arguments converted during string formatting' },
  { expr: 'n[3-1]', error: 'bad range: "invalid values in range : "3-1""' },
  { expr: 'n[a-b]', error: 'bad range: "cannot convert string to integer : "a-b""' },
  { expr: 'n[]', error: 'bad range: "empty range"' },
  { expr: 'n[1-2', error: 'missing bracket: "n[1-2"' },
  { expr: 'n1-2]', error: 'illegal closing bracket: "n1-2]"' },
  { expr: 'n[1-3]]', error: 'illegal closing bracket: "]"' },
  { expr: 'n[1-2][3]', error: 'illegal reopening bracket: "[3]"' },
  { expr: 'n[01-100]', error: 'bad range: "padding length mismatch : "01-100""' },
  { expr: 'n[1-010]', error: 'bad range: "padding length mismatch : "1-010""' },
  { expr: 'n[08-9]', error: 'bad range: "padding length mismatch : "08-9""' },
  { expr: 'n1,,n2', error: 'missing nodeset operand with \',\' operator: "n2"' },
  { expr: 'n1,', error: 'missing nodeset operand with \',\' operator: "n1"' },
  { expr: ',n1', error: 'missing nodeset operand with \',\' operator: "n1"' },
  { expr: 'n!', error: 'missing nodeset operand with \'!\' operator: "n"' },
  { expr: 'n[1-3/0]', error: 'bad range: "invalid values in range : "1-3/0""' },
  { expr: 'n[5/2]', error: 'bad range: "invalid step usage : "5/2""' },
  { expr: 'n[1-3/2]0', error: 'illegal trailing digits after range with steps: "0"' },
  { expr: 'n[1--3]', error: 'bad range: "cannot convert string to integer : "1--3""' },
  { expr: 'n[-01-3]', error: 'bad range: "padding length mismatch : "-01-3""' },
  { expr: 'n[-01-03]', error: 'bad range: "padding not supported in negative ranges : "-01-03""' },
  { expr: 'n[1-2-3-4-5]', error: 'too many values to unpack (expected 4)' },
  { expr: 'n[1-2000000000]', error: 'range too large' },
  { expr: 'n[2-4]5[6-7]', error: 'illegal reopening bracket: "[6-7]"' },
  { expr: '@top,n[1-2', error: 'missing bracket: "n[1-2"' },
];

/** `nodeset -f node node...`: each element is one argument. */
// prettier-ignore
const FOLD_LISTS: { nodes: string[]; fold: string }[] = [
  { nodes: ['top1', 'top3', 'top2'], fold: 'top[1-3]' },
  { nodes: ['r1n1', 'r2n2', 'r1n2', 'r2n1'], fold: 'r[1-2]n[1-2]' },
  { nodes: ['x1y2', 'x1y3', 'x2y2', 'x2y3', 'x3y9'], fold: 'x[1-2]y[2-3],x3y9' },
  { nodes: ['admin1', 'batch2', 'admin2', 'batch1', 'batch3'], fold: 'admin[1-2],batch[1-3]' },
  { nodes: ['n[1-3]', 'n[5-6]', '@top'], fold: 'n[1-3,5-6],top[1-3]' },
  { nodes: ['c1x1', 'c1x2', 'c2x1'], fold: 'c1x[1-2],c2x1' },
  { nodes: ['n1', 'n01', 'n001'], fold: 'n[1,01,001]' },
  { nodes: ['a1b1c1', 'a1b2c1', 'a2b1c1', 'a2b2c2'], fold: 'a1b[1-2]c1,a2b1c1,a2b2c2' },
];

type Answer = Omit<Fixture, 'expr' | 'exclude' | 'format'>;

const expected = ({ expr: _e, exclude: _x, format: _f, ...answer }: Fixture): Answer => answer;

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof NodeSetError) return e.reason;
    throw e;
  }
  throw new Error('no NodeSetError thrown');
}

/** What the implementation answers for a row, in the fixture's shape. */
function ours(row: Fixture): Answer {
  try {
    if (row.format !== undefined) return { expand: formatNodeset(row.expr, row.format, groups) };
    if (row.exclude !== undefined) return { expand: excludeNodeset(row.expr, row.exclude, groups) };
    return {
      fold: foldNodeset(row.expr, groups),
      count: countNodeset(row.expr, groups),
      expand: expandNodeset(row.expr, groups),
    };
  } catch (e) {
    if (e instanceof NodeSetError) return { error: e.reason };
    throw e;
  }
}

const label = (row: Fixture) =>
  JSON.stringify(row.expr) +
  (row.exclude !== undefined ? ` -x ${JSON.stringify(row.exclude)}` : '') +
  (row.format !== undefined ? ` -O ${JSON.stringify(row.format)}` : '');

describe('nodeset: recorded answers of the real tool', () => {
  it('has a large enough table', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(40);
    expect(FIXTURES.filter((f) => f.error !== undefined).length).toBeGreaterThanOrEqual(15);
  });

  it.each(FIXTURES.map((row) => [label(row), row] as const))('%s', (_, row) => {
    expect(ours(row)).toEqual(expected(row));
  });

  it.each(FOLD_LISTS.map((row) => [row.nodes.join(' '), row] as const))('fold of %s', (_, row) => {
    expect(foldNodeset(row.nodes, groups)).toBe(row.fold);
    expect(foldNodeset(new Set(row.nodes), groups)).toBe(row.fold); // any iterable
  });

  it('rejects in every entry point, naming the expression and the reason', () => {
    for (const row of FIXTURES.filter((f) => f.error !== undefined && f.format === undefined && !f.exclude)) {
      for (const fn of [expandNodeset, foldNodeset, countNodeset] as const) {
        expect(reasonOf(() => fn(row.expr, groups))).toBe(row.error);
      }
    }
    const err = (() => {
      try {
        expandNodeset('top[3-1]');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NodeSetError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'NodeSetError',
      expression: 'top[3-1]',
      reason: 'bad range: "invalid values in range : "3-1""',
      message: 'invalid nodeset "top[3-1]": bad range: "invalid values in range : "3-1""',
    });
    // The exclusion is named when it is the faulty part.
    expect(() => excludeNodeset('n[1-3]', 'n[2-')).toThrow('invalid nodeset "n[2-": missing bracket: "n[2-"');
    // Others build it with a message only (e.g. a resolver detecting a cycle).
    expect(new NodeSetError('group @a refers to itself').message).toBe('group @a refers to itself');
  });
});

describe('nodeset: the seeds', () => {
  it('expands, folds, counts and excludes', () => {
    expect(foldNodeset(['admin1', 'admin2', 'batch1', 'batch2', 'batch3'])).toBe('admin[1-2],batch[1-3]');
    expect(expandNodeset('top[1-3]')).toEqual(['top1', 'top2', 'top3']);
    expect(countNodeset('ns[1-3]')).toBe(3);
    expect(expandNodeset('islet[12,38]')).toEqual(['islet12', 'islet38']);
    expect(expandNodeset('worker[2-3]')).toEqual(['worker2', 'worker3']);
    expect(excludeNodeset('@vm:running', 'ns[1-3]', groups)).toEqual(['admin1', 'admin2', 'batch1', 'batch2', 'batch3']);
  });

  it('formats VM units like `nodeset -O pcocc-vm-%s.service -e @vm:running`', () => {
    expect(formatNodeset('@vm:running!ns[1-3]', 'pcocc-vm-%s.service', groups)).toEqual([
      'pcocc-vm-admin1.service',
      'pcocc-vm-admin2.service',
      'pcocc-vm-batch1.service',
      'pcocc-vm-batch2.service',
      'pcocc-vm-batch3.service',
    ]);
    expect(formatNodeset(['ns2', 'ns1'], 'pcocc-vm-%s.service')).toEqual(['pcocc-vm-ns1.service', 'pcocc-vm-ns2.service']);
  });
});

describe('nodeset: where hvflow is stricter than the tool (not compared with it)', () => {
  it('rejects unknown groups and sources (the tool yields no node or "Unknown group source")', () => {
    expect(reasonOf(() => expandNodeset('@nosuch', groups))).toBe('unknown node group: "@nosuch"');
    expect(reasonOf(() => expandNodeset('top1,@x:top', groups))).toBe('unknown node group: "@x:top"');
    expect(reasonOf(() => expandNodeset('@top'))).toBe('unknown node group (no group resolver): "@top"');
  });

  it('stops a group that includes itself', () => {
    const loop: GroupResolver = (g) => (g === 'a' ? ['n1', '@b'] : g === 'b' ? ['@a'] : undefined);
    expect(reasonOf(() => expandNodeset('@a', loop))).toMatch(/nested too deeply/);
  });

  it('lets resolver errors through, naming the expression', () => {
    const failing: GroupResolver = () => {
      throw new NodeSetError('group @a refers to itself');
    };
    expect(() => expandNodeset('n1,@a', failing)).toThrow('invalid nodeset "n1,@a": group @a refers to itself');
  });

  it('rejects node wildcards (the tool matches them against all nodes of a group source)', () => {
    expect(reasonOf(() => expandNodeset('top*', groups))).toBe('node wildcards are not supported: "top*"');
    expect(reasonOf(() => expandNodeset('n[1-2]?', groups))).toBe('node wildcards are not supported: "n[1-2]?"');
  });

  it('caps a single range at one million names (the tool allows up to 1e9)', () => {
    expect(countNodeset('n[1-100000]')).toBe(100_000);
    expect(reasonOf(() => countNodeset('n[1-1000001]'))).toBe('range too large');
    expect(reasonOf(() => countNodeset('n[1-2000002/2]'))).toBe('range too large');
  });

  it('checks the output format even when there is no node', () => {
    expect(formatNodeset('', 'vm-%s')).toEqual([]);
    expect(reasonOf(() => formatNodeset('', 'vm'))).toBe('not all arguments converted during string formatting');
    expect(reasonOf(() => formatNodeset('n1', 'vm-%d'))).toBe('unsupported format "%d" in output format');
  });
});

/**
 * Runs the `/usr/bin/nodeset` script for each command line, capturing its output and exit
 * status. One Python process executes the script once per command (`runpy`), because ~250
 * interpreter start-ups take close to a minute on a small, busy CI machine; a test below
 * checks against separate `nodeset` processes that both ways give the same answers.
 */
const DRIVER = `
import contextlib, io, json, runpy, sys
script, commands = sys.argv[1], json.loads(sys.argv[2])
results = []
for argv in commands:
    sys.argv, sys.stdin = [script] + argv, io.StringIO()
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(script, run_name='__main__')
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
    results.append({'code': code, 'stdout': out.getvalue(), 'stderr': err.getvalue()})
sys.__stdout__.write(json.dumps(results))
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const execFileAsync = promisify(execFile);

/** Only our groups: none of the configuration of whoever runs the tests. */
const toolEnv = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: home,
  XDG_CONFIG_HOME: home,
  CLUSTERSHELL_CFGDIR: home,
  LANG: 'C.UTF-8',
});

async function runInOneProcess(home: string, commands: string[][]): Promise<Run[]> {
  const shebang = readFileSync(NODESET, 'utf8').split('\n')[0];
  const [python, ...flags] = shebang.replace(/^#!/, '').trim().split(/\s+/);
  const { stdout } = await execFileAsync(python, [...flags, '-c', DRIVER, NODESET, JSON.stringify(commands)], {
    env: toolEnv(home),
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Run[];
}

async function runAsProcess(home: string, argv: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(NODESET, argv, { env: toolEnv(home) });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof code !== 'number') throw err;
    return { code, stdout: stdout ?? '', stderr: stderr ?? '' };
  }
}

type Row = Fixture | (typeof FOLD_LISTS)[number];

/** Command lines for a row: `-e` (with the row's `-O`/`-x`), `-f`, `-c`; or `-f nodes...`. */
function commandsOf(conf: string, row: Row): string[][] {
  const base = [`--groupsconf=${conf}`];
  if ('nodes' in row) return [[...base, '-f', ...row.nodes]];
  const format = row.format !== undefined ? ['-O', row.format] : [];
  const exclude = row.exclude !== undefined ? ['-x', row.exclude] : [];
  return [
    // The tool evaluates `-S` as a Python string: one name per line.
    [...base, ...format, '-S', '\\n', '-e', row.expr, ...exclude],
    [...base, '-f', row.expr],
    [...base, '-c', row.expr],
  ];
}

/** The tool's answer in the fixture's shape. */
function answerOf(row: Row, [e, f, c]: Run[]): Answer {
  const error = (r: Run) => r.stderr.replace(/\n$/, '').replace(/^(nodeset: (Parse error: )?|ERROR: )/, '');
  const text = (r: Run) => r.stdout.replace(/\n$/, '');
  if (e.code) return { error: error(e) };
  if ('nodes' in row) return { fold: text(e) };
  const expand = text(e) === '' ? [] : text(e).split('\n');
  if (row.format !== undefined || row.exclude !== undefined) return { expand };
  if (f.code || c.code) throw new Error(`nodeset -e accepts ${JSON.stringify(row.expr)} but not -f or -c`);
  return { fold: text(f), count: Number(text(c)), expand };
}

describe(`nodeset: same answers as ${NODESET}`, () => {
  const rows: Row[] = [...FIXTURES, ...FOLD_LISTS];
  let home = '';
  let conf = '';
  let answers: Answer[] = [];

  beforeAll(async () => {
    if (!HAS_NODESET) return;
    home = mkdtempSync(join(tmpdir(), 'hvflow-nodeset-'));
    mkdirSync(join(home, 'groups.d'));
    // JSON is YAML: the tool loads every *.yaml file of `autodir` as group sources.
    writeFileSync(join(home, 'groups.d', 'hvflow.yaml'), JSON.stringify(GROUPS));
    conf = join(home, 'groups.conf');
    writeFileSync(conf, `[Main]\ndefault: hv\nautodir: '${join(home, 'groups.d')}'\n`);
    const commands = rows.map((row) => commandsOf(conf, row));
    const runs = await runInOneProcess(home, commands.flat());
    let at = 0;
    answers = commands.map((cmds, i) => answerOf(rows[i], runs.slice(at, (at += cmds.length))));
  });

  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it.runIf(HAS_NODESET)('answers as separate nodeset processes do', async () => {
    const sample = [0, FIXTURES.findIndex((r) => r.expr === '@vm:infra'), FIXTURES.findIndex((r) => r.error)];
    for (const i of sample) {
      const runs = await Promise.all(commandsOf(conf, rows[i]).map((argv) => runAsProcess(home, argv)));
      expect(answerOf(rows[i], runs)).toEqual(answers[i]);
    }
  });

  rows.forEach((row, i) => {
    it.runIf(HAS_NODESET)('nodes' in row ? `fold of ${row.nodes.join(' ')}` : label(row), () => {
      const real = answers[i];
      if ('nodes' in row) {
        expect(real).toEqual({ fold: row.fold });
        expect({ fold: foldNodeset(row.nodes, groups) }).toEqual(real);
      } else {
        expect(real).toEqual(expected(row)); // the recorded fixture is still the tool's answer
        expect(ours(row)).toEqual(real);
      }
    });
  });
});
