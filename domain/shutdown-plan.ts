/**
 * Seed 001 as data: what a full cluster shutdown stops, in which order, and what the start-up
 * brings back, computed from the inventory and fleet's view of the units. Pure and deterministic
 * (the workflows call it directly, and the dry runs show its result).
 *
 * Shutdown:  every VM but the DNS VMs (batches)  →  DNS VMs  →  islet workers  →  GlusterFS
 *            clients (umount), clients gone, volumes, glusterd + leftovers on the servers  →
 *            hypervisors, the control host (the one the seed runs the commands on) last.
 *
 * Roles come from the inventory only (hypervisor roles, gluster servers and clients), never from
 * a host's or a group's name; a command reaches only the hosts the inventory gives its role.
 * Start-up:  top / worker hypervisors  →  GlusterFS (peers, fping, volumes, heal)  →  islet
 *            workers  →  fleetd everywhere  →  DHCP VMs  →  DNS VMs  →  the rest of the list.
 */
import { expandNodeset } from './nodeset';
import { fleetGroup, glusterClients, glusterServers, unitOfVm, vmSet, type HypervisorRole, type Inventory } from './inventory';
import { isVmName } from './names';

/** A unit as fleet lists it (the fields the planner needs). */
export interface UnitView {
  unit: string;
  vm?: string;
  host?: string;
  active?: string;
  sub?: string;
  /** fleet's desired state (list-unit-files DSTATE): `launched` means fleet is to run it. */
  dstate?: string | null;
}

export interface RunningVm {
  vm: string;
  unit: string;
  /** Hypervisor it ran on when the shutdown started. */
  host?: string;
  role?: HypervisorRole;
}

export interface ShutdownPlan {
  controlHost: string;
  /** Every VM fleet runs, is starting or is told to launch (runningVms; seed 001: "collect the VMs to shutdown"). */
  running: RunningVm[];
  /** VMs stopped first, `parallelism` at a time: every running VM but DNS and never-touch VMs. */
  stopBatches: string[][];
  /** Running DNS VMs: stopped once every other VM is down. */
  dns: string[];
  /** Running VMs hvflow never stops (inventory vms.neverTouch). */
  untouched: string[];
  /** Islet workers powered off after the VMs (the hosts of role islet). */
  islets: string[];
  /** Top and worker hypervisors (and the control host): powered off at the end. */
  managed: string[];
  /** Where `umount -t fuse.glusterfs -a` runs: the GlusterFS clients and servers still up (islets are off by then). */
  glusterUnmount: string[];
  /** Where glusterd is stopped and leftover GlusterFS processes killed: the volumes' servers. */
  glusterServers: string[];
  volumes: string[];
  /** Powered off together, before the control host. */
  poweroffFirst: string[];
  /** Powered off last (the host the seed's commands run on). */
  poweroffLast: string;
  /** Running units that are not VMs (left to fleet) and VMs that will lose etcd. */
  warnings: string[];
  /** The order, in words, as the approval gate shows it. */
  order: string[];
}

export interface StartupPlan {
  controlHost: string;
  /** Top and worker hypervisors powered on through their BMCs, the control host first. */
  powerOn: string[];
  /** Hosts `fping` must reach quickly (seed 001: `time fping $(nodeset -e @top,@worker)`). */
  pingHosts: string[];
  volumes: string[];
  islets: string[];
  /** Where `systemctl start fleet` runs: top, worker and islet workers. */
  fleetHosts: string[];
  /** Started in this order, each tier running before the next starts. */
  dhcp: string[];
  dns: string[];
  restBatches: string[][];
  /** VMs of the list that are not started, and why. */
  excluded: { vm: string; why: string }[];
  /** DHCP / DNS VMs of the inventory that were not in the list (not running before the shutdown). */
  notInList: string[];
  order: string[];
}

/** Islet workers: fleet.isletWorkers (default @islet, seed 001's @island_worker), the control host excepted. */
export function isletWorkers(inv: Inventory): string[] {
  return fleetGroup(inv, 'isletWorkers').filter((h) => h !== inv.controlHost);
}

/** GlusterFS clients and servers (a server mounts what it serves, seed 000), in inventory order. */
function glusterMounters(inv: Inventory): string[] {
  const hosts = new Set([...glusterClients(inv), ...glusterServers(inv)]);
  return inv.hypervisors.map((h) => h.name).filter((h) => hosts.has(h));
}

/** fleet.managed (default the top and worker hypervisors), the control host included (even when it is in another group). */
export function managedHosts(inv: Inventory): string[] {
  const hosts = fleetGroup(inv, 'managed');
  return hosts.includes(inv.controlHost) ? hosts : [inv.controlHost, ...hosts];
}

export function batches<T>(items: T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * The VMs to stop and to start again: running ones, ones starting now (`activating`), and ones fleet
 * is told to run but has not started yet (desired state `launched`, not failed). A VM somebody starts
 * while the shutdown is planned or approved must be in the list: left at `launched`, fleet would
 * start it by itself as soon as fleetd runs again, before the DHCP and DNS VMs (seed 001 stops VMs
 * "to make sure that they won't be restarted at boot").
 */
export function runningVms(inv: Inventory, units: UnitView[]): RunningVm[] {
  const role = (h?: string) => inv.hypervisors.find((x) => x.name === h)?.role;
  const toRun = (u: UnitView) =>
    (u.active === 'active' && u.sub === 'running') ||
    u.active === 'activating' ||
    (u.dstate === 'launched' && u.active !== 'failed' && u.active !== 'deactivating');
  return units
    .filter((u) => u.vm !== undefined && toRun(u))
    .map((u) => ({ vm: u.vm!, unit: u.unit, host: u.host, role: role(u.host) }))
    .sort((a, b) => a.vm.localeCompare(b.vm));
}

export function planShutdown(inv: Inventory, units: UnitView[], o: { parallelism?: number } = {}): ShutdownPlan {
  const running = runningVms(inv, units);
  const dnsSet = new Set(vmSet(inv, 'dns'));
  const never = new Set(vmSet(inv, 'neverTouch'));
  const untouched = running.filter((v) => never.has(v.vm)).map((v) => v.vm);
  const dns = running.filter((v) => dnsSet.has(v.vm) && !never.has(v.vm)).map((v) => v.vm);
  const first = running.filter((v) => !dnsSet.has(v.vm) && !never.has(v.vm)).map((v) => v.vm);
  const parallelism = o.parallelism ?? 10;
  const islets = isletWorkers(inv);
  const managed = managedHosts(inv);
  const volumes = (inv.gluster?.volumes ?? []).map((v) => v.name);
  const glusterUnmount = glusterMounters(inv).filter((h) => !islets.includes(h));
  const servers = glusterMounters(inv).filter((h) => glusterServers(inv).includes(h));
  const poweroffFirst = managed.filter((h) => h !== inv.controlHost);
  const off = new Set([...islets, ...managed]);

  const warnings: string[] = [];
  const others = units.filter((u) => u.vm === undefined && u.active === 'active').map((u) => u.unit);
  if (others.length) warnings.push(`running unit(s) that are not VMs (${inv.vms.unitPattern}) are left to fleet and die with their host: ${others.join(', ')}`);
  const survivors = running.filter((v) => never.has(v.vm) || (v.host !== undefined && !off.has(v.host)));
  if (survivors.length) {
    warnings.push(
      `VM(s) left running on hosts that stay up lose fleet's etcd once the members power off (seed 001: halt them before): ${survivors.map((v) => `${v.vm}${v.host ? ` on ${v.host}` : ''}`).join(', ')}`,
    );
  }

  const order = [
    `fleetctl stop --no-block ${first.length} VM(s), ${parallelism} at a time, and wait until they are stopped (a hung VM: systemctl stop fleet on its hypervisor, fleetctl stop again, systemctl start fleet)`,
    `fleetctl stop --no-block the DNS VM(s) ${dns.join(' ') || '(none running)'}`,
    `poweroff the islet workers ${islets.join(' ') || '(none)'}`,
    ...(volumes.length
      ? [
          `umount -t fuse.glusterfs -a on ${glusterUnmount.join(' ')}`,
          "wait until no client but the servers' self-heal daemons is connected (gluster volume status all clients)",
          ...volumes.map((v) => `gluster --mode=script volume stop ${v}`),
          `systemctl stop glusterd; pkill glusterfs; pkill glusterfsd on ${servers.join(' ')}`,
        ]
      : []),
    `poweroff ${poweroffFirst.join(' ') || '(no other hypervisor)'}`,
    `poweroff ${inv.controlHost} (last)`,
  ];
  return {
    controlHost: inv.controlHost,
    running,
    stopBatches: batches(first, parallelism),
    dns,
    untouched,
    islets,
    managed,
    glusterUnmount,
    glusterServers: servers,
    volumes,
    poweroffFirst,
    poweroffLast: inv.controlHost,
    warnings,
    order,
  };
}

/** Expands a nodeset of VM names; the error names the field (a VM list reaches commands). */
export function vmNames(expr: string, field: string): string[] {
  let names: string[];
  try {
    names = expandNodeset(expr);
  } catch (e) {
    throw new Error(`${field}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const bad = names.find((n) => !isVmName(n));
  if (bad !== undefined) throw new Error(`${field}: ${JSON.stringify(bad)} is not a valid VM name`);
  return names;
}

export function planStartup(inv: Inventory, vms: string[], o: { exclude?: string; parallelism?: number } = {}): StartupPlan {
  const list = [...new Set(vms)];
  const excludeSet = new Set(o.exclude ? vmNames(o.exclude, 'exclude') : []);
  const never = new Set(vmSet(inv, 'neverTouch'));
  const excluded: StartupPlan['excluded'] = [];
  const wanted: string[] = [];
  for (const vm of list) {
    if (!isVmName(vm)) excluded.push({ vm, why: 'not a valid VM name' });
    else if (excludeSet.has(vm)) excluded.push({ vm, why: 'excluded by the operator' });
    else if (never.has(vm)) excluded.push({ vm, why: 'never touched by hvflow (vms.neverTouch)' });
    else wanted.push(vm);
  }
  const dhcpSet = vmSet(inv, 'dhcp');
  const dnsSet = vmSet(inv, 'dns');
  const dhcp = dhcpSet.filter((v) => wanted.includes(v));
  const dns = dnsSet.filter((v) => wanted.includes(v) && !dhcp.includes(v));
  const rest = wanted.filter((v) => !dhcp.includes(v) && !dns.includes(v)).sort();
  const notInList = [...dhcpSet, ...dnsSet].filter((v) => !list.includes(v));
  const managed = managedHosts(inv);
  const powerOn = [inv.controlHost, ...managed.filter((h) => h !== inv.controlHost)];
  const islets = isletWorkers(inv);
  const volumes = (inv.gluster?.volumes ?? []).map((v) => v.name);
  const parallelism = o.parallelism ?? 10;
  const units = (xs: string[]) => xs.map((v) => unitOfVm(inv, v)).join(' ');
  const order = [
    `ipmitool power on ${powerOn.join(' ')}, wait until each answers SSH`,
    `gluster peer status; fping ${managed.join(' ')} (slow or missing answers are findings)`,
    ...volumes.map((v) => `gluster volume start ${v}; gluster volume heal ${v}`),
    'wait until gluster volume heal info reports 0 entries on every volume',
    `power on the islet workers ${islets.join(' ') || '(none)'}`,
    `systemctl start fleet on ${[...managed, ...islets].join(' ')}`,
    `fleetctl start --no-block ${units(dhcp) || '(no DHCP VM in the list)'}`,
    `fleetctl start --no-block ${units(dns) || '(no DNS VM in the list)'}`,
    `fleetctl start --no-block the ${rest.length} other VM(s), ${parallelism} at a time`,
    'health checks: fleet machines, GlusterFS, etcd, every VM running',
  ];
  return {
    controlHost: inv.controlHost,
    powerOn,
    pingHosts: managed,
    volumes,
    islets,
    fleetHosts: [...managed, ...islets],
    dhcp,
    dns,
    restBatches: batches(rest, parallelism),
    excluded,
    notInList,
    order,
  };
}

export interface NetworkFinding {
  ok: boolean;
  reason?: string;
  evidence: Record<string, unknown>;
}

/**
 * Seed 001 after the power on: `time fping $(nodeset -e @top,@worker)` — "anything that slows down
 * communications must be investigated". An unreachable or unresolved host, a round trip above
 * `maxRttMs` or a whole run above `maxFpingMs` (slow name resolution) is a finding.
 */
export function networkCheck(
  report: { elapsedMs: number; hosts: { host: string; alive: boolean; rttMs?: number; error?: string }[] },
  maxRttMs: number,
  maxFpingMs: number,
): NetworkFinding {
  const findings: string[] = [];
  for (const h of report.hosts) {
    if (!h.alive) findings.push(`${h.host} ${h.error ? `does not resolve (${h.error})` : 'is unreachable'}`);
    else if (h.rttMs !== undefined && h.rttMs > maxRttMs) findings.push(`${h.host} answers in ${h.rttMs} ms (> ${maxRttMs} ms)`);
  }
  if (report.elapsedMs > maxFpingMs)
    findings.push(`fping of ${report.hosts.length} host(s) took ${report.elapsedMs} ms (> ${maxFpingMs} ms): slow name resolution?`);
  return {
    ok: findings.length === 0,
    reason: findings.length ? `${findings.join('; ')}. Anything that slows communications must be investigated (DNS timeouts, failing links)` : undefined,
    evidence: { elapsedMs: report.elapsedMs, maxRttMs, maxFpingMs, hosts: report.hosts },
  };
}
