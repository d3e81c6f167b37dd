/**
 * fleet's state as the procedures read it: the fleetState activity's machines and units, and the
 * planners' model of them made here (domain/fleet-snapshot.ts), not carried twice in the history.
 */
import type { FleetState } from '../activities/fleet';
import type { ClusterSnapshot } from '../domain/cluster';
import { fleetSnapshot } from '../domain/fleet-snapshot';
import type { Inventory } from '../domain/inventory';
import { act } from './activities';

export type FleetView = FleetState & { snapshot: ClusterSnapshot };

export function withSnapshot(inv: Inventory, fleet: FleetState): FleetView {
  return { ...fleet, snapshot: fleetSnapshot(inv, fleet.machines, fleet.units) };
}

/** fleetctl list-machines, list-unit-files, list-units and the unit files, on a host not in `avoid`. */
export async function readFleet(inv: Inventory, input: { avoid?: string[] } = {}): Promise<FleetView> {
  return withSnapshot(inv, await act.fleetState(input));
}
