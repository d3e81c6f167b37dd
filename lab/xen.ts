/**
 * The lab's XenServer pool (seed 003): hosts, VMs, SRs and pool HA as xapi keeps them, live
 * migration with simulated time, host evacuation, disable / enable and reboot. lab/tools/xe.ts prints
 * it exactly as xe does; this module only decides what xapi would do and when.
 *
 * It shares the fleet model's hosts (LabModel.machines: power, sshd, BMC) and clock: a host-reboot
 * shuts its machine down and powers it on again, a BMC power-off is a crash xapi notices late (as
 * db_gc.ml's host_assumed_dead_interval says), and every simulated duration runs on the lab's clock
 * (RealClock: scaled by timeScale; ManualClock: when a test advances it). `attachXenPool` hangs it on
 * the model as `model.xen`, where the server and runTool find it.
 *
 * What xapi does, and where (xapi-project/xen-api, ocaml/xapi unless said):
 * - memory: memory_check.ml host_compute_free_memory_with_maximum_compression (total - host overhead -
 *   the VMs resident AND scheduled there, each at dynamic-min + its overhead), vm_compute_start_memory;
 *   a VM's overhead is ocaml/xapi-idl/memory/memory.ml Memory_model.overhead_mib;
 * - migration: message_forwarding.ml VM.pool_migrate (with_vm_operation, then reserve_memory_for_vm:
 *   xapi_vm_helpers.ml assert_can_boot_here: host live, enabled unless a localhost migration, the VM's
 *   SRs, memory); a VM in flight counts on both hosts until it lands ("NB in the case of migrate...");
 * - evacuation: xapi_host.ml compute_evacuation_plan_no_wlb (enabled hosts but this one; every VM must
 *   be able to boot on every target; binpack.ml biggest_fit_decreasing: biggest VM first, onto the
 *   host with the most free memory), evacuate (batches; before batch evacuation one VM at a time,
 *   which is seed 003's "xe host-evacuate can only do one live migration at a time");
 * - disable / enable / reboot: xapi_host.ml disable, enable (assert_safe_to_reenable), reboot
 *   (xapi_host_helpers.ml assert_host_disabled, then a thread that waits 10 s before shutdown -r;
 *   prepare_for_poweroff evacuates what it can (vm_evacuation.ml ensure_no_vms) and shuts the rest
 *   down); a rebooted host enables itself (xapi_host_helpers.ml consider_enabling_host_nolock) unless
 *   it was disabled with auto-enable=false;
 * - pool members: xe on a member is forwarded to the master (ocaml/xapi-cli-server/xapi_cli.ml
 *   do_rpcs); while the master is down the member's database calls retry, 2 s then doubling up to
 *   256 s, for ever (ocaml/database/master_connection.ml do_db_xml_rpc_persistent_with_reopen), so
 *   the command waits.
 *
 * Timing (the lab's, not xapi's): a migration waits for a slot on both hosts (at most
 * maxConcurrentMigrations each: the host's dom0 saturates, seed 003 saw no gain beyond 5 threads),
 * then takes migrationSetupMs (no memory moves), then moves the VM's memory at min(one stream's
 * rate, each host's link shared by the transfers it takes part in). Every migration is recorded
 * (`migrations`).
 */
import { createHash } from 'node:crypto';
import { LabError, type LabModel } from './model';
import type { TopoXenPool } from './topology';

declare module './model' {
  interface LabModel {
    /** The Xen pool of a Xen topology (attachXenPool); absent on a fleet lab. */
    xen?: XenPool;
  }
}

export const MiB = 1048576;
export const GiB = 1024 * MiB;

export interface XenParams {
  /** Simulated ms of a migration that move no memory: handshake, devices, the last suspend / resume. */
  migrationSetupMs: number;
  /** What one migration stream moves at most, bytes per simulated ms (one copy thread, one TCP stream). */
  streamBytesPerMs: number;
  /** A host's migration link, bytes per simulated ms, shared by the transfers it sends or receives. */
  linkBytesPerMs: number;
  /** Migrations a host takes part in at once (as source or destination); more wait for a slot. */
  maxConcurrentMigrations: number;
  /** Simulated ms from the host going down to it being up again. */
  rebootMs: number;
  /** xapi_host.ml shutdown_and_reboot_common: `Thread.delay 10.` before `shutdown -r now`. */
  rebootDelayMs: number;
  /** host-evacuate without batch-size: 1, as xapi before batch evacuation (seed 003); today's xapi: 10. */
  evacuateBatchSize: number;
  /** db_gc.ml: a host that stops heartbeating without saying so stays live this long (host_assumed_dead_interval). */
  hostAssumedDeadMs: number;
  /** How long pool-ha-enable takes (statefile, liveset). */
  haEnableMs: number;
}

/**
 * Defaults: a 10 GbE link (1 GB/s, which one stream can fill), 9 s of setup (a XenServer live
 * migration of even a small VM takes 10-15 s), 5 slots per host. One at a time, a host of 1-16 GiB
 * VMs (8.5 GiB, 9 s of link, on average) empties in setup + memory per VM; several at once keep the
 * link busy during each other's setups: about twice as fast; more than five wait for a slot (seed
 * 003: "By using 5 threads, I got twice the speed ... I also tried more threads, but it didn't go
 * any faster").
 */
export const XEN_DEFAULTS: XenParams = {
  migrationSetupMs: 9_000,
  streamBytesPerMs: 1_000_000,
  linkBytesPerMs: 1_000_000,
  maxConcurrentMigrations: 5,
  rebootMs: 240_000,
  rebootDelayMs: 10_000,
  evacuateBatchSize: 1,
  hostAssumedDeadMs: 600_000,
  haEnableMs: 30_000,
};

/** A xapi error (Api_errors.Server_error): its code and parameters, references as OpaqueRef strings. */
export class XapiError extends Error {
  constructor(
    readonly code: string,
    readonly params: string[] = [],
  ) {
    super(params.length ? `${code}: ${params.join(', ')}` : code);
    this.name = 'XapiError';
  }
}

export type XenPowerState = 'running' | 'halted' | 'paused' | 'suspended';

export interface XenSr {
  uuid: string;
  ref: string;
  name: string;
  type: 'lvm' | 'nfs';
  shared: boolean;
  /** The host of a local SR (uuid). */
  host?: string;
}

export interface XenHost {
  readonly name: string;
  readonly uuid: string;
  readonly ref: string;
  readonly address: string;
  readonly memoryTotal: number;
  readonly memoryOverhead: number;
  readonly linkBytesPerMs: number;
  readonly localSr: XenSr;
  /** Its control domain's uuid. */
  readonly controlDomain: string;
  enabled: boolean;
  /** host-disable auto-enable=false clears it: the host then stays disabled after a reboot. */
  autoEnable: boolean;
  /** Set once it started shutting down (prepare_for_poweroff): host-enable refuses until it rebooted. */
  disabledUntilReboot: boolean;
  /** host_metrics live, as the master sees it. */
  live: boolean;
  /** Its xapi runs (the machine is on). */
  agent: boolean;
  /** A reboot in progress (Host.reboot's task), from the call until the host is back. */
  shutdownTask?: XenTask;
  /** A host-evacuate in progress. */
  evacuateTask?: XenTask;
  /**
   * other-config as xapi keeps it (Db.Host.add_to_other_config prepends: the key added last first):
   * dbsync_slave.ml refresh_localhost_info sets boot_time (/proc/stat btime) and agent_start_time
   * at each xapi start, both `string_of_float` of Unix seconds.
   */
  otherConfig: [string, string][];
}

export interface XenVm {
  readonly name: string;
  readonly uuid: string;
  readonly ref: string;
  readonly isControlDomain: boolean;
  readonly domainType: 'hvm' | 'pv';
  readonly vcpus: number;
  readonly memoryStaticMax: number;
  readonly memoryDynamicMax: number;
  readonly memoryDynamicMin: number;
  readonly memoryStaticMin: number;
  /** memory.ml overhead for its static max and vCPUs. */
  readonly memoryOverhead: number;
  /** The SR of its disk (none for a control domain). */
  readonly sr?: XenSr;
  readonly vdi?: { uuid: string; ref: string; name: string; virtualSize: number };
  readonly vbd?: { uuid: string; ref: string };
  powerState: XenPowerState;
  /** Host uuid, while running or paused. */
  residentOn?: string;
  /** Host uuid where memory is reserved for it (an incoming migration). */
  scheduledOn?: string;
  haRestartPriority: '' | 'restart' | 'best-effort';
  /** The operation in progress (current-operations). */
  operation?: { task: XenTask; op: 'pool_migrate' };
}

export interface XenTask {
  uuid: string;
  ref: string;
  name: string;
}

export interface XenPoolState {
  readonly uuid: string;
  readonly ref: string;
  name: string;
  master: string;
  haEnabled: boolean;
  haHostFailuresToTolerate: number;
  haAllowOvercommit: boolean;
  /** VDI uuids of the HA statefiles (while HA is on). */
  haStatefiles: string[];
  /** What pool-ha-enable's ha-config: gave. */
  haConfiguration: Record<string, string>;
}

/** One migration, as tests read it: names, simulated times, outcome. */
export interface MigrationRecord {
  vm: string;
  vmUuid: string;
  from: string;
  to: string;
  /** What asked for it. */
  via: 'vm-migrate' | 'host-evacuate' | 'host-reboot';
  /** Simulated ms: the call, the start (a slot on both hosts), the end. */
  requestedAt: number;
  start?: number;
  end?: number;
  ok?: boolean;
  /** The xapi error code of a failed one. */
  error?: string;
}

/** A fault of the next migration of a VM: the real xapi error it fails with. */
export type MigrationFault =
  /** xenopsd could not reach the destination's: VM_MIGRATE_CONTACT_REMOTE_SERVICE_FAILED at the end of setup. */
  | 'contact-remote-service'
  /** The destination went away mid-transfer: INTERNAL_ERROR "xenopsd internal error: Xenops_migrate.Remote_failed(...)". */
  | 'remote-failed';

/** xenops_migrate.ml Handshake.recv, turned into an internal error by xapi_xenops.ml transform_xenops_exn. */
export const REMOTE_FAILED = 'xenopsd internal error: Xenops_migrate.Remote_failed("unmarshalling result code from remote")';

/** memory.ml Memory_model.overhead_mib (shadow multiplier 1.0), in bytes: HVM guests, PV control domains. */
export function vmMemoryOverhead(staticMax: number, vcpus: number, domainType: 'hvm' | 'pv'): number {
  const mib = Math.ceil(staticMax / MiB);
  const pagesToMib = (pages: number) => Math.ceil(pages / 256);
  const shadow = Math.max(1, pagesToMib(256 * vcpus + mib + mib));
  const extra = domainType === 'hvm' ? 2 : 1; // extra_internal_mib + extra_external_mib
  return (extra + shadow + pagesToMib(38 * vcpus)) * MiB;
}

export interface MigrationParams {
  migrationSetupMs: number;
  streamBytesPerMs: number;
  linkBytesPerMs: number;
  maxConcurrentMigrations: number;
}

/**
 * The physical lower bound of emptying one host of VMs of these memory sizes (bytes), whatever the
 * plan and the concurrency: all their memory crosses the source's link after a first setup; each
 * migration lasts at least its setup plus its memory at one stream's rate; and the source has
 * maxConcurrentMigrations slots for them.
 */
export function evacuationBoundMs(vms: readonly { memory: number }[], p: MigrationParams): number {
  if (!vms.length) return 0;
  const single = vms.map((v) => p.migrationSetupMs + v.memory / p.streamBytesPerMs);
  const total = vms.reduce((s, v) => s + v.memory, 0);
  return Math.max(p.migrationSetupMs + total / p.linkBytesPerMs, Math.max(...single), single.reduce((s, t) => s + t, 0) / p.maxConcurrentMigrations);
}

/** A uuid derived from a name (sha1), for the objects a topology does not name. */
export function uuidFrom(s: string): string {
  const h = createHash('sha1').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Seconds from a host's boot to its xapi writing agent_start_time (the lab's figure). */
const AGENT_START_DELAY_S = 42;

/** OCaml's string_of_float ("%.12g", then a "." when that looks like an integer): 1764892800 -> "1764892800.". */
export function ocamlStringOfFloat(x: number): string {
  const g = Number(x.toPrecision(12)).toString();
  return /^-?\d+$/.test(g) ? `${g}.` : g;
}

const refOf = (uuid: string) => `OpaqueRef:${uuidFrom(`ref/${uuid}`)}`;

interface Flight {
  record: MigrationRecord;
  vm: XenVm;
  from: XenHost;
  to: XenHost;
  phase: 'queued' | 'setup' | 'transfer';
  bytesLeft: number;
  /** Bytes per ms, while transferring. */
  rate: number;
  slow: number;
  fault?: MigrationFault;
  timer?: { cancel(): void };
  resolve(): void;
  reject(e: XapiError): void;
}

/** Hangs a Xen pool built from `model.topology.xen` on the model (`model.xen`). */
export function attachXenPool(model: LabModel, params: Partial<XenParams> = {}): XenPool {
  const spec = model.topology.xen;
  if (!spec) throw new LabError(`topology ${model.topology.cluster} has no Xen pool`);
  model.xen = new XenPool(model, spec, params);
  return model.xen;
}

export class XenPool {
  readonly params: XenParams;
  readonly pool: XenPoolState;
  /** By uuid, in pool order. */
  readonly hosts = new Map<string, XenHost>();
  /** By uuid: control domains first (created with their hosts), then guests in topology order. */
  readonly vms = new Map<string, XenVm>();
  readonly srs = new Map<string, XenSr>();
  /** Every migration asked for, in order. */
  readonly migrations: MigrationRecord[] = [];
  /** OpaqueRef -> uuid and name, for printing references as xe does (cli_util.ml ref_convert). */
  readonly refs = new Map<string, { uuid: string; name?: string }>();
  private readonly flights: Flight[] = [];
  private lastFlow: number;
  private flowTimer?: { cancel(): void };
  private readonly faults = new Map<string, MigrationFault>();
  private readonly slow = new Map<string, number>();
  private readonly deadTimers = new Map<string, { cancel(): void }>();
  /** Hosts going down cleanly (a reboot): live=false at once, no assumed-dead wait. */
  private readonly clean = new Set<string>();
  private nextTask = 1;
  private syncing = false;
  private flowing = false;
  private again = false;

  constructor(
    readonly model: LabModel,
    spec: TopoXenPool,
    params: Partial<XenParams> = {},
  ) {
    this.params = { ...XEN_DEFAULTS, ...params };
    this.lastFlow = model.clock.now();
    const shared: XenSr = { uuid: spec.sharedSr.uuid, ref: refOf(spec.sharedSr.uuid), name: spec.sharedSr.name, type: 'nfs', shared: true };
    this.addSr(shared);
    const byName = new Map<string, XenHost>();
    for (const h of spec.hosts) {
      if (!model.machines.has(h.name)) throw new LabError(`Xen host ${h.name} is no host of topology ${model.topology.cluster}`);
      const localSr: XenSr = { uuid: h.localSrUuid, ref: refOf(h.localSrUuid), name: 'Local storage', type: 'lvm', shared: false, host: h.uuid };
      this.addSr(localSr);
      const host: XenHost = {
        name: h.name,
        uuid: h.uuid,
        ref: refOf(h.uuid),
        address: h.address,
        memoryTotal: h.memoryTotal,
        memoryOverhead: h.memoryOverhead,
        linkBytesPerMs: h.linkBytesPerMs ?? this.params.linkBytesPerMs,
        localSr,
        controlDomain: h.controlDomain.uuid,
        enabled: true,
        autoEnable: true,
        disabledUntilReboot: false,
        live: true,
        agent: true,
        otherConfig: [],
      };
      this.agentStarted(host);
      this.hosts.set(host.uuid, host);
      byName.set(host.name, host);
      this.refs.set(host.ref, { uuid: host.uuid, name: host.name });
      const d = h.controlDomain;
      this.addVm({
        name: `Control domain on host: ${h.name}`,
        uuid: d.uuid,
        ref: refOf(d.uuid),
        isControlDomain: true,
        domainType: 'pv',
        vcpus: d.vcpus,
        memoryStaticMax: d.memory,
        memoryDynamicMax: d.memory,
        memoryDynamicMin: d.memory,
        memoryStaticMin: d.memory,
        memoryOverhead: vmMemoryOverhead(d.memory, d.vcpus, 'pv'),
        powerState: 'running',
        residentOn: host.uuid,
        haRestartPriority: '',
      });
    }
    const master = byName.get(spec.master);
    if (!master) throw new LabError(`pool master ${spec.master} is no host of the pool`);
    for (const v of spec.vms) {
      const host = v.host === undefined ? undefined : byName.get(v.host);
      if (v.host !== undefined && !host) throw new LabError(`VM ${v.name}: no host ${v.host} in the pool`);
      if (v.localStorage && !host) throw new LabError(`VM ${v.name}: a disk on local storage needs the VM's host`);
      const sr = v.localStorage ? host!.localSr : shared;
      const vdi = uuidFrom(`${spec.uuid}/vdi/${v.uuid}`);
      const vbd = uuidFrom(`${spec.uuid}/vbd/${v.uuid}`);
      this.addVm({
        name: v.name,
        uuid: v.uuid,
        ref: refOf(v.uuid),
        isControlDomain: false,
        domainType: 'hvm',
        vcpus: v.vcpus,
        memoryStaticMax: v.memory,
        memoryDynamicMax: v.memory,
        memoryDynamicMin: v.memory,
        memoryStaticMin: v.memory,
        memoryOverhead: vmMemoryOverhead(v.memory, v.vcpus, 'hvm'),
        sr,
        vdi: { uuid: vdi, ref: refOf(vdi), name: `ROOT-${v.name}`, virtualSize: 20 * GiB },
        vbd: { uuid: vbd, ref: refOf(vbd) },
        powerState: host ? 'running' : 'halted',
        residentOn: host?.uuid,
        haRestartPriority: '',
      });
    }
    this.pool = {
      uuid: spec.uuid,
      ref: refOf(spec.uuid),
      name: spec.name,
      master: master.uuid,
      haEnabled: false,
      haHostFailuresToTolerate: spec.ha.hostFailuresToTolerate,
      haAllowOvercommit: false,
      haStatefiles: [],
      haConfiguration: {},
    };
    this.refs.set(this.pool.ref, { uuid: this.pool.uuid, name: this.pool.name });
    if (spec.ha.enabled) this.armHa([shared], {});
    this.checkMemory();
    model.on('change', () => this.syncPower());
  }

  private addSr(sr: XenSr): void {
    this.srs.set(sr.uuid, sr);
    this.refs.set(sr.ref, { uuid: sr.uuid, name: sr.name });
  }

  private addVm(vm: XenVm): void {
    this.vms.set(vm.uuid, vm);
    this.refs.set(vm.ref, { uuid: vm.uuid, name: vm.name });
  }

  private newTask(name: string): XenTask {
    const uuid = uuidFrom(`${this.pool.uuid}/task/${this.nextTask++}`);
    const task = { uuid, ref: refOf(uuid), name };
    this.refs.set(task.ref, { uuid, name });
    return task;
  }

  private changed(): void {
    this.model.emit('change');
  }

  // ---- lookups -------------------------------------------------------------------------------

  masterHost(): XenHost {
    return this.hosts.get(this.pool.master)!;
  }

  /** By uuid, then name-label / hostname (they are the same here); undefined when none matches. */
  findHost(ref: string): XenHost | undefined {
    return this.hosts.get(ref) ?? [...this.hosts.values()].find((h) => h.name === ref);
  }

  host(ref: string): XenHost {
    const h = this.findHost(ref);
    if (!h) throw new LabError(`no host ${ref} in pool ${this.pool.name}`);
    return h;
  }

  findVm(ref: string): XenVm | undefined {
    return this.vms.get(ref) ?? [...this.vms.values()].find((v) => v.name === ref);
  }

  vm(ref: string): XenVm {
    const v = this.findVm(ref);
    if (!v) throw new LabError(`no VM ${ref} in pool ${this.pool.name}`);
    return v;
  }

  /** Resident VMs (running or paused there), control domain included. */
  residentOn(host: XenHost): XenVm[] {
    return [...this.vms.values()].filter((v) => v.residentOn === host.uuid);
  }

  /** A pool member's xe reaches the master's database (the master's xapi runs). */
  masterAnswers(): boolean {
    return this.masterHost().agent;
  }

  /**
   * What a command run on `host` waits for before it can run: on a member, the master's database
   * (master_connection.ml: retry after 2 s, then 4, 8 ... up to 256 s, for ever). Resolves false if
   * `signal` aborts first.
   */
  async untilMasterAnswers(signal?: AbortSignal): Promise<boolean> {
    let delay = 2000;
    while (!this.masterAnswers()) {
      if (signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const t = this.model.clock.after(delay, done);
        function done() {
          signal?.removeEventListener('abort', stop);
          resolve();
        }
        function stop() {
          t.cancel();
          done();
        }
        signal?.addEventListener('abort', stop);
      });
      delay = Math.min(delay * 2, 256_000);
    }
    return !signal?.aborted;
  }

  // ---- memory (memory_check.ml) --------------------------------------------------------------

  /** vm_compute_used_memory ~policy:Dynamic_min: dynamic-min plus the VM's overhead. */
  usedMemory(vm: XenVm): number {
    return vm.memoryDynamicMin + vm.memoryOverhead;
  }

  /** vm_compute_start_memory (Dynamic_min): what a host must have free to take the VM. */
  startMemory(vm: XenVm): number {
    return (Math.ceil(vm.memoryDynamicMin / MiB) + vm.memoryOverhead / MiB) * MiB;
  }

  /** host_compute_free_memory_with_maximum_compression, not floored at 0; `ignore`: a VM whose reservation here does not count. */
  private rawFree(host: XenHost, ignore?: XenVm): number {
    let used = 0;
    for (const v of this.vms.values()) {
      if (v.residentOn === host.uuid) used += this.usedMemory(v);
      if (v.scheduledOn === host.uuid && v !== ignore) used += this.usedMemory(v);
    }
    return host.memoryTotal - host.memoryOverhead - used;
  }

  /** `xe host-compute-free-memory`: room left for VMs, counting the ones on their way here. */
  freeMemory(host: XenHost, ignore?: XenVm): number {
    return Math.max(0, this.rawFree(host, ignore));
  }

  /** host_metrics memory_free: what Xen has free (here: total - overhead - resident VMs; rrdd samples it in reality). */
  reportedFreeMemory(host: XenHost): number {
    let used = 0;
    for (const v of this.residentOn(host)) used += this.usedMemory(v);
    return Math.max(0, host.memoryTotal - host.memoryOverhead - used);
  }

  /** Invariant: no host ever holds (resident + incoming) more than its memory. */
  checkMemory(): void {
    for (const h of this.hosts.values()) {
      const free = this.rawFree(h);
      if (free < 0) throw new LabError(`Xen host ${h.name}: resident and incoming VMs exceed its memory by ${-free} bytes`);
    }
  }

  // ---- checks (xapi_vm_helpers.ml assert_can_boot_here) --------------------------------------

  private assertCanBootHere(vm: XenVm, host: XenHost, memory: boolean): void {
    if (!host.live) throw new XapiError('HOST_NOT_LIVE');
    const localLive = vm.powerState === 'running' && vm.residentOn === host.uuid;
    if (!vm.isControlDomain && !localLive && !host.enabled) throw new XapiError('HOST_DISABLED', [host.ref]);
    if (vm.sr && !vm.sr.shared && vm.sr.host !== host.uuid) throw new XapiError('VM_REQUIRES_SR', [vm.ref, vm.sr.ref]);
    if (memory) {
      const needed = this.startMemory(vm);
      const available = this.freeMemory(host, vm);
      if (available < needed) throw new XapiError('HOST_NOT_ENOUGH_FREE_MEMORY', [String(needed), String(available)]);
    }
  }

  /** xapi_vm_lifecycle.ml get_operation_error for pool_migrate: power state, control domain, another operation. */
  private migrateError(vm: XenVm): XapiError | undefined {
    if (vm.powerState !== 'running') return new XapiError('VM_BAD_POWER_STATE', [vm.ref, 'running', vm.powerState]);
    if (vm.isControlDomain) return new XapiError('OPERATION_NOT_ALLOWED', ['This operation is not allowed on a control domain']);
    if (vm.operation) return new XapiError('OTHER_OPERATION_IN_PROGRESS', ['VM', vm.ref, vm.operation.op, vm.operation.task.ref]);
    return undefined;
  }

  // ---- host operations -----------------------------------------------------------------------

  /** Host.disable: no error on a disabled host; auto-enable=false keeps it disabled across reboots. */
  disable(host: XenHost, autoEnable = true): void {
    this.assertReachable(host);
    if (host.enabled) host.enabled = false;
    if (!autoEnable) host.autoEnable = false;
    this.changed();
  }

  /** Host.enable (assert_safe_to_reenable): refused while the host is on its way down. */
  enable(host: XenHost): void {
    this.assertReachable(host);
    if (host.enabled) return;
    if (host.disabledUntilReboot) throw new XapiError('HOST_DISABLED_UNTIL_REBOOT', [host.ref]);
    host.autoEnable = true;
    host.enabled = true;
    this.changed();
  }

  /** An operation the master forwards to the host itself (message_forwarding.ml): the host must answer. */
  private assertReachable(host: XenHost): void {
    if (host.agent) return;
    throw host.live ? new XapiError('CANNOT_CONTACT_HOST', [host.ref]) : new XapiError('HOST_OFFLINE', [host.ref]);
  }

  /**
   * Host.reboot: refused unless the host is disabled (HOST_NOT_DISABLED); returns at once. 10 s later
   * the host evacuates what it still runs (what cannot move is shut down), goes down, and is up again
   * `rebootMs` later, enabled unless auto-enable=false (or never, under the stayDownAfterReboot fault).
   */
  reboot(host: XenHost): void {
    this.assertReachable(host);
    if (host.enabled) throw new XapiError('HOST_NOT_DISABLED');
    if (host.shutdownTask) throw new XapiError('OTHER_OPERATION_IN_PROGRESS', ['host', host.ref, 'shutdown', host.shutdownTask.ref]);
    host.shutdownTask = this.newTask('Host is rebooting');
    this.changed();
    this.model.clock.after(this.params.rebootDelayMs, () => void this.goDown(host));
  }

  private async goDown(host: XenHost): Promise<void> {
    if (!host.agent) return;
    host.disabledUntilReboot = true;
    const running = () => this.residentOn(host).filter((v) => !v.isControlDomain && v.powerState === 'running');
    if (running().length) {
      // vm_evacuation.ml ensure_no_vms: the VMs that prevent evacuation are shut down, the others evacuated, the rest shut down
      const prevent = new Set(this.vmsWhichPreventEvacuation(host).map(([vm]) => vm));
      for (const vm of prevent) this.shutdownVm(vm);
      await this.evacuate(host, 0, 'host-reboot').catch(() => undefined);
      for (const vm of running()) this.shutdownVm(vm);
    }
    this.clean.add(host.uuid);
    host.live = false; // the host's last heartbeat says it is shutting down (db_gc.ml tickle_heartbeat)
    this.changed();
    // the reboot's length counts from now, whatever the shutdown's own steps take
    const down = this.model.shutdown(host.name);
    this.model.clock.after(this.params.rebootMs, () => void down.then(() => this.model.powerOn(host.name)));
    await down;
  }

  /** A hard shutdown (what ensure_no_vms does to a VM it cannot move). */
  private shutdownVm(vm: XenVm): void {
    if (vm.operation) return; // a migration in flight lands or fails by itself
    vm.powerState = 'halted';
    vm.residentOn = undefined;
    this.changed();
  }

  /** Follows the machines' power: a host that lost it (reboot, crash, BMC) and one that got it back. */
  private syncPower(): void {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (const h of this.hosts.values()) {
        const m = this.model.machines.get(h.name)!;
        if (h.agent && !m.power) this.hostDown(h);
        // booted: xapi starts after sshd (LabModel.powerOn starts sshd, then says so)
        else if (!h.agent && m.power && m.sshd !== 'down') this.hostUp(h);
      }
    } finally {
      this.syncing = false;
    }
  }

  private hostDown(h: XenHost): void {
    h.agent = false;
    for (const f of [...this.flights]) if (f.from === h || f.to === h) this.fail(f, new XapiError('INTERNAL_ERROR', [REMOTE_FAILED]));
    if (this.clean.delete(h.uuid)) h.live = false;
    else {
      // nobody told the master: it keeps the host live until its heartbeat is overdue
      this.deadTimers.get(h.uuid)?.cancel();
      this.deadTimers.set(
        h.uuid,
        this.model.clock.after(this.params.hostAssumedDeadMs, () => {
          this.deadTimers.delete(h.uuid);
          if (!h.agent) {
            h.live = false;
            this.changed();
          }
        }),
      );
    }
    this.changed();
  }

  /** xapi started on the host (dbsync_slave.ml): boot_time from the machine's last power-on, agent_start_time now. */
  private agentStarted(h: XenHost): void {
    const m = this.model.machine(h.name);
    const boot = Math.floor(this.model.wallMs(m.bootedAt) / 1000);
    // xapi starts some seconds after the kernel (its own clock's now is the boot's instant in the lab)
    const agent = Math.max(boot + AGENT_START_DELAY_S, Math.floor(this.model.wallMs(this.model.clock.now()) / 1000));
    const set = (k: string, v: string) => (h.otherConfig = [[k, v], ...h.otherConfig.filter(([x]) => x !== k)]);
    set('boot_time', ocamlStringOfFloat(boot));
    set('agent_start_time', ocamlStringOfFloat(agent));
  }

  private hostUp(h: XenHost): void {
    h.agent = true;
    h.live = true;
    this.agentStarted(h);
    this.deadTimers.get(h.uuid)?.cancel();
    this.deadTimers.delete(h.uuid);
    // xenopsd has no domain for the guests the host had when it went down: xapi resets them to halted
    for (const v of this.residentOn(h)) if (!v.isControlDomain) this.shutdownVm(v);
    h.shutdownTask = undefined;
    h.evacuateTask = undefined;
    h.disabledUntilReboot = false;
    // consider_enabling_host_nolock: on system boot the host enables itself if host_auto_enable
    h.enabled = h.autoEnable;
    this.changed();
  }

  // ---- evacuation (xapi_host.ml) -------------------------------------------------------------

  /** compute_evacuation_plan_no_wlb: where each of the host's VMs would go, or why it cannot. */
  evacuationPlan(host: XenHost): Map<XenVm, XenHost | XapiError> {
    const targets = [...this.hosts.values()].filter((h) => h.enabled && h !== host);
    const guests = this.residentOn(host).filter((v) => !v.isControlDomain);
    const plans = new Map<XenVm, XenHost | XapiError>();
    if (!targets.length) {
      for (const vm of guests) plans.set(vm, new XapiError('NO_HOSTS_AVAILABLE', [vm.ref]));
      return plans;
    }
    const isProtected = (vm: XenVm) => vm.haRestartPriority === 'restart';
    const protectedVms = this.pool.haEnabled ? guests.filter(isProtected) : guests;
    if (this.pool.haEnabled)
      for (const vm of guests.filter((v) => !isProtected(v))) plans.set(vm, new XapiError('HOST_EVACUATE_VM_NOT_HA_PROTECTED', [vm.ref]));
    const migratable = protectedVms.filter((vm) => {
      try {
        for (const t of targets) this.assertCanBootHere(vm, t, false);
        return true;
      } catch (e) {
        plans.set(vm, e as XapiError);
        return false;
      }
    });
    for (const vm of guests) {
      const e = this.migrateError(vm);
      if (e) plans.set(vm, e);
    }
    const placed = biggestFitDecreasing(
      migratable.map((vm) => [vm, this.startMemory(vm)] as [XenVm, number]),
      targets.map((h) => [h, this.freeMemory(h)] as [XenHost, number]),
    );
    const handled = new Set(placed.map(([vm]) => vm));
    for (const vm of migratable) if (!handled.has(vm)) plans.set(vm, new XapiError('HOST_NOT_ENOUGH_FREE_MEMORY', [vm.ref]));
    for (const [vm, h] of placed) {
      try {
        this.assertCanBootHere(vm, h, false);
      } catch (e) {
        plans.set(vm, e as XapiError);
      }
      if (!plans.has(vm)) plans.set(vm, h);
    }
    // in the order the VMs are resident (xapi walks a hash table: some order)
    return new Map(guests.filter((vm) => plans.has(vm)).map((vm) => [vm, plans.get(vm)!]));
  }

  /** Host.get_vms_which_prevent_evacuation: each VM that cannot move and its error (code, params). */
  vmsWhichPreventEvacuation(host: XenHost): [XenVm, string[]][] {
    const out: [XenVm, string[]][] = [];
    for (const [vm, p] of this.evacuationPlan(host)) if (p instanceof XapiError) out.push([vm, [p.code, ...p.params]]);
    return out;
  }

  /**
   * Host.evacuate: refused with the first VM's error if any VM cannot move; else the VMs migrate
   * `batchSize` at a time (0: the pool's evacuateBatchSize), each as VM.pool_migrate, to the plan's
   * hosts. Resolves when the host holds no guest.
   */
  async evacuate(host: XenHost, batchSize = 0, via: MigrationRecord['via'] = 'host-evacuate'): Promise<void> {
    this.assertReachable(host);
    if (host.evacuateTask) throw new XapiError('OTHER_OPERATION_IN_PROGRESS', ['host', host.ref, 'evacuate', host.evacuateTask.ref]);
    const plans = this.evacuationPlan(host);
    for (const p of plans.values()) if (p instanceof XapiError) throw p;
    const task = (host.evacuateTask = this.newTask('Host.evacuate'));
    try {
      const queue = [...plans].map(([vm, to]) => [vm, to as XenHost] as const);
      const n = Math.max(1, Math.abs(batchSize > 0 ? batchSize : this.params.evacuateBatchSize));
      // the next migration starts as one ends, in the same instant (Tasks.wait_for_all_with_callback)
      await new Promise<void>((resolve, reject) => {
        let running = 0;
        let failed = false;
        const next = () => {
          while (!failed && running < n && queue.length) {
            const [vm, to] = queue.shift()!;
            running++;
            this.migrate(vm, to, via, (e) => {
              running--;
              // evacuate's assert_success: a VM that stopped meanwhile is no failure
              if (e && e.code !== 'VM_BAD_POWER_STATE') {
                failed = true;
                return reject(e);
              }
              next();
            }).catch(() => undefined);
          }
          if (!failed && !running && !queue.length) resolve();
        };
        next();
      });
    } finally {
      if (host.evacuateTask === task) host.evacuateTask = undefined;
    }
    const left = this.residentOn(host).filter((v) => !v.isControlDomain).length;
    if (left) throw new XapiError('INTERNAL_ERROR', [`evacuate: ${left} VMs are still resident on ${host.ref}`]);
  }

  // ---- migration -----------------------------------------------------------------------------

  /**
   * VM.pool_migrate: the checks of message_forwarding.ml (operation, then the destination's
   * assert_can_boot_here with memory), the memory reserved on the destination at once, then the
   * migration itself; resolves when the VM runs on `to`, rejects with the xapi error. A VM already on
   * `to` makes a localhost migration, as xapi does (it needs the memory twice, for the copy).
   * `onEnd` is called in the very instant the migration ends or is refused (before the promise
   * settles): what runs the next one (host-evacuate, a test's `xargs -P`) starts it at that time.
   */
  migrate(vm: XenVm, to: XenHost, via: MigrationRecord['via'] = 'vm-migrate', onEnd?: (error?: XapiError) => void): Promise<void> {
    let from: XenHost;
    try {
      const error = this.migrateError(vm);
      if (error) throw error;
      this.assertCanBootHere(vm, to, true);
      from = this.hosts.get(vm.residentOn!)!;
      this.assertReachable(from); // the source host does the migration (forward_vm_op)
    } catch (e) {
      onEnd?.(e as XapiError);
      return Promise.reject(e);
    }
    vm.scheduledOn = to.uuid;
    vm.operation = { task: this.newTask('VM.pool_migrate'), op: 'pool_migrate' };
    this.checkMemory();
    const record: MigrationRecord = { vm: vm.name, vmUuid: vm.uuid, from: from.name, to: to.name, via, requestedAt: this.model.clock.now() };
    this.migrations.push(record);
    const slow = this.slow.get(vm.uuid) ?? 1;
    this.slow.delete(vm.uuid);
    const fault = this.faults.get(vm.uuid);
    this.faults.delete(vm.uuid);
    const done = new Promise<void>((resolve, reject) => {
      this.flights.push({
        record,
        vm,
        from,
        to,
        phase: 'queued',
        bytesLeft: vm.memoryStaticMax,
        rate: 0,
        slow,
        fault,
        resolve: () => {
          onEnd?.();
          resolve();
        },
        reject: (e) => {
          onEnd?.(e);
          reject(e);
        },
      });
    });
    this.changed();
    this.flow();
    return done;
  }

  /** Migrations in setup or transfer that involve the host (a localhost one counts once). */
  private slotsUsed(h: XenHost): number {
    return this.flights.filter((f) => f.phase !== 'queued' && (f.from === h || f.to === h)).length;
  }

  private startQueued(): void {
    const max = this.params.maxConcurrentMigrations;
    for (const f of this.flights) {
      if (f.phase !== 'queued' || this.slotsUsed(f.from) >= max || this.slotsUsed(f.to) >= max) continue;
      f.phase = 'setup';
      f.record.start = this.model.clock.now();
      f.timer = this.model.clock.after(this.params.migrationSetupMs * f.slow, () => {
        f.timer = undefined;
        // the fault, or a destination that died without the master knowing yet (it is still live)
        if (f.fault === 'contact-remote-service' || !f.to.agent) return this.fail(f, new XapiError('VM_MIGRATE_CONTACT_REMOTE_SERVICE_FAILED'));
        this.flow(); // bring the transfers up to now before this one joins them
        f.phase = 'transfer';
        this.flow();
      });
    }
  }

  /**
   * Advances the transfers to now, lands or fails those done, starts what can start, re-plans the
   * next wake-up. What a landing starts (the next migration of an evacuation) asks for another pass.
   */
  private flow(): void {
    if (this.flowing) {
      this.again = true;
      return;
    }
    this.flowing = true;
    try {
      do {
        this.again = false;
        this.flowOnce();
      } while (this.again);
    } finally {
      this.flowing = false;
    }
  }

  private flowOnce(): void {
    const now = this.model.clock.now();
    const dt = now - this.lastFlow;
    this.lastFlow = now;
    for (const f of this.flights) if (f.phase === 'transfer') f.bytesLeft -= f.rate * dt;
    for (const f of [...this.flights]) {
      if (f.phase !== 'transfer' || !this.flights.includes(f)) continue;
      if (f.fault === 'remote-failed' && f.bytesLeft <= f.vm.memoryStaticMax / 2 + 0.5) this.fail(f, new XapiError('INTERNAL_ERROR', [REMOTE_FAILED]));
      else if (f.bytesLeft <= 0.5) this.land(f);
    }
    this.startQueued();
    const transfers = this.flights.filter((f) => f.phase === 'transfer');
    const load = new Map<XenHost, number>();
    for (const f of transfers) for (const h of new Set([f.from, f.to])) load.set(h, (load.get(h) ?? 0) + 1);
    let wake = Number.POSITIVE_INFINITY;
    for (const f of transfers) {
      f.rate = Math.min(this.params.streamBytesPerMs / f.slow, f.from.linkBytesPerMs / load.get(f.from)!, f.to.linkBytesPerMs / load.get(f.to)!);
      const target = f.fault === 'remote-failed' ? f.vm.memoryStaticMax / 2 : 0;
      wake = Math.min(wake, Math.max(0, f.bytesLeft - target) / f.rate);
    }
    this.flowTimer?.cancel();
    this.flowTimer = Number.isFinite(wake) ? this.model.clock.after(wake, () => this.flow()) : undefined;
  }

  private land(f: Flight): void {
    const i = this.flights.indexOf(f);
    if (i < 0) return;
    this.flights.splice(i, 1);
    const { vm } = f;
    vm.residentOn = f.to.uuid;
    vm.scheduledOn = undefined;
    vm.operation = undefined;
    f.record.end = this.model.clock.now();
    f.record.ok = true;
    this.checkMemory();
    this.changed();
    f.resolve();
  }

  private fail(f: Flight, e: XapiError): void {
    const i = this.flights.indexOf(f);
    if (i < 0) return;
    this.flights.splice(i, 1);
    f.timer?.cancel();
    f.vm.scheduledOn = undefined;
    f.vm.operation = undefined;
    f.record.end = this.model.clock.now();
    f.record.ok = false;
    f.record.error = e.code;
    this.changed();
    f.reject(e);
    this.flow();
  }

  /** Migrations asked for and not ended (queued, setting up or transferring). */
  inFlight(): MigrationRecord[] {
    return this.flights.map((f) => f.record);
  }

  // ---- pool HA -------------------------------------------------------------------------------

  /** Pool.enable_ha (xapi_ha.ml enable): every host live, a shared statefile SR; takes haEnableMs. */
  async haEnable(heartbeatSrs: string[], configuration: Record<string, string>): Promise<void> {
    if (this.pool.haEnabled) throw new XapiError('HA_IS_ENABLED');
    const srs = heartbeatSrs.map((uuid) => {
      const sr = this.srs.get(uuid);
      if (!sr) throw new XapiError('UUID_INVALID', ['SR', uuid]);
      if (!sr.shared) throw new XapiError('HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED', [sr.ref]);
      return sr;
    });
    for (const h of this.hosts.values()) if (!h.live) throw new XapiError('HOST_OFFLINE', [h.ref]);
    const statefileSrs = srs.length ? srs : [...this.srs.values()].filter((s) => s.shared);
    if (!statefileSrs.length) throw new XapiError('CANNOT_CREATE_STATE_FILE');
    await new Promise<void>((r) => this.model.clock.after(this.params.haEnableMs, r));
    this.armHa(statefileSrs, configuration);
    this.changed();
  }

  private armHa(srs: XenSr[], configuration: Record<string, string>): void {
    this.pool.haEnabled = true;
    this.pool.haStatefiles = srs.map((sr) => uuidFrom(`${this.pool.uuid}/statefile/${sr.uuid}`));
    this.pool.haConfiguration = { ...configuration };
  }

  /** Pool.disable_ha: HA_NOT_ENABLED when off; keeps ha-host-failures-to-tolerate. */
  haDisable(): void {
    if (!this.pool.haEnabled) throw new XapiError('HA_NOT_ENABLED');
    this.pool.haEnabled = false;
    this.pool.haStatefiles = [];
    this.pool.haConfiguration = {};
    this.changed();
  }

  /** ha-plan-exists-for: how many host failures the current placement survives (0 without HA). */
  haPlanExistsFor(): number {
    return this.pool.haEnabled ? this.pool.haHostFailuresToTolerate : 0;
  }

  // ---- faults --------------------------------------------------------------------------------

  /** The VM's next migration fails with a real xapi error (see MigrationFault). */
  failNextMigration(vm: XenVm, fault: MigrationFault = 'remote-failed'): void {
    this.faults.set(vm.uuid, fault);
  }

  /** The VM's next migration takes `factor` times as long (setup and stream; the link share stays). */
  slowMigration(vm: XenVm, factor: number): void {
    if (!(factor >= 1)) throw new LabError(`slowMigration: factor ${factor} must be >= 1`);
    this.slow.set(vm.uuid, factor);
  }

  /** The host's next reboot leaves it down (its power-on does nothing) until called again with false. */
  stayDownAfterReboot(host: XenHost, on = true): void {
    this.model.stayOff(host.name, on);
  }

  dispose(): void {
    this.flowTimer?.cancel();
    for (const f of this.flights) f.timer?.cancel();
    for (const t of this.deadTimers.values()) t.cancel();
  }
}

/**
 * binpack.ml biggest_fit_decreasing: things biggest first, each into the bin with the most room
 * left (bins kept sorted, a bin whose room equals another's goes before it); a thing that does not
 * fit there is left out. Both sorts are stable, as OCaml's List.sort.
 */
export function biggestFitDecreasing<A, B>(things: [A, number][], bins: [B, number][]): [A, B][] {
  const desc = <T>(xs: [T, number][]) =>
    xs
      .map((x, i) => [x, i] as const)
      .sort((a, b) => b[0][1] - a[0][1] || a[1] - b[1])
      .map(([x]) => x);
  let room = desc(bins);
  const out: [A, B][] = [];
  for (const [thing, size] of desc(things)) {
    const first = room[0];
    if (!first || first[1] - size < 0) continue;
    const left: [B, number] = [first[0], first[1] - size];
    const rest = room.slice(1);
    const at = rest.findIndex((b) => left[1] >= b[1]);
    room = at < 0 ? [...rest, left] : [...rest.slice(0, at), left, ...rest.slice(at)];
    out.push([thing, first[0]]);
  }
  return out;
}
