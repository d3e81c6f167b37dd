/**
 * Maintenance windows on Temporal Schedules. A schedule's action starts one procedure with its
 * input (requestedBy `schedule:<id>`), its search attributes and summary, on hvflow's task queue.
 *
 * When it runs:   --at 'sat 02:00'  --at 'mon-fri 22:30'  --at 'daily 03:00'  --at '2025-07-05 02:00'
 *                 --cron '0 2 * * 6'  (several of either may be given)
 *                 --tz Europe/Paris   (IANA zone; default UTC)
 * Policies:       --overlap skip (default) | buffer-one | buffer-all | cancel-other | terminate-other | allow-all
 *                 --catchup-window 1h (default): a run missed while the server was down starts late
 *                 only within this window.
 */
import { ScheduleAlreadyRunning, type CalendarSpecDescription, type ScheduleDescription, type ScheduleOverlapPolicy, type Range } from '@temporalio/client';
import type { Connected } from './connection';
import { MEMO } from '../domain/contract';
import { usage } from './errors';
import { parseAt } from './schedule-spec';
import { startOptions, type HvflowMemo } from './operations';
import type { ProcedureSpec } from './procedures';
import { bold, dim, table, yellow } from './render';

export interface ScheduleRequest {
  id: string;
  spec: ProcedureSpec;
  /** The procedure's input, validated, with requestedBy = schedule:<id>. */
  input: Record<string, unknown>;
  cluster: string;
  at: string[];
  cron: string[];
  timeZone: string;
  overlap: ScheduleOverlapPolicy;
  catchupWindowMs: number;
  paused?: boolean;
  createdBy: string;
  note?: string;
}

export interface ScheduleMemo {
  command: string;
  cluster: string;
  target: string;
  createdBy: string;
  when: string[];
  timeZone: string;
}

/** Creates the schedule; an existing id is a usage error (exit 2), nothing is changed. */
export async function createSchedule(c: Connected, r: ScheduleRequest) {
  const o = startOptions(r.spec, r.input, r.cluster, { requestedBy: `schedule:${r.id}`, scheduleId: r.id });
  const when = [...r.at.map((a) => `at ${a}`), ...r.cron.map((x) => `cron ${x}`)];
  const memo: ScheduleMemo = { command: r.spec.name, cluster: r.cluster, target: o.target, createdBy: r.createdBy, when, timeZone: r.timeZone };
  try {
    return await c.client.schedule.create({
      scheduleId: r.id,
      spec: {
        calendars: r.at.length ? r.at.map((a) => parseAt(a)) : undefined,
        cronExpressions: r.cron.length ? r.cron : undefined,
        timezone: r.timeZone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: r.spec.workflowType,
        // The server appends the scheduled time: hvflow-<cluster>-<procedure>-<target>-<time>.
        workflowId: `hvflow-${r.cluster}-${r.spec.name}-${o.target}`,
        taskQueue: c.settings.taskQueue,
        args: [r.input],
        typedSearchAttributes: o.typedSearchAttributes,
        memo: o.memo,
        staticSummary: `${o.staticSummary} (maintenance window ${r.id})`.slice(0, 400),
        staticDetails: o.staticDetails,
      },
      policies: { overlap: r.overlap, catchupWindow: r.catchupWindowMs },
      state: {
        paused: !!r.paused,
        note: r.note ?? `created by ${r.createdBy} with the hvflow CLI`,
      },
      memo: { [MEMO.procedure]: memo as unknown as Record<string, unknown> },
    });
  } catch (e) {
    if (e instanceof ScheduleAlreadyRunning) throw usage(`schedule ${r.id} already exists; delete it first or choose another --id`);
    throw e;
  }
}

export interface ScheduleRow {
  scheduleId: string;
  procedure?: string;
  workflowType?: string;
  target?: string;
  cluster?: string;
  when: string[];
  timeZone?: string;
  overlap?: string;
  catchupWindowMs?: number;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId?: string }[];
  createdBy?: string;
}

const DOW_SHORT: Record<string, string> = { SUNDAY: 'sun', MONDAY: 'mon', TUESDAY: 'tue', WEDNESDAY: 'wed', THURSDAY: 'thu', FRIDAY: 'fri', SATURDAY: 'sat' };

function rangeText<T>(ranges: Range<T>[], show: (x: T) => string, all: (r: Range<T>[]) => boolean): string | undefined {
  if (!ranges.length || all(ranges)) return undefined;
  return ranges.map((r) => (r.end !== r.start ? `${show(r.start)}-${show(r.end)}` : show(r.start))).join(',');
}

/** A calendar as the `--at` syntax when it fits, e.g. "sat 02:00". */
export function calendarText(c: CalendarSpecDescription): string {
  if (c.comment?.startsWith('--at ')) return c.comment.slice(5);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hour = rangeText(c.hour, pad, () => false) ?? '*';
  const minute = rangeText(c.minute, pad, () => false) ?? '*';
  const days = rangeText(
    c.dayOfWeek,
    (d) => DOW_SHORT[d] ?? d,
    (r) => r.length === 1 && r[0]!.start === 'SUNDAY' && r[0]!.end === 'SATURDAY',
  );
  const dom = rangeText(c.dayOfMonth, String, (r) => r.length === 1 && r[0]!.start === 1 && r[0]!.end === 31);
  return `${days ?? (dom ? `day ${dom}` : 'daily')} ${hour}:${minute}`;
}

function toRow(id: string, d: ScheduleDescription): ScheduleRow {
  const memo = (d.memo?.[MEMO.procedure] ?? {}) as Partial<ScheduleMemo>;
  const action = d.action.type === 'startWorkflow' ? d.action : undefined;
  const input = (action?.args?.[0] ?? {}) as Record<string, unknown>;
  const actionMemo = (action?.memo?.[MEMO.procedure] ?? {}) as HvflowMemo;
  return {
    scheduleId: id,
    procedure: memo.command ?? actionMemo.command,
    workflowType: action?.workflowType,
    target: memo.target,
    cluster: memo.cluster ?? (typeof input.cluster === 'string' ? input.cluster : undefined),
    when: memo.when ?? (d.spec.calendars ?? []).map(calendarText),
    timeZone: d.spec.timezone ?? 'UTC',
    overlap: d.policies.overlap,
    catchupWindowMs: d.policies.catchupWindow,
    paused: d.state.paused,
    note: d.state.note,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.slice(-3).map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : undefined,
    })),
    createdBy: memo.createdBy,
  };
}

export async function describeSchedule(c: Connected, id: string): Promise<ScheduleRow> {
  return toRow(id, await c.client.schedule.getHandle(id).describe());
}

/** hvflow's schedules (those carrying its memo); `all` adds the others of the namespace. */
export async function listSchedules(c: Connected, o: { cluster?: string; all?: boolean } = {}): Promise<ScheduleRow[]> {
  const ids: string[] = [];
  for await (const s of c.client.schedule.list()) {
    const memo = s.memo?.[MEMO.procedure] as Partial<ScheduleMemo> | undefined;
    if (!memo && !o.all) continue;
    if (o.cluster && memo?.cluster !== o.cluster) continue;
    ids.push(s.scheduleId);
  }
  const rows = await Promise.all(ids.map((id) => describeSchedule(c, id).catch(() => undefined)));
  return rows.filter((r): r is ScheduleRow => !!r).sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export function renderSchedules(rows: ScheduleRow[]): string[] {
  if (!rows.length) return ['No hvflow schedule.'];
  return table(
    ['ID', 'PROCEDURE', 'TARGET', 'WHEN', 'TZ', 'OVERLAP', 'CATCH-UP', 'STATE', 'NEXT RUN'],
    rows.map((r) => [
      r.scheduleId,
      r.procedure ?? r.workflowType,
      r.target,
      r.when.join('; '),
      r.timeZone,
      r.overlap?.toLowerCase().replace(/_/g, '-'),
      r.catchupWindowMs === undefined ? undefined : `${Math.round(r.catchupWindowMs / 60_000)}m`,
      r.paused ? yellow('paused') : 'active',
      r.paused ? dim(r.nextRuns[0] ?? '') : r.nextRuns[0],
    ]),
  );
}

export function renderSchedule(r: ScheduleRow): string[] {
  return [
    bold(`Schedule ${r.scheduleId}`) + (r.paused ? yellow(' (paused)') : ''),
    `  procedure   ${r.procedure ?? '?'} (${r.workflowType ?? '?'}) ${r.target ?? ''} on cluster ${r.cluster ?? '?'}`,
    `  when        ${r.when.join('; ')} (${r.timeZone})`,
    `  overlap     ${r.overlap}   catch-up window ${r.catchupWindowMs === undefined ? '-' : `${Math.round(r.catchupWindowMs / 60_000)}m`}`,
    `  next runs   ${r.nextRuns.join(', ') || '-'}`,
    `  recent      ${r.recentRuns.map((x) => `${x.scheduledAt} ${x.workflowId ?? ''}`).join(', ') || '-'}`,
    `  note        ${r.note ?? '-'}`,
  ];
}
