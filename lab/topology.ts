/**
 * Lab topologies: the seeds' "Ocean" cluster (seeds 000-002) and generated ones by size.
 *
 * A topology is plain data: hosts (with fleet machine ids, IPs and metadata as `fleetctl
 * list-machines` prints them), fleet units (VMs with Weight, constraints and where they run),
 * etcd members and GlusterFS volumes. The model (lab/model.ts) turns it into live state.
 */
import { createHash } from 'node:crypto';
import { rng } from './random';

export type Role = 'top' | 'worker' | 'islet' | 'router';

export interface TopoHost {
  name: string;
  role: Role;
  /** fleet machine id (32 hex); list-machines shows the first 8 and "...". */
  machineId: string;
  /** The IP fleet reports (seed 002), not the lab's loopback address. */
  ip: string;
  /** fleet metadata (the seeds' patched fleet adds hostname). */
  metadata: Record<string, string>;
  bmc: string;
  capacity: number;
}

export interface TopoUnit {
  vm: string;
  weight: number;
  /** X-Fleet MachineMetadata lines: OR between lines with the same key, AND between keys. */
  machineMetadata: string[];
  /** Desired state. */
  dstate: 'inactive' | 'loaded' | 'launched';
  /** Host it is scheduled on (undefined: unscheduled). */
  host?: string;
  /** pcocc job id. */
  jobId: number;
  /** Seconds since the VM started (pcocc ps DURATION). */
  uptimeSeconds: number;
  /** Hash as the seeds print it; derived from the unit text when absent. */
  hash?: string;
}

export interface TopoVolume {
  name: string;
  /**
   * `replicate`: replica sets of `replica` bricks (several sets: distributed-replicate), healed by the
   * self-heal daemon; `distribute`: one brick per server, each file on one brick, no heal (replica 1).
   */
  type: 'replicate' | 'distribute';
  servers: string[];
  replica: number;
  shardBlockSize: string;
}

export interface Topology {
  cluster: string;
  controlHost: string;
  hosts: TopoHost[];
  units: TopoUnit[];
  etcdMembers: string[];
  volumes: TopoVolume[];
  /** Hosts mounting the volumes (fuse.glusterfs). */
  glusterClients: string[];
  groups: Record<string, string>;
  dhcp?: string;
  dns?: string;
  neverTouch?: string;
  /** Hosts that are no hypervisor but reach the BMCs (inventory bmcRelays): the lab runs an sshd for each, with ipmitool only. */
  bmcRelays?: string[];
}

/** Deterministic 32-hex id that starts with the given prefix. */
export function machineIdFrom(prefix: string, salt: string): string {
  const tail = createHash('sha1').update(salt).digest('hex');
  return (prefix + tail).slice(0, 32);
}

// seed 002, fleetctl list-machines
const SEED_MACHINES: [string, Role, string, string, string][] = [
  // name, inventory role, machine id prefix, fleet IP, fleet role metadata
  ['top1', 'top', '944cd548', '10.1.0.1', 'top'],
  ['top2', 'top', '29b0afbf', '10.1.0.2', 'top'],
  ['top3', 'top', '3280f87e', '10.1.0.3', 'top'],
  ['worker1', 'worker', 'a1ff44e6', '10.1.0.4', 'top'],
  ['worker2', 'worker', 'c8014c48', '10.1.0.5', 'top'],
  ['worker3', 'worker', '9dde1b72', '10.1.0.6', 'top'],
  ['islet12', 'islet', '24d45a17', '10.1.0.12', 'islet'],
  ['islet13', 'islet', '5b285f6d', '10.1.0.13', 'islet'],
  ['islet38', 'islet', '5e1a5a8f', '10.1.0.38', 'islet'],
  ['islet39', 'islet', '21f839cc', '10.1.0.39', 'islet'],
  ['islet54', 'islet', 'a858697c', '10.1.0.54', 'islet'],
  ['islet55', 'islet', '551bb3cf', '10.1.0.55', 'islet'],
  ['irene271', 'router', '70b8f750', '10.8.0.171', 'router'],
];

const TOP = ['role=top'];
const pin = (...hosts: string[]) => hosts.map((h) => `hostname=${h}`);

/**
 * Seed units: placement from seed 002's pcocc ps / list-units / list-unit-files, Weights chosen so
 * that the management hosts' loads are seed 000's measurement (top1 20000, top2 24000, top3 20000,
 * worker1 20000, worker2 58000, worker3 50000) and islet55 / irene271 match seed 002's clush figures.
 */
const SEED_UNITS: [
  vm: string,
  host: string | undefined,
  weight: number,
  constraint: string[],
  jobId: number,
  uptime: string,
  hash?: string,
  dstate?: TopoUnit['dstate'],
][] = [
  ['admin1', 'top1', 4000, TOP, 524, '4 days, 3:08:50', '7b97047'],
  ['batch1', 'top1', 4000, TOP, 518, '4 days, 3:08:53', 'f31950f'],
  ['infra1', 'top1', 2000, TOP, 529, '4 days, 3:08:48'],
  ['infra2', 'top1', 2000, TOP, 532, '4 days, 3:08:46'],
  ['siteprep2', 'top1', 8000, TOP, 294, '19 days, 23:26:38'],
  ['admin2', 'top2', 8000, TOP, 528, '4 days, 3:08:49', '4faba09'],
  ['i0conf2', 'top2', 8000, TOP, 523, '4 days, 3:08:51', '285ac8a'],
  ['i0log1', 'top2', 8000, TOP, 531, '4 days, 3:08:46'],
  ['batch2', 'top3', 4000, TOP, 522, '4 days, 3:08:51', 'aa142d2'],
  ['db1', 'top3', 6000, TOP, 534, '4 days, 3:08:41', 'a0820a4'],
  ['lb1', 'top3', 4000, TOP, 533, '4 days, 3:08:45'],
  ['ns3', 'top3', 2000, TOP, 535, '4 days, 3:08:39', 'ff5cf2a'],
  ['nsrelay1', 'top3', 2000, TOP, 527, '4 days, 3:08:49'],
  ['webrelay1', 'top3', 2000, TOP, 536, '4 days, 3:08:36'],
  ['i0conf1', 'worker1', 16000, TOP, 525, '4 days, 3:08:50', '8a1579d'],
  ['ns1', 'worker1', 2000, TOP, 530, '4 days, 3:08:47'],
  ['ns2', 'worker1', 2000, TOP, 521, '4 days, 3:08:52'],
  ['auto1', 'worker2', 30000, TOP, 537, '4 days, 3:08:35'],
  ['monitor1', 'worker2', 28000, TOP, 538, '4 days, 3:08:34'],
  ['batch3', 'worker3', 40000, TOP, 539, '4 days, 3:08:33'],
  ['lb2', 'worker3', 10000, TOP, 519, '4 days, 3:08:52'],
  // islets: each islet VM may run on either host of its islet pair
  ['i12conf1', 'islet12', 4000, pin('islet12', 'islet13'), 540, '0:00:00', undefined, 'loaded'],
  ['i12conf2', 'islet13', 4000, pin('islet12', 'islet13'), 541, '0:00:00', undefined, 'loaded'],
  ['i38dkless1', 'islet39', 20000, pin('islet38', 'islet39'), 551, '2 days, 16:15:06'],
  ['i38dkless2', 'islet38', 24000, pin('islet38', 'islet39'), 550, '2 days, 16:15:07'],
  ['i54conf1', 'islet55', 4000, pin('islet54', 'islet55'), 548, '4 days, 2:29:43'],
  ['i54conf2', 'islet55', 4000, pin('islet54', 'islet55'), 547, '4 days, 2:29:45'],
  ['i54dkless1', 'islet55', 12000, pin('islet54', 'islet55'), 520, '4 days, 3:08:52'],
  ['i54dkless2', 'islet55', 12000, pin('islet54', 'islet55'), 549, '3 days, 20:47:32'],
  ['i54log1', 'islet55', 12000, pin('islet54', 'islet55'), 526, '4 days, 3:08:49'],
  // islet42 is not a fleet member: these stay loaded and unscheduled (list-unit-files "loaded inactive -")
  ['i42conf2', undefined, 4000, pin('islet42'), 542, '0:00:00', '0dfffef', 'loaded'],
  ['i42dkless1', undefined, 12000, pin('islet42'), 543, '0:00:00', '4dce60d', 'loaded'],
  ['i42dkless2', undefined, 12000, pin('islet42'), 544, '0:00:00', 'da95002', 'loaded'],
  ['i42log1', undefined, 12000, pin('islet42'), 552, '0:00:00', '79a68f4', 'loaded'],
  // service routers
  ['irene271a', 'irene271', 60000, pin('irene271'), 546, '4 days, 2:31:19'],
  ['irene271b', 'irene271', 60000, pin('irene271'), 545, '4 days, 2:31:23'],
];

function parseUptime(s: string): number {
  const m = /^(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)$/.exec(s);
  if (!m) throw new Error(`bad uptime ${s}`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

export function seedTopology(): Topology {
  const hosts: TopoHost[] = SEED_MACHINES.map(([name, role, prefix, ip, fleetRole]) => ({
    name,
    role,
    machineId: machineIdFrom(prefix, name),
    ip,
    metadata: { hostname: name, role: fleetRole },
    bmc: ip.replace(/^10\.(\d+)\./, (_, b: string) => `10.${Number(b) + 1}.`),
    capacity: role === 'router' ? 200000 : role === 'islet' ? 60000 : 100000,
  }));
  const units: TopoUnit[] = SEED_UNITS.map(([vm, host, weight, machineMetadata, jobId, uptime, hash, dstate]) => ({
    vm,
    host,
    weight,
    machineMetadata,
    jobId,
    uptimeSeconds: parseUptime(uptime),
    hash,
    dstate: dstate ?? 'launched',
  }));
  return {
    cluster: 'ocean',
    controlHost: 'top1',
    hosts,
    units,
    etcdMembers: ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'],
    volumes: ['volspoms1', 'volspoms2'].map((name) => ({ name, type: 'replicate', servers: ['top1', 'top2', 'top3'], replica: 3, shardBlockSize: '64MB' })),
    glusterClients: ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'],
    groups: { island_worker: 'islet[12-13,38-39,54-55]' },
    dhcp: 'infra[1-2]',
    dns: 'ns[1-3]',
    neverTouch: 'irene271a,irene271b',
  };
}

/**
 * A cluster of the given size for scale tests: 3 top hosts (etcd, GlusterFS servers), the rest
 * workers (fleet role=top, as in the seeds); VMs with Weights 1000-8000 spread on the least loaded
 * host, so that the cluster stays N+1. `glusterClients`: how many hypervisors, in order, mount the
 * volumes (default all; the others are neither GlusterFS server nor client). `volumes`: default one
 * replicated volume on top1-3.
 */
export function generateTopology(o: { hypervisors: number; vms: number; seed?: number; glusterClients?: number; volumes?: TopoVolume[] }): Topology {
  if (o.hypervisors < 3) throw new Error('a generated topology needs at least 3 hypervisors');
  const rand = rng(o.seed ?? 1);
  const hosts: TopoHost[] = [];
  for (let i = 1; i <= o.hypervisors; i++) {
    const top = i <= 3;
    const name = top ? `top${i}` : `hv${i - 3}`;
    const ip = `10.${10 + Math.floor(i / 250)}.0.${(i % 250) + 1}`;
    hosts.push({
      name,
      role: top ? 'top' : 'worker',
      machineId: machineIdFrom(
        createHash('sha1')
          .update(`${o.seed ?? 1}/${name}`)
          .digest('hex')
          .slice(0, 8),
        name,
      ),
      ip,
      metadata: { hostname: name, role: 'top' },
      bmc: ip.replace(/^10\.(\d+)\./, (_, b: string) => `10.${Number(b) + 100}.`),
      capacity: 100000,
    });
  }
  const load = new Map(hosts.map((h) => [h.name, 0]));
  const units: TopoUnit[] = [];
  for (let i = 1; i <= o.vms; i++) {
    const weight = 1000 * (1 + Math.floor(rand() * 8));
    const host = [...load.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    load.set(host, load.get(host)! + weight);
    units.push({
      vm: `vm${i}`,
      host,
      weight,
      machineMetadata: TOP,
      jobId: 1000 + i,
      uptimeSeconds: 3600 + Math.floor(rand() * 86400 * 10),
      dstate: 'launched',
    });
  }
  const names = hosts.map((h) => h.name);
  const etcdMembers = names.slice(0, 3);
  return {
    cluster: 'generated',
    controlHost: 'top1',
    hosts,
    units,
    etcdMembers,
    volumes: o.volumes ?? [{ name: 'vmimages', type: 'replicate', servers: ['top1', 'top2', 'top3'], replica: 3, shardBlockSize: '64MB' }],
    glusterClients: names.slice(0, o.glusterClients ?? names.length),
    groups: {},
  };
}
