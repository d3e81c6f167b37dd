import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catArgv, newMarker, parseCatBatch, vanished, type CatResult } from '../../activities/fleet-unit-files';
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

  it('reports a unit destroyed between the listing and its cat as vanished, with fleetctl\'s own message', () => {
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
