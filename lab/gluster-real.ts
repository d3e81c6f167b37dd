/**
 * Real GlusterFS for the lab: every GlusterFS server of the topology runs a real `glusterd` with real
 * bricks, every client hypervisor real FUSE mounts, each host in namespaces of its own.
 *
 * A host is a network namespace on a private storage bridge (the seeds' storage addresses,
 * `10.5.x.y`, names `<host>-data` in a private /etc/hosts), plus mount, UTS and PID namespaces held
 * by a small init. Private bind mounts give each host its own /var/lib/glusterd, /run (glusterd's
 * socket, pid files), /var/log/glusterfs and /srv (bricks). Because each host has its own PID
 * namespace, the real tools behave per host: `pkill glusterfs`, `umount -t fuse.glusterfs -a` and
 * `/usr/share/glusterfs/scripts/stop-all-gluster-processes.sh` see only that host's processes and
 * mounts; killing the init (a crash, a power off) kills everything the host ran.
 *
 * The recipe and its timings are in test/fixtures/gluster-real/README.md. Needs root, iproute2,
 * util-linux (unshare, nsenter), glusterfs-server, glusterfs-client and /dev/fuse.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface RealGlusterHost {
  name: string;
  /** Name in the trusted pool and in brick names (seed 002: `top1-data`). */
  storageName: string;
  /** Address on the storage network (seed 001: `data: 10.5.0.[1-3]`). */
  storageAddress: string;
}

export interface RealGlusterVolume {
  name: string;
  servers: string[];
  replica: number;
  shardBlockSize?: string;
}

export interface RealGlusterOptions {
  dir: string;
  hosts: RealGlusterHost[];
  volumes: RealGlusterVolume[];
  /** Hosts that mount every volume (fuse.glusterfs). */
  clients: string[];
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export type GlusterDaemon = 'glusterd' | 'glusterfsd' | 'glusterfs';

const GSYNCD_PATHS = ['/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd', '/usr/libexec/glusterfs/gsyncd', '/usr/lib/glusterfs/gsyncd'];
/** The script seed 000 runs after stopping the daemons (glusterfs-server's extras). */
export const STOP_ALL_SCRIPT = '/usr/share/glusterfs/scripts/stop-all-gluster-processes.sh';
/** Every lab's namespaces start with this; the rest of the name is random per lab. */
export const NETNS_PREFIX = 'hvlab-';
/** The status run() reports for a command it killed at its timeout (128 + SIGKILL). */
const KILLED = 128 + 9;

/** Why real GlusterFS cannot run here, or undefined when it can. */
export function realGlusterUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'real GlusterFS in the lab needs Linux namespaces';
  if (process.getuid?.() !== 0) return 'real GlusterFS in the lab needs root (network, mount and PID namespaces)';
  for (const [bin, pkg] of [
    ['/usr/sbin/glusterd', 'glusterfs-server'],
    ['/usr/sbin/mount.glusterfs', 'glusterfs-client'],
    ['/usr/bin/nsenter', 'util-linux'],
    ['/usr/bin/unshare', 'util-linux'],
  ] as const) {
    if (!fs.existsSync(bin) && !fs.existsSync(bin.replace('/usr', ''))) return `${bin} not found (apt-get install -y ${pkg})`;
  }
  if (!fs.existsSync('/dev/fuse')) return '/dev/fuse is missing: FUSE mounts cannot work';
  if (spawnSync('ip', ['-V']).status !== 0) return 'ip (iproute2) not found';
  return undefined;
}

function sh(args: string[], what: string): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`real GlusterFS lab: ${what} failed: ${args.join(' ')}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
}

/** The init that holds a host's namespaces: bind mounts, host name, then reaps orphans forever. */
function initScript(host: RealGlusterHost, d: string, hostsFile: string, gsyncd: { stub: string; target: string } | undefined): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -e',
    `mount --bind ${q(hostsFile)} /etc/hosts`,
    `mount --bind ${q(`${d}/lib`)} /var/lib/glusterd`,
    `mount --bind ${q(`${d}/log`)} /var/log/glusterfs`,
    `mount --bind ${q(`${d}/run`)} /run`,
    `mount --bind ${q(`${d}/srv`)} /srv`,
    // glusterd runs ~30 `gsyncd --config-set-rx` (a Python start each) at init: a stub that only knows
    // --version removes 5-9 s of start-up and disables geo-replication only (the README's "Start time").
    ...(gsyncd ? [`mount --bind ${q(gsyncd.stub)} ${q(gsyncd.target)}`] : []),
    `hostname ${q(host.name)}`,
    `touch ${q(`${d}/ready`)}`,
    'set +e',
    "trap 'exit 0' TERM",
    // bash reaps every child it is handed (daemons re-parent to this init) in its SIGCHLD handler
    'while :; do sleep 3600 & wait; done',
  ].join('\n');
}

interface HostState {
  spec: RealGlusterHost;
  netns: string;
  dir: string;
  /** Outer PID of the namespace init; undefined while the host is down. */
  init?: number;
}

export class RealGluster {
  readonly hosts = new Map<string, HostState>();
  readonly volumes: RealGlusterVolume[];
  readonly clients: string[];
  private readonly dir: string;
  private readonly bridge: string;
  private readonly hostsFile: string;
  private gsyncd?: { stub: string; target: string };
  private stopped = false;
  private readonly onExit = () => this.teardownSync();

  private constructor(o: RealGlusterOptions) {
    const tag = randomBytes(3).toString('hex');
    this.dir = o.dir;
    this.volumes = o.volumes;
    this.clients = o.clients;
    this.bridge = `${NETNS_PREFIX}${tag}-br`;
    this.hostsFile = path.join(o.dir, 'hosts');
    o.hosts.forEach((h, i) => this.hosts.set(h.name, { spec: h, netns: `${NETNS_PREFIX}${tag}-${i}`, dir: path.join(o.dir, h.name) }));
  }

  static async start(o: RealGlusterOptions): Promise<RealGluster> {
    const why = realGlusterUnavailable();
    if (why) throw new Error(why);
    const g = new RealGluster(o);
    process.once('exit', g.onExit);
    try {
      g.network();
      await Promise.all([...g.hosts.keys()].map((h) => g.boot(h, { mount: false })));
      await g.formPool();
      for (const v of o.volumes) await g.createVolume(v);
      await Promise.all(o.clients.map((c) => g.mountAll(c)));
      return g;
    } catch (e) {
      await g.stop();
      throw e;
    }
  }

  has(host: string): boolean {
    return this.hosts.has(host);
  }

  private isServer(host: string): boolean {
    return this.volumes.some((v) => v.servers.includes(host));
  }

  /** The GlusterFS servers of the pool, each once, in the volumes' order. */
  private servers(): string[] {
    return [...new Set(this.volumes.flatMap((v) => v.servers))];
  }

  isUp(host: string): boolean {
    return this.host(host).init !== undefined;
  }

  private host(name: string): HostState {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`real GlusterFS lab: ${name} is not a GlusterFS host`);
    return h;
  }

  /** The bridge, one network namespace per host, the storage addresses, the shared /etc/hosts. */
  private network(): void {
    fs.rmSync(this.dir, { recursive: true, force: true }); // a fresh pool: no state of an earlier run
    fs.mkdirSync(this.dir, { recursive: true });
    const names = [...this.hosts.values()].map((h) => `${h.spec.storageAddress} ${h.spec.storageName}`);
    fs.writeFileSync(this.hostsFile, ['127.0.0.1 localhost', ...names, ''].join('\n'));
    const gsyncd = GSYNCD_PATHS.find((p) => fs.existsSync(p));
    if (gsyncd) {
      const stub = path.join(this.dir, 'gsyncd-stub');
      fs.writeFileSync(stub, '#!/bin/sh\n[ "$1" = --version ] && echo "gsyncd.py 10.3"\nexit 0\n', { mode: 0o755 });
      this.gsyncd = { stub, target: gsyncd };
    }
    sh(['ip', 'netns', 'add', this.bridge], 'creating the storage bridge namespace');
    sh(['ip', '-n', this.bridge, 'link', 'add', 'br0', 'type', 'bridge'], 'creating the bridge');
    sh(['ip', '-n', this.bridge, 'link', 'set', 'br0', 'up'], 'bringing the bridge up');
    let i = 0;
    for (const h of this.hosts.values()) {
      const veth = `v${i++}`;
      sh(['ip', 'netns', 'add', h.netns], `creating the namespace of ${h.spec.name}`);
      sh(['ip', '-n', this.bridge, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns], `wiring ${h.spec.name}`);
      sh(['ip', '-n', this.bridge, 'link', 'set', veth, 'master', 'br0', 'up'], `wiring ${h.spec.name}`);
      sh(['ip', '-n', h.netns, 'link', 'set', 'lo', 'up'], `wiring ${h.spec.name}`);
      // /8: the storage addresses are 10.x.y.z (10.5.x.y for the seeds; generated topologies use more of 10/8)
      sh(['ip', '-n', h.netns, 'addr', 'add', `${h.spec.storageAddress}/8`, 'dev', 'eth0'], `addressing ${h.spec.name}`);
      sh(['ip', '-n', h.netns, 'link', 'set', 'eth0', 'up'], `wiring ${h.spec.name}`);
      for (const sub of ['lib', 'log', 'run', 'srv', 'mnt']) fs.mkdirSync(path.join(h.dir, sub), { recursive: true });
      // glusterd expects its packaged group files in its working directory
      if (fs.existsSync('/var/lib/glusterd/groups') && !fs.existsSync(path.join(h.dir, 'lib', 'groups'))) {
        fs.cpSync('/var/lib/glusterd/groups', path.join(h.dir, 'lib', 'groups'), { recursive: true });
      }
    }
  }

  /** Starts the host's init in its network namespace; its daemons and mounts come next. */
  private async startInit(h: HostState): Promise<void> {
    const ready = path.join(h.dir, 'ready');
    fs.rmSync(ready, { force: true });
    // /run is a tmpfs on a real host: empty at boot. Stale pid files would point glusterd at PIDs
    // the new namespace has given to other processes, and it would not start those bricks.
    fs.rmSync(path.join(h.dir, 'run'), { recursive: true, force: true });
    fs.mkdirSync(path.join(h.dir, 'run'));
    // From a file: the script's text on the init's command line would match the `grep gluster | grep
    // gsync` of stop-all-gluster-processes.sh, which would then kill the host's init.
    const scriptFile = path.join(h.dir, 'init.sh');
    fs.writeFileSync(scriptFile, initScript(h.spec, h.dir, this.hostsFile, this.gsyncd));
    const child = spawn(
      'ip',
      ['netns', 'exec', h.netns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'bash', scriptFile],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    child.unref();
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(ready)) {
      if (child.exitCode !== null) throw new Error(`real GlusterFS lab: the namespace init of ${h.spec.name} exited (${child.exitCode})`);
      if (Date.now() > deadline) throw new Error(`real GlusterFS lab: the namespace init of ${h.spec.name} did not start`);
      await delay(20);
    }
    // `ip netns exec` execs unshare, whose one child (after --fork) is the init, PID 1 inside.
    const children = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (children.length !== 1) throw new Error(`real GlusterFS lab: cannot find the init of ${h.spec.name}`);
    h.init = Number(children[0]);
  }

  /** Runs argv inside the host's namespaces (as that host). */
  spawn(host: string, argv: string[]) {
    const h = this.host(host);
    if (h.init === undefined) throw new Error(`real GlusterFS lab: ${host} is down`);
    return spawn('nsenter', ['-t', String(h.init), '-m', '-n', '-u', '-p', '--', ...argv], {
      cwd: '/',
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Runs argv on the host and collects its output. */
  run(host: string, argv: string[], timeoutMs = 60_000): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(host, argv);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      // A daemon the command starts (glusterd, a FUSE client) may keep the pipes open: the exit
      // status decides, with a moment for the output still in the pipes.
      let settled = false;
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ stdout, stderr, code: code ?? (signal ? KILLED : 1) });
      };
      child.on('close', done);
      child.on('exit', (code, signal) => setTimeout(() => done(code, signal), 500).unref());
    });
  }

  private async runOk(host: string, argv: string[], what: string, timeoutMs?: number): Promise<CommandResult> {
    const r = await this.run(host, argv, timeoutMs);
    if (r.code !== 0) throw commandFailed(host, argv, what, r);
    return r;
  }

  /**
   * Runs argv until it succeeds (or `done` says its effect is already there), for at most `withinMs`:
   * a daemon that has just (re)started refuses some requests for a moment.
   */
  private async retryUntilOk(
    host: string,
    argv: string[],
    what: string,
    o: { withinMs: number; pollMs?: number; timeoutMs?: number; done?: () => Promise<boolean>; afterFailure?: (r: CommandResult) => Promise<void> },
  ): Promise<void> {
    const deadline = Date.now() + o.withinMs;
    for (;;) {
      const r = await this.run(host, argv, o.timeoutMs);
      if (r.code === 0 || (await o.done?.())) return;
      if (Date.now() > deadline) throw commandFailed(host, argv, what, r);
      await o.afterFailure?.(r);
      await delay(o.pollMs ?? 250);
    }
  }

  /** PIDs (outer) of the host's processes with this command name, zombies left out. */
  pids(host: string, name: GlusterDaemon): number[] {
    const h = this.host(host);
    if (h.init === undefined) return [];
    let pidNs: string;
    try {
      pidNs = fs.readlinkSync(`/proc/${h.init}/ns/pid`);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (fs.readlinkSync(`/proc/${entry}/ns/pid`) !== pidNs) continue;
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (comm === name && state !== 'Z') out.push(Number(entry));
      } catch {
        /* exited meanwhile */
      }
    }
    return out;
  }

  running(host: string, name: GlusterDaemon): boolean {
    return this.pids(host, name).length > 0;
  }

  /** fuse.glusterfs mounts of the host (mount points). */
  async mounts(host: string): Promise<string[]> {
    if (!this.isUp(host)) return [];
    const r = await this.run(host, ['cat', '/proc/mounts']);
    return r.stdout
      .split('\n')
      .filter((l) => l.split(' ')[2] === 'fuse.glusterfs')
      .map((l) => l.split(' ')[1]!);
  }

  mountPoint(host: string, volume: string): string {
    return path.join(this.host(host).dir, 'mnt', volume);
  }

  /** `glusterd` (daemonizes, then spawns the bricks of started volumes and the self-heal daemon). */
  async startGlusterd(host: string): Promise<void> {
    if (!this.isServer(host) || this.running(host, 'glusterd')) return;
    await this.runOk(host, ['glusterd', '--log-level', 'INFO'], 'starting glusterd');
    await this.retryUntilOk(host, ['gluster', '--mode=script', 'pool', 'list'], 'waiting for glusterd to answer', { withinMs: 30_000, pollMs: 100 });
  }

  /** SIGTERM to the named processes, as systemd's stop of glusterd.service / glusterfsd.service; SIGKILL after 10 s. */
  async stopDaemon(host: string, name: GlusterDaemon): Promise<void> {
    const kill = (sig: NodeJS.Signals) => this.pids(host, name).forEach((p) => tryKill(p, sig));
    kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (this.running(host, name)) {
      if (Date.now() > deadline) kill('SIGKILL');
      await delay(50);
    }
  }

  /** Power on: the init, glusterd on a server, the volumes mounted on a client (as its fstab would). */
  async boot(host: string, o: { mount?: boolean } = {}): Promise<void> {
    const h = this.host(host);
    if (h.init !== undefined) return;
    await this.startInit(h);
    await this.startGlusterd(host);
    if (o.mount !== false && this.clients.includes(host)) await this.mountAll(host);
  }

  /** Power lost: the init dies and the kernel kills every process of the host's PID namespace. */
  async kill(host: string): Promise<void> {
    const h = this.host(host);
    const init = h.init;
    if (init === undefined) return;
    h.init = undefined;
    tryKill(init, 'SIGKILL');
    await waitGone(init);
  }

  private async formPool(): Promise<void> {
    const [first, ...others] = this.servers();
    if (!first) return;
    for (const s of others) await this.runOk(first, ['gluster', '--mode=script', 'peer', 'probe', this.host(s).spec.storageName], 'peer probe');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await this.run(first, ['gluster', '--mode=script', 'peer', 'status']);
      if ((r.stdout.match(/State: Peer in Cluster \(Connected\)/g) ?? []).length === others.length) return;
      if (Date.now() > deadline) throw new Error(`real GlusterFS lab: peers did not connect: ${r.stdout}`);
      await delay(100);
    }
  }

  /** Brick path of a server for a volume (under the host's private /srv). */
  private brickPath(volume: string): string {
    return `/srv/gluster/${volume}/brick`;
  }

  private async createVolume(v: RealGlusterVolume): Promise<void> {
    const first = v.servers[0]!;
    for (const s of v.servers) await this.runOk(s, ['mkdir', '-p', this.brickPath(v.name)], 'brick directory');
    const bricks = v.servers.map((s) => `${this.host(s).spec.storageName}:${this.brickPath(v.name)}`);
    const g = (...args: string[]) => this.runOk(first, ['gluster', '--mode=script', 'volume', ...args], `volume ${args[0]} ${v.name}`);
    // force: the bricks are on the root file system (gluster refuses that without it)
    await g('create', v.name, ...(v.replica > 1 ? ['replica', String(v.replica)] : []), ...bricks, 'force');
    if (v.shardBlockSize) {
      await g('set', v.name, 'features.shard', 'on');
      await g('set', v.name, 'features.shard-block-size', v.shardBlockSize);
    }
    await g('start', v.name);
  }

  /** A server that answers the gluster CLI, for queries on behalf of the lab. */
  private async anyServer(): Promise<string | undefined> {
    for (const s of this.servers()) if (this.isUp(s) && this.running(s, 'glusterd')) return s;
    return undefined;
  }

  /** Volumes glusterd reports as started (one `volume info` for all). */
  private async startedVolumes(via: string): Promise<Set<string>> {
    const info = await this.run(via, ['gluster', '--mode=script', 'volume', 'info']);
    const started = new Set<string>();
    for (const block of info.stdout.split(/^Volume Name: /m).slice(1)) {
      if (/^Status: Started$/m.test(block)) started.add(block.split('\n')[0]!.trim());
    }
    return started;
  }

  /** Mounts every started volume (backup volfile servers: any server may be down). */
  async mountAll(host: string): Promise<void> {
    const via = await this.anyServer();
    if (!via) return;
    const [mounted, started] = await Promise.all([this.mounts(host), this.startedVolumes(via)]);
    for (const v of this.volumes) {
      const at = this.mountPoint(host, v.name);
      if (mounted.includes(at) || !started.has(v.name)) continue;
      const [primary, ...backups] = v.servers.map((s) => this.host(s).spec.storageName);
      fs.mkdirSync(at, { recursive: true });
      const opts = backups.length ? ['-o', `backup-volfile-servers=${backups.join(':')}`] : [];
      // Right after a glusterd (re)start the volfile fetch can fail: retry as _netdev mounts do.
      await this.retryUntilOk(host, ['mount', '-t', 'glusterfs', ...opts, `${primary}:/${v.name}`, at], `mounting ${v.name}`, {
        withinMs: 30_000,
        pollMs: 500,
        timeoutMs: 30_000,
        done: async () => (await this.mounts(host)).includes(at),
      });
    }
  }

  /** Writes `count` small files through the host's FUSE mount (what a VM's writes do to its image). */
  async write(host: string, volume: string, count: number, prefix = 'f'): Promise<void> {
    const at = this.mountPoint(host, volume);
    await this.runOk(
      host,
      ['sh', '-c', 'i=0; while [ $i -lt "$2" ]; do i=$((i+1)); echo "$3$i" > "$1/$3$i"; done', 'sh', at, String(count), prefix],
      `writing to ${volume}`,
    );
  }

  /** `gluster volume set VOL cluster.self-heal-daemon on|off`: off keeps heal entries pending. */
  async selfHeal(volume: string, on: boolean): Promise<void> {
    // A peer that has just come back refuses the staging until it has synced the volume's options.
    await this.poolCommand(['volume', 'set', volume, 'cluster.self-heal-daemon', on ? 'on' : 'off'], 'self-heal daemon', 30_000);
    // The self-heal daemons take a moment to start: the first `volume heal` may find none.
    if (on) await this.poolCommand(['volume', 'heal', volume], 'heal', 20_000);
  }

  /**
   * Leaves `files` heal entries pending on `volume`: its self-heal daemon off, the brick of `brickHost`
   * killed, files written through `writer`'s mount, the brick restarted (`volume start VOL force`).
   * selfHeal(volume, true) lets them drain.
   */
  async pendingHeal(volume: string, files: number, o: { brickHost: string; writer: string }): Promise<void> {
    await this.selfHeal(volume, false);
    await this.killBrick(volume, o.brickHost);
    await this.write(o.writer, volume, files, `pending-${Date.now()}-`);
    await this.restartBricks(volume);
  }

  /** Kills the brick process of `volume` on `host` (SIGKILL, as a brick that dies); its glusterd keeps running. */
  async killBrick(volume: string, host: string): Promise<void> {
    const pidFile = `/run/gluster/vols/${volume}/${this.host(host).spec.storageName}-${this.brickPath(volume).slice(1).replace(/\//g, '-')}.pid`;
    const pid = (await this.runOk(host, ['cat', pidFile], 'brick pid')).stdout.trim();
    await this.runOk(host, ['kill', '-KILL', pid], 'killing the brick');
    await delay(500);
  }

  /** `gluster volume start VOL force`: glusterd starts the volume's bricks that are not running. */
  async restartBricks(volume: string): Promise<void> {
    await this.poolCommand(['volume', 'start', volume, 'force'], 'restarting the brick', 30_000);
  }

  /**
   * A pool-wide `gluster` command of the lab's own (not one a procedure runs), retried for `withinMs`.
   * A transaction that hangs means a glusterd that answers nothing: restart it and try again.
   */
  private async poolCommand(args: string[], what: string, withinMs: number): Promise<void> {
    const via = await this.anyServer();
    if (!via) throw new Error('real GlusterFS lab: no glusterd answers');
    await this.retryUntilOk(via, ['gluster', '--mode=script', ...args], what, {
      withinMs,
      timeoutMs: 20_000,
      afterFailure: async (r) => {
        if (r.code === KILLED) await this.restartHungGlusterd();
      },
    });
  }

  /**
   * glusterd 10.3 was seen to hang for good on a loaded machine, seconds after a peer's boot (its log
   * ends at "adding svc glustershd … to existing process"): it answers no request, local ones
   * included, and every pool-wide transaction waits for it. The lab restarts such a glusterd, as an
   * operator would; bricks, self-heal daemons and mounts are processes of their own and keep running.
   */
  private async restartHungGlusterd(): Promise<void> {
    for (const s of this.servers()) {
      if (!this.isUp(s) || !this.running(s, 'glusterd')) continue;
      const r = await this.run(s, ['gluster', '--mode=script', 'pool', 'list'], 10_000);
      if (r.code !== KILLED) continue;
      await this.stopDaemon(s, 'glusterd');
      await this.startGlusterd(s);
    }
  }

  /** Everything down, no namespace and no process left. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.onExit);
    await Promise.all([...this.hosts.keys()].map((h) => this.kill(h).catch(() => undefined)));
    this.teardownSync();
  }

  /** Synchronous, for process exit: kill whatever is left in the namespaces, delete them. */
  private teardownSync(): void {
    for (const h of this.hosts.values()) {
      if (h.init !== undefined) tryKill(h.init, 'SIGKILL');
      h.init = undefined;
    }
    for (const ns of [...[...this.hosts.values()].map((h) => h.netns), this.bridge]) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const p of pids.split(/\s+/).filter(Boolean)) tryKill(Number(p), 'SIGKILL');
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
}

function commandFailed(host: string, argv: string[], what: string, r: CommandResult): Error {
  return new Error(`real GlusterFS lab: ${what} on ${host}: ${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
}

function tryKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

async function waitGone(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return;
    } catch {
      return;
    }
    if (Date.now() > deadline) return;
    await delay(20);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
