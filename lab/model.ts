/**
 * The lab's ONE shared, stateful cluster model. Every stand-in tool reads and changes it, so what
 * fleetctl, systemctl, gluster, pcocc and ipmitool print always agrees.
 *
 * Fleet behaves as the seeds describe their patched fleet: a unit that loses its machine (fleetd
 * stopped there, or the machine's agent TTL expired after a crash) is rescheduled on the eligible
 * machine with the least total Weight; units that can run nowhere else stay unscheduled until a
 * machine that satisfies them joins; fleet never moves a running unit by itself.
 *
 * Real processes (etcd members, sshd) are reached through `effects`, wired by lab/index.ts.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type { Clock } from './clock';
import { ManualClock } from './clock';
import type { Role, Topology, TopoVolume } from './topology';

export type DState = 'inactive' | 'loaded' | 'launched';

export interface MachineState {
  name: string;
  role: Role;
  machineId: string;
  ip: string;
  metadata: Record<string, string>;
  bmc: string;
  power: boolean;
  /** sshd: up, down (refuses), paused (accepts TCP, never answers). */
  sshd: 'up' | 'down' | 'paused';
  fleetd: boolean;
  /** Still listed by fleet (a crashed machine stays until its agent TTL expires). */
  registered: boolean;
  glusterd: boolean;
  /** Brick processes. */
  glusterfsd: boolean;
  /** glusterfs processes: fuse clients and the self-heal daemon. */
  glusterfs: boolean;
  etcdMember: boolean;
  etcd: boolean;
  mounts: Set<string>;
  /** /proc/sys/kernel/random/boot_id without dashes (32 lowercase hex): a new one at each power-on. */
  bootId: string;
  /** Simulated ms (the model's clock) of its last power-on; the lab's start for a host up since then. */
  bootedAt: number;
  /** Power-ons so far, the lab's start counting as the first (what the boot id is derived from). */
  boots: number;
  /** systemd is going down (a reboot or poweroff job queued or running): `systemctl is-system-running` says "stopping". */
  stopping: boolean;
}

export interface UnitState {
  name: string;
  vm: string;
  weight: number;
  machineMetadata: string[];
  dstate: DState;
  host?: string;
  active: 'active' | 'inactive' | 'activating' | 'deactivating' | 'failed';
  sub: 'running' | 'dead' | 'start-pre' | 'stop-sigterm' | 'failed';
  jobId: number;
  /** Wall-clock ms when the VM reached running (pcocc ps DURATION, systemctl status). */
  startedAt: number;
  hash: string;
  text: string;
  /** Fault: a stop never completes until fleetd is restarted on its hypervisor. */
  hangOnStop: boolean;
  /** A stop requested while hung. */
  stopPending: boolean;
  /** Fault: start duration override (simulated ms). */
  startMs?: number;
  timer?: { cancel(): void };
}

export interface Brick {
  host: string;
  path: string;
  /** Pending heal entries recorded on this brick (files that need healing elsewhere); fractional while draining. */
  heal: number;
}

export interface VolumeState {
  name: string;
  id: string;
  status: 'Created' | 'Started' | 'Stopped';
  /** Replicated (self-heal, heal entries) or plain distribute (no heal: one copy of each file). */
  type: 'replicate' | 'distribute';
  /** Bricks per replica set (arbiters included); 1 for a distribute volume. */
  replica: number;
  /** Arbiter bricks per replica set (the last ones of each set); 0 or absent: none. */
  arbiter?: number;
  /** features.shard-block-size; '' for a volume that is not sharded. */
  shardBlockSize: string;
  bricks: Brick[];
  /** Heal drain rate, entries per simulated second, while every brick is up. */
  healPerSecond: number;
  rebalance: 'not started' | 'in progress' | 'completed';
  /** Per-node progress `gluster volume rebalance VOL status` prints; absent: every server at zero. */
  rebalanceNodes?: RebalanceNode[];
  /** The rebalance task's id (`volume status VOL` tasks); absent: derived from the volume name. */
  rebalanceId?: string;
  /**
   * GlusterFS 3.x only: the hot tier attached to the volume (`volume tier VOL attach`), which makes
   * it a tier volume whose `bricks` are the cold tier, and the state of its tier daemon.
   */
  hotTier?: { bricks: Brick[]; daemon: 'in progress' | 'stopped' };
}

/** One node's rebalance progress (glusterd's rebalance status dict). */
export interface RebalanceNode {
  host: string;
  status: 'in progress' | 'stopped' | 'completed' | 'failed';
  files: number;
  bytes: number;
  scanned: number;
  failures: number;
  skipped: number;
  runSeconds: number;
  /** The node's estimate of the time left (0: none). */
  timeLeftSeconds: number;
}

export interface CommandLogEntry {
  seq: number;
  /** Wall-clock ms. */
  time: number;
  host: string;
  /** Tool name then its arguments, e.g. ['fleetctl', 'list-machines']. */
  argv: string[];
  /** undefined while running or when cancelled. */
  exitCode?: number;
  /** The command changed (or asked to change) the cluster's state. */
  mutating: boolean;
  /** The client went away before the command finished (SSH cancellation). */
  cancelled: boolean;
  durationMs?: number;
}

export interface LabEffects {
  etcd?(host: string, action: 'start' | 'stop' | 'kill'): Promise<void>;
  sshd?(host: string, action: 'start' | 'stop' | 'pause' | 'resume'): Promise<void>;
  /** Real GlusterFS processes of the host (lab/gluster-real.ts): killed with its power, started at boot. */
  gluster?(host: string, action: 'kill' | 'boot'): Promise<void>;
}

export interface ModelOptions {
  clock?: Clock;
  /** Simulated ms a VM takes to stop / start. */
  vmStopMs?: number;
  vmStartMs?: number;
  /** Simulated ms fleet waits before it declares a silent machine dead. */
  agentTtlMs?: number;
  /** Heal entries each surviving brick records when a replica goes down abruptly. */
  crashHealEntries?: number;
  /**
   * Heal entries each brick of its replica sets records while a server's bricks are stopped in order
   * (the writes the VMs go on making): what a procedure must wait to drain after the server is back. Default 0.
   */
  downHealEntries?: number;
  /** Default heal drain rate, entries per simulated second. */
  healPerSecond?: number;
  /** Simulated ms an orderly reboot (`systemctl reboot`) keeps a host down: from shutdown done to power-on. */
  rebootMs?: number;
  effects?: LabEffects;
}

export class LabError extends Error {}

/**
 * A pcocc VM's fleet unit as `fleetctl cat` prints it (go-systemd unit.Serialize: sections separated
 * by one blank line, no blank line at the end); the body is test/fixtures/fleetctl/cat-pcocc-vm-infra1's.
 */
export function unitText(vm: string, weight: number, machineMetadata: string[], conflicts: string[] = []): string {
  return [
    '[Unit]',
    `Description=Fleet service for pcocc VM ${vm}`,
    'After=glusterd.service',
    '',
    '[Service]',
    'Type=notify',
    'NotifyAccess=all',
    'WatchdogSec=60',
    'TimeoutStartSec=300',
    `ExecStartPre=/usr/sbin/prepare-ocean-image.sh ${vm}`,
    `ExecStart=/usr/bin/pcocc -vv alloc -E "sleep infinity" -c 4 -m 1000 -J ${vm} ${vm}`,
    'Restart=always',
    'RestartSec=15',
    '',
    '[X-Fleet]',
    ...machineMetadata.map((m) => `MachineMetadata=${m}`),
    ...conflicts.map((c) => `Conflicts=${c}`),
    `Weight=${weight}`,
    '',
  ].join('\n');
}

/** A boot id as the kernel makes one (a random v4 UUID, printed without dashes), derived from what names the boot. */
function bootIdFrom(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 12)}4${h.slice(13, 16)}${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 32)}`;
}

function uuidFrom(s: string): string {
  const h = createHash('sha1').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class LabModel extends EventEmitter {
  readonly clock: Clock;
  readonly machines = new Map<string, MachineState>();
  readonly units = new Map<string, UnitState>();
  readonly volumes = new Map<string, VolumeState>();
  readonly glusterClients: string[];
  readonly log: CommandLogEntry[] = [];
  vmStopMs: number;
  vmStartMs: number;
  agentTtlMs: number;
  crashHealEntries: number;
  downHealEntries: number;
  rebootMs: number;
  effects: LabEffects;
  /**
   * fleetctl tables: 'tabs' is what fleetctl prints (Go tabwriter, tab padding); 'spaces' is how the
   * seeds show them (one space after the widest cell), for byte comparisons with the seeds.
   */
  fleetTableStyle: 'tabs' | 'spaces' = 'tabs';
  /**
   * fleetctl flavour: 'seeds' is the seeds' patched fleet (hostname field, `<id>.../<hostname>`
   * legends, list-machines default fields machine,hostname,ip,metadata); 'upstream' is fleet v1.0.0.
   */
  fleetVariant: 'seeds' | 'upstream' = 'seeds';
  /**
   * GlusterFS version of the servers. The seeds' cluster runs 3.x (seed 000 prints the 3.x
   * `volume tier` answer); '10.5' gives GlusterFS 10 (no `volume tier`, op-version 100000).
   */
  glusterVersion = '3.12.15';
  /** fleetctl commands still to answer as if fleet's etcd were unreachable (fault fleetUnavailable). */
  fleetUnavailableCommands = 0;
  /** Lock-taking `gluster volume` commands still to refuse as busy (fault glusterBusy). */
  glusterBusyCommands = 0;
  /** More names a gluster peer is known by (`gluster peer status` "Other names:"), by host. */
  readonly glusterOtherNames = new Map<string, string[]>();
  private nextJob = 10_000;
  private lastSettle: number;
  private ttlTimers = new Map<string, { cancel(): void }>();
  /** Fault: hosts whose power-on does nothing (dead PSU, BMC accepts the command): they stay off. */
  readonly stuckOff = new Set<string>();
  /** Fault: round-trip time fping reports for a host, in ms (default 0.04). */
  readonly pingMs = new Map<string, number>();
  /** Fault: hosts whose BMC does not answer: ipmitool opens no session with it, from anywhere. */
  readonly bmcsDown = new Set<string>();
  /** Fault: places ipmitool runs from (a lab host, a BMC relay, the worker) that reach no BMC. */
  readonly bmcCutOff = new Set<string>();

  constructor(
    readonly topology: Topology,
    o: ModelOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.clock = o.clock ?? new ManualClock();
    this.vmStopMs = o.vmStopMs ?? 300;
    this.vmStartMs = o.vmStartMs ?? 300;
    this.agentTtlMs = o.agentTtlMs ?? 1000;
    this.crashHealEntries = o.crashHealEntries ?? 12;
    this.downHealEntries = o.downHealEntries ?? 0;
    this.rebootMs = o.rebootMs ?? 60_000;
    this.effects = o.effects ?? {};
    this.lastSettle = this.clock.now();
    this.glusterClients = [...topology.glusterClients];
    const now = Date.now();
    for (const h of topology.hosts) {
      const server = topology.volumes.some((v) => v.servers.includes(h.name));
      this.machines.set(h.name, {
        name: h.name,
        role: h.role,
        machineId: h.machineId,
        ip: h.ip,
        metadata: { ...h.metadata },
        bmc: h.bmc,
        power: true,
        sshd: 'up',
        fleetd: true,
        registered: true,
        glusterd: server,
        glusterfsd: server,
        glusterfs: server || topology.glusterClients.includes(h.name),
        etcdMember: topology.etcdMembers.includes(h.name),
        etcd: topology.etcdMembers.includes(h.name),
        mounts: new Set(topology.glusterClients.includes(h.name) ? topology.volumes.map((v) => v.name) : []),
        bootId: this.bootIdOf(h.name, 1),
        bootedAt: this.clock.now(),
        boots: 1,
        stopping: false,
      });
    }
    for (const u of topology.units) {
      const name = `pcocc-vm-${u.vm}.service`;
      const text = unitText(u.vm, u.weight, u.machineMetadata);
      const running = u.dstate === 'launched' && u.host !== undefined;
      this.units.set(name, {
        name,
        vm: u.vm,
        weight: u.weight,
        machineMetadata: u.machineMetadata,
        dstate: u.dstate,
        host: u.host,
        active: running ? 'active' : 'inactive',
        sub: running ? 'running' : 'dead',
        jobId: u.jobId,
        startedAt: now - u.uptimeSeconds * 1000,
        hash: u.hash ?? createHash('sha1').update(text).digest('hex').slice(0, 7),
        text,
        hangOnStop: false,
        stopPending: false,
      });
    }
    for (const v of topology.volumes) this.volumes.set(v.name, this.newVolume(v, o.healPerSecond ?? 50));
  }

  private newVolume(v: TopoVolume, healPerSecond: number): VolumeState {
    if (v.type === 'distribute' ? v.replica !== 1 : v.replica < 2 || v.servers.length % v.replica !== 0) {
      throw new LabError(`volume ${v.name}: a ${v.type} volume of ${v.servers.length} brick(s) cannot have replica ${v.replica}`);
    }
    return {
      name: v.name,
      id: uuidFrom(`${this.topology.cluster}/${v.name}`),
      status: 'Started',
      type: v.type,
      replica: v.replica,
      shardBlockSize: v.shardBlockSize,
      bricks: v.servers.map((host) => ({ host, path: `/gluster/${v.name}/brick`, heal: 0 })),
      healPerSecond,
      rebalance: 'not started',
    };
  }

  private changed(): void {
    this.emit('change');
  }

  /** The boot id of a host's `n`-th boot: the same lab, the same ids. */
  private bootIdOf(host: string, n: number): string {
    return bootIdFrom(`${this.topology.cluster}/${host}/boot/${n}`);
  }

  /** A simulated time as Unix ms (the clock's epoch added: a ManualClock's 0 is a fixed date). */
  wallMs(simMs: number): number {
    return (this.clock.epochMs ?? 0) + simMs;
  }

  machine(name: string): MachineState {
    const m = this.machines.get(name);
    if (!m) throw new LabError(`unknown host ${name}`);
    return m;
  }

  /** Resolves `admin1`, `pcocc-vm-admin1` or `pcocc-vm-admin1.service`. */
  unit(name: string): UnitState | undefined {
    const full = name.endsWith('.service') ? name : name.startsWith('pcocc-vm-') ? `${name}.service` : `pcocc-vm-${name}.service`;
    return this.units.get(full);
  }

  /** Waits until pred() is true (re-checked on every model change), or the signal aborts. */
  waitFor(pred: () => boolean, signal?: AbortSignal): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (signal?.aborted) return done(false);
        if (pred()) done(true);
      };
      const done = (v: boolean) => {
        this.off('change', check);
        signal?.removeEventListener('abort', check);
        resolve(v);
      };
      this.on('change', check);
      signal?.addEventListener('abort', check);
    });
  }

  // ---- commands log ------------------------------------------------------------------------

  logStart(host: string, argv: string[]): CommandLogEntry {
    const e: CommandLogEntry = { seq: this.log.length + 1, time: Date.now(), host, argv, mutating: false, cancelled: false };
    this.log.push(e);
    return e;
  }

  commandLog(filter: { host?: string; tool?: string; mutating?: boolean } = {}): CommandLogEntry[] {
    return this.log.filter(
      (e) =>
        (filter.host === undefined || e.host === filter.host) &&
        (filter.tool === undefined || e.argv[0] === filter.tool) &&
        (filter.mutating === undefined || e.mutating === filter.mutating),
    );
  }

  // ---- fleet -------------------------------------------------------------------------------

  /** Machines fleet lists, in machine-id order (as list-machines prints them). */
  fleetMachines(): MachineState[] {
    // byte order, as fleet (Go) compares ids (a machine id is lowercase hex); the lab's machines are
    // fixed at its start, so sorted once (the scheduler asks for every unit it places)
    this.byMachineId ??= [...this.machines.values()].sort((a, b) => (a.machineId < b.machineId ? -1 : a.machineId > b.machineId ? 1 : 0));
    return this.byMachineId.filter((m) => m.registered);
  }

  private byMachineId?: MachineState[];

  /** Total Weight of the units scheduled on each registered machine (`machines`: fleetMachines(), when the caller has it). */
  loads(machines: MachineState[] = this.fleetMachines()): Map<string, number> {
    const load = new Map<string, number>();
    for (const m of machines) load.set(m.name, 0);
    for (const u of this.units.values()) if (u.host && load.has(u.host)) load.set(u.host, load.get(u.host)! + u.weight);
    return load;
  }

  satisfies(u: UnitState, m: MachineState): boolean {
    if (!u.machineMetadata.length) return true;
    let byKey = this.constraints.get(u.machineMetadata);
    if (!byKey) {
      byKey = new Map<string, string[]>();
      for (const c of u.machineMetadata) {
        const [k, v] = c.split('=');
        byKey.set(k, [...(byKey.get(k) ?? []), ...v.split(',')]);
      }
      this.constraints.set(u.machineMetadata, byKey);
    }
    for (const [k, values] of byKey) if (!values.includes(m.metadata[k])) return false;
    return true;
  }

  /** MachineMetadata= lines read once per unit file (the scheduler tests every machine for every unit). */
  private readonly constraints = new WeakMap<string[], Map<string, string[]>>();

  /**
   * The machine fleet would pick for u now, among `machines` (the registered ones running fleetd)
   * with their `load`: satisfied constraints, least total Weight, then the lowest machine id (fleet's
   * leastLoadedScheduler sorts agents by load, then by MState.ID). reconcile computes machines and
   * loads once for every unit it schedules.
   */
  private pickAmong(u: UnitState, machines: MachineState[], load: Map<string, number>): MachineState | undefined {
    let best: MachineState | undefined;
    for (const m of machines) {
      if (!this.satisfies(u, m)) continue;
      const d = best ? load.get(m.name)! - load.get(best.name)! : -1;
      if (d < 0 || (d === 0 && m.machineId < best!.machineId)) best = m;
    }
    return best;
  }

  /** fleet's engine + agents: schedule unscheduled units, then drive each agent's units to their dstate. */
  reconcile(): void {
    // Only units to schedule are sorted (by name, as fleet's engine takes them): a reconcile runs at
    // every VM stop, and sorting 10,000 units each time cost the lab more than the VMs.
    const toSchedule = [...this.units.values()].filter((u) => u.dstate !== 'inactive' && u.host === undefined);
    const registered = toSchedule.length ? this.fleetMachines() : [];
    const machines = registered.filter((m) => m.fleetd);
    const load = machines.length ? this.loads(registered) : new Map<string, number>();
    for (const u of machines.length ? toSchedule.sort((a, b) => a.name.localeCompare(b.name)) : []) {
      const m = this.pickAmong(u, machines, load);
      if (!m) continue;
      u.host = m.name;
      load.set(m.name, load.get(m.name)! + u.weight); // the next unit sees this one's Weight, as pick would
    }
    if (this.batchDepth) {
      this.drivePending = true;
      return;
    }
    this.drive();
  }

  /** The agents: each running fleetd starts its launched units and stops the others. */
  private drive(): void {
    const live = new Set([...this.machines.values()].filter((m) => m.fleetd && m.power).map((m) => m.name));
    for (const u of this.units.values()) {
      if (!u.host || !live.has(u.host)) continue;
      if (u.dstate === 'launched') this.startProcess(u);
      else if (u.active === 'active' || u.active === 'activating') this.stopProcess(u);
    }
    this.changed();
  }

  private batchDepth = 0;
  private drivePending = false;

  /**
   * Runs `fn` (a command on many units) with the agents driving units once, at its end, instead of
   * after each unit: the same outcome (scheduling still happens unit by unit, in order), without a
   * pass over every unit of the cluster per unit named.
   */
  batch<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      if (--this.batchDepth === 0 && this.drivePending) {
        this.drivePending = false;
        this.drive();
      }
    }
  }

  private startProcess(u: UnitState): void {
    if (u.active === 'active' || u.active === 'activating') return;
    if (u.active === 'deactivating') return; // restarted by finishStop's reconcile
    u.timer?.cancel();
    u.active = 'activating';
    u.sub = 'start-pre';
    u.timer = this.clock.after(u.startMs ?? this.vmStartMs, () => {
      u.timer = undefined;
      u.active = 'active';
      u.sub = 'running';
      u.startedAt = Date.now();
      u.jobId = this.nextJob++;
      this.changed();
    });
  }

  /** Stops the VM process; `then` runs once it is dead (never, while it hangs). */
  private stopProcess(u: UnitState, then?: () => void): void {
    if (u.active === 'inactive' || u.active === 'failed') {
      then?.();
      return;
    }
    if (u.hangOnStop) {
      u.stopPending = true; // stays active/running: seed 001's "still running and not shutting down"
      return;
    }
    if (u.active === 'deactivating') return;
    u.timer?.cancel();
    u.active = 'deactivating';
    u.sub = 'stop-sigterm';
    u.timer = this.clock.after(this.vmStopMs, () => {
      u.timer = undefined;
      u.active = 'inactive';
      u.sub = 'dead';
      u.stopPending = false;
      then?.();
      this.reconcile();
    });
  }

  fleetStart(name: string): UnitState {
    const u = this.requireUnit(name);
    u.dstate = 'launched';
    this.reconcile();
    return u;
  }

  fleetLoad(name: string): UnitState {
    const u = this.requireUnit(name);
    if (u.dstate === 'inactive') u.dstate = 'loaded';
    else if (u.dstate === 'launched') u.dstate = 'loaded';
    this.reconcile();
    return u;
  }

  fleetStop(name: string): UnitState {
    const u = this.requireUnit(name);
    if (u.dstate === 'launched') u.dstate = 'loaded';
    this.reconcile();
    return u;
  }

  /** Unload: stop and unschedule; the next start picks the least loaded eligible machine. */
  fleetUnload(name: string): UnitState {
    const u = this.requireUnit(name);
    u.dstate = 'inactive';
    if (u.host) this.stopProcess(u, () => (u.dstate === 'inactive' ? (u.host = undefined) : undefined));
    if (u.active === 'inactive') u.host = undefined;
    this.reconcile();
    return u;
  }

  fleetDestroy(name: string): void {
    const u = this.requireUnit(name);
    u.dstate = 'inactive';
    u.timer?.cancel();
    u.active = 'inactive';
    u.sub = 'dead';
    this.units.delete(u.name);
    this.reconcile();
  }

  private requireUnit(name: string): UnitState {
    const u = this.unit(name);
    if (!u) throw new LabError(`Unit ${name} does not exist.`);
    return u;
  }

  /** `systemctl stop fleet`: local units stop, then fleet reschedules them elsewhere. Resolves when they are down. */
  stopFleetd(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.fleetd) return Promise.resolve();
    m.fleetd = false;
    m.registered = false;
    const local = [...this.units.values()].filter((u) => u.host === host).sort((a, b) => a.name.localeCompare(b.name));
    const waits: Promise<void>[] = [];
    for (const u of local) {
      // Restarting fleetd is seed 001's remedy for a VM hung on stop.
      if (u.hangOnStop) {
        u.hangOnStop = false;
        u.stopPending = false;
      }
      waits.push(
        new Promise<void>((resolve) =>
          this.stopProcess(u, () => {
            if (u.host === host) u.host = undefined;
            resolve();
          }),
        ),
      );
    }
    this.reconcile();
    return Promise.all(waits).then(() => undefined);
  }

  /** `systemctl start fleet`: the machine joins; only units nowhere else schedulable land on it. */
  startFleetd(host: string): void {
    const m = this.machine(host);
    if (!m.power) throw new LabError(`${host} is powered off`);
    if (m.fleetd) return;
    m.fleetd = true;
    m.registered = true;
    this.reconcile();
  }

  // ---- GlusterFS ---------------------------------------------------------------------------

  brickUp(v: VolumeState, b: Brick): boolean {
    const m = this.machine(b.host);
    return v.status === 'Started' && m.power && m.glusterfsd;
  }

  /** Drains heal entries for the simulated time elapsed (only while every brick is up). */
  settleHeal(): void {
    const now = this.clock.now();
    const dt = (now - this.lastSettle) / 1000;
    this.lastSettle = now;
    if (dt <= 0) return;
    for (const v of this.volumes.values()) {
      if (!v.bricks.every((b) => this.brickUp(v, b))) continue;
      for (const b of v.bricks) b.heal = Math.max(0, b.heal - v.healPerSecond * dt);
    }
  }

  healEntries(volume: string): { brick: Brick; up: boolean; entries: number }[] {
    this.settleHeal();
    const v = this.volume(volume);
    // heal is fractional while draining; gluster counts whole entries
    return v.bricks.map((b) => ({ brick: b, up: this.brickUp(v, b), entries: Math.max(0, Math.ceil(b.heal - 1e-9)) }));
  }

  volume(name: string): VolumeState {
    const v = this.volumes.get(name);
    if (!v) throw new LabError(`Volume ${name} does not exist`);
    return v;
  }

  /** Records heal entries on the bricks that stay up in the replica sets `host`'s bricks leave abruptly. */
  private markHeal(host: string, entries: number): void {
    this.settleHeal();
    for (const v of this.volumes.values()) {
      if (v.status !== 'Started') continue;
      for (let set = 0; set < v.bricks.length; set += v.replica) {
        const bricks = v.bricks.slice(set, set + v.replica);
        if (!bricks.some((b) => b.host === host)) continue;
        for (const b of bricks) if (b.host !== host && this.brickUp(v, b)) b.heal += entries;
      }
    }
  }

  /**
   * GlusterFS 3.x `volume tier VOL attach HOST:BRICK...`: a plain distribute hot tier on `servers`,
   * its tier daemon running ('in progress') until detachTier. GlusterFS >= 6 has no tiering.
   */
  attachTier(volume: string, servers: string[]): void {
    if (Number(this.glusterVersion.split('.')[0]) >= 6) throw new LabError(`GlusterFS ${this.glusterVersion} has no tiering (removed in GlusterFS 6)`);
    const v = this.volume(volume);
    if (v.hotTier) throw new LabError(`Volume ${volume} is already a tier volume`);
    for (const h of servers) this.machine(h);
    v.hotTier = { bricks: servers.map((host) => ({ host, path: `/gluster/${volume}/hot`, heal: 0 })), daemon: 'in progress' };
    this.changed();
  }

  /** `volume tier VOL detach` (start, then commit): the volume is an ordinary one again. */
  detachTier(volume: string): void {
    delete this.volume(volume).hotTier;
    this.changed();
  }

  /** Fuse clients and self-heal daemons connected to each brick of a volume. */
  clientsOf(volume: string, brickHost: string): string[] {
    const v = this.volume(volume);
    const b = v.bricks.find((x) => x.host === brickHost);
    if (!b || !this.brickUp(v, b)) return [];
    const out: string[] = [];
    for (const m of this.machines.values()) {
      if (!m.power) continue;
      if (m.mounts.has(volume) && m.glusterfs) out.push(m.name);
      else if (v.type === 'replicate' && v.bricks.some((x) => x.host === m.name) && m.glusterd && m.glusterfs) out.push(m.name); // self-heal daemon
    }
    return out;
  }

  volumeStart(name: string): void {
    this.settleHeal();
    const v = this.volume(name);
    if (v.status === 'Started') throw new LabError(`Volume ${name} already started`);
    v.status = 'Started';
    for (const b of v.bricks) {
      const m = this.machine(b.host);
      if (m.power && m.glusterd) m.glusterfsd = m.glusterfs = true;
    }
    this.changed();
  }

  volumeStop(name: string): void {
    this.settleHeal();
    const v = this.volume(name);
    if (v.status !== 'Started') throw new LabError(`Volume ${name} is not in the started state`);
    v.status = 'Stopped';
    this.changed();
  }

  stopGlusterd(host: string): void {
    this.settleHeal();
    this.machine(host).glusterd = false;
    this.changed();
  }

  startGlusterd(host: string): void {
    this.settleHeal();
    const m = this.machine(host);
    m.glusterd = true;
    // glusterd spawns the bricks of started volumes and the self-heal daemon
    if ([...this.volumes.values()].some((v) => v.status === 'Started' && v.bricks.some((b) => b.host === host))) {
      m.glusterfsd = true;
      m.glusterfs = true;
    }
    this.changed();
  }

  /** glusterfsd stopped or killed (the bricks). */
  stopBricks(host: string): void {
    this.settleHeal();
    const m = this.machine(host);
    if (m.glusterfsd && m.power) this.bricksStopping(host);
    m.glusterfsd = false;
    if (this.downHealEntries) this.markHeal(host, this.downHealEntries);
    this.changed();
  }

  /** Heal entries pending on the volumes with a brick on `host`, per volume (0s left out). */
  pendingHeal(host: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const v of this.volumes.values()) {
      if (v.status !== 'Started' || !v.bricks.some((b) => b.host === host)) continue;
      const n = this.healEntries(v.name).reduce((sum, e) => sum + e.entries, 0);
      if (n > 0) out[v.name] = n;
    }
    return out;
  }

  /** Emitted before a server's bricks stop in order, with the heal then pending (lab/safety-watch.ts). */
  private bricksStopping(host: string): void {
    this.emit('bricks-stopping', host, this.pendingHeal(host));
  }

  /** glusterfs processes killed: fuse mounts and self-heal daemon. */
  killGlusterfs(host: string): void {
    this.settleHeal();
    const m = this.machine(host);
    m.glusterfs = false;
    m.mounts.clear();
    this.changed();
  }

  unmountAll(host: string): string[] {
    const m = this.machine(host);
    const was = [...m.mounts];
    m.mounts.clear();
    if (!this.isGlusterServer(host)) m.glusterfs = false;
    this.changed();
    return was;
  }

  /**
   * The host mounts, from its fstab, every started volume it does not mount yet (a GlusterFS client
   * of the topology only). Returns the volumes that could not mount (not started).
   */
  mountClient(host: string): string[] {
    const m = this.machine(host);
    if (!this.glusterClients.includes(host)) return [];
    const failed: string[] = [];
    for (const v of this.volumes.values()) {
      if (m.mounts.has(v.name)) continue;
      if (v.status === 'Started') m.mounts.add(v.name);
      else failed.push(v.name);
    }
    if (m.mounts.size) m.glusterfs = true;
    this.changed();
    return failed;
  }

  isGlusterServer(host: string): boolean {
    return [...this.volumes.values()].some((v) => v.bricks.some((b) => b.host === host));
  }

  // ---- etcd / power / faults ---------------------------------------------------------------

  async stopEtcd(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.etcdMember) throw new LabError(`${host} runs no etcd member`);
    await this.effects.etcd?.(host, 'stop');
    m.etcd = false;
    this.changed();
  }

  async startEtcd(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.etcdMember) throw new LabError(`${host} runs no etcd member`);
    await this.effects.etcd?.(host, 'start');
    m.etcd = true;
    this.changed();
  }

  /** Abrupt power loss (ipmitool power off, crash fault). */
  async crash(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.power) return;
    this.markHeal(host, this.crashHealEntries);
    m.power = false;
    m.fleetd = false;
    m.glusterd = m.glusterfsd = m.glusterfs = false;
    m.mounts.clear();
    // fleet keeps listing the machine and its units until the agent TTL expires
    this.ttlTimers.get(host)?.cancel();
    this.ttlTimers.set(
      host,
      this.clock.after(this.agentTtlMs, () => {
        this.ttlTimers.delete(host);
        if (m.power && m.fleetd) return;
        m.registered = false;
        for (const u of this.units.values()) {
          if (u.host !== host) continue;
          u.timer?.cancel();
          u.active = 'inactive';
          u.sub = 'dead';
          u.hangOnStop = u.stopPending = false;
          u.host = undefined;
        }
        this.reconcile();
      }),
    );
    this.changed();
    await Promise.all([
      m.etcdMember && m.etcd ? this.effects.etcd?.(host, 'kill') : undefined,
      m.sshd !== 'down' ? this.effects.sshd?.(host, 'stop') : undefined,
      this.effects.gluster?.(host, 'kill'),
    ]);
    if (m.etcdMember) m.etcd = false;
    m.sshd = 'down';
    this.changed();
  }

  /** Orderly shutdown (`poweroff`): fleetd stops its units first, then everything goes down. */
  async shutdown(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.power) return;
    m.stopping = true;
    await this.stopFleetd(host);
    if (m.glusterfsd) this.bricksStopping(host);
    m.glusterd = m.glusterfsd = m.glusterfs = false;
    m.mounts.clear();
    if (this.downHealEntries) this.markHeal(host, this.downHealEntries);
    await this.effects.gluster?.(host, 'kill');
    if (m.etcdMember && m.etcd) await this.stopEtcd(host);
    m.power = false;
    if (m.sshd !== 'down') await this.effects.sshd?.(host, 'stop');
    m.sshd = 'down';
    this.changed();
  }

  /**
   * Orderly reboot (`systemctl reboot`): shutdown, then `rebootMs` (simulated) later the host powers
   * on again with a new boot id (or stays off under the stayOff fault). A reboot asked for while one
   * runs, or of a host that is off, does nothing. Resolves once the host is down.
   */
  async reboot(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.power || this.rebooting.has(host)) return;
    this.rebooting.add(host);
    m.stopping = true;
    this.changed();
    try {
      await this.shutdown(host);
    } finally {
      this.rebootTimers.set(
        host,
        this.clock.after(this.rebootMs, () => {
          this.rebootTimers.delete(host);
          this.rebooting.delete(host);
          void this.powerOn(host).catch(() => undefined);
        }),
      );
    }
  }

  private readonly rebooting = new Set<string>();
  private readonly rebootTimers = new Map<string, { cancel(): void }>();

  /** Boot: a new boot id, sshd (same host key), etcd and glusterd start; fleetd stays stopped (seed 000). */
  async powerOn(host: string): Promise<void> {
    const m = this.machine(host);
    if (m.power) return;
    if (this.stuckOff.has(host)) return; // fault: the chassis never comes on
    this.settleHeal();
    m.power = true;
    m.stopping = false;
    m.boots++;
    m.bootId = this.bootIdOf(host, m.boots);
    m.bootedAt = this.clock.now();
    this.changed();
    await this.effects.sshd?.(host, 'start');
    m.sshd = 'up';
    await this.effects.gluster?.(host, 'boot');
    if (this.isGlusterServer(host)) this.startGlusterd(host);
    if (this.glusterClients.includes(host)) {
      m.glusterfs = true;
      for (const v of this.volumes.values()) if (v.status === 'Started') m.mounts.add(v.name);
    }
    if (m.etcdMember) await this.startEtcd(host);
    this.changed();
  }

  async unreachable(host: string): Promise<void> {
    const m = this.machine(host);
    if (m.sshd !== 'up') return;
    await this.effects.sshd?.(host, 'pause');
    m.sshd = 'paused';
    this.changed();
  }

  async restore(host: string): Promise<void> {
    const m = this.machine(host);
    if (!m.power) return this.powerOn(host);
    if (m.sshd === 'paused') await this.effects.sshd?.(host, 'resume');
    else if (m.sshd === 'down') await this.effects.sshd?.(host, 'start');
    m.sshd = 'up';
    this.changed();
  }

  hangOnStop(vm: string): void {
    this.requireUnit(vm).hangOnStop = true;
  }

  /** A host whose power-on does nothing until the fault is cleared (`on` false). */
  stayOff(host: string, on = true): void {
    this.machine(host);
    if (on) this.stuckOff.add(host);
    else this.stuckOff.delete(host);
  }

  /** The host's BMC stops answering (`on` false: it answers again). */
  bmcDown(host: string, on = true): void {
    this.machine(host);
    if (on) this.bmcsDown.add(host);
    else this.bmcsDown.delete(host);
  }

  /** ipmitool run from `origin` (a lab host, a BMC relay, the worker) reaches no BMC (`on` false: it does again). */
  cutOffFromBmcs(origin: string, on = true): void {
    if (on) this.bmcCutOff.add(origin);
    else this.bmcCutOff.delete(origin);
  }

  /** fping reports `ms` for the host (0 clears the fault). */
  slowPing(host: string, ms: number): void {
    this.machine(host);
    if (ms > 0) this.pingMs.set(host, ms);
    else this.pingMs.delete(host);
  }

  slowStart(vm: string, ms: number): void {
    this.requireUnit(vm).startMs = ms;
  }

  /** Fault: the next `commands` lock-taking `gluster volume` commands find glusterd's lock held by another transaction. */
  fleetUnavailable(commands: number): void {
    this.fleetUnavailableCommands = commands;
  }

  glusterBusy(commands: number): void {
    this.glusterBusyCommands = commands;
  }

  /** Every brick of the volume holds `entries` heal entries, draining at `perSecond` while all bricks are up. */
  slowHeal(volume: string, entries: number, perSecond: number): void {
    this.settleHeal();
    const v = this.volume(volume);
    v.healPerSecond = perSecond;
    for (const b of v.bricks) b.heal = entries;
    this.changed();
  }

  dispose(): void {
    for (const t of this.ttlTimers.values()) t.cancel();
    for (const t of this.rebootTimers.values()) t.cancel();
    for (const u of this.units.values()) u.timer?.cancel();
  }
}
