/**
 * A real OpenSSH sshd for tests and for the lab.
 *
 * Each simulated hypervisor is one `sshd -D -e -f <config>` child process listening on its own
 * loopback address (127.0.0.x), with its own host key, key-only authentication and a per-host
 * environment (PATH with the host's stand-in tools first, HVFLOW_LAB_HOST=<name>, ...).
 *
 * HOME defaults to <dir>/home so that the machine's own dotfiles do not leak into the simulated host.
 *
 * The environment is applied twice, on purpose:
 *  - `SetEnv` in sshd_config (OpenSSH >= 7.8) puts the variables into every session's environment;
 *  - a `ForceCommand` wrapper (`<dir>/session-env.sh`) exports them again right before running the
 *    client's command (or the interactive shell). This is needed because sshd starts the user's
 *    login shell, and that shell may rewrite PATH afterwards: Debian's bash sources ~/.bashrc for
 *    commands run by sshd (SSH_SOURCE_BASHRC), and a login shell sources /etc/profile, which
 *    *assigns* PATH. SetEnv alone therefore does not reliably keep the stand-ins first on PATH.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

const SSHD = '/usr/sbin/sshd';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface SshdOptions {
  hostName: string;
  address: string;
  port: number;
  dir: string;
  authorizedKeys: string[];
  env?: Record<string, string>;
  hostKeyPath?: string;
}

export interface SshdHandle {
  hostName: string;
  address: string;
  port: number;
  /** "ssh-ed25519 AAAA..." (type and base64 blob, no comment). */
  hostKeyPublic: string;
  pid: number;
  /** Path of the sshd_config written for this host. */
  configPath: string;
  /** Path of the file that receives sshd's log (`-e` output). */
  logPath: string;
  /** sshd's log so far (LogLevel VERBOSE). */
  log(): string;
  /** Number of TCP connections sshd accepted so far ("Connection from ..." lines). */
  connectionCount(): number;
  /** Number of successful public-key logins so far. */
  loginCount(): number;
  /** true once the sshd process has exited. */
  readonly exited: boolean;
  /**
   * Freezes (SIGSTOP) the listener AND its per-connection processes and sessions: new connections
   * hang and already-open connections stop answering, like an unreachable host. SIGSTOP on the
   * listener alone would leave pooled connections working.
   */
  pause(): void;
  /** Undoes pause() (SIGCONT). */
  resume(): void;
  /** Kills the listener, its per-connection processes and their sessions; waits for the exit. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// small process helpers

function run(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(err); // spawn failure (ENOENT, ...)
        return;
      }
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * All descendants of pid (children, grandchildren...), found through /proc. Linux only. Walks each
 * task's `children` file (a few reads per sshd) where the kernel has it; else scans every process:
 * a lab of 500 hosts powering off at once would read all of /proc 500 times, synchronously.
 */
export function descendants(pid: number): number[] {
  const walked = descendantsByChildrenFiles(pid);
  return walked ?? descendantsByScan(pid);
}

/** The children files' walk; undefined when the kernel has none (CONFIG_PROC_CHILDREN off). */
export function descendantsByChildrenFiles(pid: number): number[] | undefined {
  const childrenOf = (p: number): number[] | undefined => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return []; // gone meanwhile
    }
    const out: number[] = [];
    for (const t of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(`/proc/${p}/task/${t}`)) return undefined;
        continue;
      }
      for (const c of text.split(' ')) if (/^\d+$/.test(c)) out.push(Number(c));
    }
    return out;
  };
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const kids = childrenOf(queue.shift()!);
    if (kids === undefined) return undefined;
    out.push(...kids);
    queue.push(...kids);
  }
  return out;
}

export function descendantsByScan(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...   -- comm may contain spaces and parentheses
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(e));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuiet(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

// ---------------------------------------------------------------------------------------------
// installation

let ensured: Promise<void> | undefined;

/** Makes sure /usr/sbin/sshd exists (installs openssh-server with apt if needed) and /run/sshd. */
export function ensureSshd(): Promise<void> {
  ensured ??= (async () => {
    if (!existsSync(SSHD) || !existsSync(SSH_KEYGEN)) await aptInstall(['openssh-server', 'openssh-client']);
    await fsp.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  })().catch((e) => {
    ensured = undefined;
    throw e;
  });
  return ensured;
}

async function aptInstall(packages: string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const deadline = Date.now() + 10 * 60_000;
  let updated = false;
  for (;;) {
    const r = await run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '--no-install-recommends', ...packages], { env });
    if (r.code === 0 && existsSync(SSHD)) return;
    const out = r.stderr + r.stdout;
    if (/Could not get lock|Unable to acquire|is another process using it|dpkg frontend lock/i.test(out) && Date.now() < deadline) {
      await sleep(2000); // another process holds the dpkg/apt lock: wait and retry
      continue;
    }
    if (!updated && /Unable to locate package|has no installation candidate|404\s+Not Found|Failed to fetch/i.test(out)) {
      updated = true;
      await run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update'], { env });
      continue;
    }
    throw new Error(`could not install ${packages.join(' ')} with apt-get (exit ${r.code}): ${out.trim().slice(-2000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// keys

/** Generates a key pair without passphrase (`ssh-keygen -N ''`); overwrites an existing one. */
export async function generateKeyPair(keyPath: string, type: 'ed25519' = 'ed25519'): Promise<{ privateKeyPath: string; publicKey: string }> {
  await ensureSshd();
  await fsp.mkdir(path.dirname(keyPath), { recursive: true });
  await fsp.rm(keyPath, { force: true });
  await fsp.rm(`${keyPath}.pub`, { force: true });
  const r = await run(SSH_KEYGEN, ['-q', '-t', type, '-N', '', '-C', `hvflow-${path.basename(keyPath)}`, '-f', keyPath]);
  if (r.code !== 0) throw new Error(`ssh-keygen failed for ${keyPath}: ${r.stderr.trim()}`);
  const publicKey = (await fsp.readFile(`${keyPath}.pub`, 'utf8')).trim();
  return { privateKeyPath: keyPath, publicKey };
}

async function publicKeyOf(privateKeyPath: string): Promise<string> {
  try {
    return (await fsp.readFile(`${privateKeyPath}.pub`, 'utf8')).trim();
  } catch {
    const r = await run(SSH_KEYGEN, ['-y', '-f', privateKeyPath]);
    if (r.code !== 0) throw new Error(`cannot derive the public key of ${privateKeyPath}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }
}

/** "[127.0.0.5]:2222 ssh-ed25519 AAAA..." (plain address when port is 22). */
export function knownHostsLine(h: { address: string; port: number; hostKeyPublic: string }): string {
  const [type, blob] = h.hostKeyPublic.trim().split(/\s+/);
  if (!type || !blob) throw new Error(`not a public key: ${JSON.stringify(h.hostKeyPublic)}`);
  const hostPart = h.port === 22 ? h.address : `[${h.address}]:${h.port}`;
  return `${hostPart} ${type} ${blob}`;
}

// ---------------------------------------------------------------------------------------------
// sshd

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const live = new Set<{ pid: number }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave sshds (and their sessions) behind when the test process or the lab exits.
  process.on('exit', () => {
    for (const h of live) {
      const tree = descendants(h.pid);
      killQuiet(h.pid, 'SIGKILL');
      for (const p of tree) killQuiet(p, 'SIGKILL');
    }
  });
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Kills an sshd left running from an earlier run on the same dir (its pid file names it). */
async function killStale(pidFile: string, configPath: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await fsp.readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes(configPath)) return; // the pid was reused by something else
  const tree = descendants(pid);
  killQuiet(pid, 'SIGKILL');
  for (const p of tree) killQuiet(p, 'SIGKILL');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(10);
}

export async function startSshd(o: SshdOptions): Promise<SshdHandle> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(o.hostName)) throw new Error(`bad hostName ${JSON.stringify(o.hostName)}`);
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(o.address) && o.address !== '::1')
    throw new Error(`sshd address must be a loopback address, got ${JSON.stringify(o.address)}`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`bad port ${o.port}`);
  const dir = path.resolve(o.dir);
  // HOME defaults to <dir>/home: the simulated host must not run this machine's ~/.bashrc (Debian's
  // bash sources it for every command sshd starts; here it rewrote PATH and cost ~100 ms per command).
  const env: Record<string, string> = { HOME: path.join(dir, 'home'), ...(o.env ?? {}) };
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) throw new Error(`bad environment variable name ${JSON.stringify(k)}`);
    if (/["\n\r\0\\]/.test(v)) throw new Error(`environment value of ${k} may not contain quotes, backslashes or newlines`);
  }
  await ensureSshd();
  installExitHook();

  await fsp.mkdir(dir, { recursive: true });
  await fsp.mkdir(env.HOME!, { recursive: true });
  const configPath = path.join(dir, 'sshd_config');
  const pidFile = path.join(dir, 'sshd.pid');
  const logPath = path.join(dir, 'sshd.log');
  const authorizedKeysPath = path.join(dir, 'authorized_keys');
  const wrapperPath = path.join(dir, 'session-env.sh');
  await killStale(pidFile, configPath);

  // host key: given path (generated there if missing) or <dir>/ssh_host_ed25519_key (kept across restarts)
  const hostKeyPath = path.resolve(o.hostKeyPath ?? path.join(dir, 'ssh_host_ed25519_key'));
  if (!existsSync(hostKeyPath)) await generateKeyPair(hostKeyPath);
  const [kType, kBlob] = (await publicKeyOf(hostKeyPath)).split(/\s+/);
  const hostKeyPublic = `${kType} ${kBlob}`;

  await fsp.writeFile(authorizedKeysPath, o.authorizedKeys.map((k) => k.trim()).join('\n') + '\n', { mode: 0o600 });

  // The ForceCommand wrapper re-exports the host's environment after the login shell's rc files ran,
  // then runs the original command with bash (exec: no extra process in the tree), or a shell.
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}=${shQuote(v)}`)
    .join('\n');
  await fsp.writeFile(
    wrapperPath,
    [
      '#!/bin/bash',
      '# generated by hvflow lab/sshd.ts: per-host session environment',
      exports,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, in the wrapper script
      'if [ -n "${SSH_ORIGINAL_COMMAND-}" ]; then',
      '  exec /bin/bash --norc --noprofile -c "$SSH_ORIGINAL_COMMAND"',
      'fi',
      'exec /bin/bash --norc --noprofile',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );

  const setEnv = Object.entries(env)
    .map(([k, v]) => `"${k}=${v}"`)
    .join(' ');
  const config = [
    `# generated by hvflow lab/sshd.ts for ${o.hostName}`,
    `ListenAddress ${o.address.includes(':') ? `[${o.address}]` : o.address}:${o.port}`,
    `HostKey ${hostKeyPath}`,
    `PidFile ${pidFile}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PermitUserEnvironment no',
    'UseDNS no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'LogLevel VERBOSE',
    'MaxSessions 64',
    'MaxStartups 100:30:200',
    'LoginGraceTime 30',
    'ClientAliveInterval 15',
    'ClientAliveCountMax 3',
    // an external sftp-server: with ForceCommand, the wrapper runs it like any other command
    `Subsystem sftp ${existsSync('/usr/lib/openssh/sftp-server') ? '/usr/lib/openssh/sftp-server' : 'internal-sftp'}`,
    ...(setEnv ? [`SetEnv ${setEnv}`] : []),
    `ForceCommand ${wrapperPath}`,
    '',
  ].join('\n');
  await fsp.writeFile(configPath, config, { mode: 0o600 });

  const logStream: WriteStream = createWriteStream(logPath, { flags: 'a' });
  let logText = '';
  const LOG_CAP = 4 * 1024 * 1024;
  let connections = 0;
  let logins = 0;
  let listening = false;
  let partial = '';

  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
  const pid = child.pid;
  if (pid === undefined) {
    logStream.end();
    throw new Error(`could not spawn ${SSHD}`);
  }
  const entry = { pid };
  live.add(entry);

  let exited = false;
  let exitInfo = '';
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(entry);
      resolve();
    });
    child.once('error', () => {
      exited = true;
      live.delete(entry);
      resolve();
    });
  });

  let wake: (() => void) | undefined;
  const listenLine = `Server listening on ${o.address} port ${o.port}.`;
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    logStream.write(chunk);
    logText += text;
    if (logText.length > LOG_CAP) logText = logText.slice(-LOG_CAP / 2);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('Connection from ')) connections++;
      else if (line.startsWith('Accepted publickey for ')) logins++;
      else if (line.includes(listenLine)) listening = true;
    }
    wake?.();
  });
  child.stderr!.on('end', () => logStream.end());

  const t0 = Date.now();
  while (!listening) {
    if (exited) {
      throw new Error(`sshd for ${o.hostName} (${o.address}:${o.port}) exited at start-up (${exitInfo}): ${logText.trim().slice(-1500)}`);
    }
    if (Date.now() - t0 > 10_000) {
      killQuiet(pid, 'SIGKILL');
      throw new Error(`sshd for ${o.hostName} (${o.address}:${o.port}) did not start listening within 10 s: ${logText.trim().slice(-1500)}`);
    }
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, 50);
    });
    wake = undefined;
  }
  // Do not keep the event loop alive for it; the exit hook kills it if nobody calls stop().
  child.unref();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  let stopping: Promise<void> | undefined;
  const handle: SshdHandle = {
    hostName: o.hostName,
    address: o.address,
    port: o.port,
    hostKeyPublic,
    pid,
    configPath,
    logPath,
    log: () => logText,
    connectionCount: () => connections,
    loginCount: () => logins,
    get exited() {
      return exited;
    },
    pause() {
      if (exited) return;
      const tree = descendants(pid);
      killQuiet(pid, 'SIGSTOP');
      for (const p of tree) killQuiet(p, 'SIGSTOP');
    },
    resume() {
      if (exited) return;
      killQuiet(pid, 'SIGCONT');
      for (const p of descendants(pid)) killQuiet(p, 'SIGCONT');
    },
    stop() {
      stopping ??= (async () => {
        // The listener, its per-connection children and the sessions' processes: kill them all so
        // that open connections drop, the way a crashed or powered-off host behaves.
        const tree = exited ? [] : descendants(pid);
        killQuiet(pid, 'SIGTERM');
        for (const p of tree) killQuiet(p, 'SIGTERM');
        killQuiet(pid, 'SIGCONT'); // in case it was paused
        for (const p of tree) killQuiet(p, 'SIGCONT');
        const deadline = Date.now() + 3000;
        while (!exited && Date.now() < deadline) await Promise.race([exitPromise, sleep(50)]);
        if (!exited) killQuiet(pid, 'SIGKILL');
        await exitPromise;
        for (const p of tree) if (isAlive(p)) killQuiet(p, 'SIGKILL');
        await fsp.rm(pidFile, { force: true });
      })();
      return stopping;
    },
  };
  return handle;
}
