/**
 * Where a procedure's wall time went, read from its history: per activity type the count, the total
 * and the longest time from scheduled to closed, and the workflow tasks (the worker running workflow
 * code). Figures for bench/scale.ts; it asserts nothing.
 */
import type { History } from '@temporalio/common/lib/proto-utils';

export interface HistoryTiming {
  /** Seconds, by activity type: how many ran, their sum and the longest. */
  activities: Record<string, { count: number; seconds: number; maxSeconds: number }>;
  workflowTasks: { count: number; seconds: number; maxSeconds: number };
}

type Ts = { seconds?: unknown; nanos?: number | null } | null | undefined;
const ms = (t: Ts) => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);
const round = (s: number) => Number(s.toFixed(3));

export function historyTiming(history: History): HistoryTiming {
  const scheduled = new Map<string, { type: string; at: number }>();
  const wfStarted = new Map<string, number>();
  const activities: HistoryTiming['activities'] = {};
  const workflowTasks = { count: 0, seconds: 0, maxSeconds: 0 };
  for (const e of history.events ?? []) {
    const at = ms(e.eventTime as Ts);
    const id = String(e.eventId);
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(id, { type, at });
    const closedOf =
      e.activityTaskCompletedEventAttributes?.scheduledEventId ??
      e.activityTaskFailedEventAttributes?.scheduledEventId ??
      e.activityTaskTimedOutEventAttributes?.scheduledEventId ??
      e.activityTaskCanceledEventAttributes?.scheduledEventId;
    if (closedOf !== undefined && closedOf !== null) {
      const s = scheduled.get(String(closedOf));
      if (s) {
        const a = (activities[s.type] ??= { count: 0, seconds: 0, maxSeconds: 0 });
        const d = (at - s.at) / 1000;
        a.count++;
        a.seconds = round(a.seconds + d);
        a.maxSeconds = round(Math.max(a.maxSeconds, d));
      }
    }
    if (e.workflowTaskStartedEventAttributes) wfStarted.set(id, at);
    const wfOf = e.workflowTaskCompletedEventAttributes?.startedEventId ?? e.workflowTaskFailedEventAttributes?.startedEventId;
    if (wfOf !== undefined && wfOf !== null && wfStarted.has(String(wfOf))) {
      const d = (at - wfStarted.get(String(wfOf))!) / 1000;
      workflowTasks.count++;
      workflowTasks.seconds = round(workflowTasks.seconds + d);
      workflowTasks.maxSeconds = round(Math.max(workflowTasks.maxSeconds, d));
    }
  }
  return { activities, workflowTasks };
}
