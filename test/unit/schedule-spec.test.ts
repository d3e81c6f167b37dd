/**
 * `hvflow schedule create` flags: what a maintenance window may say, and the impossible ones refused
 * with the flag named before anything connects (the CLI test runs a few of them end to end).
 */
import { describe, expect, it } from 'vitest';
import { parseAt, parseCatchupWindow, parseCron, parseOverlap, parseTimeZone, checkScheduleId } from '../../client/schedule-spec';

const NOW = new Date('2026-11-22T03:00:00Z');
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('--at', () => {
  it('reads days, ranges, lists, daily and dates', () => {
    expect(parseAt('sat 02:00', NOW)).toMatchObject({ hour: 2, minute: 0, dayOfWeek: 'SATURDAY' });
    expect(parseAt('mon-fri 22:30', NOW)).toMatchObject({ hour: 22, minute: 30, dayOfWeek: { start: 'MONDAY', end: 'FRIDAY' } });
    expect(parseAt('sat,sun 01:15', NOW)).toMatchObject({ dayOfWeek: ['SATURDAY', 'SUNDAY'] });
    expect(parseAt('daily 03:00', NOW)).toEqual({ hour: 3, minute: 0, comment: '--at daily 03:00' });
    expect(parseAt('2026-12-05 02:00', NOW)).toMatchObject({ year: 2026, month: 'DECEMBER', dayOfMonth: 5, hour: 2 });
    // today, a few hours ago in UTC, may still be ahead in a western time zone
    expect(parseAt('2026-11-21 20:00', NOW)).toMatchObject({ dayOfMonth: 21 });
  });
});

describe('impossible schedules are refused, naming the flag and the reason', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['an hour past 23', () => parseAt('saturday 25:00', NOW), /--at: "saturday 25:00": 25:00 is not a time of day/],
    ['minute 60', () => parseAt('sat 02:60', NOW), /--at: "sat 02:60": 02:60 is not a time of day/],
    ['February 30', () => parseAt('2027-02-30 02:00', NOW), /--at: "2027-02-30 02:00": 2027-02-30 is not a date/],
    ['February 29 of a common year', () => parseAt('2027-02-29 02:00', NOW), /2027-02-29 is not a date/],
    ['a window already past', () => parseAt('2025-07-05 02:00', NOW), /--at: "2025-07-05 02:00" is in the past: the window would never start/],
    ['a day that is not a weekday', () => parseAt('someday 02:00', NOW), /--at: "someday 02:00": "someday" is not a day of the week/],
    ['a reversed-looking range with a third part', () => parseAt('mon-wed-fri 02:00', NOW), /"mon-wed-fri" is not a day of the week/],
    ['no time', () => parseAt('saturday', NOW), /--at: "saturday" must look like/],
    ['cron with 4 fields', () => parseCron('0 2 * *'), /--cron: "0 2 \* \*" must be a cron expression with 5 fields/],
    ['cron minute 61', () => parseCron('61 2 * * 6'), /--cron: "61 2 \* \* 6": minute "61" is out of range 0-59/],
    ['cron hour 24', () => parseCron('0 24 * * 6'), /hour "24" is out of range 0-23/],
    ['cron day 0', () => parseCron('0 2 0 * *'), /day-of-month "0" is out of range 1-31/],
    ['cron month 13', () => parseCron('0 2 1 13 *'), /month "13" is out of range 1-12/],
    ['cron weekday 8', () => parseCron('0 2 * * 8'), /day-of-week "8" is out of range 0-7/],
    ['cron February 30', () => parseCron('0 2 30 2 *'), /never runs: no month in "2" has day "30"/],
    ['cron the 31st of April, June, September, November', () => parseCron('0 2 31 apr,jun,sep,nov *'), /never runs/],
    ['cron empty range', () => parseCron('0 5-2 * * *'), /hour "5-2" is an empty range/],
    ['cron step 0', () => parseCron('*/0 2 * * *'), /minute "\*\/0" has a step of 0/],
    ['cron shell metacharacters', () => parseCron('0 2 * * 6;reboot'), /day-of-week "6;reboot" is not a day-of-week/],
    ['cron unknown month name', () => parseCron('0 2 1 foo *'), /month "foo" is not a month/],
    ['an unknown time zone', () => parseTimeZone('Mars/Olympus_Mons'), /--tz: "Mars\/Olympus_Mons" is not an IANA time zone/],
    ['an unknown overlap policy', () => parseOverlap('sometimes'), /--overlap: "sometimes" must be one of skip, buffer-one/],
    ["a catch-up window under Temporal's 10 s", () => parseCatchupWindow('1s'), /--catchup-window: "1s" must be at least 10s/],
    ['a catch-up window that is not a duration', () => parseCatchupWindow('soon'), /--catchup-window: "soon" must be a duration/],
    ['a schedule id with a space', () => checkScheduleId('window 1'), /schedule id: "window 1" must be letters, digits/],
  ];
  for (const [what, f, expected] of cases) it(what, () => expect(message(f)).toMatch(expected));
});

describe('possible cron expressions pass unchanged', () => {
  for (const cron of ['0 2 * * 6', '30 22 * * mon-fri', '*/15 * * * *', '0 2 29 2 *', '0 2 31 * *', '0 2 30 2 1', '0 0,12 1-7 jan-mar sun', '@weekly']) {
    it(cron, () => expect(parseCron(cron)).toBe(cron));
  }
});
