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
import { fleetGroup, unitOfVm, type Inventory } from '../domain/inventory';
import { checkStartupPlacement, type StartupPlacement } from '../domain/startup-placement';
import { assertUnitName } from '../domain/names';
import { fleetSnapshot } from '../domain/fleet-snapshot';
import { packFleet, type PackedFleet } from '../domain/fleet-wire';
import { listUnitsLinesOf, parseFleetListMachines, parseFleetListUnitFiles, parseFleetListUnits, type FleetUnit } from './fleet-parse';
import { unitSpecs } from './fleet-unit-files';
import { joinFleetUnits, machineIndex, type FleetUnitView } from './fleet-join';

export type { FleetUnitView } from './fleet-join';
import { expectSuccess } from './ssh';
import { parsed, runOn, sleepOrCancel, type ToolContext } from './remote';
import { eachHostOfActivity, hostsFailure } from './each-host';
import { checkpoint } from './heartbeat';
import { FAILURE } from '../domain/contract';

export interface FleetState {
  /** Hypervisors whose fleetd is registered (fleetctl list-machines). */
  machines: { id: string; host: string; ip?: string; metadata: Record<string, string> }[];
  /** Every unit once; the planners' tool-neutral model of it is domain/fleet-snapshot.ts (not sent twice). */
  units: FleetUnitView[];
}

/** A unit that is not (yet) in the state waited for, and where it is. */
export interface UnitPending {
  unit: string;
  host?: string;
  active?: string;
  sub?: string;
}

/** The host fleetctl / gluster / etcdctl run on: the control host unless it is being worked on. */
export function commandHost(inv: Inventory, avoid: string[] = []): string {
  if (!avoid.includes(inv.controlHost)) return inv.controlHost;
  const other = fleetGroup(inv, 'managed').find((h) => !avoid.includes(h));
  if (!other)
    throw ApplicationFailure.nonRetryable(`no management hypervisor left to run cluster commands from (avoiding ${avoid.join(', ')})`, FAILURE.invalidInput);
  return other;
}

export function fleetActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  async function fleetctl(host: string, args: string[], timeoutMs = 60_000) {
    return expectSuccess(await runOn(ctx, host, ['fleetctl', ...args], { timeoutMs }), `fleetctl ${args[0]}`);
  }

  /**
   * Polls until every unit is in the wanted state (stopped: not active; running: active/running) or the
   * bound passes. Each poll is one `fleetctl list-units` (where launched units run and their state):
   * the unit files and the join are not needed to know whether a batch is there yet. `expectMs`: how
   * long the fastest earlier batch of the same run took; nothing is looked at before
   * `quietMs(expectMs)` (a poll reads every unit of the cluster), then often, so the batch's end is
   * seen within about 50 ms.
   */
  async function waitFor(
    units: string[],
    want: 'stopped' | 'running',
    timeoutMs: number,
    beat: (pending: number) => void,
    avoid?: string[],
    expectMs?: number,
  ) {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const host = commandHost(inv, avoid);
    const quiet = quietMs(expectMs);
    for (let left = quiet; left > 0; left = quiet - (Date.now() - started)) {
      beat(units.length);
      await sleepOrCancel(Math.min(1000, left));
    }
    let polls = 0;
    const asked = new Set(units);
    for (;;) {
      const live = new Map<string, FleetUnit>();
      const listed = (await fleetctl(host, ['list-units'])).stdout;
      for (const u of parsed(() => parseFleetListUnits(listUnitsLinesOf(listed, asked)))) if (!live.has(u.unit)) live.set(u.unit, u); // first line, as the join
      const notThere = units.filter((u) => {
        const v = live.get(u);
        return want === 'stopped'
          ? v?.active === 'active' || v?.active === 'deactivating' || v?.active === 'activating'
          : !(v?.active === 'active' && v.sub === 'running');
      });
      beat(notThere.length);
      if (notThere.length === 0 || Date.now() > deadline) {
        // only for what is late, and only now: which host it is on (list-machines names them)
        const machinesOut = notThere.length ? (await fleetctl(host, ['list-machines'])).stdout : '';
        const where = notThere.length ? machineIndex(parsed(() => parseFleetListMachines(machinesOut))) : undefined;
        const pending: UnitPending[] = notThere.map((unit) => {
          const v = live.get(unit);
          return { unit, host: v && where?.hostOf({ id: v.machineId, hostname: v.hostname, ip: v.ip }), active: v?.active, sub: v?.sub };
        });
        const notDone = new Set(notThere);
        return { done: units.filter((u) => !notDone.has(u)), pending };
      }
      // Often at first (a VM stops or starts in well under a second), then every second.
      await sleepOrCancel(pollDelay(polls++, 50));
    }
  }

  async function startFleetOn(host: string): Promise<void> {
    expectSuccess(await runOn(ctx, host, ['systemctl', 'start', 'fleet'], { timeoutMs: 120_000 }), 'systemctl start fleet');
  }

  async function readFleetState(input: { avoid?: string[] } = {}): Promise<FleetState> {
    const host = commandHost(inv, input.avoid);
    const [machinesOut, filesOut, unitsOut] = await Promise.all([
      fleetctl(host, ['list-machines']),
      fleetctl(host, ['list-unit-files']),
      fleetctl(host, ['list-units']),
    ]);
    const machines = parsed(() => parseFleetListMachines(machinesOut.stdout));
    const files = parsed(() => parseFleetListUnitFiles(filesOut.stdout));
    const running = parsed(() => parseFleetListUnits(unitsOut.stdout));
    const specs = await unitSpecs(
      ctx,
      host,
      files.map((f) => ({ unit: f.unit, hash: f.hash })),
    );

    // A unit destroyed between the listing and its cat is no unit of fleet any more.
    const units = joinFleetUnits(
      inv,
      machines,
      files.filter((f) => specs.has(f.unit)),
      running,
      specs,
    );
    const machineViews = machines.map((m) => ({ id: m.id, host: m.hostname, ip: m.ip, metadata: m.metadata }));
    return { machines: machineViews, units };
  }

  return {
    /** Machines and units (with Weight and constraints), packed (domain/fleet-wire.ts): a 10,000-VM cluster fits a payload. */
    async fleetState(input: { avoid?: string[] } = {}): Promise<PackedFleet> {
      return packFleet(await readFleetState(input), inv.vms.unitPattern);
    },

    /**
     * Waits until fleetd is registered on every host of `hosts` and fleet has a unit for every VM of
     * `vms`, heartbeating what is missing; returns only what is still missing at the bound (not the
     * units: a start-up of 10,000 VMs must not carry them into its history on every poll).
     */
    async waitFleetReady(input: {
      hosts: string[];
      vms: string[];
      timeoutMs?: number;
    }): Promise<{ missing: string[]; unknown: string[]; registered: string[] }> {
      const deadline = Date.now() + (input.timeoutMs ?? 60_000);
      for (;;) {
        const state = await readFleetState();
        const registered = new Set(state.machines.map((m) => m.host));
        const known = new Set(state.units.map((u) => u.vm));
        const missing = input.hosts.filter((h) => !registered.has(h));
        const unknown = input.vms.filter((vm) => !known.has(vm));
        Context.current().heartbeat({ missing: missing.length, unknown: unknown.length });
        if ((!missing.length && !unknown.length) || Date.now() > deadline) return { missing, unknown, registered: [...registered] };
        await sleepOrCancel(3000);
      }
    },

    /** `systemctl stop fleet` on a hypervisor: fleet reschedules its launched units elsewhere. Idempotent. */
    async stopFleet(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'stop', 'fleet'], { timeoutMs: 120_000 }), 'systemctl stop fleet');
    },

    /** `systemctl start fleet`: only units that can run nowhere else start there (no rebalancing). */
    async startFleet(input: { host: string }): Promise<void> {
      await startFleetOn(input.host);
    },

    /** startFleet on every host, in one activity (activities/each-host.ts); fails naming each host it could not start fleet on. */
    async startFleetOnHosts(input: { hosts: string[] }): Promise<{ done: string[] }> {
      const r = await eachHostOfActivity(input.hosts, startFleetOn);
      if (r.failed.length) throw hostsFailure('systemctl start fleet', r.failed);
      return { done: r.done };
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
      const machines = async () => {
        const out = (await fleetctl(host, ['list-machines'])).stdout;
        return machineIndex(parsed(() => parseFleetListMachines(out)));
      };
      let where = await machines();
      /** The unit as list-units shows it, one listing per poll (not the unit files nor the join: 10,000 VMs make those seconds). */
      type Live = { active?: string; sub?: string; host?: string };
      const liveNow = async (): Promise<Live | undefined> => {
        const listed = (await fleetctl(host, ['list-units'])).stdout;
        const u = parsed(() => parseFleetListUnits(listed)).find((x) => x.unit === input.unit);
        if (!u) return undefined;
        const ref = { id: u.machineId, hostname: u.hostname, ip: u.ip };
        if (!where.hostOf(ref) && (ref.id || ref.ip)) where = await machines(); // a machine that joined since
        return { active: u.active, sub: u.sub, host: where.hostOf(ref) };
      };
      const running = (u: Live | undefined) => u?.active === 'active' && u.sub === 'running';
      const waitFor = async (what: string, done: (u: Live | undefined) => boolean) => {
        for (;;) {
          const now = await liveNow();
          Context.current().heartbeat({ unit: input.unit, waitingFor: what, state: now?.active, host: now?.host });
          if (done(now)) return now;
          if (Date.now() > deadline) {
            throw ApplicationFailure.create({
              type: 'UnitDidNotMove',
              message: `${input.unit}: still not ${what} after ${Math.round((input.timeoutMs ?? 300_000) / 1000)} s (${now?.active}/${now?.sub} on ${now?.host ?? 'no host'})`,
            });
          }
          await sleepOrCancel(pollDelay(polls++));
        }
      };
      let polls = 0;
      const before = (await readFleetState()).units.find((u) => u.unit === input.unit);
      if (!before) throw ApplicationFailure.nonRetryable(`${input.unit}: fleet knows no such unit`, FAILURE.toolError);
      // Started again elsewhere by an earlier attempt (running, or still starting there): wait, touch nothing.
      const startedElsewhere =
        before.host !== undefined &&
        before.host !== input.from &&
        (before.dstate === 'launched' || before.active === 'active' || before.active === 'activating');
      if (!startedElsewhere) {
        // Only unload what is still on its old host: a retried attempt may find the unload done.
        if (before.dstate !== 'inactive') await fleetctl(host, ['unload', '--no-block', input.unit]);
        // The VM must be down before it is started again, or fleet would keep it where it was: an
        // unloaded unit leaves list-units once fleet has unscheduled it (its agent stopped it first).
        await waitFor('unloaded', (u) => !u || (u.host !== undefined && u.host !== input.from));
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
     * machine. Returns the verdict (not where each VM is scheduled: that grows with the VMs); `ok` false with the numbers when it cannot fit.
     * Idempotent: loading a loaded unit and unloading one that does not run change nothing.
     */
    async placeVms(input: {
      vms: string[];
      rounds?: number;
      scheduleTimeoutMs?: number;
    }): Promise<Omit<StartupPlacement, 'placement'> & { rounds: number; unscheduled: string[] }> {
      const units = new Map(input.vms.map((vm) => [vm, unitOfVm(inv, vm)]));
      [...units.values()].forEach((u, i) => assertUnitName(u, `vms[${i}]`));
      const host = commandHost(inv);
      const batch = async (verb: 'load' | 'unload', vms: string[]) => {
        for (let i = 0; i < vms.length; i += 200) await fleetctl(host, [verb, '--no-block', ...vms.slice(i, i + 200).map((vm) => units.get(vm)!)]);
      };
      /**
       * Polls until each VM is scheduled (or, `off`, none of them is), within the bound: list-units
       * only (a scheduled unit is listed on its machine), the whole state once it has settled.
       */
      const settle = async (vms: string[], off: boolean) => {
        const deadline = Date.now() + (input.scheduleTimeoutMs ?? 60_000);
        for (let polls = 0; ; polls++) {
          const listed = (await fleetctl(host, ['list-units'])).stdout;
          const scheduled = new Set(parsed(() => parseFleetListUnits(listed)).map((u) => u.unit));
          const pending = vms.filter((vm) => scheduled.has(units.get(vm)!) === off);
          Context.current().heartbeat({ placing: vms.length, pending: pending.length });
          if (!pending.length || Date.now() > deadline) return { state: await readFleetState(), pending };
          await sleepOrCancel(pollDelay(polls));
        }
      };
      const rounds = input.rounds ?? 5;
      let toLoad = (await readFleetState()).units.filter((u) => u.vm && units.has(u.vm) && u.dstate === 'inactive').map((u) => u.vm!);
      for (let round = 1; ; round++) {
        if (toLoad.length) await batch('load', toLoad);
        const { state, pending } = await settle(input.vms, false);
        const p = checkStartupPlacement(fleetSnapshot(inv, state.machines, state.units), input.vms);
        // not the placement of every VM: the workflow needs the verdict, and it must fit a payload at 10,000 VMs
        const { placement: _each, ...verdict } = p;
        if (p.ok || round >= rounds || !p.replace.length) return { ...verdict, rounds: round, unscheduled: pending };
        await batch('unload', p.replace);
        await settle(p.replace, true);
        toLoad = p.replace;
      }
    },

    /**
     * Seed 001's VM tiers in one activity: per batch, `fleetctl stop|start --no-block` then a wait
     * until each unit is stopped (or active/running), the next batch once it is, heartbeating the
     * batch reached; a retried attempt goes on from there. Returns the units that did not get there
     * within `timeoutMs` of their batch (a start-up stops at the first such batch). The workflow's
     * history holds one activity, whatever the number of VMs.
     */
    async runUnitBatches(input: {
      batches: string[][];
      want: 'stopped' | 'running';
      timeoutMs: number;
      stopAtPending?: boolean;
    }): Promise<{ batchesDone: number; pending: UnitPending[] }> {
      const from = (Context.current().info.heartbeatDetails as { batch?: number } | undefined)?.batch ?? 0;
      const pending: UnitPending[] = [];
      let fastestMs: number | undefined; // of the batches that all got there: when the next one can be expected
      for (let i = from; i < input.batches.length; i++) {
        const units = input.batches[i]!;
        units.forEach((u, j) => assertUnitName(u, `batches[${i}][${j}]`));
        const started = Date.now();
        if (units.length) await fleetctl(commandHost(inv), [input.want === 'stopped' ? 'stop' : 'start', '--no-block', ...units]);
        const r = await waitFor(units, input.want, input.timeoutMs, () => checkpoint({ batch: i, of: input.batches.length }), undefined, fastestMs);
        if (units.length && !r.pending.length) fastestMs = Math.min(fastestMs ?? Number.POSITIVE_INFINITY, Date.now() - started);
        pending.push(...r.pending);
        checkpoint({ batch: i + 1, of: input.batches.length });
        if (r.pending.length && input.stopAtPending) return { batchesDone: i, pending };
      }
      return { batchesDone: input.batches.length, pending };
    },

    /** Waits until every unit is in the wanted state (stopped: not active; running: active/running). */
    async waitUnits(input: {
      units: string[];
      want: 'stopped' | 'running';
      timeoutMs?: number;
      avoid?: string[];
    }): Promise<{ done: string[]; pending: UnitPending[] }> {
      return waitFor(
        input.units,
        input.want,
        input.timeoutMs ?? 5 * 60_000,
        (pending) => Context.current().heartbeat({ want: input.want, pending, of: input.units.length }),
        input.avoid,
      );
    },
  };
}

/**
 * Delay before poll n+1 of a wait: every `fastMs` for the first 2 s (a batch of VMs is there in well
 * under that), then doubling to 1 s. The VM batch waits poll at 50 ms (one wait at a time, and each
 * poll sooner is a batch sooner); the moves at 100 ms (many waits at once).
 */
export function pollDelay(n: number, fastMs = 100): number {
  const fast = Math.ceil(2000 / fastMs);
  return n < fast ? fastMs : Math.min(1000, fastMs * 2 ** (n - fast + 1));
}

/**
 * How long a batch is left alone before its first poll, given how long the fastest earlier batch took
 * (none: poll at once): 80% of it, so that a batch as fast as the fastest is still seen at its end.
 */
export function quietMs(expectMs: number | undefined): number {
  return expectMs && Number.isFinite(expectMs) && expectMs > 0 ? Math.floor(expectMs * 0.8) : 0;
}
