/**
 * The worker's telemetry: structured logs and Prometheus metrics, both through the Temporal Runtime.
 *
 * - Logs: one JSON object per line on stdout ({"time", "level", "message", "meta"}), for everything
 *   the worker says: its own messages, the SDK's (worker state, activity and workflow logs with their
 *   workflowId / activityType...) and the native core's (forwarded, WARN and above).
 * - Metrics: when HVFLOW_METRICS_PORT is set, the SDK's metrics (temporal_workflow_completed,
 *   temporal_activity_execution_latency, temporal_worker_task_slots_available, sticky cache, poll
 *   latencies...) are served at http://HVFLOW_METRICS_HOST:PORT/metrics for Prometheus to scrape.
 *
 * Runtime.install must run before the first connection: call installTelemetry first thing.
 */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger, LogLevel } from '@temporalio/common';

export interface TelemetryOptions {
  /** Prometheus port; 0 or undefined: no metrics endpoint. */
  metricsPort?: number;
  /** Address the metrics endpoint binds (default 127.0.0.1; 0.0.0.0 in a container). */
  metricsHost?: string;
  /** Lowest level written (default INFO). */
  logLevel?: LogLevel;
  /** Where the JSON lines go (default stdout). */
  write?: (line: string) => void;
}

export interface Telemetry {
  logger: Logger;
  /** The scrape URL, when metrics are on. */
  metricsUrl?: string;
}

/** A value of log metadata as JSON can carry it: errors spelled out, bigints as strings, no cycles. */
function jsonSafe(value: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const e = value as Error & { type?: string; cause?: unknown };
    return {
      name: e.name,
      message: e.message,
      ...(e.type ? { type: e.type } : {}),
      ...(e.cause ? { cause: jsonSafe(e.cause, seen, depth + 1) } : {}),
      stack: e.stack,
    };
  }
  if (typeof value === 'object') {
    if (seen.has(value)) return '[Circular]';
    if (depth > 8) return '[…]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => jsonSafe(v, seen, depth + 1));
    if (value instanceof Uint8Array) return `<${value.length} bytes>`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const s = jsonSafe(v, seen, depth + 1);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return String(value);
}

/** One log entry as one line of JSON. */
export function formatLogLine(entry: LogEntry): string {
  const ms = Number(entry.timestampNanos / 1_000_000n);
  const meta = entry.meta && Object.keys(entry.meta).length ? (jsonSafe(entry.meta) as Record<string, unknown>) : undefined;
  return JSON.stringify({ time: new Date(ms).toISOString(), level: entry.level, message: entry.message, ...(meta ? { meta } : {}) });
}

/** A Temporal Logger writing one JSON object per line. */
export function jsonLogger(level: LogLevel = 'INFO', write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  return new DefaultLogger(level, (entry) => write(formatLogLine(entry)));
}

/**
 * Installs the Temporal Runtime with the JSON logger (native core logs forwarded to it) and, when a
 * metrics port is given, the Prometheus exporter. Once per process, before any connection.
 */
export function installTelemetry(o: TelemetryOptions = {}): Telemetry {
  const logger = jsonLogger(o.logLevel ?? 'INFO', o.write);
  const host = o.metricsHost ?? '127.0.0.1';
  const metrics = o.metricsPort ? { bindAddress: `${host.includes(':') ? `[${host}]` : host}:${o.metricsPort}` } : undefined;
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(metrics ? { metrics: { prometheus: metrics } } : {}),
    },
  });
  return { logger, metricsUrl: metrics ? `http://${metrics.bindAddress}/metrics` : undefined };
}
