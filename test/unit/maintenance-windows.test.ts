/**
 * Maintenance windows (domain/maintenance-windows.ts): when a rolling reboot may take the next host
 * down. Examples for each kind of window and each DST change the time zones make, every bad input
 * refused with its field named, and properties checked against a brute-force minute scan.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseAt, parseCatchupWindow } from '../../client/schedule-spec';
import {
  DEFAULT_HORIZON_MS,
  describeWindows,
  durationMs,
  nextStartFor,
  type ParsedWindows,
  parseAtSyntax,
  parseWindows,
  type WindowSpec,
  windowSpecSchema,
  windowState,
  windowsBetween,
} from '../../domain/maintenance-windows';
import { validateInput } from '../../domain/procedure-inputs';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const between = (specs: WindowSpec[], from: string, to: string) => windowsBetween(parseWindows(specs), t(from), t(to));
const state = (specs: WindowSpec[], now: string) => {
  const s = windowState(parseWindows(specs), t(now));
  return { open: s.open, endsAt: iso(s.endsAt), nextStart: iso(s.nextStart), nextEnd: iso(s.nextEnd) };
};
const next = (specs: WindowSpec[], now: string, duration: number, horizon?: number) => {
  const r = nextStartFor(parseWindows(specs), t(now), duration, horizon);
  return { start: iso(r.start), end: iso(r.end), fits: r.fits };
};
const refusal = (specs: unknown[]): string => {
  try {
    parseWindows(specs as WindowSpec[]);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

// 2026-12-05 is a Saturday; 2026-03-29 and 2026-10-25 are the Sundays of Europe's DST changes.
describe('recurring windows', () => {
  const sat = [{ at: 'sat 02:00', for: '4h' }];
  it('weekly: closed before, open inside (until the end), closed at the end (half-open)', () => {
    expect(state(sat, '2026-12-04T12:00:00Z')).toEqual({
      open: false,
      endsAt: undefined,
      nextStart: '2026-12-05T02:00:00.000Z',
      nextEnd: '2026-12-05T06:00:00.000Z',
    });
    expect(state(sat, '2026-12-05T02:00:00Z')).toEqual({
      open: true,
      endsAt: '2026-12-05T06:00:00.000Z',
      nextStart: '2026-12-12T02:00:00.000Z',
      nextEnd: '2026-12-12T06:00:00.000Z',
    });
    expect(state(sat, '2026-12-05T05:59:59.999Z').open).toBe(true);
    expect(state(sat, '2026-12-05T06:00:00Z')).toMatchObject({ open: false, nextStart: '2026-12-12T02:00:00.000Z' });
  });

  it('daily, with or without the word', () => {
    for (const at of ['daily 03:00', '03:00', 'everyday 03:00', '* 03:00']) {
      expect(between([{ at, for: '90m' }], '2026-12-01T00:00:00Z', '2026-12-03T00:00:00Z')).toEqual([
        { start: '2026-12-01T03:00:00.000Z', end: '2026-12-01T04:30:00.000Z' },
        { start: '2026-12-02T03:00:00.000Z', end: '2026-12-02T04:30:00.000Z' },
      ]);
    }
  });

  it('a dated window is one window only, in its time zone', () => {
    const dated = [{ at: '2026-12-05 02:00', for: '4h', tz: 'Europe/Paris' }];
    expect(between(dated, '2026-11-01T00:00:00Z', '2027-01-01T00:00:00Z')).toEqual([{ start: '2026-12-05T01:00:00.000Z', end: '2026-12-05T05:00:00.000Z' }]);
    expect(state(dated, '2026-12-05T05:00:00Z')).toEqual({ open: false, endsAt: undefined, nextStart: undefined, nextEnd: undefined });
  });

  it('a window spanning midnight ends the next day; days, lists and ranges', () => {
    expect(between([{ at: 'mon-fri 22:30', for: '4h' }], '2026-12-04T00:00:00Z', '2026-12-08T00:00:00Z')).toEqual([
      { start: '2026-12-04T00:00:00.000Z', end: '2026-12-04T02:30:00.000Z' }, // Thursday's, clipped at `from`
      { start: '2026-12-04T22:30:00.000Z', end: '2026-12-05T02:30:00.000Z' }, // Friday's ends on Saturday
      { start: '2026-12-07T22:30:00.000Z', end: '2026-12-08T00:00:00.000Z' }, // Monday's, clipped at `to`
    ]);
    expect(between([{ at: 'Sat,SUN 01:15', for: '1h' }], '2026-12-04T00:00:00Z', '2026-12-08T00:00:00Z').map((w) => w.start)).toEqual([
      '2026-12-05T01:15:00.000Z',
      '2026-12-06T01:15:00.000Z',
    ]);
  });

  it('a window over the week end, and ranges that wrap over it (fri-mon = fri, sat, sun, mon)', () => {
    expect(state([{ at: 'sun 22:00', for: '6h' }], '2026-12-07T03:00:00Z')).toMatchObject({ open: true, endsAt: '2026-12-07T04:00:00.000Z' });
    const starts = (at: string) => between([{ at, for: '1h' }], '2026-11-30T00:00:00Z', '2026-12-07T00:00:00Z').map((w) => w.start.slice(0, 10));
    expect(starts('fri-mon 10:00')).toEqual(['2026-11-30', '2026-12-04', '2026-12-05', '2026-12-06']);
    expect(starts('sat-sun 10:00')).toEqual(['2026-12-05', '2026-12-06']);
    expect(starts('mon-mon 10:00')).toEqual(['2026-11-30']);
    // a window lasting a whole week, every week, is always open: its end is beyond the horizon
    expect(state([{ at: 'mon 00:00', for: '7d' }], '2026-12-03T00:00:00Z')).toEqual({
      open: true,
      endsAt: undefined,
      nextStart: undefined,
      nextEnd: undefined,
    });
  });
});

describe('time zones (Intl) and their DST changes', () => {
  const noonIn = (tz: string, from: string, to: string) => between([{ at: 'daily 12:00', for: '1h', tz }], from, to).map((w) => w.start);

  it('Europe/Paris: +01:00 in winter, +02:00 in summer, changing on the last Sundays of March and October', () => {
    expect(noonIn('Europe/Paris', '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toEqual(['2026-03-28T11:00:00.000Z', '2026-03-29T10:00:00.000Z']);
    expect(noonIn('Europe/Paris', '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual(['2026-10-24T10:00:00.000Z', '2026-10-25T11:00:00.000Z']);
  });

  it('America/New_York and Australia/Sydney (southern summer) change on their own dates', () => {
    expect(noonIn('America/New_York', '2026-03-07T00:00:00Z', '2026-03-09T00:00:00Z')).toEqual(['2026-03-07T17:00:00.000Z', '2026-03-08T16:00:00.000Z']);
    expect(noonIn('America/New_York', '2026-10-31T00:00:00Z', '2026-11-02T00:00:00Z')).toEqual(['2026-10-31T16:00:00.000Z', '2026-11-01T17:00:00.000Z']);
    expect(noonIn('Australia/Sydney', '2026-04-03T12:00:00Z', '2026-04-05T12:00:00Z')).toEqual(['2026-04-04T01:00:00.000Z', '2026-04-05T02:00:00.000Z']);
    expect(noonIn('Australia/Sydney', '2026-10-03T00:00:00Z', '2026-10-05T00:00:00Z')).toEqual(['2026-10-03T02:00:00.000Z', '2026-10-04T01:00:00.000Z']);
    expect(noonIn('Asia/Kolkata', '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z')).toEqual(['2026-06-01T06:30:00.000Z']);
  });

  it('a wall time the spring change skips starts the window after the gap (02:30 -> 03:30 CEST)', () => {
    expect(between([{ at: 'sun 02:30', for: '1h', tz: 'Europe/Paris' }], '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toEqual([
      { start: '2026-03-29T01:30:00.000Z', end: '2026-03-29T02:30:00.000Z' },
    ]);
    expect(between([{ at: 'sun 02:30', for: '1h', tz: 'America/New_York' }], '2026-03-08T00:00:00Z', '2026-03-09T00:00:00Z')[0]!.start).toBe(
      '2026-03-08T07:30:00.000Z',
    );
  });

  it('a wall time the autumn change repeats starts the window at its first occurrence (02:30 CEST)', () => {
    expect(between([{ at: 'sun 02:30', for: '1h', tz: 'Europe/Paris' }], '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual([
      { start: '2026-10-25T00:30:00.000Z', end: '2026-10-25T01:30:00.000Z' },
    ]);
    expect(between([{ at: 'sun 01:30', for: '1h', tz: 'America/New_York' }], '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z')[0]!.start).toBe(
      '2026-11-01T05:30:00.000Z',
    );
  });

  it('`for` is elapsed time: 4 h over the night of a change are 4 h (the wall clock says 5 h or 3 h)', () => {
    expect(between([{ at: 'sat 23:00', for: '4h', tz: 'Europe/Paris' }], '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toEqual([
      { start: '2026-03-28T22:00:00.000Z', end: '2026-03-29T02:00:00.000Z' },
    ]);
    expect(between([{ at: 'sat 23:00', for: '4h', tz: 'Europe/Paris' }], '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual([
      { start: '2026-10-24T21:00:00.000Z', end: '2026-10-25T01:00:00.000Z' },
    ]);
  });
});

describe('absolute windows and merging', () => {
  it('windows of a few seconds, with any offset', () => {
    const w = [{ from: '2026-12-05T02:00:00Z', until: '2026-12-05T02:00:05.5Z' }];
    expect(state(w, '2026-12-05T01:59:59Z')).toMatchObject({ open: false, nextStart: '2026-12-05T02:00:00.000Z', nextEnd: '2026-12-05T02:00:05.500Z' });
    expect(state(w, '2026-12-05T02:00:03Z')).toMatchObject({ open: true, endsAt: '2026-12-05T02:00:05.500Z', nextStart: undefined });
    expect(between([{ from: '2026-12-05T03:00+01:00', until: '2026-12-04T23:00:00-05:00' }], '2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z')).toEqual([
      { start: '2026-12-05T02:00:00.000Z', end: '2026-12-05T04:00:00.000Z' },
    ]);
  });

  it('an absolute window longer than a week, open long before now', () => {
    const w = [{ from: '2026-01-01T00:00:00Z', until: '2026-06-01T00:00:00Z' }];
    expect(state(w, '2026-05-01T00:00:00Z')).toMatchObject({ open: true, endsAt: '2026-06-01T00:00:00.000Z' });
  });

  it('overlapping and touching windows merge: the union counts', () => {
    const w: WindowSpec[] = [
      { at: 'sat 02:00', for: '4h' },
      { at: 'sat 05:00', for: '4h' },
      { from: '2026-12-05T09:00:00Z', until: '2026-12-05T10:00:00Z' }, // touches the end of the two above
      { from: '2026-12-05T03:00:00Z', until: '2026-12-05T04:00:00Z' }, // inside
    ];
    expect(between(w, '2026-12-05T00:00:00Z', '2026-12-06T00:00:00Z')).toEqual([{ start: '2026-12-05T02:00:00.000Z', end: '2026-12-05T10:00:00.000Z' }]);
    expect(state(w, '2026-12-05T04:30:00Z')).toMatchObject({ open: true, endsAt: '2026-12-05T10:00:00.000Z', nextStart: '2026-12-12T02:00:00.000Z' });
    // 7 h fit in the merged window although no single window is that long
    expect(next(w, '2026-12-05T02:00:00Z', 7 * H)).toEqual({ start: '2026-12-05T02:00:00.000Z', end: '2026-12-05T10:00:00.000Z', fits: true });
  });
});

describe('nextStartFor', () => {
  const w: WindowSpec[] = [
    { at: 'sat 02:00', for: '4h' },
    { at: 'wed 01:00', for: '1h' },
  ];
  it('now when the open window has room left', () => {
    expect(next(w, '2026-12-05T03:00:00Z', 3 * H)).toEqual({ start: '2026-12-05T03:00:00.000Z', end: '2026-12-05T06:00:00.000Z', fits: true });
  });
  it('else the first window long enough, skipping shorter ones', () => {
    expect(next(w, '2026-12-05T03:00:01Z', 3 * H)).toEqual({ start: '2026-12-12T02:00:00.000Z', end: '2026-12-12T06:00:00.000Z', fits: true });
    expect(next(w, '2026-12-06T00:00:00Z', 30 * MIN)).toEqual({ start: '2026-12-09T01:00:00.000Z', end: '2026-12-09T02:00:00.000Z', fits: true });
  });
  it('fits: false with the next window when none is long enough; the open one when none comes', () => {
    expect(next(w, '2026-12-05T03:00:00Z', 5 * H)).toEqual({ start: '2026-12-09T01:00:00.000Z', end: '2026-12-09T02:00:00.000Z', fits: false });
    const once = [{ from: '2026-12-05T02:00:00Z', until: '2026-12-05T02:00:10Z' }];
    expect(next(once, '2026-12-05T02:00:05Z', 10_000)).toEqual({ start: '2026-12-05T02:00:05.000Z', end: '2026-12-05T02:00:10.000Z', fits: false });
    expect(next(once, '2026-12-05T02:00:00Z', 10_000)).toEqual({ start: '2026-12-05T02:00:00.000Z', end: '2026-12-05T02:00:10.000Z', fits: true });
  });
  it('no window in the horizon: no start', () => {
    expect(next([{ from: '2026-12-05T02:00:00Z', until: '2026-12-05T06:00:00Z' }], '2026-12-06T00:00:00Z', MIN)).toEqual({ fits: false });
    expect(next([{ at: 'sat 02:00', for: '4h' }], '2026-12-06T00:00:00Z', MIN, 5 * DAY)).toEqual({ fits: false });
    expect(next([{ at: 'sat 02:00', for: '4h' }], '2026-12-06T00:00:00Z', MIN, 7 * DAY)).toMatchObject({ start: '2026-12-12T02:00:00.000Z', fits: true });
  });
  it('a window starting near the end of the horizon is measured in full', () => {
    const r = next([{ from: '2027-12-01T00:00:00Z', until: '2027-12-20T00:00:00Z' }], '2026-12-06T00:00:00Z', 10 * DAY);
    expect(r).toEqual({ start: '2027-12-01T00:00:00.000Z', end: '2027-12-20T00:00:00.000Z', fits: true });
  });
  it('refuses a duration it cannot measure', () => {
    const w1 = parseWindows([{ at: 'sat 02:00', for: '4h' }]);
    expect(() => nextStartFor(w1, 0, -1)).toThrow(RangeError);
    expect(() => nextStartFor(w1, 0, Number.NaN)).toThrow(RangeError);
    expect(() => nextStartFor(w1, 0, 2 * DAY, DAY)).toThrow(/durationMs 172800000 must be from 0 to horizonMs \(86400000\)/);
  });
  it('no windows at all: always open (and windowState says open)', () => {
    const none = parseWindows([]);
    expect(nextStartFor(none, 5, DAY)).toEqual({ start: 5, fits: true });
    expect(windowState(none, 5)).toEqual({ open: true });
  });
});

describe('describeWindows', () => {
  it('says each window as written', () => {
    expect(
      describeWindows([
        { at: 'sat 02:00', for: '4h', tz: 'Europe/Paris' },
        { at: 'mon-fri 22:30', for: '90m' },
        { from: '2026-12-05T02:00:00Z', until: '2026-12-05T06:00:00Z' },
      ]),
    ).toEqual(['sat 02:00 for 4h (Europe/Paris)', 'mon-fri 22:30 for 90m (UTC)', '2026-12-05T02:00:00Z to 2026-12-05T06:00:00Z']);
  });
});

describe('hvflow schedule create reads the same grammar', () => {
  it('--at: a range over the week end becomes two ranges (Temporal reads fri-mon as fri alone)', () => {
    const now = new Date('2026-11-22T03:00:00Z');
    expect(parseAt('fri-mon 22:00', now)).toMatchObject({
      dayOfWeek: [
        { start: 'FRIDAY', end: 'SATURDAY' },
        { start: 'SUNDAY', end: 'MONDAY' },
      ],
    });
    expect(parseAt('SAT  02:00 ', now)).toEqual({ hour: 2, minute: 0, dayOfWeek: 'SATURDAY', comment: '--at SAT  02:00' });
    expect(() => parseAt('Sat 25:00', now)).toThrow('--at: "Sat 25:00": 25:00 is not a time of day (00:00 to 23:59)');
  });
  it('--catchup-window durations', () => {
    expect(parseCatchupWindow(' 90m ')).toBe(90 * MIN);
    expect(parseCatchupWindow('2 hours')).toBe(2 * H);
  });
});

describe('durations', () => {
  it('reads the duration syntax of the procedure inputs', () => {
    expect(['1500ms', '30s', '90m', '1.5h', '2d', '1w', '2 days', '1 hour', '10 minutes', '5seconds', '3 weeks'].map(durationMs)).toEqual([
      1500,
      30_000,
      90 * MIN,
      90 * MIN,
      2 * DAY,
      7 * DAY,
      2 * DAY,
      H,
      10 * MIN,
      5000,
      21 * DAY,
    ]);
    for (const bad of ['', '4', 'h', ' 4h', '4h ', '-1h', '4 hrs', '4H', '1e3s']) expect(durationMs(bad), bad).toBeUndefined();
  });
});

describe('bad input is refused with the field and the rule named, never trimmed', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an hour past 23', { at: 'sat 25:00', for: '4h' }, /^windows\[0\]\.at: "sat 25:00": 25:00 is not a time of day \(00:00 to 23:59\)$/],
    ['no time', { at: 'saturday', for: '4h' }, /^windows\[0\]\.at: "saturday" must look like 'sat 02:00'/],
    ['not a weekday', { at: 'someday 02:00', for: '4h' }, /^windows\[0\]\.at: "someday 02:00": "someday" is not a day of the week/],
    ['not a date', { at: '2027-02-29 02:00', for: '4h' }, /^windows\[0\]\.at: "2027-02-29 02:00": 2027-02-29 is not a date$/],
    ['a blank around `at`', { at: ' sat 02:00', for: '4h' }, /^windows\[0\]\.at: " sat 02:00" must look like/],
    ['two blanks in `at`', { at: 'sat  02:00', for: '4h' }, /^windows\[0\]\.at: "sat {2}02:00" must look like/],
    ['`for` not a duration', { at: 'sat 02:00', for: 'a while' }, /^windows\[0\]\.for: "a while" must be a duration such as '90m', '4h', '2d'$/],
    ['`for` with a blank around', { at: 'sat 02:00', for: '4h ' }, /^windows\[0\]\.for: "4h " must be a duration/],
    ['`for` under a minute', { at: 'sat 02:00', for: '59s' }, /^windows\[0\]\.for: "59s" must be at least 1 minute$/],
    ['`for` over 7 days', { at: 'sat 02:00', for: '169h' }, /^windows\[0\]\.for: "169h" must be at most 7 days$/],
    ['`for` a number', { at: 'sat 02:00', for: 4 }, /^windows\[0\]\.for: 4 Invalid input: expected string/],
    ['an unknown zone', { at: 'sat 02:00', for: '4h', tz: 'Mars/Olympus_Mons' }, /^windows\[0\]\.tz: "Mars\/Olympus_Mons" is not an IANA time zone/],
    ['a zone with a blank', { at: 'sat 02:00', for: '4h', tz: ' UTC' }, /^windows\[0\]\.tz: " UTC" is not an IANA time zone/],
    ['`at` missing', { for: '4h' }, /^windows\[0\]\.at: is required: a window is \{at, for, tz\?\} \(recurring\) or \{from, until\} \(absolute\)$/],
    ['`for` missing', { at: 'sat 02:00', tz: 'UTC' }, /^windows\[0\]\.for: is required/],
    ['an instant without offset', { from: '2026-12-05T02:00:00', until: '2026-12-05T06:00:00Z' }, /^windows\[0\]\.from: "2026-12-05T02:00:00" has no offset/],
    [
      'an instant that is no date',
      { from: '2026-02-30T02:00:00Z', until: '2026-03-05T06:00:00Z' },
      /^windows\[0\]\.from: "2026-02-30T02:00:00Z" is not a date/,
    ],
    [
      'an instant at 24:00',
      { from: '2026-02-03T24:00:00Z', until: '2026-03-05T06:00:00Z' },
      /^windows\[0\]\.from: "2026-02-03T24:00:00Z" is not a time of day/,
    ],
    [
      'a date alone',
      { from: '2026-12-05', until: '2026-12-06' },
      /^windows\[0\]\.from: "2026-12-05" must be an ISO 8601 instant.*windows\[0\]\.until: "2026-12-06"/,
    ],
    ['an instant in lower case', { from: '2026-12-05t02:00:00z', until: '2026-12-06T00:00:00Z' }, /^windows\[0\]\.from: "2026-12-05t02:00:00z" must be/],
    ['until before from', { from: '2026-12-05T06:00:00Z', until: '2026-12-05T02:00:00Z' }, /^windows\[0\]\.until: "2026-12-05T02:00:00Z" must be after from/],
    ['until equal to from', { from: '2026-12-05T06:00:00Z', until: '2026-12-05T07:00:00+01:00' }, /^windows\[0\]\.until: .* must be after from/],
    ['`until` missing', { from: '2026-12-05T06:00:00Z' }, /^windows\[0\]\.until: is required/],
    ['both kinds mixed', { at: 'sat 02:00', for: '4h', until: '2026-12-05T02:00:00Z' }, /^windows\[0\]\.until: cannot be given with at, for: a window is/],
    ['an empty object', {}, /^windows\[0\]: must be a window: \{at, for, tz\?\} \(recurring\) or \{from, until\} \(absolute\)$/],
    ['not an object', 'sat 02:00', /^windows\[0\]: "sat 02:00" must be a window/],
    ['an unknown field', { at: 'sat 02:00', for: '4h', zone: 'UTC' }, /^windows\[0\]: unknown field\(s\) zone$/],
  ];
  for (const [what, spec, expected] of cases) it(what, () => expect(refusal([spec])).toMatch(expected));

  it('names the index of the bad window and every bad field', () => {
    expect(
      refusal([
        { at: 'sat 02:00', for: '4h' },
        { at: 'sat 25:00', for: '30s' },
      ]),
    ).toBe('windows[1].at: "sat 25:00": 25:00 is not a time of day (00:00 to 23:59); windows[1].for: "30s" must be at least 1 minute');
    expect(refusal(Array.from({ length: 101 }, () => ({ at: 'sat 02:00', for: '4h' })))).toMatch(
      /^windows: \[\{.*\.\.\. Too big: expected array to have <=100 items$/,
    );
  });

  it('the schema, inside a procedure input, words its issues as validateInput does', () => {
    const input = z.strictObject({ windows: z.array(windowSpecSchema) });
    expect(() =>
      validateInput(input, {
        windows: [
          { at: 'sat 02:00', for: '4h' },
          { at: 'sat 25:00', for: '4h', tz: 'Nowhere' },
        ],
      }),
    ).toThrow(
      'invalid input: windows[1].at: "sat 25:00": 25:00 is not a time of day (00:00 to 23:59); windows[1].tz: "Nowhere" is not an IANA time zone (e.g. Europe/Paris, UTC)',
    );
    const good = { at: 'Sat 02:00', for: '4h', tz: 'Europe/Paris' };
    expect(validateInput(input, { windows: [good] })).toEqual({ windows: [good] });
  });

  it('the `at` grammar alone', () => {
    expect(parseAtSyntax('mon-fri 22:30')).toEqual({ hour: 22, minute: 30, days: [{ start: 1, end: 5 }] });
    expect(parseAtSyntax('2026-12-05 02:00')).toEqual({ hour: 2, minute: 0, date: { year: 2026, month: 12, day: 5 } });
    expect(parseAtSyntax('3:05')).toEqual({ hour: 3, minute: 5 });
    expect(parseAtSyntax('sat 2:60', 'SAT 2:60')).toEqual({ error: '"SAT 2:60": 2:60 is not a time of day (00:00 to 23:59)' });
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** Zones with and without DST, both hemispheres, a half-hour offset. */
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'];
const YEAR_2026 = t('2026-01-01T00:00:00Z');

/** Random weekly specs; in DST zones never at 02:xx, the hour the changes skip or repeat (the examples test those). */
const weeklySpec = fc
  .record({
    days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    minutes: fc.oneof(fc.integer({ min: 1, max: 6 * 60 }), fc.integer({ min: 1, max: 7 * 24 * 60 })),
    tz: fc.constantFrom(...ZONES),
  })
  .map(({ days, hour, minute, minutes, tz }) => ({
    at: `${days.map((d) => DAY_NAMES[d]).join(',')} ${String(tz !== 'UTC' && tz !== 'Asia/Kolkata' && hour === 2 ? 4 : hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
    for: `${minutes}m`,
    tz,
  }));
const absoluteSpec = fc
  .record({ start: fc.integer({ min: 0, max: 365 * DAY }), seconds: fc.integer({ min: 1, max: 3 * 24 * 3600 }) })
  .map(({ start, seconds }) => ({ from: new Date(YEAR_2026 + start).toISOString(), until: new Date(YEAR_2026 + start + seconds * 1000).toISOString() }));
/** Near the DST changes of the zones above half of the time. */
const CHANGES = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'].map((d) => t(`${d}T00:00:00Z`));
const instant = fc.oneof(
  fc.integer({ min: YEAR_2026, max: YEAR_2026 + 365 * DAY }),
  fc.tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -3 * DAY, max: 3 * DAY })).map(([c, d]) => c + d),
);

describe('properties', () => {
  it('nextStartFor: start >= now, inside a window, and [start, start + duration] inside one merged window when it fits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(weeklySpec, absoluteSpec), { minLength: 1, maxLength: 4 }),
        instant,
        fc.integer({ min: 1, max: 3 * DAY }),
        (specs, now, duration) => {
          const w = parseWindows(specs);
          const r = nextStartFor(w, now, duration);
          if (r.start === undefined) {
            expect(r.fits).toBe(false);
            return;
          }
          expect(r.start).toBeGreaterThanOrEqual(now);
          const at = windowState(w, r.start);
          expect(at.open).toBe(true);
          expect(at.endsAt).toBe(r.end);
          if (r.fits) expect(r.end === undefined || r.end >= r.start + duration).toBe(true);
          else expect(r.end! - r.start).toBeLessThan(duration);
          // nothing earlier fits: not now, nor the start of any window in between
          const open = windowState(w, now);
          if (r.start > now && r.fits) expect(open.open && (open.endsAt === undefined || open.endsAt - now >= duration)).toBe(false);
          if (r.fits) for (const b of windowsBetween(w, now, r.start)) expect(Date.parse(b.end) - Date.parse(b.start)).toBeLessThan(duration);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('windowState agrees with a brute-force minute scan of the wall clock', () => {
    const wallFormat = new Map<string, Intl.DateTimeFormat>();
    const WEEK_MINUTES = 7 * 24 * 60;
    const QUARTER = 15 * MIN;
    /**
     * The wall clock of tz at instant ms as a minute of the week (Sunday 00:00 = 0): what a person in tz
     * reads. Intl reads it on each quarter hour (every offset change of these zones falls on one), the
     * minutes between are counted on.
     */
    const wallOf = (tz: string, ms: number): number => {
      let f = wallFormat.get(tz);
      if (!f)
        wallFormat.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })));
      const quarter = ms - (((ms % QUARTER) + QUARTER) % QUARTER);
      const p = Object.fromEntries(f.formatToParts(quarter).map((x) => [x.type, x.value]));
      return (DAY_NAMES.indexOf(p.weekday!.toLowerCase()) * 24 * 60 + Number(p.hour) * 60 + Number(p.minute) + (ms - quarter) / MIN) % WEEK_MINUTES;
    };
    fc.assert(
      fc.property(
        fc.array(weeklySpec, { minLength: 1, maxLength: 3 }),
        instant,
        fc.array(fc.integer({ min: 0, max: 10 * 24 * 60 }), { minLength: 20, maxLength: 20 }),
        (specs, t0, offsets) => {
          const w: ParsedWindows = parseWindows(specs);
          const base = Math.floor(t0 / MIN) * MIN - 8 * DAY;
          const minutes = 26 * 24 * 60; // 8 days back (a window may last 7) to 18 ahead (10 sampled + a week to the next one)
          const open = new Uint8Array(minutes);
          for (const s of specs) {
            const [days, hhmm] = s.at.split(' ') as [string, string];
            const set = new Set(days.split(',').map((d) => DAY_NAMES.indexOf(d)));
            const at = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
            const length = Number(s.for.slice(0, -1));
            // Every minute whose wall clock reads the spec's day and time opens `length` minutes.
            let wall = wallOf(s.tz, base);
            for (let i = 0; i < minutes; i++, wall = (wall + 1) % WEEK_MINUTES) {
              if ((base + i * MIN) % QUARTER === 0) wall = wallOf(s.tz, base + i * MIN);
              if (wall % (24 * 60) === at && set.has(Math.floor(wall / (24 * 60)))) open.fill(1, i, Math.min(minutes, i + length));
            }
          }
          const scan = (from: number, value: 0 | 1) => {
            for (let i = from; i < minutes; i++) if (open[i] === value) return base + i * MIN;
            return undefined;
          };
          for (const k of offsets) {
            const i = 8 * 24 * 60 + k;
            const now = base + i * MIN;
            const s = windowState(w, now);
            expect(s.open, new Date(now).toISOString()).toBe(open[i] === 1);
            const closesAt = open[i] ? scan(i, 0) : undefined;
            if (open[i]) expect(s.endsAt, 'endsAt').toBe(closesAt ?? s.endsAt);
            const from = open[i] ? (closesAt === undefined ? undefined : (closesAt - base) / MIN) : i;
            const nextStart = from === undefined ? undefined : scan(from, 1);
            if (nextStart !== undefined) expect(s.nextStart, 'nextStart').toBe(nextStart);
            if (nextStart !== undefined && s.nextEnd !== undefined) expect(s.nextEnd, 'nextEnd').toBe(scan((nextStart - base) / MIN, 0) ?? s.nextEnd);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('looks 366 days ahead by default', () => expect(DEFAULT_HORIZON_MS).toBe(366 * DAY));
});
