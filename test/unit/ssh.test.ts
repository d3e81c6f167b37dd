/**
 * The SSH activity layer against real OpenSSH sshds (lab/sshd.ts) on 127.0.0.x loopback addresses.
 * No fakes: real host keys, real known_hosts, real remote processes (checked with pgrep, since the
 * "remote" hosts run on this machine).
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSuccess, runFromActivity, SshPool, type RunResult, type SshTarget } from '../../activities/ssh';
import { assertHostName, InvalidNameError } from '../../domain/names';
import { generateKeyPair, knownHostsLine, startSshd, type SshdHandle, type SshdOptions } from '../../lab/sshd';

const PORT = 22000 + Math.floor(Math.random() * 900);
const USER = os.userInfo().username;
const RUN_ID = `${process.pid}x${Date.now().toString(36)}`;

let dir: string;
let clientKey: { privateKeyPath: string; publicKey: string };
let knownHostsPath: string;
const sshds = new Map<string, SshdHandle>();
const options = new Map<string, SshdOptions>();
const pools: SshPool[] = [];

function addr(i: number): string {
  return `127.0.0.${200 + i}`;
}
function target(host: string): SshTarget {
  const h = sshds.get(host) ?? options.get(host)!;
  return { host, address: h.address, port: h.port, user: USER };
}
async function start(host: string, i: number, extra: Partial<SshdOptions> = {}): Promise<SshdHandle> {
  const bin = path.join(dir, host, 'bin');
  const o: SshdOptions = {
    hostName: host,
    address: addr(i),
    port: PORT,
    dir: path.join(dir, host),
    authorizedKeys: [clientKey.publicKey],
    env: { PATH: `${bin}:/usr/bin:/bin`, HVFLOW_LAB_HOST: host },
    ...extra,
  };
  options.set(host, o);
  const h = await startSshd(o);
  sshds.set(host, h);
  return h;
}
function pool(extra: Partial<ConstructorParameters<typeof SshPool>[0]> = {}): SshPool {
  const p = new SshPool({ privateKeyPath: clientKey.privateKeyPath, knownHostsPath, heartbeatIntervalMs: 200, ...extra });
  pools.push(p);
  return p;
}
function pgrepCount(marker: string): number {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApplicationFailure);
  return e as ApplicationFailure;
}
/** A remote process tree whose every member carries the marker in its command line. */
function tree(marker: string, ignoreTerm = false): string[] {
  return [
    'bash',
    '-c',
    `${ignoreTerm ? "trap '' TERM; " : ''}(exec -a ${marker}-child sleep 300) & ` +
      `(bash -c "(exec -a ${marker}-grandchild sleep 300) & wait") & ` +
      `echo started; exec -a ${marker}-main sleep 300`,
  ];
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hvflow-ssh-test-'));
  clientKey = await generateKeyPair(path.join(dir, 'client', 'id_ed25519'));
  knownHostsPath = path.join(dir, 'client', 'known_hosts');
  // top1..top5 are known; top6 is running but absent from known_hosts.
  await Promise.all(['top1', 'top2', 'top3', 'top4', 'top5', 'top6'].map((h, i) => start(h, i + 1)));
  const standin = path.join(dir, 'top1', 'bin', 'fleetctl');
  await fsp.mkdir(path.dirname(standin), { recursive: true });
  await fsp.writeFile(standin, '#!/bin/sh\necho "fleetctl stand-in on $HVFLOW_LAB_HOST: $*"\n', { mode: 0o755 });
  const lines = ['top1', 'top2', 'top3', 'top4', 'top5'].map((h) => knownHostsLine(sshds.get(h)!));
  await fsp.writeFile(knownHostsPath, `# test known_hosts\n${lines.join('\n')}\n`);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await Promise.all([...sshds.values()].map((h) => h.stop()));
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

describe('SshPool against a real sshd', () => {
  it('runs a command and returns stdout, stderr and the exit code', async () => {
    const r = await pool().run(target('top1'), ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ host: 'top1', exitCode: 3, stdout: 'out\n', stderr: 'err\n', truncated: false, ok: false });
    expect(r.argv).toEqual(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    const ok = await pool().run(target('top1'), ['sh', '-c', 'exit 3'], { okExitCodes: [0, 3] });
    expect(ok.ok).toBe(true);
  });

  it('passes stdin, and reports a signal death as 128+n', async () => {
    const p = pool();
    expect((await p.run(target('top1'), ['cat'], { stdin: 'hello\nworld\n' })).stdout).toBe('hello\nworld\n');
    const killed = await p.run(target('top1'), ['bash', '-c', 'kill -KILL $$']);
    expect(killed).toMatchObject({ exitCode: 137, signal: 'KILL', ok: false });
  });

  it('sees the per-host environment (SetEnv + wrapper) in exec and shell sessions', async () => {
    const r = await pool().run(target('top1'), ['sh', '-c', 'echo "$PATH"; echo "$HVFLOW_LAB_HOST"; fleetctl list-units']);
    const [pathLine, hostLine, toolLine] = r.stdout.split('\n');
    expect(pathLine).toBe(`${path.join(dir, 'top1', 'bin')}:/usr/bin:/bin`); // not rewritten by ~/.bashrc
    expect(hostLine).toBe('top1');
    expect(toolLine).toBe('fleetctl stand-in on top1: list-units');
    // an interactive-style shell session (no command) gets the same PATH, despite /etc/profile
    const h = sshds.get('top1')!;
    const shell = execFileSync(
      'ssh',
      [
        '-T',
        '-i',
        clientKey.privateKeyPath,
        '-o',
        `UserKnownHostsFile=${knownHostsPath}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-p',
        String(h.port),
        `${USER}@${h.address}`,
      ],
      { input: 'echo "$PATH $HVFLOW_LAB_HOST"; fleetctl x\n', encoding: 'utf8' },
    );
    expect(shell).toBe(`${path.join(dir, 'top1', 'bin')}:/usr/bin:/bin top1\nfleetctl stand-in on top1: x\n`);
  });

  it('refuses an unknown host key and says how to add it', async () => {
    const before = sshds.get('top6')!.loginCount();
    const f = await failure(pool().run(target('top6'), ['true']));
    expect(f.type).toBe('HostKeyVerificationFailed');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(`top6 (${addr(6)}:${PORT})`);
    expect(f.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(f.message).toContain('ssh-keyscan');
    expect(f.message).toContain(knownHostsPath);
    expect(sshds.get('top6')!.loginCount()).toBe(before); // never authenticated
  });

  it('accepts hashed known_hosts entries (ssh-keygen -H)', async () => {
    const hashed = path.join(dir, 'client', 'known_hosts.hashed');
    await fsp.copyFile(knownHostsPath, hashed);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(await fsp.readFile(hashed, 'utf8')).toMatch(/^\|1\|/m);
    expect(await fsp.readFile(hashed, 'utf8')).not.toContain(addr(1));
    const r = await pool({ knownHostsPath: hashed }).run(target('top1'), ['echo', 'hashed ok']);
    expect(r.stdout).toBe('hashed ok\n');
  });

  it('refuses a changed host key, naming the host and the known_hosts line to remove', async () => {
    const p = pool();
    expect((await p.run(target('top2'), ['true'])).exitCode).toBe(0);
    await sshds.get('top2')!.stop();
    const newKey = await generateKeyPair(path.join(dir, 'top2-reinstalled', 'ssh_host_ed25519_key'));
    await start('top2', 2, { hostKeyPath: newKey.privateKeyPath });
    const f = await failure(p.run(target('top2'), ['true']));
    expect(f.type).toBe('HostKeyVerificationFailed');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(`the host key of top2 (${addr(2)}:${PORT}) changed`);
    expect(f.message).toContain('remove the old line');
    expect(f.message).toContain(knownHostsPath);
    expect(sshds.get('top2')!.loginCount()).toBe(0);
  });

  it('rejects an injected host name before any SSH connection is made', async () => {
    expect(() => assertHostName('top1;reboot', 'target.host')).toThrow(InvalidNameError);
    const p = pool();
    const h = sshds.get('top1')!;
    await new Promise((r) => setTimeout(r, 100)); // let sshd's log catch up
    const connectionsBefore = h.connectionCount();
    for (const bad of ['top1;reboot', '$(reboot)', 'top1 top2', '`id`']) {
      const f = await failure(p.run({ ...target('top1'), host: bad }, ['true']));
      expect(f.type).toBe('InvalidNameError');
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toContain(JSON.stringify(bad));
      expect(f.cause).toBeInstanceOf(InvalidNameError);
    }
    const f = await failure(p.run({ ...target('top1'), user: 'root;id' }, ['true']));
    expect(f.type).toBe('InvalidTarget');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.connectionCount()).toBe(connectionsBefore); // sshd saw no connection
    expect(p.stats().connects).toBe(0);
  });

  it('a cancelled command leaves no remote process behind', async () => {
    const marker = `hvflow-cancel-${RUN_ID}`;
    const ac = new AbortController();
    const run = pool().run(target('top1'), tree(marker), { signal: ac.signal, timeoutMs: 60_000 });
    const settled = run.catch((e: unknown) => e);
    await waitFor(() => pgrepCount(marker) >= 3);
    const reason = new Error('operator cancelled');
    ac.abort(reason);
    expect(await settled).toBe(reason);
    expect(pgrepCount(marker)).toBe(0);
  });

  it('runFromActivity heartbeats and honours activity cancellation (remote tree killed)', async () => {
    const marker = `hvflow-actcancel-${RUN_ID}`;
    const env = new MockActivityEnvironment();
    const beats: Array<{ elapsedMs: number; lastLine: string }> = [];
    env.on('heartbeat', (d: { elapsedMs: number; lastLine: string }) => beats.push(d));
    const p = pool();
    const settled = env.run(() => runFromActivity(p, target('top1'), tree(marker))).catch((e: unknown) => e);
    await waitFor(() => pgrepCount(marker) >= 3 && beats.some((b) => b.lastLine === 'started'));
    expect(beats[beats.length - 1]!.elapsedMs).toBeGreaterThan(0);
    env.cancel();
    expect(await settled).toBeInstanceOf(CancelledFailure);
    expect(pgrepCount(marker)).toBe(0);
  });

  it('a timeout kills the remote process tree (TERM, then KILL) and is a retryable CommandTimeout', async () => {
    const marker = `hvflow-timeout-${RUN_ID}`;
    const f = await failure(pool().run(target('top1'), tree(marker, true), { timeoutMs: 800 }));
    expect(f.type).toBe('CommandTimeout');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain('top1');
    expect(f.message).toContain('killed');
    expect(f.message).toContain('last output: started');
    expect(pgrepCount(marker)).toBe(0); // even the children that ignore SIGTERM
  });

  it('truncates output over the cap (default 1 MiB per stream)', async () => {
    const r = await pool().run(target('top1'), ['sh', '-c', "head -c 3000000 /dev/zero | tr '\\0' x; echo small >&2"]);
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.stderr).toBe('small\n');
    const small = await pool({ maxOutputBytes: 10 }).run(target('top1'), ['echo', '0123456789abcdef']);
    expect(small).toMatchObject({ stdout: '0123456789', truncated: true });
  });

  it('reconnects transparently after the connection dropped; a down host is a retryable SshConnectionError', async () => {
    const p = pool();
    expect((await p.run(target('top5'), ['echo', 'one'])).stdout).toBe('one\n');
    await sshds.get('top5')!.stop(); // kills the listener and the per-connection sshd: the connection drops
    await start('top5', 5); // same dir, same host key
    expect((await p.run(target('top5'), ['echo', 'two'])).stdout).toBe('two\n');
    expect(p.stats().connects).toBe(2);
    expect(sshds.get('top5')!.loginCount()).toBe(1);

    await sshds.get('top5')!.stop();
    const f = await failure(p.run(target('top5'), ['true']));
    expect(f.type).toBe('SshConnectionError');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain(`top5 (${addr(5)}:${PORT})`);
    await start('top5', 5);
    expect((await p.run(target('top5'), ['echo', 'three'])).stdout).toBe('three\n');
  });

  it('a frozen host (sshd paused) is a retryable SshConnectionError within the connect timeout, then recovers', async () => {
    const p = pool({ connectTimeoutMs: 500 });
    const h = sshds.get('top4')!;
    expect((await p.run(target('top4'), ['true'])).exitCode).toBe(0);
    h.pause(); // listener, connection processes and sessions: the pooled connection stops answering
    try {
      const f = await failure(p.run(target('top4'), ['true']));
      expect(f.type).toBe('SshConnectionError');
      expect(f.nonRetryable).toBe(false);
    } finally {
      h.resume();
    }
    expect((await p.run(target('top4'), ['echo', 'back'])).stdout).toBe('back\n');
  });

  it('concurrent runs on one host share one connection (one exec channel each)', async () => {
    const p = pool();
    const h = sshds.get('top3')!;
    // Each run prints when it started and ended on the host (ns); how long they took is bench/ssh.ts's.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => p.run(target('top3'), ['sh', '-c', `s=$(date +%s%N); sleep 0.3; echo run${i} $s $(date +%s%N)`])),
    );
    const spans = results.map((r, i) => {
      const [name, start, end] = r.stdout.trim().split(' ');
      expect(name).toBe(`run${i}`);
      return [BigInt(start!), BigInt(end!)] as const;
    });
    expect(p.stats()).toEqual({ connects: 1, open: 1 });
    await waitFor(() => h.loginCount() >= 1);
    expect(h.connectionCount()).toBe(1);
    expect(h.loginCount()).toBe(1);
    // They ran at the same time on that one connection (8 channels at a time), not one after another.
    const overlapping = Math.max(...spans.map(([at]) => spans.filter(([start, end]) => start <= at && at < end).length));
    expect(overlapping).toBeGreaterThan(1);
  });

  it('expectSuccess turns a failed exit into a non-retryable ToolError quoting the tool', async () => {
    const r = await pool().run(target('top1'), ['sh', '-c', 'echo "volume heal: failed: Volume vol9 does not exist" >&2; exit 2']);
    expect(r.ok).toBe(false);
    let thrown: unknown;
    try {
      expectSuccess(r, 'gluster');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    const f = thrown as ApplicationFailure;
    expect(f.type).toBe('ToolError');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe('gluster failed on top1: exited with code 2: volume heal: failed: Volume vol9 does not exist');
    const ok = await pool().run(target('top1'), ['true']);
    expect(expectSuccess(ok, 'true')).toBe(ok);
  });

  it('a key that is not authorized is a non-retryable SshAuthenticationFailed', async () => {
    const other = await generateKeyPair(path.join(dir, 'client', 'other_key'));
    const f = await failure(pool({ privateKeyPath: other.privateKeyPath }).run(target('top1'), ['true']));
    expect(f.type).toBe('SshAuthenticationFailed');
    expect(f.nonRetryable).toBe(true);
  });
});

describe('SshPool under wide fan-out (instant commands)', () => {
  // As many hosts as the reproduction (100 parallel `true`, one per host), on their own addresses.
  const HOSTS = Array.from({ length: 100 }, (_, i) => `fan${i + 1}`);
  const fanAddress = (i: number) => `127.0.0.${100 + i}`;

  beforeAll(async () => {
    await Promise.all(HOSTS.map((h, i) => start(h, 0, { address: fanAddress(i + 1) })));
    await fsp.appendFile(knownHostsPath, `${HOSTS.map((h) => knownHostsLine(sshds.get(h)!)).join('\n')}\n`);
  }, 120_000);

  /** Command i: `true`, `echo`, or `exit 3`; each kind ends at once. */
  const instant = (i: number): { argv: string[]; exitCode: number; stdout: string } =>
    [
      { argv: ['true'], exitCode: 0, stdout: '' },
      { argv: ['echo', `c${i}`], exitCode: 0, stdout: `c${i}\n` },
      { argv: ['sh', '-c', 'exit 3'], exitCode: 3, stdout: '' },
    ][i % 3]!;

  async function runAll(p: SshPool, hosts: string[]): Promise<void> {
    const results = await Promise.allSettled(hosts.map((h, i) => p.run(target(h), instant(i).argv, { okExitCodes: [0, 3] })));
    const lost = results.flatMap((r, i) => (r.status === 'rejected' ? [`${hosts[i]} #${i}: ${(r.reason as Error).message}`] : []));
    expect(lost).toEqual([]);
    results.forEach((r, i) => {
      const { exitCode, stdout } = instant(i);
      expect((r as PromiseFulfilledResult<RunResult>).value).toMatchObject({ host: hosts[i], exitCode, stdout, stderr: '' });
    });
  }

  it('loses no exit of 300 instant commands over 100 hosts, and keeps one connection per host', async () => {
    const p = pool();
    await runAll(p, [...HOSTS, ...HOSTS, ...HOSTS]);
    expect(p.stats()).toEqual({ connects: HOSTS.length, open: HOSTS.length });
    for (const h of HOSTS) expect(sshds.get(h)!.loginCount()).toBe(1);
  }, 60_000);

  it('loses no exit of 300 instant commands on one host (8 channels at a time), over one connection', async () => {
    const p = pool();
    await runAll(
      p,
      Array.from({ length: 300 }, () => 'fan1'),
    );
    expect(p.stats()).toEqual({ connects: 1, open: 1 });
  }, 60_000);

  it('a wide fan-out inside one activity emits no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const p = pool();
      const env = new MockActivityEnvironment();
      // every host at once, and 40 on one host: most of those wait for one of its 8 channels
      const hosts = [...HOSTS, ...Array.from({ length: 40 }, () => 'fan1')];
      const results: RunResult[] = await env.run(() => Promise.all(hosts.map((h) => runFromActivity(p, target(h), ['sh', '-c', 'sleep 0.2']))));
      expect(results.every((r) => r.exitCode === 0)).toBe(true);
      await new Promise((r) => setImmediate(r)); // process warnings are emitted on a later tick
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);
});
