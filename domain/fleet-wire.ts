/**
 * fleet's state packed for the wire: what the fleetState activity returns and what clusterStatus
 * returns, so that a 10,000-VM cluster stays well under Temporal's payload limits (about 24 bytes a
 * VM instead of 280). Each host is named once and VMs refer to it by index; the few distinct unit
 * states and constraint sets are listed once; a VM unit carries its VM name only (the unit name is
 * the pattern's). Self-describing: unpacking needs no inventory. Workflows unpack it in
 * workflows/fleet-state.ts and keep working on the unpacked views.
 */

export interface WireMachine {
  id: string;
  host: string;
  ip?: string;
  metadata: Record<string, string>;
}

/** A fleet unit as the procedures see it (activities/fleet-join.ts FleetUnitView has this shape). */
export interface WireUnit {
  unit: string;
  vm?: string;
  host?: string;
  dstate: string | null;
  state: string | null;
  active?: string;
  sub?: string;
  weight: number;
  metadata: Record<string, string[]>;
  pinnedHost?: string;
}

/** [name, host index + 1 (0: none), state index, weight, metadata index, pinned host index + 1]; trailing zeros dropped. */
type PackedUnit = [string, ...number[]];

export interface PackedFleet {
  format: 'hvflow-fleet/1';
  /** The inventory's VM unit pattern (`pcocc-vm-%s.service`): a VM's unit is the pattern with its name. */
  unitPattern: string;
  machines: WireMachine[];
  /** Every host a unit names, once: the machines' hosts first. */
  hosts: string[];
  /** Distinct [dstate, state, active, sub] (null: none). */
  states: (string | null)[][];
  /** Distinct constraint sets; the first is the empty one. */
  metadata: Record<string, string[]>[];
  units: PackedUnit[];
  /** Indexes of the units whose name is a whole unit name (not a VM of the pattern). */
  plain: number[];
}

/** Returns the index of `key` in `list`, adding it the first time. */
function interner<T>(list: T[], keyOf: (x: T) => string) {
  const index = new Map(list.map((x, i) => [keyOf(x), i]));
  return (x: T): number => {
    const k = keyOf(x);
    let i = index.get(k);
    if (i === undefined) {
      i = list.push(x) - 1;
      index.set(k, i);
    }
    return i;
  };
}

export function packFleet(state: { machines: WireMachine[]; units: WireUnit[] }, unitPattern: string): PackedFleet {
  const packed: PackedFleet = { format: 'hvflow-fleet/1', unitPattern, machines: state.machines, hosts: [], states: [], metadata: [{}], units: [], plain: [] };
  const host = interner(packed.hosts, (h: string) => h);
  state.machines.forEach((m) => host(m.host));
  const stateOf = interner(packed.states, (s: (string | null)[]) => JSON.stringify(s));
  const metadataOf = interner(packed.metadata, (m: Record<string, string[]>) => JSON.stringify(m));
  state.units.forEach((u, i) => {
    const isVm = u.vm !== undefined && unitPattern.replace('%s', u.vm) === u.unit;
    if (!isVm) packed.plain.push(i);
    const row: PackedUnit = [
      isVm ? u.vm! : u.unit,
      u.host === undefined ? 0 : host(u.host) + 1,
      stateOf([u.dstate, u.state, u.active ?? null, u.sub ?? null]),
      u.weight,
      metadataOf(u.metadata),
      u.pinnedHost === undefined ? 0 : host(u.pinnedHost) + 1,
    ];
    while (row.length > 1 && row[row.length - 1] === 0) row.pop();
    packed.units.push(row);
  });
  return packed;
}

/** The machines and unit views packFleet was given (as JSON carries them: no undefined fields). */
export function unpackFleet(packed: PackedFleet): { machines: WireMachine[]; units: WireUnit[] } {
  if (packed?.format !== 'hvflow-fleet/1') throw new Error(`fleet state: format ${JSON.stringify(packed?.format)} is not hvflow-fleet/1`);
  const plain = new Set(packed.plain);
  const units = packed.units.map(([name, hostRef = 0, stateRef = 0, weight = 0, metadataRef = 0, pinRef = 0], i): WireUnit => {
    const [dstate, state, active, sub] = packed.states[stateRef]!;
    const vm = plain.has(i) ? undefined : name;
    const u: WireUnit = { unit: vm === undefined ? name : packed.unitPattern.replace('%s', vm), dstate: dstate!, state: state! } as WireUnit;
    if (vm !== undefined) u.vm = vm;
    if (hostRef) u.host = packed.hosts[hostRef - 1];
    if (active !== null) u.active = active;
    if (sub !== null) u.sub = sub;
    u.weight = weight;
    u.metadata = packed.metadata[metadataRef]!;
    if (pinRef) u.pinnedHost = packed.hosts[pinRef - 1];
    return u;
  });
  return { machines: packed.machines, units };
}
