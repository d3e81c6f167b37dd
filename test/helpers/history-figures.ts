/**
 * What a workflow history costs Temporal: its events, its size and its largest payload (and which
 * event carries it). Used by bench/scale.ts and by the tests that bound payloads.
 */
import type { History } from '@temporalio/common/lib/proto-utils';

export interface HistoryFigures {
  events: number;
  /** The events as JSON, each payload counted at its byte size. */
  bytes: number;
  maxPayload: number;
  /** The event type (and activity type, for an activity's result) of the largest payload. */
  maxPayloadIn?: string;
}

export function historyFigures(history: History): HistoryFigures {
  const events = history.events ?? [];
  const scheduled = new Map<string, string>();
  let maxPayload = 0;
  let maxPayloadIn: string | undefined;
  for (const e of events) {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(String(e.eventId), type);
    const where = () => {
      const of = e.activityTaskCompletedEventAttributes?.scheduledEventId;
      const kind = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]) ?? 'event';
      return of ? `${kind} ${scheduled.get(String(of)) ?? ''}`.trim() : kind;
    };
    const visit = (v: unknown): void => {
      if (!v || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      if (o.data instanceof Uint8Array && 'metadata' in o) {
        if (o.data.byteLength > maxPayload) [maxPayload, maxPayloadIn] = [o.data.byteLength, where()];
        return;
      }
      for (const x of Object.values(o)) if (x && typeof x === 'object') visit(x);
    };
    visit(e);
  }
  const bytes = events.reduce((n, e) => n + JSON.stringify(e, (_k, v) => (v instanceof Uint8Array ? 'x'.repeat(v.byteLength) : v)).length, 0);
  return { events: events.length, bytes, maxPayload, maxPayloadIn };
}
