/**
 * fleet's view (the fleetState activity's machines and units) translated into the planners'
 * tool-neutral model. Made where it is used, so an activity result carries each VM once.
 */
import type { ClusterSnapshot, HostState, VmState } from './cluster';
import { hypervisor, type Inventory } from './inventory';

export interface FleetMachineView {
  id: string;
  host: string;
  metadata: Record<string, string>;
}

export interface FleetUnitLike {
  unit: string;
  vm?: string;
  host?: string;
  active?: string;
  weight: number;
  metadata: Record<string, string[]>;
  pinnedHost?: string;
}

/** fleet's view translated into the planners' tool-neutral model. */
export function fleetSnapshot(inv: Inventory, machines: FleetMachineView[], units: FleetUnitLike[]): ClusterSnapshot {
  const registered = new Set(machines.map((m) => m.host));
  const byHost = new Map(machines.map((m) => [m.host, m]));
  const hosts: HostState[] = inv.hypervisors.map((h) => {
    const m = byHost.get(h.name);
    return {
      name: h.name,
      role: h.role,
      labels: m?.metadata ?? {},
      capacity: hypervisor(inv, h.name).capacity,
      schedulable: registered.has(h.name),
      up: registered.has(h.name),
    };
  });
  const vms: VmState[] = units.map((u) => ({
    name: u.vm ?? u.unit,
    host: u.host,
    weight: u.weight,
    running: u.active === 'active',
    constraints: {
      labels: Object.keys(u.metadata).filter((k) => k !== 'hostname').length
        ? Object.fromEntries(Object.entries(u.metadata).filter(([k]) => k !== 'hostname'))
        : undefined,
      pinnedHost: u.pinnedHost,
    },
  }));
  // fleet's scheduler (leastLoadedScheduler) takes the machine with the least Weight whatever its
  // capacity (hvflow's inventory knows capacities, fleet does not) and breaks ties by machine id.
  const tieOrder = [...machines].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((m) => m.host);
  return { hosts, vms, scheduler: { tieOrder, capacityAware: false } };
}
