/**
 * fleet's state as the procedures read it: the fleetState activity's machines and units, unpacked
 * (domain/fleet-wire.ts: the activity result stays small at 10,000 VMs), and the planners' model of
 * them made here (domain/fleet-snapshot.ts), not carried in the history.
 */
import type { FleetState } from '../activities/fleet';
import type { ClusterSnapshot } from '../domain/cluster';
import { fleetSnapshot } from '../domain/fleet-snapshot';
import { unpackFleet, type PackedFleet } from '../domain/fleet-wire';
import type { Inventory } from '../domain/inventory';
import { act } from './activities';

export type FleetView = FleetState & { snapshot: ClusterSnapshot; packed: PackedFleet };

/** The fleetState activity's packed result, unpacked, with the planners' snapshot of it. */
export function fleetView(inv: Inventory, packed: PackedFleet): FleetView {
  const fleet = unpackFleet(packed) as FleetState;
  return { ...fleet, packed, snapshot: fleetSnapshot(inv, fleet.machines, fleet.units) };
}

/** fleetctl list-machines, list-unit-files, list-units and the unit files, on a host not in `avoid`. */
export async function readFleet(inv: Inventory, input: { avoid?: string[] } = {}): Promise<FleetView> {
  return fleetView(inv, await act.fleetState(input));
}
