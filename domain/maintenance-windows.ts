/**
 * Maintenance windows: when a procedure may take the next host down.
 *
 * A window is recurring, `{ at: 'sat 02:00', for: '4h', tz: 'Europe/Paris' }` (the `--at` grammar of
 * `hvflow schedule create`, which client/schedule-spec.ts reads with parseAtSyntax too), or absolute,
 * `{ from: '2026-12-05T02:00:00Z', until: '2026-12-05T06:00:00Z' }`. The windows count as their union:
 * overlapping or touching windows are one window. A window is half-open: open from its start included to
 * its end excluded.
 *
 * Local times: `at` is a wall-clock time in `tz` (default UTC), read with Intl.DateTimeFormat (the zone
 * data of the runtime; Temporal's workflow sandbox has it). A wall time that a DST change skips (02:30 on
 * the spring-forward night in Paris) starts the window as far after the gap as it was into it (03:30, as
 * Temporal's and java.time's 'compatible' reading does); a wall time that occurs twice (02:30 on the
 * fall-back night) starts it at the first one. `for` is elapsed time: a 4 h window lasts 4 h also across
 * a DST change, and a window opening at 22:30 for 4 h closes at 02:30 the next day.
 *
 * Pure and deterministic (workflow code): no clock, `now` is always given as epoch milliseconds.
 */
import { z } from 'zod';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How far nextStartFor and windowState look ahead by default. */
export const DEFAULT_HORIZON_MS = 366 * DAY;
/** Bounds of a recurring window's `for`. */
const MIN_FOR = MINUTE;
const MAX_FOR = 7 * DAY;
/** At most this many windows in one list (bounded input). */
export const MAX_WINDOWS = 100;

// ---------------------------------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------------------------------

/** Temporal duration strings as the SDK reads them (ms package): '30s', '90m', '4h', '2 days'. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };

/** A duration string (DURATION_PATTERN, taken as written) in milliseconds, or undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (!m) return undefined;
  const unit = m[2] === 'ms' ? 'ms' : m[2]![0]!;
  return Math.round(Number(m[1]) * UNIT_MS[unit]!);
}

// ---------------------------------------------------------------------------------------------------
// The `at` grammar (shared with `hvflow schedule create --at`)
// ---------------------------------------------------------------------------------------------------

/** Days of the week, 0 = Sunday ... 6 = Saturday (as JavaScript and Temporal's DayOfWeek order them). */
const DAY_NUMBERS: Record<string, number> = {
  sun: 0,
  sunday: 0,
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
};

const AT_HELP = `must look like 'sat 02:00', 'mon-fri 22:30', 'sat,sun 01:15', 'daily 03:00', '03:00' or '2025-07-05 02:00'`;

/**
 * One `at` value: a time of day and either days of the week (`days`, each a day or a range as written;
 * a range whose end comes before its start wraps over the week end: 'fri-mon' is fri, sat, sun, mon),
 * one date (`date`, a single window), or neither (every day).
 */
export interface AtSyntax {
  hour: number;
  minute: number;
  days?: { start: number; end?: number }[];
  date?: { year: number; month: number; day: number };
}

/**
 * Reads an `at` value, case-insensitively, otherwise exactly as given (one blank between the days and
 * the time, none around). The error quotes `shown` (the value as the user wrote it) and says the rule.
 */
export function parseAtSyntax(text: string, shown: string = text): AtSyntax | { error: string } {
  const q = JSON.stringify(shown);
  const m = /^(?:(\S+) )?(\d{1,2}):(\d{2})$/.exec(text.toLowerCase());
  if (!m) return { error: `${q} ${AT_HELP}` };
  const [, days, hh, mm] = m;
  const hour = Number(hh);
  const minute = Number(mm);
  if (hour > 23 || minute > 59) return { error: `${q}: ${hh}:${mm} is not a time of day (00:00 to 23:59)` };
  if (!days || days === 'daily' || days === 'everyday' || days === '*') return { hour, minute };
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(days);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!isCalendarDate(year, month, day)) return { error: `${q}: ${days} is not a date` };
    return { hour, minute, date: { year, month, day } };
  }
  const ranges: { start: number; end?: number }[] = [];
  for (const part of days.split(',')) {
    const [a, b, extra] = part.split('-');
    const start = DAY_NUMBERS[a ?? ''];
    const end = b === undefined ? undefined : DAY_NUMBERS[b];
    if (start === undefined || extra !== undefined || (b !== undefined && end === undefined)) {
      return { error: `${q}: ${JSON.stringify(part)} is not a day of the week (mon, tue, ..., sun, or a range like mon-fri); the value ${AT_HELP}` };
    }
    ranges.push(end === undefined ? { start } : { start, end });
  }
  return { hour, minute, days: ranges };
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

/** The days of the week an AtSyntax's `days` select (wrapping ranges included). */
function weekdays(days: { start: number; end?: number }[]): Set<number> {
  const out = new Set<number>();
  for (const { start, end = start } of days) {
    // end + 7 when it comes before start: the range goes on over the week end
    for (let d = start; d <= (end < start ? end + 7 : end); d++) out.add(d % 7);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------------------------------

/** Whether the runtime knows `value` as a time zone (IANA names, as Intl.DateTimeFormat accepts them). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The offset of `tz` from UTC at instant `t` (ms; Paris in summer: +7_200_000). */
function offsetAt(tz: string, t: number): number {
  if (tz === 'UTC') return 0;
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const { type, value } of f.formatToParts(t)) p[type] = Number(value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - (t - (((t % SECOND) + SECOND) % SECOND));
}

/**
 * The instant at which the wall clock of `tz` reads `wall` (a wall time written as if it were UTC ms).
 * Twice (fall back): the first. Never (spring forward): shifted forward by the gap, with the offset before it.
 */
function instantOf(wall: number, tz: string): number {
  const before = offsetAt(tz, wall - DAY);
  const after = offsetAt(tz, wall + DAY);
  for (const o of before >= after ? [before, after] : [after, before]) if (offsetAt(tz, wall - o) === o) return wall - o;
  return wall - before;
}

// ---------------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------------

export type WindowSpec = { at: string; for: string; tz?: string } | { from: string; until: string };

/** Custom issues: `input` is the value shown before the message (validateInput's format), undefined when the message quotes it. */
type Ctx = z.RefinementCtx;
const refuse = (ctx: Ctx, message: string, input: unknown, path: PropertyKey[] = []) => ctx.addIssue({ code: 'custom', message, input, path });

const atSchema = z
  .string()
  .max(64)
  .superRefine((v, ctx) => {
    const r = parseAtSyntax(v);
    if ('error' in r) refuse(ctx, r.error, undefined);
  });

const forSchema = z
  .string()
  .max(32)
  .superRefine((v, ctx) => {
    const ms = durationMs(v);
    if (ms === undefined) refuse(ctx, "must be a duration such as '90m', '4h', '2d'", v);
    else if (ms < MIN_FOR) refuse(ctx, 'must be at least 1 minute', v);
    else if (ms > MAX_FOR) refuse(ctx, 'must be at most 7 days', v);
  });

const tzSchema = z
  .string()
  .max(64)
  .superRefine((v, ctx) => {
    if (!isTimeZone(v)) refuse(ctx, 'is not an IANA time zone (e.g. Europe/Paris, UTC)', v);
  });

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** An ISO 8601 instant with its offset (`Z` or `±hh:mm`) in ms, or the reason it is not one. */
function instantMs(text: string): number | string {
  const m = INSTANT.exec(text);
  const rule = 'must be an ISO 8601 instant such as 2026-12-05T02:00:00Z or 2026-12-05T03:00:00+01:00';
  if (!m) return rule;
  if (!m[8]) return `has no offset: ${rule} (Z or ±hh:mm, so that it names one instant)`;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  if (!isCalendarDate(year, month, day)) return `is not a date: ${rule}`;
  const off = m[8] === 'Z' ? '+00:00' : m[8];
  const offH = Number(off.slice(1, 3));
  const offM = Number(off.slice(4, 6));
  if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) return `is not a time of day: ${rule}`;
  const sign = off[0] === '-' ? -1 : 1;
  return Date.UTC(year, month - 1, day, hour, minute, second, Number((m[7] ?? '').padEnd(3, '0'))) - sign * (offH * HOUR + offM * MINUTE);
}

const instantSchema = z
  .string()
  .max(40)
  .superRefine((v, ctx) => {
    const r = instantMs(v);
    if (typeof r === 'string') refuse(ctx, r, v);
  });

const SHAPES = '{at, for, tz?} (recurring) or {from, until} (absolute)';

/** One window, checked as written: strict objects, every field's rule named, nothing trimmed or rewritten. */
export const windowSpecSchema = z
  .strictObject(
    { at: atSchema.optional(), for: forSchema.optional(), tz: tzSchema.optional(), from: instantSchema.optional(), until: instantSchema.optional() },
    { error: `must be a window: ${SHAPES}` },
  )
  .superRefine((v, ctx) => {
    const recurring = (['at', 'for', 'tz'] as const).filter((k) => k in v);
    const absolute = (['from', 'until'] as const).filter((k) => k in v);
    if (recurring.length > 0 && absolute.length > 0) {
      return refuse(ctx, `cannot be given with ${recurring.join(', ')}: a window is ${SHAPES}`, undefined, [absolute[0]!]);
    }
    if (recurring.length === 0 && absolute.length === 0) return refuse(ctx, `must be a window: ${SHAPES}`, undefined);
    const required = recurring.length > 0 ? (['at', 'for'] as const) : (['from', 'until'] as const);
    for (const k of required) if (v[k] === undefined) refuse(ctx, `is required: a window is ${SHAPES}`, undefined, [k]);
    if (v.from !== undefined && v.until !== undefined) {
      const [from, until] = [instantMs(v.from), instantMs(v.until)];
      if (typeof from === 'number' && typeof until === 'number' && until <= from) refuse(ctx, `must be after from (${v.from})`, v.until, ['until']);
    }
  }) as unknown as z.ZodType<WindowSpec>;

/** A list of windows (what a procedure's input holds). */
export const windowSpecsSchema = z.array(windowSpecSchema).max(MAX_WINDOWS);

// ---------------------------------------------------------------------------------------------------
// Parsed windows
// ---------------------------------------------------------------------------------------------------

interface Interval {
  start: number;
  end: number;
}
interface Recurring {
  /** Undefined: every day. */
  days?: ReadonlySet<number>;
  /** Minutes after local midnight. */
  minuteOfDay: number;
  tz: string;
  durationMs: number;
}
/** Windows ready to be asked about (built by parseWindows). */
export interface ParsedWindows {
  readonly fixed: readonly Interval[];
  readonly recurring: readonly Recurring[];
}

/** "windows[1].at: ..." as validateInput (domain/procedure-inputs.ts) words an issue. */
function issueText(i: z.core.$ZodIssue): string {
  const field = 'windows' + i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  if (i.code === 'unrecognized_keys') return `${field}: unknown field(s) ${i.keys.join(', ')}`;
  const shown = 'input' in i && i.input !== undefined ? JSON.stringify(i.input) : '';
  const value = shown.length > 60 ? `${shown.slice(0, 57)}... ` : shown && `${shown} `;
  return `${field}: ${value}${i.message}`;
}

/** Validates the windows (windowSpecsSchema) and prepares them; throws an Error naming every bad field. */
export function parseWindows(specs: WindowSpec[]): ParsedWindows {
  const r = windowSpecsSchema.safeParse(specs, { reportInput: true });
  if (!r.success) throw new Error(r.error.issues.map(issueText).join('; '));
  const fixed: Interval[] = [];
  const recurring: Recurring[] = [];
  for (const s of r.data) {
    if ('from' in s) {
      fixed.push({ start: instantMs(s.from) as number, end: instantMs(s.until) as number });
      continue;
    }
    const at = parseAtSyntax(s.at) as AtSyntax;
    const tz = s.tz ?? 'UTC';
    const dur = durationMs(s.for)!;
    const minuteOfDay = at.hour * 60 + at.minute;
    if (at.date) {
      const start = instantOf(Date.UTC(at.date.year, at.date.month - 1, at.date.day) + minuteOfDay * MINUTE, tz);
      fixed.push({ start, end: start + dur });
    } else recurring.push({ days: at.days && weekdays(at.days), minuteOfDay, tz, durationMs: dur });
  }
  fixed.sort((a, b) => a.start - b.start || a.end - b.end);
  return { fixed, recurring };
}

/** Every single window (not merged) whose start is in [a, b), by start. */
function occurrences(w: ParsedWindows, a: number, b: number): Interval[] {
  const out = w.fixed.filter((i) => i.start >= a && i.start < b);
  for (const r of w.recurring) {
    // A local date's wall times fall within a day of the same UTC date (offsets are under 15 h).
    for (let d = Math.floor(a / DAY) - 1; d <= Math.floor(b / DAY) + 1; d++) {
      // 1970-01-01 was a Thursday (4).
      if (r.days && !r.days.has((((d + 4) % 7) + 7) % 7)) continue;
      const start = instantOf(d * DAY + r.minuteOfDay * MINUTE, r.tz);
      if (start >= a && start < b) out.push({ start, end: start + r.durationMs });
    }
  }
  return out.sort((x, y) => x.start - y.start || x.end - y.end);
}

/** How far generation goes at a time: windows are found lazily, a week after another. */
const CHUNK = 7 * DAY;

/**
 * The merged windows from `from` on, in order, the first clipped to start at `from` when open then
 * (so `start === from` says it is open). Windows starting at or after `limit` are not looked at, so a
 * window still open at `limit` has no known end (undefined).
 */
function* mergedFrom(w: ParsedWindows, from: number, limit: number): Generator<{ start: number; end?: number }> {
  // Open at `from`: a recurring window started at most MAX_FOR before, an absolute one any time before.
  const before = [...w.fixed.filter((i) => i.start < from - MAX_FOR), ...occurrences(w, from - MAX_FOR, from)].filter((i) => i.end > from);
  let cur: Interval | undefined = before.length ? { start: from, end: Math.max(...before.map((i) => i.end)) } : undefined;
  const lastFixed = w.fixed.length ? w.fixed[w.fixed.length - 1]!.start : -Infinity;
  for (let a = from; a < limit; a += CHUNK) {
    const b = Math.min(a + CHUNK, limit);
    for (const o of occurrences(w, a, b)) {
      if (cur && o.start <= cur.end) cur.end = Math.max(cur.end, o.end);
      else {
        if (cur) yield cur;
        cur = { ...o };
      }
    }
    // Nothing starting at b or later can join a window that closed before b.
    if (cur && cur.end < b) {
      yield cur;
      cur = undefined;
    }
    if (!cur && w.recurring.length === 0 && lastFixed < b) return;
  }
  if (cur) yield { start: cur.start };
}

export interface WindowState {
  open: boolean;
  /** open: when the current (merged) window ends (undefined: not within the horizon, 366 days) */
  endsAt?: number;
  /** the next window's start after now (or after endsAt when open) */
  nextStart?: number;
  nextEnd?: number;
}

/** Whether a window is open at `now`, until when, and the next one (looking DEFAULT_HORIZON_MS ahead). No windows: always open. */
export function windowState(w: ParsedWindows, now: number): WindowState {
  if (w.fixed.length === 0 && w.recurring.length === 0) return { open: true };
  const it = mergedFrom(w, now, now + DEFAULT_HORIZON_MS + MAX_FOR);
  const first = it.next().value;
  if (!first) return { open: false };
  const state: WindowState = { open: first.start === now };
  if (!state.open) return withEnd({ ...state, nextStart: first.start }, 'nextEnd', first.end);
  withEnd(state, 'endsAt', first.end);
  const next = first.end === undefined ? undefined : it.next().value;
  return next ? withEnd({ ...state, nextStart: next.start }, 'nextEnd', next.end) : state;
}

function withEnd(s: WindowState, key: 'endsAt' | 'nextEnd', end: number | undefined): WindowState {
  if (end !== undefined) s[key] = end;
  return s;
}

/**
 * When a task of `durationMs` may start: `now` if a window is open and what is left of it is >= durationMs;
 * else the start of the first future window whose length is >= durationMs (searching at most `horizonMs`, default 366 days).
 * `fits: false` with the next window's start when none is long enough in the horizon; undefined start when there is no window at all in the horizon.
 *
 * `end` is the end of that (merged) window, undefined when it does not close within the search. With
 * `fits: false`, the next window is the first starting after now, else the one open now. No windows: always open.
 * A durationMs outside [0, horizonMs] is a RangeError.
 */
export function nextStartFor(
  w: ParsedWindows,
  now: number,
  durationMs: number,
  horizonMs: number = DEFAULT_HORIZON_MS,
): { start?: number; end?: number; fits: boolean } {
  if (!(horizonMs >= 0 && horizonMs < Infinity)) throw new RangeError(`nextStartFor: horizonMs ${horizonMs} must be a finite number >= 0`);
  if (!(durationMs >= 0 && durationMs <= horizonMs)) throw new RangeError(`nextStartFor: durationMs ${durationMs} must be from 0 to horizonMs (${horizonMs})`);
  if (w.fixed.length === 0 && w.recurring.length === 0) return { start: now, fits: true };
  const last = now + horizonMs;
  // Looking durationMs (and a week) past the horizon tells whether a window starting near it is long enough.
  const limit = last + durationMs + MAX_FOR;
  let fallback: { start: number; end?: number } | undefined;
  for (const m of mergedFrom(w, now, limit)) {
    if (m.start > last) break;
    // Unknown end: the window lasts at least until limit, past last + durationMs.
    if ((m.end ?? Infinity) - m.start >= durationMs) return found(m, true);
    // The first window starting after now, else the one open now.
    if (!fallback || fallback.start === now) fallback = m;
  }
  return fallback ? found(fallback, false) : { fits: false };
}

function found(m: { start: number; end?: number }, fits: boolean): { start?: number; end?: number; fits: boolean } {
  return m.end === undefined ? { start: m.start, fits } : { start: m.start, end: m.end, fits };
}

/** Human text of the windows for a plan, e.g. "sat 02:00 for 4h (Europe/Paris)", "2026-12-05T02:00:00Z to 2026-12-05T06:00:00Z". */
export function describeWindows(specs: WindowSpec[]): string[] {
  return specs.map((s) => ('from' in s ? `${s.from} to ${s.until}` : `${s.at} for ${s.for} (${s.tz ?? 'UTC'})`));
}

/** The windows as instants between from and to (for a plan's evidence): merged, clipped to [from, to], ISO strings. */
export function windowsBetween(w: ParsedWindows, from: number, to: number): { start: string; end: string }[] {
  const out: { start: string; end: string }[] = [];
  if (to <= from) return out;
  for (const m of mergedFrom(w, from, to)) out.push({ start: new Date(m.start).toISOString(), end: new Date(Math.min(m.end ?? to, to)).toISOString() });
  return out;
}
