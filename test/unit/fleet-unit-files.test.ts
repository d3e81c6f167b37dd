import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ApplicationFailure } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../domain/inventory';
import { CAT_BATCH, catArgv, newMarker, parseCatBatch, unitSpecs, vanished, type CatResult } from '../../activities/fleet-unit-files';
import type { RunResult, SshPool } from '../../activities/ssh';
import { ParseError } from '../../activities/parse-error';
import { buildCommand } from '../../activities/quote';

const FIXTURES = join(__dirname, '..', 'fixtures', 'fleetctl');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const PONG = fixture('cat-pong.service.stdout.txt');
const NOT_FOUND = fixture('cat-not-found.stderr.txt').replace('nosuch.service', 'gone.service');

/** What CAT_SCRIPT prints for these results (one lane). */
function framed(marker: string, results: CatResult[], end = true): string {
  const body = results.map((r) => `\n${marker} out ${r.unit}\n${r.stdout}\n${marker} err ${r.exitCode}\n${r.stderr}`).join('');
  return body + (end ? `\n${marker} end\n` : '');
}

describe('parseCatBatch', () => {
  const m = newMarker();

  it('gives each unit its stdout, stderr and exit code byte for byte, in the order asked', () => {
    const results = [
      { unit: 'b.service', stdout: PONG, stderr: '', exitCode: 0 },
      { unit: 'a.service', stdout: '[Service]\nExecStart=/bin/true', stderr: '', exitCode: 0 }, // no final newline: cat.go adds none
    ];
    expect(parseCatBatch(framed(m, results), m, ['a.service', 'b.service'])).toEqual([results[1], results[0]]);
  });

  it('reads a unit file that contains separator-like text as the file', () => {
    const other = newMarker();
    const tricky = `[Unit]\nDescription=x\n==> b.service <==\n\n${other} out b.service\n\n${other} end\n[Service]\nExecStart=/bin/echo "${m.slice(0, 20)}"\n`;
    const results = [
      { unit: 'a.service', stdout: tricky, stderr: '', exitCode: 0 },
      { unit: 'b.service', stdout: PONG, stderr: '', exitCode: 0 },
    ];
    expect(parseCatBatch(framed(m, results), m, ['a.service', 'b.service'])).toEqual(results);
  });

  it("reports a unit destroyed between the listing and its cat as vanished, with fleetctl's own message", () => {
    const [r] = parseCatBatch(framed(m, [{ unit: 'gone.service', stdout: '', stderr: NOT_FOUND, exitCode: 1 }]), m, ['gone.service']);
    expect(r).toEqual({ unit: 'gone.service', stdout: '', stderr: 'Unit gone.service not found\n', exitCode: 1 });
    expect(vanished(r!)).toBe(true);
    expect(vanished({ unit: 'x.service', stdout: '', stderr: 'Error retrieving Unit x.service: googleapi: Error 503\n', exitCode: 1 })).toBe(false);
  });

  it('refuses output cut short, a unit missing, twice, or not asked for', () => {
    const a = { unit: 'a.service', stdout: PONG, stderr: '', exitCode: 0 };
    const b = { ...a, unit: 'b.service' };
    expect(() => parseCatBatch(framed(m, [a, b], false), m, ['a.service', 'b.service'])).toThrow(/no end frame/);
    expect(() => parseCatBatch(framed(m, [a]).slice(0, -40), m, ['a.service'])).toThrow(ParseError);
    expect(() => parseCatBatch(framed(m, [a]), m, ['a.service', 'b.service'])).toThrow(/missing: "b.service"/);
    expect(() => parseCatBatch(framed(m, [a, a]), m, ['a.service'])).toThrow(/twice/);
    expect(() => parseCatBatch(framed(m, [a, b]), m, ['a.service'])).toThrow(/not asked/);
    expect(() => parseCatBatch(framed(newMarker(), [a]), m, ['a.service'])).toThrow(/does not start with a frame/);
    expect(() => parseCatBatch('', m, [])).toThrow(ParseError);
  });
});

describe('CAT_SCRIPT under a real sh (the command line as SshPool sends it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hvflow-cat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A fleetctl that prints files/<unit> as cat.go does (no newline added), or cat.go's not-found message.
  writeFileSync(
    join(dir, 'fleetctl'),
    '#!/bin/sh\n[ "$1" = cat ] && [ $# -eq 2 ] || { echo "One unit file must be provided" >&2; exit 1; }\n' +
      'f="$FILES/$2"; if [ -f "$f" ]; then cat "$f"; else echo "Unit $2 not found" >&2; exit 1; fi\n',
  );
  chmodSync(join(dir, 'fleetctl'), 0o755);
  const files = mkdtempSync(join(dir, 'files-'));
  const run = (units: string[], lanes: number) => {
    const marker = newMarker();
    const stdout = execFileSync('sh', ['-c', buildCommand(catArgv(units, marker, lanes))], {
      encoding: 'utf8',
      env: { PATH: `${dir}:/usr/bin:/bin`, FILES: files },
    });
    return parseCatBatch(stdout, marker, units);
  };

  it('reads every unit once over its lanes, odd names quoted, a vanished unit and a separator-like file included', () => {
    const odd = ['vm@1:a.service', 'x_y-z.1@host.service', 'gone.service', 'trap.timer'];
    const units = [...odd, ...Array.from({ length: 9 }, (_, i) => `pcocc-vm-${i}.service`)];
    const trap = `[Timer]\nOnCalendar=daily\n\n${newMarker()} end\n`;
    const text = (u: string) => (u === 'trap.timer' ? trap : `[Unit]\nDescription=${u}\n[X-Fleet]\nWeight=${u.length}`);
    for (const u of units) if (u !== 'gone.service') writeFileSync(join(files, u), text(u));
    for (const lanes of [1, 3, 4]) {
      const results = run(units, lanes);
      expect(results.map((r) => r.unit)).toEqual(units);
      for (const r of results) {
        if (r.unit === 'gone.service') expect(vanished(r)).toBe(true);
        else expect(r).toEqual({ unit: r.unit, stdout: text(r.unit), stderr: '', exitCode: 0 });
      }
    }
  });

  it('refuses a unit name that is not one before anything runs', () => {
    expect(() => catArgv(['a.service', "b'; rm -rf /; '.service"], newMarker())).toThrow(/units\[1\]/);
  });
});

describe('unitSpecs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hvflow-specs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // fleetctl as cat.go answers: the file, `Unit X not found`, or (files/X.fail) fleet's 503.
  writeFileSync(
    join(dir, 'fleetctl'),
    '#!/bin/sh\nf="$FILES/$2"\n[ -f "$f.fail" ] && { cat "$f.fail" >&2; exit 1; }\n' +
      'if [ -f "$f" ]; then cat "$f"; else echo "Unit $2 not found" >&2; exit 1; fi\n',
  );
  chmodSync(join(dir, 'fleetctl'), 0o755);
  const files = mkdtempSync(join(dir, 'files-'));
  const inventory = parseInventory(parseYaml(readFileSync('config/ocean.example.yaml', 'utf8')));
  const host = inventory.controlHost;
  const text = (u: string, w: number) => `[Unit]\nDescription=${u}\n\n[X-Fleet]\nWeight=${w}\n`;
  const sha = (t: string) => createHash('sha1').update(t).digest('hex').slice(0, 7);

  /** A pool that runs each command line under a local sh, its output cut at `cap` bytes as SshPool does. */
  function localPool(cap = 1 << 20) {
    const execs: number[] = [];
    const pool = {
      run: async (target: { host: string }, argv: string[]): Promise<RunResult> => {
        execs.push(argv.length - 6); // the units of: sh -c SCRIPT sh MARKER LANES UNIT...
        const r = spawnSync('sh', ['-c', buildCommand(argv)], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, FILES: files }, maxBuffer: 64 << 20 });
        const truncated = r.stdout.length > cap;
        return { host: target.host, argv, exitCode: r.status!, stdout: r.stdout.slice(0, cap), stderr: r.stderr, truncated, durationMs: 0, ok: r.status === 0 };
      },
    };
    return { ctx: { inventory, pool: pool as unknown as SshPool }, execs };
  }
  const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn) as Promise<T>;

  it('reads in ceil(n / CAT_BATCH) execs, leaves out a vanished unit, and reads nothing again while the hashes match', async () => {
    const units = Array.from({ length: CAT_BATCH + 5 }, (_, i) => `a-${i}.service`);
    for (const [i, u] of units.entries()) writeFileSync(join(files, u), text(u, i));
    const listed = [...units.map((u, i) => ({ unit: u, hash: sha(text(u, i)) })), { unit: 'a-gone.service', hash: 'abcdef0' }];
    const { ctx, execs } = localPool();
    const specs = await inActivity(() => unitSpecs(ctx, host, listed));
    expect(execs).toEqual([CAT_BATCH, 6]);
    expect(specs.has('a-gone.service')).toBe(false);
    expect(units.map((u) => specs.get(u)?.weight)).toEqual(units.map((_, i) => i));
    const again = localPool();
    expect((await inActivity(() => unitSpecs(again.ctx, host, listed))).get('a-7.service')?.weight).toBe(7);
    expect(again.execs).toEqual([1]); // only the vanished unit is asked again
  });

  it('does not keep a file read under a hash that is not its own (changed between the listing and its cat)', async () => {
    writeFileSync(join(files, 'b.service'), text('b.service', 2));
    const listed = [{ unit: 'b.service', hash: sha(text('b.service', 1)) }];
    expect((await inActivity(() => unitSpecs(localPool().ctx, host, listed))).get('b.service')?.weight).toBe(2);
    const again = localPool();
    await inActivity(() => unitSpecs(again.ctx, host, listed));
    expect(again.execs).toEqual([1]);
  });

  it('splits a batch whose output was cut at the SSH output cap', async () => {
    const units = Array.from({ length: 8 }, (_, i) => `c-${i}.service`);
    for (const [i, u] of units.entries()) writeFileSync(join(files, u), text(u, i));
    const { ctx, execs } = localPool(600);
    const specs = await inActivity(() =>
      unitSpecs(
        ctx,
        host,
        units.map((u) => ({ unit: u, hash: 'x' })),
      ),
    );
    expect(units.map((u) => specs.get(u)?.weight)).toEqual(units.map((_, i) => i));
    expect(execs[0]).toBe(8);
    expect(execs.length).toBeGreaterThan(1);
  });

  it("fails as a failed fleetctl does, naming the unit, the host and fleet's message", async () => {
    writeFileSync(join(files, 'd.service'), text('d.service', 1));
    writeFileSync(join(files, 'd.service.fail'), 'Error retrieving Unit d.service: googleapi: Error 503: fleet server unable to communicate with etcd\n');
    const read = inActivity(() => unitSpecs(localPool().ctx, host, [{ unit: 'd.service', hash: 'x' }]));
    const e = (await read.catch((x: unknown) => x)) as ApplicationFailure;
    const said = 'Error retrieving Unit d.service: googleapi: Error 503: fleet server unable to communicate with etcd';
    expect(e.message).toBe(`fleetctl cat d.service failed on ${host}: exited with code 1: ${said}`);
    expect([e.type, e.nonRetryable]).toEqual(['ToolError', true]);
  });
});
