/**
 * startLab(): the simulated cluster the real activities reach over real SSH.
 *
 * Per hypervisor: one OpenSSH sshd on its own loopback address with its own host key, whose sessions
 * get PATH=<host bin dir>:... where every stand-in is a symlink to the lab's client: the native build of
 * lab/bin/lab-tool.c (lab/native-client.ts) where the system has a compiler, else lab/bin/lab-tool.js. Real etcd
 * members run on the member hosts' addresses. One lab server holds the shared model. The lab writes
 * the client key, known_hosts and an inventory YAML (validated by parseInventoryYaml) into its dir,
 * and the worker's ipmitool (`workerIpmitool`, for HVFLOW_IPMITOOL): the lab's stand-in, reaching
 * the lab's BMCs as the worker. A BMC relay of the topology gets its own sshd with ipmitool only.
 *
 * A Xen pool topology (lab/xen-topology.ts) starts the same way: one sshd per host, whose bin dir
 * holds `xe` and the generic tools, the pool on the model as `model.xen` (lab/xen.ts); no etcd, no
 * GlusterFS, and a `stack: xen` inventory.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { parseInventoryYaml, type Inventory } from '../domain/inventory';
import { foldNodeset } from '../domain/nodeset';
import { shellQuote } from '../activities/quote';
import { labAddresses } from './addresses';
import { RealClock } from './clock';
import { etcdctlBinary, startEtcdCluster, type EtcdCluster } from './etcd';
import { RealGluster } from './gluster-real';
import { LabModel, type CommandLogEntry } from './model';
import { startLabServer, type ControlRequest, type LabServer } from './server';
import { generateKeyPair, knownHostsLine, startSshd, type SshdHandle } from './sshd';
import { nativeClient } from './native-client';
import { TOOLS, XEN_HOST_TOOLS } from './tools';
import { WORKER_ORIGIN } from './tools/ipmitool';
import { storageAddress, storageName } from './tools/gluster';
import type { ToolContext } from './tools/types';
import { seedTopology, type Topology } from './topology';
import { attachXenPool, type XenParams, type XenPool } from './xen';

export interface LabOptions {
  topology?: Topology;
  /** Lab directory (default: a new temporary one, removed by stop()). */
  dir?: string;
  /** Loopback block of the hosts (default 127.0.2): `127.N.K` a /24 (host i at .(10+i), ≤ 240 hosts), `127.N` a /16 (lab/addresses.ts). */
  addressBase?: string;
  /** sshd port, the same on every host address (default 2222). */
  sshPortBase?: number;
  /** Multiplies every simulated duration (0.1: ten times faster). Default 1. */
  timeScale?: number;
  vmStopMs?: number;
  vmStartMs?: number;
  agentTtlMs?: number;
  /** Simulated ms an orderly reboot (`systemctl reboot`) keeps a host down (lab/model.ts; a Xen host-reboot: `xen.rebootMs`). */
  rebootMs?: number;
  /** Heal entries the other bricks of a server's replica sets collect while its bricks are stopped in order (lab/model.ts; default 0). */
  downHealEntries?: number;
  etcdClientPort?: number;
  etcdPeerPort?: number;
  /**
   * 'simulated' (default): the model answers `gluster` (heal entries at a set rate, faults on demand).
   * 'real': real glusterd, bricks and FUSE mounts of GlusterFS 10 in per-host namespaces
   * (lab/gluster-real.ts; needs root and glusterfs-server).
   */
  gluster?: 'simulated' | 'real';
  /** A Xen pool's timings (simulated ms, bytes per simulated ms; lab/xen.ts XEN_DEFAULTS). */
  xen?: Partial<XenParams>;
  /**
   * The client key another lab made (`lab.clientKey`): one worker, one SSH key, serving both labs'
   * clusters (a farm). Default: a key of its own.
   */
  clientKey?: { privateKeyPath: string; publicKey: string };
}

export interface LabHost {
  name: string;
  address: string;
  port: number;
  binDir: string;
  sshd?: SshdHandle;
}

export interface Lab {
  dir: string;
  inventory: Inventory;
  inventoryPath: string;
  /** The worker's ipmitool (HVFLOW_IPMITOOL): answers from the lab's BMCs, logged as from WORKER_ORIGIN. */
  workerIpmitool: string;
  privateKeyPath: string;
  /** The client key pair (its private half at privateKeyPath), for another lab to share. */
  clientKey: { privateKeyPath: string; publicKey: string };
  knownHostsPath: string;
  socketPath: string;
  model: LabModel;
  hosts: Record<string, LabHost>;
  etcd?: EtcdCluster;
  /** The real GlusterFS pool, in `gluster: 'real'` mode. */
  gluster?: RealGluster;
  /** The Xen pool of a Xen topology (also `model.xen`): its state, migrations and faults. */
  xen?: XenPool;
  commandLog(filter?: { host?: string; tool?: string; mutating?: boolean }): CommandLogEntry[];
  faults: {
    crash(host: string): Promise<void>;
    unreachable(host: string): Promise<void>;
    restore(host: string): Promise<void>;
    hangOnStop(vm: string): void;
    slowHeal(volume: string, entries: number, perSecond: number): void;
    /** The next `commands` lock-taking `gluster volume` commands answer "Another transaction is in progress". */
    glusterBusy(commands: number): void;
    /** The next `commands` fleetctl commands find fleet's etcd unreachable (googleapi: Error 503). */
    fleetUnavailable(commands: number): void;
    slowStart(vm: string, ms: number): void;
    /** The host's power-on does nothing (it stays off) until called again with false. */
    stayOff(host: string, on?: boolean): void;
    /** fping reports `ms` of round trip for the host (0 clears). */
    slowPing(host: string, ms: number): void;
    /** The host's BMC stops answering ipmitool, until called again with false. */
    bmcDown(host: string, on?: boolean): void;
    /** ipmitool run from `origin` (a host, a BMC relay, WORKER_ORIGIN) reaches no BMC, until called again with false. */
    cutOffFromBmcs(origin: string, on?: boolean): void;
  };
  stop(): Promise<void>;
}

/** Tools every host's bin dir holds (a Xen pool's hosts: XEN_HOST_TOOLS, with xe). */
export const LAB_TOOLS = Object.keys(TOOLS).filter((t) => t !== 'xe');
const CLIENT = path.join(__dirname, 'bin', 'lab-tool.js');

export async function startLab(o: LabOptions = {}): Promise<Lab> {
  const topology = o.topology ?? seedTopology();
  const ownDir = o.dir === undefined;
  const dir = path.resolve(o.dir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'hvflow-lab-'))));
  await fsp.mkdir(dir, { recursive: true });
  // HVFLOW_LAB_NET moves every lab of a process (two test runs on one machine must not collide).
  const base = o.addressBase ?? process.env.HVFLOW_LAB_NET ?? '127.0.2';
  const port = o.sshPortBase ?? 2222;
  const relays = topology.bmcRelays ?? [];
  const hookNames = topology.hookHosts ?? [];
  const addresses = labAddresses(base, topology.hosts.length + relays.length + hookNames.length);
  const clock = new RealClock(o.timeScale ?? 1);
  const model = new LabModel(topology, {
    clock,
    vmStopMs: o.vmStopMs,
    vmStartMs: o.vmStartMs,
    agentTtlMs: o.agentTtlMs,
    rebootMs: o.rebootMs,
    downHealEntries: o.downHealEntries,
  });
  if (topology.xen && o.gluster === 'real') throw new Error('a Xen pool lab runs no GlusterFS');
  const xen = topology.xen ? attachXenPool(model, o.xen) : undefined;
  const socketPath = path.join(dir, 'lab.sock');
  const hosts: Record<string, LabHost> = {};
  topology.hosts.forEach((h, i) => {
    hosts[h.name] = { name: h.name, address: addresses[i]!, port, binDir: path.join(dir, 'hosts', h.name, 'bin') };
  });
  // BMC relays: after the hosts, on no host of the model (nothing powers them off).
  const relayHosts: LabHost[] = relays.map((name, i) => ({
    name,
    address: addresses[topology.hosts.length + i]!,
    port,
    binDir: path.join(dir, 'relays', name, 'bin'),
  }));
  // Hook hosts: after the relays, on no host of the model either.
  const hookHosts: LabHost[] = hookNames.map((name, i) => ({
    name,
    address: addresses[topology.hosts.length + relays.length + i]!,
    port,
    binDir: path.join(dir, 'hook-hosts', name, 'bin'),
  }));
  const extraHosts = [...relayHosts, ...hookHosts];

  let server: LabServer | undefined;
  let etcd: EtcdCluster | undefined;
  let gluster: RealGluster | undefined;
  const stopped = { value: false };

  const stop = async () => {
    if (stopped.value) return;
    stopped.value = true;
    model.dispose();
    xen?.dispose();
    clock.dispose();
    await Promise.all(
      [...Object.values(hosts), ...extraHosts].map(async (h) => {
        if (!h.sshd) return;
        try {
          process.kill(h.sshd.pid, 'SIGCONT'); // a paused sshd must be able to die
        } catch {
          /* gone */
        }
        await h.sshd.stop();
      }),
    );
    await etcd?.stopAll();
    await gluster?.stop();
    await server?.close();
    if (ownDir) await fsp.rm(dir, { recursive: true, force: true });
  };
  // On process exit without stop(), sshd.ts and etcd.ts kill their children themselves.

  try {
    const stopAllScript = path.join(dir, 'scripts', 'stop-all-gluster-processes.sh');
    const etcdClientPort = o.etcdClientPort ?? 2379;
    const facilities: ToolContext['lab'] = {
      etcdctl: etcdctlBinary(),
      etcdEndpoints: Object.fromEntries(topology.etcdMembers.map((m) => [m, `http://${hosts[m].address}:${etcdClientPort}`])),
    };
    server = await startLabServer({
      model,
      socketPath,
      lab: facilities,
      control: (req) => control(model, req),
      ipmiOrigins: [WORKER_ORIGIN, ...relays],
      hookOrigins: hookNames,
    });
    // The native client where a compiler built it: a cold read runs fleetctl once per unit, and 500
    // hosts run their umount / systemctl / systemd-run at once (the worker its ipmitool); a Node start each is the lab's cost, not hvflow's.
    const native = await nativeClient();
    const standIn = native ?? CLIENT;
    const workerIpmitool = await writeWorkerIpmitool(path.join(dir, 'worker'), socketPath, standIn);

    const keyDir = path.join(dir, 'keys');
    await fsp.mkdir(keyDir, { recursive: true });
    const client = o.clientKey ?? (await generateKeyPair(path.join(keyDir, 'id_ed25519')));
    await fsp.mkdir(path.dirname(stopAllScript), { recursive: true });
    await fsp.symlink(CLIENT, stopAllScript).catch(ignoreExists);

    const sshdOptions = (h: LabHost) => ({
      hostName: h.name,
      address: h.address,
      port: h.port,
      dir: path.join(path.dirname(h.binDir), 'sshd'),
      authorizedKeys: [client.publicKey],
      hostKeyPath: path.join(path.dirname(h.binDir), 'ssh_host_ed25519_key'),
      env: {
        PATH: `${h.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        HVFLOW_LAB_HOST: h.name,
        HVFLOW_LAB_SOCKET: socketPath,
      },
    });
    const etcdPromise = topology.etcdMembers.length
      ? startEtcdCluster({
          members: topology.etcdMembers.map((name) => ({ name, address: hosts[name].address })),
          dir: path.join(dir, 'etcd'),
          clientPort: etcdClientPort,
          peerPort: o.etcdPeerPort ?? 2380,
        })
      : Promise.resolve(undefined);
    const glusterPromise = o.gluster === 'real' ? startRealGluster(topology, model, path.join(dir, 'gluster')) : Promise.resolve(undefined);
    // A hypervisor's bin dir holds every stand-in; a BMC relay's, ipmitool only.
    await Promise.all(
      [...Object.values(hosts), ...extraHosts].map(async (h) => {
        await fsp.mkdir(h.binDir, { recursive: true });
        const tools = relayHosts.includes(h) ? ['ipmitool'] : hookHosts.includes(h) ? ['lab-hook'] : xen ? XEN_HOST_TOOLS : LAB_TOOLS;
        for (const t of tools) await fsp.symlink(standIn, path.join(h.binDir, t)).catch(ignoreExists);
        h.sshd = await startSshd(sshdOptions(h));
      }),
    );
    // Both settle before either failure is thrown: stop() must find whatever did start.
    const [etcdStarted, glusterStarted] = await Promise.allSettled([etcdPromise, glusterPromise]);
    if (etcdStarted.status === 'fulfilled') etcd = etcdStarted.value;
    if (glusterStarted.status === 'fulfilled') gluster = facilities.gluster = glusterStarted.value;
    for (const r of [etcdStarted, glusterStarted]) if (r.status === 'rejected') throw r.reason;

    model.effects = {
      etcd: async (host, action) => {
        if (!etcd) return;
        if (action === 'stop') await etcd.stopMember(host);
        else if (action === 'kill') await etcd.killMember(host);
        else await etcd.startMember(host);
      },
      sshd: async (host, action) => {
        const h = hosts[host];
        if (action === 'stop') await h.sshd?.stop();
        else if (action === 'start')
          h.sshd = await startSshd(sshdOptions(h)); // same host key file
        // the listener and every connection process: a pooled connection must stop answering too
        else if (action === 'pause') h.sshd?.pause();
        else h.sshd?.resume();
      },
      gluster: async (host, action) => {
        if (!gluster?.has(host)) return;
        if (action === 'kill') await gluster.kill(host);
        else await gluster.boot(host);
      },
    };

    const knownHostsPath = path.join(keyDir, 'known_hosts');
    await fsp.writeFile(
      knownHostsPath,
      [...Object.values(hosts), ...extraHosts]
        .map((h) => knownHostsLine({ address: h.address, port: h.port, hostKeyPublic: h.sshd!.hostKeyPublic }) + '\n')
        .join(''),
    );

    const labHookPath = path.join(dir, 'scripts', 'lab-hook');
    await fsp.symlink(CLIENT, labHookPath).catch(ignoreExists);
    const hooks = hooksOf(topology, labHookPath, hookHosts);
    const inventoryText = xen
      ? xenInventoryYaml(topology, hosts, port, hooks)
      : inventoryYaml(topology, hosts, relayHosts, port, etcdClientPort, stopAllScript, hooks);
    const inventoryPath = path.join(dir, 'inventory.yaml');
    await fsp.writeFile(inventoryPath, inventoryText);
    const inventory = parseInventoryYaml(inventoryText, inventoryPath);

    return {
      dir,
      inventory,
      inventoryPath,
      workerIpmitool,
      privateKeyPath: client.privateKeyPath,
      clientKey: client,
      knownHostsPath,
      socketPath,
      model,
      hosts,
      etcd,
      gluster,
      xen,
      commandLog: (filter) => model.commandLog(filter),
      faults: {
        crash: (h) => model.crash(h),
        unreachable: (h) => model.unreachable(h),
        restore: (h) => model.restore(h),
        hangOnStop: (vm) => model.hangOnStop(vm),
        slowHeal: (v, n, r) => {
          if (gluster) throw new Error('slowHeal sets simulated heal entries; with real GlusterFS use lab.gluster.pendingHeal() and lab.gluster.selfHeal()');
          model.slowHeal(v, n, r);
        },
        glusterBusy: (n) => {
          if (gluster) throw new Error('glusterBusy makes the simulated gluster answer busy; real glusterd is busy only when it is');
          model.glusterBusy(n);
        },
        fleetUnavailable: (n) => model.fleetUnavailable(n),
        slowStart: (vm, ms) => model.slowStart(vm, ms),
        stayOff: (h, on) => model.stayOff(h, on),
        slowPing: (h, ms) => model.slowPing(h, ms),
        bmcDown: (h, on) => model.bmcDown(h, on),
        cutOffFromBmcs: (origin, on) => model.cutOffFromBmcs(origin, on),
      },
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/** The topology's GlusterFS servers and clients as real hosts, named and addressed as the simulation names them. */
function startRealGluster(t: Topology, model: LabModel, dir: string): Promise<RealGluster> {
  const names = [...new Set([...t.volumes.flatMap((v) => v.servers), ...t.glusterClients])];
  return RealGluster.start({
    dir,
    hosts: names.map((name) => ({ name, storageName: storageName(model.machine(name)), storageAddress: storageAddress(model.machine(name)) })),
    volumes: t.volumes.map((v) => ({ name: v.name, servers: v.servers, replica: v.replica, shardBlockSize: v.shardBlockSize })),
    clients: t.glusterClients,
  });
}

/**
 * The worker's ipmitool: a wrapper (HVFLOW_IPMITOOL points at it) that runs the lab's stand-in as
 * the worker, with the lab's socket set here: the worker gives its ipmitool no environment of its own.
 * `labClient`: the native build runs as it is; lab-tool.js through this Node (the worker may have no
 * `node` on its PATH).
 */
async function writeWorkerIpmitool(dir: string, socketPath: string, labClient: string): Promise<string> {
  await fsp.mkdir(path.join(dir, 'bin'), { recursive: true });
  const standIn = path.join(dir, 'bin', 'ipmitool');
  await fsp.symlink(labClient, standIn).catch(ignoreExists);
  const wrapper = path.join(dir, 'ipmitool');
  const q = shellQuote;
  await fsp.writeFile(
    wrapper,
    `#!/bin/sh\n# hvflow lab: the worker's ipmitool (HVFLOW_IPMITOOL), answered by the lab's BMCs\n` +
      `HVFLOW_LAB_SOCKET=${q(socketPath)} HVFLOW_LAB_HOST=${q(WORKER_ORIGIN)} exec ${labClient === CLIENT ? `${q(process.execPath)} ` : ''}${q(standIn)} "$@"\n`,
    { mode: 0o755 },
  );
  return wrapper;
}

function ignoreExists(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EEXIST') throw e;
}

/** Faults and queries a running lab accepts from `lab/cli.ts` through its socket. */
async function control(model: LabModel, req: ControlRequest): Promise<unknown> {
  const [a, b, c] = req.args;
  switch (req.op) {
    case 'crash':
      return model.crash(String(a));
    case 'unreachable':
      return model.unreachable(String(a));
    case 'restore':
      return model.restore(String(a));
    case 'powerOn':
      return model.powerOn(String(a));
    case 'hangOnStop':
      return model.hangOnStop(String(a));
    case 'slowStart':
      return model.slowStart(String(a), Number(b));
    case 'slowHeal':
      return model.slowHeal(String(a), Number(b), Number(c));
    case 'glusterBusy':
      return model.glusterBusy(Number(a));
    case 'fleetUnavailable':
      return model.fleetUnavailable(Number(a));
    case 'bmcDown':
      return model.bmcDown(String(a));
    case 'bmcUp':
      return model.bmcDown(String(a), false);
    case 'cutOffFromBmcs':
      return model.cutOffFromBmcs(String(a));
    case 'reconnectToBmcs':
      return model.cutOffFromBmcs(String(a), false);
    case 'log':
      return model.commandLog(a === undefined ? {} : { host: String(a) });
    default:
      throw new Error(`unknown control operation ${String(req.op)}`);
  }
}

/**
 * A Xen pool's inventory: the stack, the hosts (the first is the control host), the VMs never to
 * touch; no role and no capacity (the pool reports its memory), no guards.
 */
/** The topology's hooks as inventory hooks running the lab's lab-hook, with the hook hosts they may run on. */
function hooksOf(t: Topology, labHook: string, hookHosts: LabHost[]): Record<string, unknown> | undefined {
  const hooks = t.hooks && Object.fromEntries(Object.entries(t.hooks).map(([name, h]) => [name, { on: h!.on, command: [labHook, ...h!.args] }]));
  return {
    ...(hooks ? { hooks } : {}),
    ...(hookHosts.length ? { hookHosts: hookHosts.map((h) => ({ name: h.name, address: h.address })) } : {}),
  };
}

export function xenInventoryYaml(t: Topology, hosts: Record<string, LabHost>, sshPort: number, hooks?: Record<string, unknown>): string {
  const doc = {
    cluster: t.cluster,
    stack: 'xen',
    controlHost: t.controlHost,
    ssh: { user: os.userInfo().username, port: sshPort },
    hypervisors: t.hosts.map((h) => ({ name: h.name, address: hosts[h.name]!.address, bmc: h.bmc })),
    ...(t.neverTouch ? { vms: { neverTouch: t.neverTouch } } : {}),
    ...hooks,
  };
  return `# hvflow lab inventory (generated by lab/index.ts; addresses are the lab's sshd loopback addresses)\n${stringify(doc)}`;
}

function inventoryYaml(
  t: Topology,
  hosts: Record<string, LabHost>,
  relays: LabHost[],
  sshPort: number,
  etcdPort: number,
  stopAllScript: string,
  hooks?: Record<string, unknown>,
): string {
  const doc = {
    cluster: t.cluster,
    controlHost: t.controlHost,
    ssh: { user: os.userInfo().username, port: sshPort },
    hypervisors: t.hosts.map((h) => ({ name: h.name, role: h.role, address: hosts[h.name].address, bmc: h.bmc, capacity: h.capacity })),
    groups: t.groups,
    ...(t.etcdMembers.length ? { etcd: { members: foldNodeset(t.etcdMembers), endpointPattern: `http://%a:${etcdPort}`, apiVersion: 2 } } : {}),
    ...(t.volumes.length
      ? {
          gluster: {
            volumes: t.volumes.map((v) => ({ name: v.name, servers: foldNodeset(v.servers) })),
            clients: foldNodeset(t.glusterClients),
            stopAllScript,
          },
        }
      : {}),
    vms: {
      unitPattern: 'pcocc-vm-%s.service',
      ...(t.dhcp ? { dhcp: t.dhcp } : {}),
      ...(t.dns ? { dns: t.dns } : {}),
      ...(t.neverTouch ? { neverTouch: t.neverTouch } : {}),
    },
    ...(relays.length ? { bmcRelays: relays.map((r) => ({ name: r.name, address: r.address })) } : {}),
    ...hooks,
  };
  return `# hvflow lab inventory (generated by lab/index.ts; addresses are the lab's sshd loopback addresses)\n${stringify(doc)}`;
}
