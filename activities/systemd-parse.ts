// Pure parsers for systemctl (systemd 252, Debian 12; also the older systemd of the seeds).
//
// - `systemctl is-active UNIT...` (and is-failed): one state per unit, one per
//   line, in argument order (src/systemctl/systemctl-is-active.c). States are
//   unit_active_state_to_string() (src/basic/unit-def.c): active, reloading,
//   inactive, failed, activating, deactivating, maintenance (v250+),
//   refreshing (v254+); older systemd (seeds' CentOS 7) printed "unknown" for
//   a unit it does not know.
// - `systemctl show -p A,B UNIT...` (src/systemctl/systemctl-show.c): Key=Value
//   lines in the order D-Bus returns them (for a service, MainPID= comes
//   before ActiveState= / SubState=), units separated by one blank line.
//   The order is not relied upon.

import { ParseError, ToolError, outputLines, parseCount } from './parse-error';

const TOOL = 'systemctl';

export type SystemdActiveState = 'active' | 'reloading' | 'inactive' | 'failed' | 'activating' | 'deactivating' | 'maintenance' | 'refreshing' | 'unknown';

const ACTIVE_STATES: readonly string[] = ['active', 'reloading', 'inactive', 'failed', 'activating', 'deactivating', 'maintenance', 'refreshing', 'unknown'];

/** systemctl's own failures (stderr), e.g. no systemd or no D-Bus. */
function checkSystemctlFailure(stderr: string): void {
  for (const l of outputLines(stderr)) {
    if (/^Failed to connect to bus: /.test(l) || l.startsWith('System has not been booted with systemd')) {
      throw new ToolError(TOOL, 'no-systemd', outputLines(stderr).join('\n'));
    }
  }
}

/**
 * `systemctl is-active UNIT...` (or is-failed): the states in argument order.
 * With `units`, the number of lines must match.
 */
export function parseSystemctlIsActive(stdout: string, units?: readonly string[], stderr = ''): SystemdActiveState[] {
  checkSystemctlFailure(stderr);
  const ls = outputLines(stdout);
  const states = ls.map((l, i) => {
    if (!ACTIVE_STATES.includes(l)) throw new ParseError(TOOL, `is-active: line ${i + 1}: unknown unit state`, l);
    return l as SystemdActiveState;
  });
  if (states.length === 0) throw new ParseError(TOOL, 'is-active: empty output');
  if (units !== undefined && units.length !== states.length) {
    throw new ParseError(TOOL, `is-active: ${states.length} state line(s) for ${units.length} unit(s)`);
  }
  return states;
}

/** `systemctl show [-p ...] UNIT...`: one Key=Value record per unit, in order. */
export function parseSystemctlShow(stdout: string, stderr = ''): Array<Record<string, string>> {
  checkSystemctlFailure(stderr);
  const ls = outputLines(stdout);
  const records: Array<Record<string, string>> = [];
  let current: Record<string, string> | undefined;
  ls.forEach((line, i) => {
    if (line === '') {
      if (current === undefined) throw new ParseError(TOOL, `show: line ${i + 1}: unexpected blank line`, line);
      current = undefined;
      return;
    }
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!m) throw new ParseError(TOOL, `show: line ${i + 1}: not a Key=Value line`, line);
    if (current === undefined) {
      current = {};
      records.push(current);
    }
    if (Object.hasOwn(current, m[1]!)) {
      throw new ParseError(TOOL, `show: line ${i + 1}: ${m[1]} repeated within one unit (missing blank line?)`, line);
    }
    current[m[1]!] = m[2]!;
  });
  if (ls.length > 0 && ls[ls.length - 1] === '') throw new ParseError(TOOL, 'show: output ends with a blank line');
  return records;
}

export interface SystemdUnitState {
  activeState: Exclude<SystemdActiveState, 'unknown'>;
  /** Unit-type specific, e.g. running, dead, exited, auto-restart, start-pre. */
  subState: string;
  /** 0 when there is no main process. */
  mainPid: number;
}

/**
 * `systemctl show -p ActiveState,SubState,MainPID UNIT...`: one state per
 * unit, in argument order. With `units`, the number of records must match.
 */
export function parseSystemctlShowUnitStates(stdout: string, units?: readonly string[], stderr = ''): SystemdUnitState[] {
  const records = parseSystemctlShow(stdout, stderr);
  if (records.length === 0) throw new ParseError(TOOL, 'show: empty output');
  if (units !== undefined && units.length !== records.length) {
    throw new ParseError(TOOL, `show: ${records.length} record(s) for ${units.length} unit(s)`);
  }
  return records.map((r, k) => {
    const where = units?.[k] ?? `record ${k + 1}`;
    const a = r['ActiveState'];
    const s = r['SubState'];
    const p = r['MainPID'];
    if (a === undefined || s === undefined || p === undefined) {
      throw new ParseError(
        TOOL,
        `show: ${where}: missing ActiveState, SubState or MainPID`,
        Object.entries(r)
          .map(([key, v]) => `${key}=${v}`)
          .join(' '),
      );
    }
    if (!ACTIVE_STATES.includes(a) || a === 'unknown') throw new ParseError(TOOL, `show: ${where}: unknown ActiveState`, `ActiveState=${a}`);
    if (!/^[a-z][a-z-]*$/.test(s)) throw new ParseError(TOOL, `show: ${where}: bad SubState`, `SubState=${s}`);
    return { activeState: a as SystemdUnitState['activeState'], subState: s, mainPid: parseCount(TOOL, 'MainPID', p, `MainPID=${p}`) };
  });
}
