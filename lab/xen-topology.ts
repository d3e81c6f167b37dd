/**
 * Generated XenServer pools (seed 003) of any size: hosts xs1..xsN (or the names given), guest VMs
 * of 1-16 GiB placed on the least loaded host, and hosts sized so that every host keeps 10-40 %
 * headroom and the pool is N+1: any one host's VMs fit on the others (as xapi's evacuation would
 * place them, biggest first onto the host with the most room). Deterministic from the seed.
 *
 * The result is a lab Topology whose hosts carry no fleet unit, etcd member or GlusterFS brick, and
 * whose `xen` part lab/xen.ts runs.
 */
import { createHash } from 'node:crypto';
import { rng } from './random';
import { machineIdFrom, type TopoHost, type Topology, type TopoXenHost, type TopoXenVm } from './topology';
import { biggestFitDecreasing, GiB, MiB, uuidFrom, vmMemoryOverhead } from './xen';

export interface XenPoolTopologyOptions {
  /** Cluster (inventory) and pool name; default 'xenpool'. */
  cluster?: string;
  /** How many hosts (named xs1..xsN), or their names. At least 2: one host is no N+1 pool. */
  hosts: number | string[];
  /** How many guest VMs (named vm1..vmN), or their names. */
  vms: number | string[];
  seed?: number;
  /** The master; default the first host. */
  master?: string;
  /** Memory of a VM, in GiB, drawn in [min, max]; default [1, 16]. */
  vmMemoryGiB?: [number, number];
  /** Free share of each host's VM memory, drawn in [min, max]; default [0.1, 0.4] (more if N+1 needs it). */
  headroom?: [number, number];
  /** VMs whose disk is on their host's local SR: names, or how many (the last ones). */
  localStorage?: number | string[];
  /** VMs left halted (no host): names. */
  halted?: string[];
  /** VMs placed on a given host (name -> host); the others go to the least loaded host. */
  on?: Record<string, string>;
  /** Inventory vms.neverTouch (a nodeset of VM names). */
  neverTouch?: string;
  /** Pool HA as the run finds it; default on, tolerating one host failure. */
  ha?: { enabled: boolean; hostFailuresToTolerate: number };
  /** Control domain memory; default 4 GiB. */
  dom0MemoryGiB?: number;
}

const hex = (s: string) => createHash('sha1').update(s).digest('hex');

export function xenPoolTopology(o: XenPoolTopologyOptions): Topology {
  const cluster = o.cluster ?? 'xenpool';
  const seed = o.seed ?? 1;
  const rand = rng(seed);
  const hostNames = typeof o.hosts === 'number' ? Array.from({ length: o.hosts }, (_, i) => `xs${i + 1}`) : [...o.hosts];
  const vmNames = typeof o.vms === 'number' ? Array.from({ length: o.vms }, (_, i) => `vm${i + 1}`) : [...o.vms];
  if (hostNames.length < 2) throw new Error('a Xen pool topology needs at least 2 hosts (N+1)');
  if (new Set(hostNames).size !== hostNames.length) throw new Error('Xen pool topology: duplicate host names');
  if (new Set(vmNames).size !== vmNames.length) throw new Error('Xen pool topology: duplicate VM names');
  const master = o.master ?? hostNames[0]!;
  if (!hostNames.includes(master)) throw new Error(`Xen pool topology: master ${master} is not one of its hosts`);
  const id = (kind: string, name: string) => uuidFrom(`${cluster}/${seed}/${kind}/${name}`);
  const [minGiB, maxGiB] = o.vmMemoryGiB ?? [1, 16];
  const [minRoom, maxRoom] = o.headroom ?? [0.1, 0.4];
  const dom0Memory = (o.dom0MemoryGiB ?? 4) * GiB;
  const dom0Vcpus = 8;
  const dom0Used = dom0Memory + vmMemoryOverhead(dom0Memory, dom0Vcpus, 'pv');
  const halted = new Set(o.halted ?? []);
  const local = new Set(typeof o.localStorage === 'number' ? vmNames.slice(vmNames.length - o.localStorage) : (o.localStorage ?? []));

  // VMs on the least loaded host (memory), in order
  const load = new Map(hostNames.map((h) => [h, 0]));
  const vms: TopoXenVm[] = vmNames.map((name) => {
    const memory = (minGiB + Math.floor(rand() * (maxGiB - minGiB + 1))) * GiB;
    const vcpus = 1 + Math.floor(rand() * 8);
    const vm: TopoXenVm = { name, uuid: id('vm', name), memory, vcpus };
    if (!halted.has(name)) {
      const host = o.on?.[name] ?? [...load.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
      if (!load.has(host)) throw new Error(`Xen pool topology: VM ${name} on ${host}, which is not one of its hosts`);
      load.set(host, load.get(host)! + memory + vmMemoryOverhead(memory, vcpus, 'hvm'));
      vm.host = host;
      if (local.has(name)) vm.localStorage = true;
    }
    return vm;
  });

  // One size for every host: the busiest keeps the headroom, and the pool must be N+1.
  const room = minRoom + rand() * (maxRoom - minRoom);
  const busiest = Math.max(...load.values());
  let guestMemory = Math.ceil((busiest + dom0Used) / (1 - room) / GiB) * GiB;
  const overheadOf = (total: number) => Math.round((total * 0.01) / MiB) * MiB;
  const totalOf = (guest: number) => guest + overheadOf(guest);
  while (!nPlusOne(vms, hostNames, guestMemory - dom0Used)) guestMemory += GiB;

  const hosts: TopoHost[] = [];
  const xenHosts: TopoXenHost[] = [];
  hostNames.forEach((name, i) => {
    const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    hosts.push({
      name,
      role: 'worker', // the fleet model's machine; a Xen inventory has no role
      machineId: machineIdFrom(hex(`${seed}/${name}`).slice(0, 8), name),
      ip,
      metadata: { hostname: name },
      bmc: ip.replace(/^10\.1\./, '10.2.'),
      capacity: 0, // a Xen pool reports its memory: the inventory holds no capacity
    });
    const memoryTotal = totalOf(guestMemory);
    xenHosts.push({
      name,
      uuid: id('host', name),
      address: ip,
      memoryTotal,
      memoryOverhead: memoryTotal - guestMemory,
      localSrUuid: id('sr', name),
      controlDomain: { uuid: id('dom0', name), memory: dom0Memory, vcpus: dom0Vcpus },
    });
  });

  return {
    cluster,
    controlHost: master,
    hosts,
    units: [],
    etcdMembers: [],
    volumes: [],
    glusterClients: [],
    groups: {},
    ...(o.neverTouch ? { neverTouch: o.neverTouch } : {}),
    xen: {
      uuid: id('pool', cluster),
      name: cluster,
      master,
      hosts: xenHosts,
      vms,
      sharedSr: { uuid: id('sr', 'shared'), name: 'NFS virtual disk storage' },
      ha: o.ha ?? { enabled: true, hostFailuresToTolerate: 1 },
    },
  };
}

/**
 * Whether every host's VMs (the movable ones: not on local storage) fit on the other hosts, each
 * with `capacity` bytes for guests, packed as xapi's evacuation packs them.
 */
function nPlusOne(vms: TopoXenVm[], hosts: string[], capacity: number): boolean {
  const used = (h: string) => vms.filter((v) => v.host === h).reduce((s, v) => s + v.memory + vmMemoryOverhead(v.memory, v.vcpus, 'hvm'), 0);
  for (const h of hosts) {
    const moving = vms
      .filter((v) => v.host === h && !v.localStorage)
      .map((v) => [v, v.memory + vmMemoryOverhead(v.memory, v.vcpus, 'hvm')] as [TopoXenVm, number]);
    const others = hosts.filter((x) => x !== h).map((x) => [x, capacity - used(x)] as [string, number]);
    if (biggestFitDecreasing(moving, others).length !== moving.length) return false;
  }
  return true;
}
