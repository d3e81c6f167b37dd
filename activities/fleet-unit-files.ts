/**
 * The unit files of a list of units, as fleetState needs them (`Weight=`, [X-Fleet]), read with
 * `fleetctl cat`. fleet 1.0's cat takes exactly one unit (fleetctl/cat.go: "One unit file must be
 * provided"), so a read of N units is N fleetctl processes; what must not grow with N is the number
 * of SSH execs. Many cats run in one exec, in a few parallel lanes (each cat is an API round trip
 * to fleetd and etcd: latency, not CPU, on a real cluster), each unit's stdout, stderr and exit code
 * framed by lines carrying a marker drawn at random per exec, so no unit file can fake a frame.
 *
 * A spec is kept in memory by unit and hash: fleet's hash is the SHA1 of exactly what `fleetctl cat`
 * prints (unit/unit.go `Hash() = sha1.Sum(u.Bytes())`, cat.go prints `uf.String()`, the same bytes),
 * so a listed hash that matches the SHA1 of what was read means the file is unchanged.
 */
import { FAILURE } from '../domain/contract';
import { createHash, randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { assertUnitName } from '../domain/names';
import { parseFleetUnitFile, type FleetUnitSpec } from './fleet-parse';
import { ParseError } from './parse-error';
import { parsed, runOn, type ToolContext } from './remote';
import { expectSuccess } from './ssh';

/** Parallel `fleetctl cat` per exec: bounded, so fleetd and etcd see a few requests at a time. */
export const CAT_LANES = 4;
/** Units per exec: ~300 bytes of unit file each stays far under SshPool's 1 MiB output cap; a truncated batch is split. */
export const CAT_BATCH = 1000;

/**
 * POSIX sh, run as `sh -c SCRIPT sh MARKER LANES UNIT...`. Lane l runs the cats of units l, l+LANES, ...
 * into its own file; the files are printed once every lane is done. Per unit:
 *   "\n<marker> out <unit>\n" stdout "\n<marker> err <exit code>\n" stderr
 * and "\n<marker> end\n" last (output cut short has no end). The framing newlines are the script's own.
 */
export const CAT_SCRIPT = [
  'm=$1; lanes=$2; shift 2',
  'd=$(mktemp -d) || exit 1',
  'trap \'rm -rf "$d"\' EXIT',
  'l=0',
  'while [ "$l" -lt "$lanes" ]; do',
  '  (i=0; for u do',
  '    if [ $((i % lanes)) -eq "$l" ]; then',
  '      printf \'\\n%s out %s\\n\' "$m" "$u"; fleetctl cat "$u" 2>"$d/e$l"; rc=$?',
  '      printf \'\\n%s err %s\\n\' "$m" "$rc"; cat "$d/e$l"',
  '    fi; i=$((i + 1))',
  '  done >"$d/o$l") &',
  '  l=$((l + 1))',
  'done',
  'wait',
  'l=0; while [ "$l" -lt "$lanes" ]; do cat "$d/o$l" || exit 1; l=$((l + 1)); done',
  'printf \'\\n%s end\\n\' "$m"',
].join('\n');

/** One unit's `fleetctl cat`: its stdout, stderr and exit code as printed. */
export interface CatResult {
  unit: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The argv of one exec reading `units` (names checked: they reach a shell, quoted by activities/quote.ts). */
export function catArgv(units: string[], marker: string, lanes = CAT_LANES): string[] {
  units.forEach((u, i) => assertUnitName(u, `units[${i}]`));
  return ['sh', '-c', CAT_SCRIPT, 'sh', marker, String(lanes), ...units];
}

/** A marker no unit file can contain: drawn at random for each exec. */
export function newMarker(): string {
  return `hvflow-cat-${randomBytes(16).toString('hex')}`;
}

/**
 * Splits the output of CAT_SCRIPT into one result per unit asked, in the order asked. Refuses output
 * without the end frame, a unit asked but absent or twice, a unit not asked, or a frame out of order.
 */
export function parseCatBatch(stdout: string, marker: string, units: string[]): CatResult[] {
  const fail = (why: string, line?: string) => new ParseError('fleetctl cat', `batched output: ${why}`, line);
  const sep = `\n${marker} `;
  if (!stdout.startsWith(sep)) throw fail('does not start with a frame');
  const parts = stdout.slice(sep.length).split(sep);
  if (parts.pop() !== 'end\n') throw fail('no end frame (output cut short)');
  if (parts.length % 2) throw fail('a unit without its exit code');
  const asked = new Set(units);
  const byUnit = new Map<string, CatResult>();
  for (let i = 0; i < parts.length; i += 2) {
    const out = /^out (\S+)\n/.exec(parts[i]!);
    const err = /^err (\d+)\n/.exec(parts[i + 1]!);
    if (!out) throw fail('expected an out frame', parts[i]!.split('\n')[0]);
    if (!err) throw fail(`expected the err frame of ${out[1]}`, parts[i + 1]!.split('\n')[0]);
    const unit = out[1]!;
    if (!asked.has(unit)) throw fail('a unit not asked for', unit);
    if (byUnit.has(unit)) throw fail('a unit twice', unit);
    const result = { unit, stdout: parts[i]!.slice(out[0].length), stderr: parts[i + 1]!.slice(err[0].length), exitCode: Number(err[1]) };
    byUnit.set(unit, result);
  }
  return units.map((u) => {
    const r = byUnit.get(u);
    if (!r) throw fail('a unit asked for is missing', u);
    return r;
  });
}

/** cat.go's `Unit %s not found`: the unit was destroyed after it was listed. */
export function vanished(r: CatResult): boolean {
  return r.exitCode === 1 && r.stdout === '' && r.stderr === `Unit ${r.unit} not found\n`;
}

/** Unit specs by unit name and hash (see the module comment): a unit file rarely changes. */
const specCache = new Map<string, FleetUnitSpec>();

/**
 * The specs of `units` (as listed by `fleetctl list-unit-files`, with their hash), read on `host`:
 * cached ones from the cache, the rest in ceil(n / CAT_BATCH) execs. A unit destroyed between the
 * listing and its cat is left out of the map; any other failure of a cat fails the read as any failed
 * fleetctl does (expectSuccess: non-retryable, the step parks).
 */
export async function unitSpecs(ctx: ToolContext, host: string, units: { unit: string; hash: string }[]): Promise<Map<string, FleetUnitSpec>> {
  const out = new Map<string, FleetUnitSpec>();
  const hashOf = new Map(units.map((u) => [u.unit, u.hash]));
  const missing = units.filter((u) => {
    const cached = specCache.get(`${u.unit}@${u.hash}`);
    if (cached) out.set(u.unit, cached);
    return !cached;
  });
  const read = async (batch: string[]): Promise<void> => {
    const marker = newMarker();
    const res = expectSuccess(await runOn(ctx, host, catArgv(batch, marker), { timeoutMs: 120_000 }), 'fleetctl cat');
    if (res.truncated) {
      if (batch.length === 1) throw ApplicationFailure.nonRetryable(`fleetctl cat ${batch[0]}: unit file larger than the SSH output cap`, FAILURE.toolError);
      const half = Math.ceil(batch.length / 2);
      await read(batch.slice(0, half));
      await read(batch.slice(half));
      return;
    }
    for (const r of parsed(() => parseCatBatch(res.stdout, marker, batch))) {
      if (vanished(r)) continue;
      if (r.exitCode !== 0) {
        const said = `exited with code ${r.exitCode}: ${r.stderr.split('\n')[0] || '(no output)'}`;
        throw ApplicationFailure.create({ type: FAILURE.toolError, nonRetryable: true, message: `fleetctl cat ${r.unit} failed on ${host}: ${said}` });
      }
      const spec = parsed(() => parseFleetUnitFile(r.stdout, r.unit));
      // Cached only under the hash of what was read, and only if it is the hash listed: a unit
      // changed between the listing and its cat is read again next time rather than cached wrongly.
      const listed = hashOf.get(r.unit)!;
      if (createHash('sha1').update(r.stdout).digest('hex').startsWith(listed)) specCache.set(`${r.unit}@${listed}`, spec);
      out.set(r.unit, spec);
    }
  };
  const names = missing.map((u) => u.unit);
  for (let i = 0; i < names.length; i += CAT_BATCH) await read(names.slice(i, i + CAT_BATCH));
  return out;
}
