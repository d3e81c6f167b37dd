/**
 * The `when` and policy flags of `hvflow schedule create`, checked before anything connects:
 *
 *   --at 'sat 02:00' | 'mon-fri 22:30' | 'sat,sun 01:15' | 'daily 03:00' | '03:00' | '2025-07-05 02:00'
 *   --cron '0 2 * * 6'
 *   --tz Europe/Paris           IANA zone (default UTC)
 *   --overlap skip (default) | buffer-one | buffer-all | cancel-other | terminate-other | allow-all
 *   --catchup-window 1h (default)
 *
 * No Temporal import (types only): usage errors stay fast.
 */
import type { CalendarSpec, DayOfWeek, Month, ScheduleOverlapPolicy } from '@temporalio/client';
import { durationMs, isTimeZone, parseAtSyntax } from '../domain/maintenance-windows';
import { usage } from './errors';

const MONTHS: Month[] = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];
/** Temporal's days of the week by number (0 = Sunday, as domain/maintenance-windows.ts numbers them). */
const DAYS: DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

/**
 * Parses one `--at` value (the grammar of maintenance windows' `at`, read by domain/maintenance-windows.ts;
 * here blanks around and between are forgiven) into a calendar spec; a dated window already past is refused
 * (it would never run). A range that wraps over the week end ('fri-mon') becomes two ranges: Temporal reads
 * a range whose end is before its start as its start day alone.
 */
export function parseAt(value: string, now: Date = new Date()): CalendarSpec {
  const at = parseAtSyntax(value.trim().replace(/\s+/g, ' '), value);
  if ('error' in at) throw usage(`--at: ${at.error}`);
  const { hour, minute, days, date } = at;
  const spec: CalendarSpec = { hour, minute, comment: `--at ${value.trim()}` };
  if (date) {
    const { year, month, day } = date;
    // Compared in UTC with 14 h of slack (the furthest time zone): the check needs no --tz.
    if (Date.UTC(year, month - 1, day, hour, minute) + 14 * 3_600_000 < now.getTime()) {
      throw usage(`--at: ${JSON.stringify(value)} is in the past: the window would never start`);
    }
    return { ...spec, year, month: MONTHS[month - 1]!, dayOfMonth: day };
  }
  if (!days) return spec;
  const ranges = days.flatMap(({ start, end }): (DayOfWeek | { start: DayOfWeek; end: DayOfWeek })[] => {
    if (end === undefined) return [DAYS[start]!];
    if (end >= start) return [{ start: DAYS[start]!, end: DAYS[end]! }];
    return [
      { start: DAYS[start]!, end: DAYS[6]! },
      { start: DAYS[0]!, end: DAYS[end]! },
    ];
  });
  return { ...spec, dayOfWeek: ranges.length === 1 ? ranges[0]! : ranges };
}

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;
/** Longest month lengths (February 29: leap years). */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The values one cron field selects (`*`, `a-b`, `a-b/n`, `*\/n`, `a,b`, names), or a reason it is wrong. */
function cronValues(text: string, f: (typeof CRON_FIELDS)[number]): number[] | string {
  const value = (t: string): number | undefined => {
    const names: readonly string[] = 'names' in f ? f.names : [];
    const i = names.indexOf(t.toLowerCase());
    if (i >= 0) return i + (f.name === 'month' ? 1 : 0);
    return /^\d{1,2}$/.test(t) ? Number(t) : undefined;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\?|[^-/]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return `${JSON.stringify(part)} is not a value, a range or a step`;
    const star = m[1] === '*' || m[1] === '?';
    const lo = star ? f.min : value(m[1]!);
    const hi = m[2] !== undefined ? value(m[2]) : star || m[3] ? f.max : lo;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (lo === undefined || hi === undefined) return `${JSON.stringify(part)} is not a ${f.name}`;
    if (lo < f.min || hi > f.max) return `${JSON.stringify(part)} is out of range ${f.min}-${f.max}`;
    if (lo > hi) return `${JSON.stringify(part)} is an empty range`;
    if (step < 1) return `${JSON.stringify(part)} has a step of 0`;
    for (let x = lo; x <= hi; x += step) out.add(x);
  }
  return [...out];
}

/** Checks a `--cron` value field by field, and refuses a day that no month has (it would never run). */
export function parseCron(value: string): string {
  const v = value.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(v)) return v;
  const fields = v.split(/\s+/);
  const bad = (why: string) => usage(`--cron: ${JSON.stringify(value)} ${why}`);
  if (fields.length !== 5) throw bad(`must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * 6'`);
  const sets = fields.map((text, i) => {
    const r = cronValues(text, CRON_FIELDS[i]!);
    if (typeof r === 'string') throw usage(`--cron: ${JSON.stringify(value)}: ${CRON_FIELDS[i]!.name} ${r}`);
    return r;
  });
  const [, , days, months] = sets as [number[], number[], number[], number[], number[]];
  // With both day fields restricted cron runs on either; with only day-of-month restricted it must exist.
  const domOnly = fields[2] !== '*' && fields[2] !== '?' && (fields[4] === '*' || fields[4] === '?');
  if (domOnly && !months.some((mo) => days.some((d) => d <= DAYS_IN_MONTH[mo - 1]!))) {
    throw bad(`never runs: no month in ${JSON.stringify(fields[3])} has day ${JSON.stringify(fields[2])}`);
  }
  return v;
}

/** Temporal raises a catch-up window under 10 s to 10 s: say so instead of storing something else. */
export function parseCatchupWindow(value: string): number {
  const ms = parseDuration(value, '--catchup-window');
  if (ms < 10_000) throw usage(`--catchup-window: ${JSON.stringify(value)} must be at least 10s (Temporal's minimum)`);
  if (ms > 365 * 86_400_000) throw usage(`--catchup-window: ${JSON.stringify(value)} must be at most 365d`);
  return ms;
}

export function parseTimeZone(value: string): string {
  if (!isTimeZone(value)) throw usage(`--tz: ${JSON.stringify(value)} is not an IANA time zone (e.g. Europe/Paris, UTC)`);
  return value;
}

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'terminate-other': 'TERMINATE_OTHER',
  'allow-all': 'ALLOW_ALL',
};
export const OVERLAP_CHOICES = Object.keys(OVERLAP);

export function parseOverlap(value: string): ScheduleOverlapPolicy {
  const p = OVERLAP[value.trim().toLowerCase().replace(/_/g, '-')];
  if (!p) throw usage(`--overlap: ${JSON.stringify(value)} must be one of ${OVERLAP_CHOICES.join(', ')}`);
  return p;
}

/** Durations like 30s, 15m, 1h, 2d → milliseconds (the grammar of domain/maintenance-windows.ts durationMs). */
export function parseDuration(value: string, flag: string): number {
  const ms = durationMs(value.trim());
  if (ms === undefined) throw usage(`${flag}: ${JSON.stringify(value)} must be a duration such as 30s, 15m, 1h or 2d`);
  return ms;
}

export function checkScheduleId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(id)) {
    throw usage(`schedule id: ${JSON.stringify(id)} must be letters, digits, '.', '_', ':' or '-' (not first), at most 200 characters`);
  }
  return id;
}
