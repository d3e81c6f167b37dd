/**
 * Starts the Temporal CLI dev server (built by scripts/ensure-temporal.sh) with hvflow's search
 * attributes registered, and waits until its frontend answers. Used by the test suite's global
 * setup and by `npm run dev`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../workflows/search-attributes';
import path from 'node:path';

export interface DevServerOptions {
  ip?: string;
  port: number;
  /** Web UI port; undefined runs headless. */
  uiPort?: number;
  /** SQLite file for persistence; undefined keeps everything in memory. */
  dbFilename?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Where the server's own output goes. */
  logFile?: number | 'inherit' | 'ignore';
  startTimeoutMs?: number;
  /** Namespaces created at start besides `default` (hvflow's search attributes are registered in each). */
  namespaces?: string[];
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function temporalCliPath(): string {
  return execFileSync('bash', [path.join(__dirname, 'ensure-temporal.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const ip = o.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(o.port), '--log-level', o.logLevel ?? 'warn'];
  if (o.uiPort) args.push('--ui-ip', ip, '--ui-port', String(o.uiPort));
  else args.push('--headless');
  if (o.dbFilename) args.push('--db-filename', o.dbFilename);
  for (const sa of searchAttributeFlags()) args.push('--search-attribute', sa);
  for (const ns of o.namespaces ?? []) args.push('--namespace', ns);
  // Short worker-poll timeouts keep tests that stop workers from waiting a minute on a dead poll.
  const out = o.logFile ?? 'ignore';
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', out, out], detached: false });
  let exited: string | undefined;
  child.on('exit', (code, sig) => (exited = `exited with ${code ?? sig}`));
  const address = `${ip}:${o.port}`;
  const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`Temporal dev server ${exited} before it answered on ${address}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Temporal dev server did not answer on ${address} within the start timeout: ${String(e)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    uiUrl: o.uiPort ? `http://${ip}:${o.uiPort}` : undefined,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
