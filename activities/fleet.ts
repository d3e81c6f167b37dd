/**
 * fleet: the cluster-wide systemd of seed 002. hvflow reads its state with `fleetctl list-*`
 * and `fleetctl cat` (for the seeds' `Weight=`), and changes it only the ways the runbooks do:
 * stopping / starting fleetd on a hypervisor (failover), `fleetctl stop|start --no-block` for VMs,
 * and `fleetctl unload` + `fleetctl start` to move a VM (failback, rebalancing).
 *
 * fleetctl talks to etcd, not to the local fleetd, so it runs on a management host that is not
 * the one being worked on (`commandHost`).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { hypervisor, unitOfVm, vmOfUnit, type Inventory } from '../domain/inventory';
import { checkStartupPlacement, type StartupPlacement } from '../domain/startup-placement';
import { assertUnitName } from '../domain/names';
import type { ClusterSnapshot, HostState, VmState } from '../domain/cluster';
import { parseFleetListMachines, parseFleetListUnitFiles, parseFleetListUnits, parseFleetUnitFile, type FleetMachine, type FleetUnitSpec } from './fleet-parse';
import { expectSuccess } from './ssh';
import { parsed, runOn, sleepOrCancel, type ToolContext } from './remote';
import { FAILURE } from '../domain/contract';

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

export interface FleetState {
  /** Hypervisors whose fleetd is registered (fleetctl list-machines). */
  machines: { id: string; host: string; ip?: string; metadata: Record<string, string> }[];
  units: FleetUnitView[];
  /** The same, in the tool-neutral model the planners use. */
  snapshot: ClusterSnapshot;
}

const FLEET_HOST_ROLES = ['top', 'worker'];

/** The host fleetctl / gluster / etcdctl run on: the control host unless it is being worked on. */
export function commandHost(inv: Inventory, avoid: string[] = []): string {
  if (!avoid.includes(inv.controlHost)) return inv.controlHost;
  const other = inv.hypervisors.find((h) => FLEET_HOST_ROLES.includes(h.role) && !avoid.includes(h.name));
  if (!other)
    throw ApplicationFailure.nonRetryable(`no management hypervisor left to run cluster commands from (avoiding ${avoid.join(', ')})`, FAILURE.invalidInput);
  return other.name;
}

/** Unit specs by unit name and hash: `fleetctl cat` costs a round trip per unit, a unit file rarely changes. */
const specCache = new Map<string, FleetUnitSpec>();

export function fleetActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  async function fleetctl(host: string, args: string[], timeoutMs = 60_000) {
    return expectSuccess(await runOn(ctx, host, ['fleetctl', ...args], { timeoutMs }), `fleetctl ${args[0]}`);
  }

  async function unitSpecs(host: string, units: { unit: string; hash: string }[]): Promise<Map<string, FleetUnitSpec>> {
    const out = new Map<string, FleetUnitSpec>();
    const missing = units.filter((u) => {
      const cached = specCache.get(`${u.unit}@${u.hash}`);
      if (cached) out.set(u.unit, cached);
      return !cached;
    });
    // One round trip for all missing units; the separator line cannot appear in a unit file.
    for (let i = 0; i < missing.length; i += 200) {
      const batch = missing.slice(i, i + 200);
      batch.forEach((u) => assertUnitName(u.unit, 'unit'));
      const script = 'for u do printf "==> %s <==\\n" "$u"; fleetctl cat "$u" || exit $?; done';
      const res = expectSuccess(await runOn(ctx, host, ['sh', '-c', script, 'sh', ...batch.map((u) => u.unit)], { timeoutMs: 120_000 }), 'fleetctl cat');
      const chunks = res.stdout.split(/^==> (\S+) <==\n/m);
      for (let j = 1; j < chunks.length; j += 2) {
        const unit = chunks[j]!;
        const spec = parsed(() => parseFleetUnitFile(chunks[j + 1] ?? '', unit));
        const hash = batch.find((u) => u.unit === unit)?.hash;
        if (hash) specCache.set(`${unit}@${hash}`, spec);
        out.set(unit, spec);
      }
    }
    return out;
  }

  function hostOfMachine(machines: FleetMachine[], ref: { id?: string; hostname?: string; ip?: string }): string | undefined {
    if (ref.hostname) return ref.hostname;
    const m = machines.find((x) => (ref.ip && x.ip === ref.ip) || (ref.id && (x.id.startsWith(ref.id) || ref.id.startsWith(x.id))));
    return m?.hostname;
  }

  async function readFleetState(input: { avoid?: string[] } = {}): Promise<FleetState> {
    const host = commandHost(inv, input.avoid);
    const [machinesOut, filesOut, unitsOut] = [
      await fleetctl(host, ['list-machines']),
      await fleetctl(host, ['list-unit-files']),
      await fleetctl(host, ['list-units']),
    ];
    const machines = parsed(() => parseFleetListMachines(machinesOut.stdout));
    const files = parsed(() => parseFleetListUnitFiles(filesOut.stdout));
    const running = parsed(() => parseFleetListUnits(unitsOut.stdout));
    const specs = await unitSpecs(
      host,
      files.map((f) => ({ unit: f.unit, hash: f.hash })),
    );

    const units: FleetUnitView[] = files.map((f) => {
      const live = running.find((u) => u.unit === f.unit);
      const spec = specs.get(f.unit)!;
      const where = live?.machineId || live?.hostname ? hostOfMachine(machines, { id: live.machineId, hostname: live.hostname, ip: live.ip }) : undefined;
      const target = f.targetId || f.targetHost ? hostOfMachine(machines, { id: f.targetId, hostname: f.targetHost, ip: f.targetIp }) : undefined;
      const pinnedByMeta = spec.metadata.hostname?.length === 1 ? spec.metadata.hostname[0] : undefined;
      const pinnedById = spec.machineId ? machines.find((m) => m.id.startsWith(spec.machineId!) || spec.machineId!.startsWith(m.id))?.hostname : undefined;
      return {
        unit: f.unit,
        vm: vmOfUnit(inv, f.unit),
        host: where ?? target,
        dstate: f.dstate,
        state: f.state,
        active: live?.active,
        sub: live?.sub,
        weight: spec.weight ?? 0,
        metadata: spec.metadata,
        pinnedHost: pinnedByMeta ?? pinnedById,
      };
    });
    const machineViews = machines.map((m) => ({ id: m.id, host: m.hostname, ip: m.ip, metadata: m.metadata }));
    return { machines: machineViews, units, snapshot: toSnapshot(inv, machineViews, units) };
  }

  return {
    /** Machines, units (with Weight and constraints) and the planners' view of them. */
    async fleetState(input: { avoid?: string[] } = {}): Promise<FleetState> {
      return readFleetState(input);
    },

    /** `systemctl stop fleet` on a hypervisor: fleet reschedules its launched units elsewhere. Idempotent. */
    async stopFleet(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'stop', 'fleet'], { timeoutMs: 120_000 }), 'systemctl stop fleet');
    },

    /** `systemctl start fleet`: only units that can run nowhere else start there (no rebalancing). */
    async startFleet(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'start', 'fleet'], { timeoutMs: 120_000 }), 'systemctl start fleet');
    },

    /**
     * Waits until none of `units` is on `host` and each runs elsewhere (active/running), heartbeating
     * the count still to go. Units pinned to the host are expected to stop instead (`stranded`).
     */
    async waitUnitsLeft(input: { host: string; units: string[]; stranded?: string[]; timeoutMs?: number }): Promise<{ unit: string; host?: string }[]> {
      const deadline = Date.now() + (input.timeoutMs ?? 10 * 60_000);
      for (;;) {
        const state = await readFleetState({ avoid: [input.host] });
        const pending = input.units.filter((u) => {
          const v = state.units.find((x) => x.unit === u);
          if (!v) return false;
          if (input.stranded?.includes(u)) return v.host === input.host && v.active === 'active';
          return v.host === input.host || v.active !== 'active' || v.sub !== 'running';
        });
        Context.current().heartbeat({ pending: pending.length, of: input.units.length });
        if (pending.length === 0) return input.units.map((u) => ({ unit: u, host: state.units.find((x) => x.unit === u)?.host }));
        if (Date.now() > deadline) {
          throw ApplicationFailure.create({
            type: 'UnitsDidNotMove',
            message: `${pending.length} unit(s) still on ${input.host} or not running elsewhere: ${pending.slice(0, 10).join(', ')}`,
          });
        }
        await sleepOrCancel(2000);
      }
    },

    /** `fleetctl stop --no-block UNIT...` (seed 001). */
    async stopUnits(input: { units: string[]; avoid?: string[] }): Promise<void> {
      input.units.forEach((u, i) => assertUnitName(u, `units[${i}]`));
      if (input.units.length) await fleetctl(commandHost(inv, input.avoid), ['stop', '--no-block', ...input.units]);
    },

    /** `fleetctl start --no-block UNIT...` (seed 001 start-up, failback). */
    async startUnits(input: { units: string[]; avoid?: string[] }): Promise<void> {
      input.units.forEach((u, i) => assertUnitName(u, `units[${i}]`));
      if (input.units.length) await fleetctl(commandHost(inv, input.avoid), ['start', '--no-block', ...input.units]);
    },

    /**
     * Moves one unit off `from` the way seed 000 / 002 do: `fleetctl unload --no-block` then `fleetctl
     * start --no-block`; fleet places it on the least loaded eligible hypervisor. Returns where it runs.
     * Idempotent: a unit already running on another host than `from` was moved (by an earlier attempt)
     * and is left alone; a unit an earlier attempt unloaded is only started.
     */
    async moveUnit(input: { unit: string; from: string; timeoutMs?: number }): Promise<{ unit: string; from: string; to?: string; alreadyMoved?: boolean }> {
      assertUnitName(input.unit, 'unit');
      const host = commandHost(inv);
      const deadline = Date.now() + (input.timeoutMs ?? 5 * 60_000);
      const unitNow = async () => (await readFleetState()).units.find((u) => u.unit === input.unit);
      const running = (u: FleetUnitView | undefined) => u?.active === 'active' && u.sub === 'running';
      const waitFor = async (what: string, done: (u: FleetUnitView | undefined) => boolean) => {
        for (;;) {
          const now = await unitNow();
          Context.current().heartbeat({ unit: input.unit, waitingFor: what, state: now?.active, host: now?.host });
          if (done(now)) return now;
          if (Date.now() > deadline) {
            throw ApplicationFailure.create({
              type: 'UnitDidNotMove',
              message: `${input.unit}: still not ${what} after ${Math.round((input.timeoutMs ?? 300_000) / 1000)} s (${now?.active}/${now?.sub} on ${now?.host ?? 'no host'})`,
            });
          }
          await sleepOrCancel(1000);
        }
      };
      const before = await unitNow();
      if (!before) throw ApplicationFailure.nonRetryable(`${input.unit}: fleet knows no such unit`, FAILURE.toolError);
      // Started again elsewhere by an earlier attempt (running, or still starting there): wait, touch nothing.
      const startedElsewhere =
        before.host !== undefined &&
        before.host !== input.from &&
        (before.dstate === 'launched' || before.active === 'active' || before.active === 'activating');
      if (!startedElsewhere) {
        // Only unload what is still on its old host: a retried attempt may find the unload done.
        if (before.dstate !== 'inactive') await fleetctl(host, ['unload', '--no-block', input.unit]);
        // The VM must be down before it is started again, or fleet would see it still running where it was.
        await waitFor('unloaded', (u) => !u || (u.dstate === 'inactive' && u.active !== 'active' && u.active !== 'deactivating'));
        await fleetctl(host, ['start', '--no-block', input.unit]);
      }
      const after = await waitFor('running', running);
      return { unit: input.unit, from: input.from, to: after?.host, ...(startedElsewhere ? { alreadyMoved: true } : {}) };
    },

    /**
     * Schedules every VM of a start-up before any starts, and makes the schedule fit the capacities
     * (domain/startup-placement.ts): `fleetctl load` (schedules, starts nothing), then while a host
     * would carry more than its capacity, its heaviest VMs to start are unloaded (they do not run: it
     * costs nothing) and loaded again, heaviest first, for the scheduler to pick the least loaded
     * machine. Returns where each VM is scheduled; `ok` false with the numbers when it cannot fit.
     * Idempotent: loading a loaded unit and unloading one that does not run change nothing.
     */
    async placeVms(input: {
      vms: string[];
      rounds?: number;
      scheduleTimeoutMs?: number;
    }): Promise<StartupPlacement & { rounds: number; unscheduled: string[] }> {
      const units = new Map(input.vms.map((vm) => [vm, unitOfVm(inv, vm)]));
      [...units.values()].forEach((u, i) => assertUnitName(u, `vms[${i}]`));
      const host = commandHost(inv);
      const batch = async (verb: 'load' | 'unload', vms: string[]) => {
        for (let i = 0; i < vms.length; i += 200) await fleetctl(host, [verb, '--no-block', ...vms.slice(i, i + 200).map((vm) => units.get(vm)!)]);
      };
      /** Polls until each VM is scheduled (or, `off`, none of them is), within the bound. */
      const settle = async (vms: string[], off: boolean) => {
        const deadline = Date.now() + (input.scheduleTimeoutMs ?? 60_000);
        for (;;) {
          const state = await readFleetState();
          const byVm = new Map(state.units.map((u) => [u.vm, u]));
          const pending = vms.filter((vm) => (byVm.get(vm)?.host === undefined) !== off);
          Context.current().heartbeat({ placing: vms.length, pending: pending.length });
          if (!pending.length || Date.now() > deadline) return { state, pending };
          await sleepOrCancel(1000);
        }
      };
      const rounds = input.rounds ?? 5;
      let toLoad = (await readFleetState()).units.filter((u) => u.vm && units.has(u.vm) && u.dstate === 'inactive').map((u) => u.vm!);
      for (let round = 1; ; round++) {
        if (toLoad.length) await batch('load', toLoad);
        const { state, pending } = await settle(input.vms, false);
        const p = checkStartupPlacement(state.snapshot, input.vms);
        if (p.ok || round >= rounds || !p.replace.length) return { ...p, rounds: round, unscheduled: pending };
        await batch('unload', p.replace);
        await settle(p.replace, true);
        toLoad = p.replace;
      }
    },

    /** Waits until every unit is in the wanted state (stopped: not active; running: active/running). */
    async waitUnits(input: {
      units: string[];
      want: 'stopped' | 'running';
      timeoutMs?: number;
      avoid?: string[];
    }): Promise<{ done: string[]; pending: { unit: string; host?: string; active?: string; sub?: string }[] }> {
      const deadline = Date.now() + (input.timeoutMs ?? 5 * 60_000);
      for (;;) {
        const state = await readFleetState({ avoid: input.avoid });
        const pending = input.units
          .map((u) => state.units.find((x) => x.unit === u) ?? { unit: u, host: undefined, active: undefined, sub: undefined })
          .filter((v) =>
            input.want === 'stopped'
              ? v.active === 'active' || v.active === 'deactivating' || v.active === 'activating'
              : !(v.active === 'active' && v.sub === 'running'),
          )
          .map((v) => ({ unit: v.unit, host: v.host, active: v.active, sub: v.sub }));
        Context.current().heartbeat({ want: input.want, pending: pending.length, of: input.units.length });
        if (pending.length === 0 || Date.now() > deadline) {
          return { done: input.units.filter((u) => !pending.some((p) => p.unit === u)), pending };
        }
        await sleepOrCancel(1000);
      }
    },
  };
}

/** fleet's view translated into the planners' tool-neutral model. */
export function toSnapshot(inv: Inventory, machines: FleetState['machines'], units: FleetUnitView[]): ClusterSnapshot {
  const registered = new Set(machines.map((m) => m.host));
  const hosts: HostState[] = inv.hypervisors.map((h) => {
    const m = machines.find((x) => x.host === h.name);
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
