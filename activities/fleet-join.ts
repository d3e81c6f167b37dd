/**
 * fleet's three listings joined into one view per unit, in time linear in the units: list-unit-files
 * (every unit, desired and current state), list-units (where it runs, active/sub) and each unit file
 * (Weight, constraints). Pure: unit-tested without SSH (test/unit/fleet-join.test.ts).
 */
import { vmOfUnit, type Inventory } from '../domain/inventory';
import type { FleetMachine, FleetUnit, FleetUnitFile, FleetUnitSpec } from './fleet-parse';

/** A fleet unit as the procedures see it: where it runs, in which state, and what it weighs. */
export interface FleetUnitView {
  unit: string;
  /** VM name when the unit follows the inventory's VM unit pattern. */
  vm?: string;
  host?: string;
  dstate: string | null;
  state: string | null;
  active?: string;
  sub?: string;
  weight: number;
  /** fleet metadata constraints (`MachineMetadata=role=top`). */
  metadata: Record<string, string[]>;
  pinnedHost?: string;
}

/** fleet prints machine ids truncated to 8 hex digits (no --full): a prefix of the full id. */
const ID_PREFIX = 8;

/** Finds a machine by hostname, IP or id (either may be a prefix of the other) without scanning the machines. */
export function machineIndex(machines: FleetMachine[]) {
  const byIp = new Map<string, FleetMachine>();
  const byPrefix = new Map<string, FleetMachine[]>();
  for (const m of machines) {
    if (m.ip && !byIp.has(m.ip)) byIp.set(m.ip, m);
    const key = m.id.slice(0, ID_PREFIX);
    byPrefix.set(key, [...(byPrefix.get(key) ?? []), m]);
  }
  const byId = (id: string): FleetMachine | undefined => {
    const sameId = (x: FleetMachine) => x.id.startsWith(id) || id.startsWith(x.id);
    // an id shorter than the prefix (never printed by fleetctl) is looked for among them all
    return id.length >= ID_PREFIX ? byPrefix.get(id.slice(0, ID_PREFIX))?.find(sameId) : machines.find(sameId);
  };
  return {
    byId,
    /** The hostname of a unit's machine as list-units / list-unit-files print it. */
    hostOf(ref: { id?: string; hostname?: string; ip?: string }): string | undefined {
      if (ref.hostname) return ref.hostname;
      // the IP first, as the machine's ip, then the id, as before (one machine matching either)
      const m = (ref.ip ? byIp.get(ref.ip) : undefined) ?? (ref.id ? byId(ref.id) : undefined);
      return m?.hostname;
    },
  };
}

export function joinFleetUnits(
  inv: Inventory,
  machines: FleetMachine[],
  files: FleetUnitFile[],
  running: FleetUnit[],
  specs: Map<string, FleetUnitSpec>,
): FleetUnitView[] {
  const index = machineIndex(machines);
  const live = new Map<string, FleetUnit>();
  for (const u of running) if (!live.has(u.unit)) live.set(u.unit, u); // the first line of a unit, as find() took it
  return files.map((f) => {
    const l = live.get(f.unit);
    const spec = specs.get(f.unit);
    if (!spec) throw new Error(`fleet unit ${f.unit}: no unit file read (fleetctl cat)`);
    const where = l?.machineId || l?.hostname ? index.hostOf({ id: l.machineId, hostname: l.hostname, ip: l.ip }) : undefined;
    const target = f.targetId || f.targetHost ? index.hostOf({ id: f.targetId, hostname: f.targetHost, ip: f.targetIp }) : undefined;
    const pinnedByMeta = spec.metadata.hostname?.length === 1 ? spec.metadata.hostname[0] : undefined;
    const pinnedById = spec.machineId ? index.byId(spec.machineId)?.hostname : undefined;
    return {
      unit: f.unit,
      vm: vmOfUnit(inv, f.unit),
      host: where ?? target,
      dstate: f.dstate,
      state: f.state,
      active: l?.active,
      sub: l?.sub,
      weight: spec.weight ?? 0,
      metadata: spec.metadata,
      pinnedHost: pinnedByMeta ?? pinnedById,
    };
  });
}
