/**
 * The lab server: one Unix socket. Stand-in clients (lab/bin/lab-tool.js) send a `tool` request and
 * receive newline-delimited JSON frames {o: stdout} {e: stderr} {x: exit code}; the CLI sends
 * `control` requests (faults, log, state). A client that disconnects early aborts its command and
 * the command log records it as cancelled. Besides the lab's hosts, `ipmiOrigins` (the worker, the
 * BMC relays) may send requests, for ipmitool only.
 */
import * as net from 'node:net';
import { promises as fsp } from 'node:fs';
import { LabError, type LabModel } from './model';
import { TOOLS } from './tools';
import type { ToolContext } from './tools/types';

export interface ControlRequest {
  kind: 'control';
  op:
    | 'crash'
    | 'unreachable'
    | 'restore'
    | 'hangOnStop'
    | 'slowHeal'
    | 'slowStart'
    | 'glusterBusy'
    | 'fleetUnavailable'
    | 'log'
    | 'powerOn'
    | 'bmcDown'
    | 'bmcUp'
    | 'cutOffFromBmcs'
    | 'reconnectToBmcs';
  args: (string | number)[];
}

export interface LabServer {
  socketPath: string;
  close(): Promise<void>;
}

export async function startLabServer(o: {
  model: LabModel;
  socketPath: string;
  lab: ToolContext['lab'];
  control?: (req: ControlRequest) => Promise<unknown>;
  /** Origins that are no lab host and may run ipmitool only (the worker, the BMC relays). */
  ipmiOrigins?: string[];
  /** Hook hosts: no lab host either, they run lab-hook only. */
  hookOrigins?: string[];
}): Promise<LabServer> {
  await fsp.rm(o.socketPath, { force: true });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.setEncoding('utf8');
    let buf = '';
    const onData = (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      sock.off('data', onData);
      let req: { kind?: string };
      try {
        req = JSON.parse(buf.slice(0, i));
      } catch {
        sock.destroy();
        return;
      }
      if (req.kind === 'control' && o.control) {
        o.control(req as ControlRequest).then(
          (r) => sock.end(JSON.stringify({ ok: true, result: r ?? null }) + '\n'),
          (e: Error) => sock.end(JSON.stringify({ ok: false, error: e.message }) + '\n'),
        );
      } else void runTool(o, sock, req as ToolRequest);
    };
    sock.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // a wide backlog: hundreds of hosts may run a tool in the same instant
    server.listen({ path: o.socketPath, backlog: 4096 }, () => resolve());
  });
  server.unref();
  return {
    socketPath: o.socketPath,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await fsp.rm(o.socketPath, { force: true });
    },
  };
}

interface ToolRequest {
  host: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

async function runTool(
  o: { model: LabModel; lab: ToolContext['lab']; ipmiOrigins?: string[]; hookOrigins?: string[] },
  sock: net.Socket,
  req: ToolRequest,
): Promise<void> {
  const { model } = o;
  const [tool, ...args] = req.argv;
  const entry = model.logStart(req.host, req.argv);
  const started = Date.now();
  const abort = new AbortController();
  let finished = false;
  sock.on('close', () => {
    if (!finished) {
      entry.cancelled = true;
      abort.abort();
    }
  });
  const send = (frame: object) => {
    if (!sock.destroyed) sock.write(JSON.stringify(frame) + '\n');
  };
  const ctx: ToolContext = {
    host: req.host,
    tool,
    args,
    env: req.env ?? {},
    cwd: req.cwd,
    model,
    out: (t) => t && send({ o: t }),
    err: (t) => t && send({ e: t }),
    signal: abort.signal,
    mutating: () => void (entry.mutating = true),
    sleep: (ms) =>
      new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        abort.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            r();
          },
          { once: true },
        );
      }),
    lab: o.lab,
  };
  let code: number;
  try {
    const ipmiOnly = !!o.ipmiOrigins?.includes(req.host);
    const hookOnly = !!o.hookOrigins?.includes(req.host);
    if (!model.machines.has(req.host) && !(ipmiOnly && tool === 'ipmitool') && !(hookOnly && tool === 'lab-hook')) {
      ctx.err(`${tool}: ${ipmiOnly ? `${req.host} runs ipmitool only` : hookOnly ? `${req.host} runs lab-hook only` : `unknown lab host ${req.host}`}\n`);
      code = 127;
    } else {
      const impl = TOOLS[tool];
      if (!impl) {
        ctx.err(`${tool}: not simulated by the lab\n`);
        code = 127;
      } else code = await impl(ctx);
    }
  } catch (e) {
    ctx.err(`${tool}: ${e instanceof LabError ? e.message : `lab error: ${(e as Error).stack}`}\n`);
    code = 1;
  }
  finished = true;
  entry.durationMs = Date.now() - started;
  if (!entry.cancelled) entry.exitCode = code;
  model.emit('command', entry);
  send({ x: code });
  sock.end();
}
