/** Structured logs: one JSON object per line, whatever the SDK puts in a log's metadata. */
import { describe, expect, it } from 'vitest';
import { formatLogLine, jsonLogger } from '../../worker/telemetry';
import { ConfigError, configFromEnv } from '../../worker/config';

describe('JSON log lines', () => {
  it('carry time, level, message and meta; errors, bigints, cycles and bytes survive', () => {
    const meta: Record<string, unknown> = { workflowId: 'w1', n: 10n, err: new TypeError('boom'), when: new Date(0), bytes: new Uint8Array(3), fn: () => 1 };
    meta.self = meta;
    const line = formatLogLine({ level: 'WARN', message: 'activity failed', timestampNanos: 1_700_000_000_123_456_789n, meta });
    expect(line).not.toContain('\n');
    const e = JSON.parse(line);
    expect(e).toMatchObject({
      time: '2023-11-14T22:13:20.123Z',
      level: 'WARN',
      message: 'activity failed',
      meta: {
        workflowId: 'w1',
        n: '10',
        err: { name: 'TypeError', message: 'boom' },
        when: '1970-01-01T00:00:00.000Z',
        bytes: '<3 bytes>',
        self: '[Circular]',
      },
    });
    expect(e.meta).not.toHaveProperty('fn');
    expect(JSON.parse(formatLogLine({ level: 'INFO', message: 'm', timestampNanos: 0n }))).not.toHaveProperty('meta');
  });

  it('the logger filters by level and writes one line per entry', () => {
    const lines: string[] = [];
    const log = jsonLogger('INFO', (l) => lines.push(l));
    log.debug('hidden');
    log.info('shown', { a: 1 });
    log.error('multi\nline message');
    expect(lines.map((l) => JSON.parse(l)).map((e) => [e.level, e.message])).toEqual([
      ['INFO', 'shown'],
      ['ERROR', 'multi\nline message'],
    ]);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('HVFLOW_LOG_LEVEL and HVFLOW_METRICS_HOST are read from the environment', () => {
    const env = { HVFLOW_INVENTORY: 'i.yaml', HVFLOW_SSH_KEY: 'k', HVFLOW_KNOWN_HOSTS: 'kh' };
    expect(configFromEnv(env)).toMatchObject({ logLevel: 'INFO', metricsHost: '127.0.0.1', metricsPort: 0 });
    expect(configFromEnv({ ...env, HVFLOW_LOG_LEVEL: 'debug', HVFLOW_METRICS_HOST: '0.0.0.0', HVFLOW_METRICS_PORT: '9464' })).toMatchObject({
      logLevel: 'DEBUG',
      metricsHost: '0.0.0.0',
      metricsPort: 9464,
    });
    expect(() => configFromEnv({ ...env, HVFLOW_LOG_LEVEL: 'chatty' })).toThrow(ConfigError);
  });

  it('HVFLOW_SSH_CONNECT_TIMEOUT is seconds, 10 by default, and a bad value names the variable', () => {
    const env = { HVFLOW_INVENTORY: 'i.yaml', HVFLOW_SSH_KEY: 'k', HVFLOW_KNOWN_HOSTS: 'kh' };
    expect(configFromEnv(env).sshConnectTimeoutMs).toBe(10_000);
    expect(configFromEnv({ ...env, HVFLOW_SSH_CONNECT_TIMEOUT: '2.5' }).sshConnectTimeoutMs).toBe(2_500);
    for (const bad of ['0', 'soon', '301']) {
      expect(() => configFromEnv({ ...env, HVFLOW_SSH_CONNECT_TIMEOUT: bad })).toThrow(
        /HVFLOW_SSH_CONNECT_TIMEOUT: ".*" must be a number of seconds from 1 to 300/,
      );
    }
  });
});
