/**
 * The SSH command runner used by every tool module.
 *
 * - One pooled connection per host per worker (node-ssh / ssh2), shared by concurrent runs, one
 *   exec channel each; a dropped connection is forgotten and transparently re-opened by the next run.
 * - Host keys are verified against a known_hosts file (plain, `[addr]:port`, wildcard and hashed
 *   `|1|salt|hash` entries, `@revoked` markers). Unknown or changed keys are refused.
 * - The private key is read from the worker's configuration path, never from arguments.
 * - Commands are built only with buildCommand(argv) (activities/quote.ts). Each command is started as
 *   `echo __hvflow_pid=$$; exec <command>`: sshd makes every session its own session and process group
 *   (setsid), so `$$` is the process group and session id of the whole remote command tree. On
 *   cancellation or timeout that tree is killed over a second channel (TERM, then KILL after 2 s).
 * - Per-command timeout, heartbeats with elapsed time and last output line, capped output capture.
 * - Failures are Temporal ApplicationFailures: SshConnectionError (retryable), CommandTimeout
 *   (retryable, after the remote process was killed), HostKeyVerificationFailed, SshAuthenticationFailed,
 *   SshConfigError, InvalidNameError, InvalidTarget (non-retryable); ToolError via expectSuccess().
 */
import { createHash, createHmac } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { onAbort } from './abort-listeners';
import { heartbeatKeepingCheckpoint } from './heartbeat';
import { buildCommand, QuoteError } from './quote';
import { assertHostName, InvalidNameError } from '../domain/names';
import { FAILURE } from '../domain/contract';

export interface SshTarget {
  host: string;
  address: string;
  port: number;
  user: string;
}

export interface SshConfig {
  privateKeyPath: string;
  knownHostsPath: string;
  /** TCP connect + SSH handshake + authentication. Default 10 s. */
  connectTimeoutMs?: number;
  /** Cap of captured output, per stream. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Interval of heartbeats while a command runs. Default 3 s. */
  heartbeatIntervalMs?: number;
  /** Concurrent exec channels per connection (OpenSSH's MaxSessions defaults to 10). Default 8. */
  maxChannelsPerConnection?: number;
  /**
   * SSH handshakes in flight at once, over all hosts. A fan-out to 500 hosts otherwise starts 500
   * key exchanges together and the last ones run past the connect timeout. Default 32.
   */
  maxConcurrentConnects?: number;
}

export interface RunOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /** Exit codes that count as success (RunResult.ok). Default [0]. */
  okExitCodes?: number[];
  heartbeat?: (details: unknown) => void;
  signal?: AbortSignal;
  stdin?: string;
}

export interface RunResult {
  host: string;
  argv: string[];
  /** The exit status; 128+n when the remote command was killed by signal n. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** true when stdout or stderr went over maxOutputBytes and was cut. */
  truncated: boolean;
  durationMs: number;
  /** exitCode is in okExitCodes. */
  ok: boolean;
  /** Name of the signal that ended the remote command, if any ("TERM", "KILL", ...). */
  signal?: string;
}

export interface HeartbeatDetails {
  host: string;
  command: string;
  elapsedMs: number;
  lastLine: string;
  stdoutBytes: number;
  stderrBytes: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONNECTS = 32;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const DEFAULT_HEARTBEAT_MS = 3_000;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_CHANNELS = 8;
const KILL_GRACE_TENTHS = 20; // TERM, then KILL after 2 s
const PID_MARK = '__hvflow_pid=';

// ---------------------------------------------------------------------------------------------
// failures

function connectionError(target: SshTarget, what: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'SshConnectionError',
    nonRetryable: false,
    message: `SSH connection to ${target.host} (${target.address}:${target.port}) ${what}`,
    details: [{ host: target.host, address: target.address, port: target.port }],
    cause: cause instanceof Error ? cause : undefined,
  });
}

function nonRetryable(type: string, message: string, details?: unknown, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    nonRetryable: true,
    message,
    details: details === undefined ? undefined : [details],
    cause: cause instanceof Error ? cause : undefined,
  });
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '');
  if (line === undefined) return '';
  const t = line.trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

function tail(s: string, n: number): string {
  return s.length > n ? `…${s.slice(-n)}` : s;
}

/**
 * Throws a non-retryable ApplicationFailure of type 'ToolError' when the command did not exit with
 * an accepted code; its message quotes the first line of the tool's stderr (or stdout).
 */
export function expectSuccess(result: RunResult, tool: string): RunResult {
  if (result.ok) return result;
  const said = firstLine(result.stderr) || firstLine(result.stdout) || '(no output)';
  const how = result.signal ? `was killed by SIG${result.signal}` : `exited with code ${result.exitCode}`;
  throw ApplicationFailure.create({
    type: FAILURE.toolError,
    nonRetryable: true,
    message: `${tool} failed on ${result.host}: ${how}: ${said}`,
    details: [
      {
        host: result.host,
        tool,
        argv: result.argv,
        exitCode: result.exitCode,
        stderr: tail(result.stderr, 4096),
        stdout: tail(result.stdout, 4096),
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// known_hosts

interface KnownHostEntry {
  marker?: string;
  hosts: string;
  keyType: string;
  keyBlob: string;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    let marker: string | undefined;
    if (f[0]!.startsWith('@')) marker = f.shift();
    if (f.length < 3) return;
    out.push({ marker, hosts: f[0]!, keyType: f[1]!, keyBlob: f[2]!, line: i + 1 });
  });
  return out;
}

function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

/** Does a known_hosts host field match the host as OpenSSH names it ("addr" or "[addr]:port")? */
export function knownHostsFieldMatches(field: string, address: string, port: number): boolean {
  const names = port === 22 ? [address, `[${address}]:22`] : [`[${address}]:${port}`];
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const saltBuf = Buffer.from(salt, 'base64');
    return names.some((n) => createHmac('sha1', saltBuf).update(n).digest('base64') === hash);
  }
  let matched = false;
  for (const pat of field.split(',')) {
    const negated = pat.startsWith('!');
    const p = negated ? pat.slice(1) : pat;
    if (names.some((n) => globToRegExp(p).test(n))) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function hostKeyAlgorithmsFor(keyTypes: string[]): string[] {
  const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const preferred: string[] = [];
  for (const t of keyTypes) {
    const algs = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algs) if (all.includes(a) && !preferred.includes(a)) preferred.push(a);
  }
  return [...preferred, ...all.filter((a) => !preferred.includes(a))];
}

// ---------------------------------------------------------------------------------------------
// small helpers

class Semaphore {
  private waiting: Array<() => void> = [];
  private used = 0;
  constructor(private readonly size: number) {}
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.used >= this.size) {
      await new Promise<void>((resolve, reject) => {
        let off = () => {};
        const go = () => {
          off();
          resolve();
        };
        this.waiting.push(go);
        if (signal) {
          off = onAbort(signal, () => {
            this.waiting = this.waiting.filter((w) => w !== go);
            reject(signal.reason);
          });
        }
      });
    } else {
      this.used++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on
      else this.used--;
    };
  }
}

class Capture {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.total += b.length;
    const room = this.max - this.kept;
    if (room <= 0) {
      if (b.length > 0) this.truncated = true;
      return;
    }
    const part = b.length > room ? b.subarray(0, room) : b;
    if (b.length > room) this.truncated = true;
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function closeQuietly(channel: ClientChannel): void {
  try {
    channel.close();
  } catch {
    /* already closed */
  }
}

function signalNumber(name: string): number | undefined {
  const n = name.startsWith('SIG') ? name : `SIG${name}`;
  return (osConstants.signals as Record<string, number | undefined>)[n];
}

function abortReason(signal: AbortSignal, target: SshTarget, command: string): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return ApplicationFailure.create({
    type: 'CommandCancelled',
    nonRetryable: true,
    message: `command on ${target.host} was cancelled: ${command}`,
  });
}

const ADDRESS = /^(?:(?:\d{1,3}\.){3}\d{1,3}|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

function validateTarget(t: SshTarget): void {
  try {
    assertHostName(t?.host, 'target.host');
  } catch (e) {
    if (e instanceof InvalidNameError) throw nonRetryable('InvalidNameError', e.message, { field: e.field }, e);
    throw e;
  }
  const bad = (m: string) => nonRetryable('InvalidTarget', `invalid SSH target for ${t.host}: ${m}`);
  if (typeof t.address !== 'string' || !ADDRESS.test(t.address)) throw bad(`address ${JSON.stringify(t.address)} is not an IP address or DNS name`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw bad(`port ${JSON.stringify(t.port)} is not in 1-65535`);
  if (typeof t.user !== 'string' || !USER.test(t.user)) throw bad(`user ${JSON.stringify(t.user)} is not a POSIX user name`);
}

// ---------------------------------------------------------------------------------------------
// the pool

interface Conn {
  key: string;
  target: SshTarget;
  ssh: NodeSSH;
  client: Client;
  closed: boolean;
  slots: Semaphore;
  closedPromise: Promise<void>;
  /** Called once when the connection closes (runs and channel opens in flight listen here). */
  closeListeners: Set<() => void>;
  /** Why it ended, first cause (the pool's lostConnections figure). */
  why?: string;
}

interface PoolEntry {
  promise: Promise<Conn>;
  /** Set once connected. */
  conn?: Conn;
}

export class SshPool {
  private readonly conns = new Map<string, PoolEntry>();
  private connects = 0;
  private readonly connectsByHost = new Map<string, number>();
  private readonly openByHost = new Map<string, number>();
  private maxOpen = 0;
  /** Why connections ended before closeAll, by reason: a reconnect that has a reason is not a leak. */
  private readonly lost = new Map<string, number>();
  private closing = false;
  private readonly handshakes: Semaphore;
  private connecting = 0;
  private maxConnectingSeen = 0;

  constructor(private readonly config: SshConfig) {
    if (!config || typeof config.privateKeyPath !== 'string' || typeof config.knownHostsPath !== 'string') {
      throw new Error('SshPool: privateKeyPath and knownHostsPath are required');
    }
    this.handshakes = new Semaphore(config.maxConcurrentConnects ?? DEFAULT_MAX_CONNECTS);
  }

  /** The most SSH handshakes that were in flight at the same time. */
  maxConcurrentConnects(): number {
    return this.maxConnectingSeen;
  }

  /** How many SSH connections this pool opened so far, and how many are open now. */
  stats(): { connects: number; open: number } {
    return { connects: this.connects, open: this.conns.size };
  }

  /** The most SSH connections this pool opened to any one host (a reconnect after a drop counts). */
  maxConnectsPerHost(): number {
    return Math.max(0, ...this.connectsByHost.values());
  }

  /** The most SSH connections open at the same time to any one host. */
  maxOpenPerHost(): number {
    return this.maxOpen;
  }

  /** How many connections ended other than by closeAll, by reason (a host powered off: "end" or "error: ..."). */
  lostConnections(): Record<string, number> {
    return Object.fromEntries(this.lost);
  }

  private noteLost(why: string): void {
    if (!this.closing) this.lost.set(why, (this.lost.get(why) ?? 0) + 1);
  }

  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.closing = true;
    this.conns.clear();
    await Promise.all(
      all.map(async (entry) => {
        try {
          const c = await entry.promise;
          c.closed = true;
          c.ssh.dispose();
          await Promise.race([c.closedPromise, new Promise((r) => setTimeout(r, 2000))]);
        } catch {
          /* never connected */
        }
      }),
    );
  }

  private keyOf(t: SshTarget): string {
    return `${t.user}@${t.host}/${t.address}:${t.port}`;
  }

  private getConn(target: SshTarget): Promise<Conn> {
    const key = this.keyOf(target);
    const existing = this.conns.get(key);
    if (existing && !existing.conn?.closed) return existing.promise;
    const entry: PoolEntry = { promise: this.connect(target, key) };
    this.conns.set(key, entry);
    entry.promise.then(
      (c) => {
        entry.conn = c;
        if (c.closed && this.conns.get(key) === entry) this.conns.delete(key);
      },
      () => {
        if (this.conns.get(key) === entry) this.conns.delete(key);
      },
    );
    return entry.promise;
  }

  private forget(c: Conn): void {
    c.closed = true;
    const entry = this.conns.get(c.key);
    if (entry && entry.conn === c) this.conns.delete(c.key);
  }

  private async connect(target: SshTarget, key: string): Promise<Conn> {
    let privateKey: string;
    try {
      privateKey = await fsp.readFile(this.config.privateKeyPath, 'utf8');
    } catch (e) {
      throw nonRetryable(FAILURE.sshConfigError, `cannot read the worker's SSH private key ${this.config.privateKeyPath}: ${(e as Error).message}`);
    }
    let knownText = '';
    try {
      knownText = await fsp.readFile(this.config.knownHostsPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw nonRetryable(FAILURE.sshConfigError, `cannot read known_hosts ${this.config.knownHostsPath}: ${(e as Error).message}`);
      }
    }
    const entries = parseKnownHosts(knownText).filter((e) => knownHostsFieldMatches(e.hosts, target.address, target.port));
    const known = entries.filter((e) => e.marker === undefined);
    const revoked = new Set(
      parseKnownHosts(knownText)
        .filter((e) => e.marker === '@revoked')
        .map((e) => e.keyBlob),
    );
    const kh = this.config.knownHostsPath;
    const where = `${target.host} (${target.address}:${target.port})`;
    const lookup = target.port === 22 ? target.address : `[${target.address}]:${target.port}`;

    let hostKeyProblem: ApplicationFailure | undefined;
    const hostVerifier = (blob: Buffer): boolean => {
      const b64 = blob.toString('base64');
      const type = keyTypeOfBlob(blob);
      const fp = fingerprintOf(blob);
      const details = { host: target.host, address: target.address, port: target.port, keyType: type, fingerprint: fp, knownHosts: kh };
      if (revoked.has(b64)) {
        hostKeyProblem = nonRetryable(
          FAILURE.hostKeyVerificationFailed,
          `host key verification failed for ${where}: its ${type} key ${fp} is marked @revoked in ${kh}; refusing to connect`,
          details,
        );
        return false;
      }
      if (known.some((e) => e.keyBlob === b64)) return true;
      if (known.length === 0) {
        const t = type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa');
        hostKeyProblem = nonRetryable(
          FAILURE.hostKeyVerificationFailed,
          `host key verification failed for ${where}: the host is not in ${kh}; it presented the ${type} key ${fp}. ` +
            `Verify that fingerprint out of band (ssh-keygen -lf /etc/ssh/ssh_host_${t}_key.pub on the host), ` +
            `then add it with ssh-keyscan after verifying: ssh-keyscan -p ${target.port} -t ${t} ${target.address} >> ${kh}`,
          details,
        );
        return false;
      }
      const onRecord = known.map((e) => {
        let f = '?';
        try {
          f = fingerprintOf(Buffer.from(e.keyBlob, 'base64'));
        } catch {
          /* keep ? */
        }
        return `${e.keyType} ${f} (line ${e.line})`;
      });
      hostKeyProblem = nonRetryable(
        FAILURE.hostKeyVerificationFailed,
        `host key verification failed: the host key of ${where} changed: ${kh} has ${onRecord.join(', ')}, ` +
          `the host presented ${type} ${fp}. Someone may be intercepting the connection; ` +
          `if the host was reinstalled, verify the new fingerprint, remove the old line from ${kh} ` +
          `(ssh-keygen -R '${lookup}' -f ${kh}) and add the new key.`,
        details,
      );
      return false;
    };

    const ssh = new NodeSSH();
    const timeoutMs = this.config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    // the connect timeout counts from the handshake's start, not from the wait for a turn
    const turn = await this.handshakes.acquire();
    this.maxConnectingSeen = Math.max(this.maxConnectingSeen, ++this.connecting);
    try {
      await Promise.race([
        ssh.connect({
          host: target.address,
          port: target.port,
          username: target.user,
          privateKey,
          hostVerifier,
          readyTimeout: timeoutMs,
          keepaliveInterval: 15_000,
          keepaliveCountMax: 3,
          tryKeyboard: false,
          algorithms: { serverHostKey: hostKeyAlgorithmsFor(known.map((e) => e.keyType)) as never },
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs + 1000);
        }),
      ]);
    } catch (e) {
      ssh.dispose();
      if (hostKeyProblem) throw hostKeyProblem;
      const err = e as Error & { level?: string; code?: string };
      if (err.level === 'client-authentication') {
        throw nonRetryable(
          FAILURE.sshAuthenticationFailed,
          `SSH authentication as ${target.user} on ${where} failed with the worker's key ${this.config.privateKeyPath}: ${err.message}`,
          { host: target.host, address: target.address, port: target.port, user: target.user },
          err,
        );
      }
      throw connectionError(target, `failed: ${err.code && !err.message.includes(err.code) ? `${err.code} ` : ''}${err.message}`, err);
    } finally {
      clearTimeout(timer);
      this.connecting--;
      turn();
    }
    const client = ssh.connection!;
    client.setNoDelay(true); // small request/response packets: Nagle would add ~40 ms per command
    this.connects++;
    this.connectsByHost.set(target.host, (this.connectsByHost.get(target.host) ?? 0) + 1);
    const open = (this.openByHost.get(target.host) ?? 0) + 1;
    this.openByHost.set(target.host, open);
    this.maxOpen = Math.max(this.maxOpen, open);
    let onClosed!: () => void;
    const closedPromise = new Promise<void>((r) => (onClosed = r));
    const conn: Conn = {
      key,
      target,
      ssh,
      client,
      closed: false,
      slots: new Semaphore(this.config.maxChannelsPerConnection ?? DEFAULT_MAX_CHANNELS),
      closedPromise,
      closeListeners: new Set(),
    };
    // node-ssh removes its own 'error' listener once connected: without ours, a later socket error
    // would be an unhandled 'error' event.
    client.on('error', (e) => {
      conn.why ??= `error: ${(e as Error).message.replace(/\d+(\.\d+)*/g, 'N')}`;
      this.forget(conn);
    });
    client.on('end', () => {
      conn.why ??= conn.closed ? 'closed by hvflow' : 'ended by the host';
      this.forget(conn);
    });
    client.on('close', () => {
      this.noteLost(conn.why ?? (conn.closed ? 'closed by hvflow' : 'closed'));
      this.openByHost.set(target.host, (this.openByHost.get(target.host) ?? 1) - 1);
      this.forget(conn);
      onClosed();
      for (const l of [...conn.closeListeners]) l();
      conn.closeListeners.clear();
    });
    return conn;
  }

  /**
   * Opens an exec channel; retries once on a fresh connection if the pooled one turned out dead.
   * `listen` is called inside ssh2's exec callback, before anything else runs: ssh2 handles a whole
   * socket read at once, so a short command's confirmation, output, exit status and close can all be
   * emitted before an awaiting caller resumes (seen under fan-out, where the event loop lags).
   */
  private async openChannel(
    target: SshTarget,
    command: string,
    signal: AbortSignal | undefined,
    listen: (conn: Conn, channel: ClientChannel) => void,
  ): Promise<{ conn: Conn; channel: ClientChannel; release: () => void }> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.getConn(target);
      const release = await conn.slots.acquire(signal);
      let onClose: (() => void) | undefined;
      try {
        if (conn.closed) throw new Error('connection closed');
        const answerMs = this.config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
        let stalled: NodeJS.Timeout | undefined;
        let givenUp = false;
        const channel = await new Promise<ClientChannel>((resolve, reject) => {
          const giveUp = (e: Error) => {
            givenUp = true;
            reject(e);
          };
          // an exec request on a connection that dies before answering never calls back
          onClose = () => giveUp(new Error('connection closed'));
          conn.closeListeners.add(onClose);
          // a host that stopped answering (frozen, network cut) leaves the request pending: give up
          // on the connection, it is dead for every run
          stalled = setTimeout(() => {
            giveUp(new Error(`no answer to the exec request within ${answerMs} ms`));
            conn.why ??= 'no answer to an exec request';
            this.forget(conn);
            conn.ssh.dispose();
          }, answerMs);
          try {
            conn.client.exec(command, (err, ch) => {
              if (err) return giveUp(err);
              if (givenUp) return closeQuietly(ch); // a late answer to an attempt already failed
              listen(conn, ch);
              resolve(ch);
            });
          } catch (e) {
            giveUp(e as Error);
          }
        }).finally(() => clearTimeout(stalled));
        return { conn, channel, release };
      } catch (e) {
        release();
        if (signal?.aborted) throw signal.reason;
        if (conn.closed) {
          this.forget(conn);
          if (attempt === 0) continue; // nothing ran: safe to retry once on a new connection
        }
        throw connectionError(target, `could not open a channel: ${(e as Error).message}`, e);
      } finally {
        if (onClose) conn.closeListeners.delete(onClose);
      }
    }
  }

  /** Runs a raw internal command (no marker, no semaphore); used to kill a remote process group. */
  private async runInternal(target: SshTarget, command: string, timeoutMs: number): Promise<void> {
    const conn = await this.getConn(target);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`internal command timed out after ${timeoutMs} ms`)), timeoutMs);
      try {
        conn.client.exec(command, (err, ch) => {
          if (err) {
            clearTimeout(timer);
            reject(err);
            return;
          }
          ch.on('data', () => undefined);
          ch.stderr.on('data', () => undefined);
          ch.on('error', () => undefined);
          ch.on('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ch.end();
        });
      } catch (e) {
        clearTimeout(timer);
        reject(e);
      }
    });
  }

  private async killRemoteGroup(target: SshTarget, pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 1) return;
    // Processes of session $p that are not zombies (an orphan stays a zombie until init reaps it,
    // which some container inits do late).
    const alive = `ps -e -o sid= -o stat= 2>/dev/null | awk -v s=$p '$1 == s && $2 !~ /^Z/ { f = 1 } END { exit !f }'`;
    const script = [
      `p=${pid}`,
      'kill -TERM -- -$p 2>/dev/null; pkill -TERM -s $p 2>/dev/null',
      'i=0',
      `while [ $i -lt ${KILL_GRACE_TENTHS} ]; do`,
      `  ${alive} || exit 0`,
      '  sleep 0.1; i=$((i+1))',
      'done',
      'kill -KILL -- -$p 2>/dev/null; pkill -KILL -s $p 2>/dev/null; exit 0',
    ].join('\n');
    const ms = Math.min(10_000, (this.config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) + 2_000 + KILL_GRACE_TENTHS * 100);
    await this.runInternal(target, buildCommand(['sh', '-c', script]), ms);
  }

  async run(target: SshTarget, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    validateTarget(target);
    let command: string;
    try {
      command = buildCommand(argv);
    } catch (e) {
      if (e instanceof QuoteError) throw nonRetryable('InvalidCommand', `invalid command for ${target.host}: ${e.message}`, undefined, e);
      throw e;
    }
    const { signal } = opts;
    if (signal?.aborted) throw abortReason(signal, target, command);
    const started = Date.now();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const okCodes = opts.okExitCodes ?? [0];
    const maxOut = this.config.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const shown = command.length > 200 ? `${command.slice(0, 200)}…` : command;

    const out = new Capture(maxOut);
    const err = new Capture(maxOut);
    let recent = '';
    const lastLine = () => {
      const lines = recent
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const l = lines[lines.length - 1] ?? '';
      return l.length > 200 ? `${l.slice(0, 200)}…` : l;
    };
    const note = (b: Buffer) => {
      recent = (recent + b.toString('utf8')).slice(-1024);
    };
    const beat = () => {
      if (!opts.heartbeat) return;
      const d: HeartbeatDetails = {
        host: target.host,
        command: shown,
        elapsedMs: Date.now() - started,
        lastLine: lastLine(),
        stdoutBytes: out.total,
        stderrBytes: err.total,
      };
      try {
        opts.heartbeat(d);
      } catch {
        /* a heartbeat must never break the command */
      }
    };
    beat();
    const hbTimer = setInterval(beat, this.config.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS);

    let pid: number | undefined;
    let pidWaiters: Array<() => void> = [];
    let pre: Buffer | null = Buffer.alloc(0); // stdout until the pid marker was seen
    const onStdout = (b: Buffer) => {
      if (pre !== null) {
        pre = Buffer.concat([pre, b]);
        const idx = pre.indexOf(PID_MARK);
        const nl = idx >= 0 ? pre.indexOf('\n', idx) : -1;
        if (idx >= 0 && nl >= 0) {
          const m = /^(\d+)$/.exec(
            pre
              .subarray(idx + PID_MARK.length, nl)
              .toString('latin1')
              .trim(),
          );
          if (m) pid = Number(m[1]);
          // bytes before the marker come from the remote shell's start-up files: keep them
          const rest = Buffer.concat([pre.subarray(0, idx), pre.subarray(nl + 1)]);
          pre = null;
          pidWaiters.forEach((w) => w());
          pidWaiters = [];
          if (rest.length) {
            out.push(rest);
            note(rest);
          }
        } else if (pre.length > 65536) {
          const all = pre;
          pre = null;
          pidWaiters.forEach((w) => w());
          pidWaiters = [];
          out.push(all);
          note(all);
        }
        return;
      }
      out.push(b);
      note(b);
    };
    const waitPid = (ms: number) =>
      pid !== undefined || pre === null
        ? Promise.resolve()
        : new Promise<void>((r) => {
            const t = setTimeout(r, ms);
            pidWaiters.push(() => {
              clearTimeout(t);
              r();
            });
          });

    type End = { kind: 'exit'; code: number; signal?: string } | { kind: 'dropped' } | { kind: 'timeout' } | { kind: 'aborted' };
    let exit: { code: number | null; signal?: string } | undefined;
    let resolveEnd!: (e: End) => void;
    const ended = new Promise<End>((r) => (resolveEnd = r));
    const settle = () => {
      if (pre?.length) {
        out.push(pre);
        note(pre);
      }
      pre = null;
      pidWaiters.forEach((w) => w());
      pidWaiters = [];
      if (!exit) return resolveEnd({ kind: 'dropped' });
      if (exit.code !== null && exit.code !== undefined) return resolveEnd({ kind: 'exit', code: exit.code });
      const name = (exit.signal ?? '').replace(/^SIG/, '');
      resolveEnd({ kind: 'exit', code: 128 + (signalNumber(name) ?? 127), signal: name || undefined });
    };
    let markClosed!: () => void;
    const channelClosed = new Promise<void>((r) => (markClosed = r));
    // attached in the exec callback itself (see openChannel): an instant command's exit is never missed
    const listen = (conn: Conn, channel: ClientChannel) => {
      channel.on('data', onStdout);
      channel.stderr.on('data', (b: Buffer) => {
        err.push(b);
        note(b);
      });
      channel.on('error', () => undefined);
      channel.on('exit', (code: number | null, sig?: string) => {
        exit = { code, signal: sig ?? undefined };
      });
      channel.on('close', () => {
        settle();
        markClosed();
      });
      conn.closeListeners.add(settle);
    };

    let channelInfo: { conn: Conn; channel: ClientChannel; release: () => void };
    try {
      channelInfo = await this.openChannel(target, `echo ${PID_MARK}$$; exec ${command}`, signal, listen);
    } catch (e) {
      clearInterval(hbTimer);
      if (signal?.aborted) throw abortReason(signal, target, command);
      throw e;
    }
    const { conn, channel, release } = channelInfo;

    const timer = setTimeout(() => resolveEnd({ kind: 'timeout' }), timeoutMs);
    const offAbort = signal ? onAbort(signal, () => resolveEnd({ kind: 'aborted' })) : () => undefined;
    if (opts.stdin !== undefined) channel.write(opts.stdin);
    channel.end();

    let end: End;
    try {
      end = await ended;
      if (end.kind === 'timeout' || end.kind === 'aborted') {
        // End the remote command tree before reporting: kill its process group over a second channel.
        await waitPid(3000);
        let killError: unknown;
        if (pid !== undefined) {
          try {
            await this.killRemoteGroup(target, pid);
          } catch (e) {
            killError = e;
          }
        }
        let graceTimer: NodeJS.Timeout | undefined;
        await Promise.race([channelClosed, new Promise((r) => (graceTimer = setTimeout(r, 2000)))]);
        clearTimeout(graceTimer);
        closeQuietly(channel);
        if (end.kind === 'aborted') throw abortReason(signal!, target, command);
        const killNote =
          pid === undefined
            ? ' (its process id was never seen, it may still run)'
            : killError
              ? ` (killing remote process group ${pid} failed: ${(killError as Error).message})`
              : ` (remote process group ${pid} killed)`;
        throw ApplicationFailure.create({
          type: 'CommandTimeout',
          nonRetryable: false,
          message: `command on ${target.host} timed out after ${timeoutMs} ms${killNote}: ${shown}${lastLine() ? `; last output: ${lastLine()}` : ''}`,
          details: [{ host: target.host, argv, timeoutMs, pid, lastLine: lastLine() }],
        });
      }
      if (end.kind === 'dropped') {
        if (signal?.aborted) throw abortReason(signal, target, command);
        throw connectionError(target, `dropped while running ${shown} (after ${Date.now() - started} ms; the command may or may not have completed)`);
      }
    } finally {
      clearTimeout(timer);
      offAbort();
      conn.closeListeners.delete(settle);
      clearInterval(hbTimer);
      release();
    }
    return {
      host: target.host,
      argv: [...argv],
      exitCode: end.code,
      stdout: out.text(),
      stderr: err.text(),
      truncated: out.truncated || err.truncated,
      durationMs: Date.now() - started,
      ok: okCodes.includes(end.code),
      ...(end.signal ? { signal: end.signal } : {}),
    };
  }
}

/**
 * Runs a command from inside a Temporal activity: heartbeats go to the activity context and the
 * activity's cancellation (delivered through heartbeats) kills the remote command.
 */
export function runFromActivity(pool: SshPool, target: SshTarget, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const ctx = Context.current();
  const signal = opts.signal ? AbortSignal.any([opts.signal, ctx.cancellationSignal]) : ctx.cancellationSignal;
  return pool.run(target, argv, {
    ...opts,
    signal,
    heartbeat: (details) => {
      heartbeatKeepingCheckpoint(ctx, details);
      opts.heartbeat?.(details);
    },
  });
}
