/**
 * fleetctl as fleet v1.0.0 prints it (fleetctl/*.go), as patched at the seeds' site by default: a
 * `hostname` field for list-machines / list-units and machine legends `944cd548.../top1` instead of
 * `944cd548.../10.1.0.1` (model.fleetVariant 'upstream' gives the upstream forms).
 *
 * Tables go through text/tabwriter with TAB padding (help.go getTabOutWithWriter); stdout() /
 * stderr() add the newline. Messages: fleetctl.go tryWaitForUnitStates / assertUnitState /
 * tryWaitForSystemdActiveState, start.go, load.go, stop.go, unload.go, destroy.go, cat.go.
 */
import type { LabModel, MachineState, UnitState } from '../model';
import { table, tabTable, takeFlags, type Tool, type ToolContext } from './types';

type JobState = 'inactive' | 'loaded' | 'launched';

/** fleet's current state of a unit (registry determineJobState: scheduled, agent state, heartbeat). */
export function currentState(u: UnitState): JobState {
  if (!u.host) return 'inactive';
  return u.active === 'active' || u.active === 'activating' || u.active === 'deactivating' ? 'launched' : 'loaded';
}

/** The machines fleet lists (cachedMachineState only knows these). */
function registered(model: LabModel, host: string | undefined): MachineState | undefined {
  if (!host) return undefined;
  const m = model.machines.get(host);
  return m?.registered ? m : undefined;
}

/** machineIDLegend: the full id, or its first 8 characters and "...". */
function machineId(m: MachineState, full: boolean): string {
  return full ? m.machineId : `${m.machineId.slice(0, 8)}...`;
}

/**
 * machineFullLegend: `<id>/<PublicIP>` upstream, `<id>/<hostname>` patched; a unit whose machine
 * fleet no longer lists gets the bare id (its MachineState has no IP / hostname).
 */
function legend(model: LabModel, host: string | undefined, full: boolean): string {
  if (!host) return '-';
  const m = registered(model, host);
  if (!m) {
    const gone = model.machines.get(host);
    return gone ? machineId(gone, full) : '-';
  }
  const suffix = model.fleetVariant === 'upstream' ? m.ip : m.name;
  return suffix ? `${machineId(m, full)}/${suffix}` : machineId(m, full);
}

function metadataString(m: MachineState): string {
  const keys = Object.keys(m.metadata).sort();
  return keys.length ? keys.map((k) => `${k}=${m.metadata[k]}`).join(',') : '-';
}

type Field<T> = (x: T, full: boolean) => string;

function machineFields(model: LabModel): Record<string, Field<MachineState>> {
  const f: Record<string, Field<MachineState>> = {
    machine: (m, full) => machineId(m, full),
    ip: (m) => m.ip || '-',
    metadata: (m) => metadataString(m),
  };
  if (model.fleetVariant === 'seeds') f.hostname = (m) => m.name;
  return f;
}

function unitFields(model: LabModel): Record<string, Field<UnitState>> {
  const f: Record<string, Field<UnitState>> = {
    unit: (u) => u.name,
    load: () => 'loaded',
    active: (u) => u.active,
    sub: (u) => u.sub,
    machine: (u, full) => legend(model, u.host, full),
    hash: (u, full) => (full ? u.hash.padEnd(40, '0') : u.hash.slice(0, 7)),
  };
  if (model.fleetVariant === 'seeds') f.hostname = (u) => u.host ?? '-';
  return f;
}

function unitFileFields(model: LabModel): Record<string, Field<UnitState>> {
  const target: Field<UnitState> = (u, full) => legend(model, u.host, full);
  return {
    unit: (u) => u.name,
    global: () => 'false',
    dstate: (u) => u.dstate,
    target,
    tmachine: target,
    state: (u) => currentState(u),
    hash: (u, full) => (full ? u.hash.padEnd(40, '0') : u.hash.slice(0, 7)),
    desc: (u) => /^Description=(.*)$/m.exec(u.text)?.[1] || '-',
  };
}

function listing<T>(ctx: ToolContext, items: T[], fields: Record<string, Field<T>>, defaults: string, flags: Map<string, string>, command: string): number {
  const spec = flags.has('fields') ? flags.get('fields')! : defaults;
  if (spec === '') {
    ctx.err('Must define output format\n');
    return 1;
  }
  const wanted = spec.split(',');
  for (const f of wanted) {
    if (!Object.hasOwn(fields, f)) {
      ctx.err(`Invalid key in output format: ${JSON.stringify(f)}\n`);
      return 1;
    }
    if (command === 'list-unit-files' && f === 'tmachine') ctx.err('WARNING: The "tmachine" field is deprecated. Use "target" instead\n');
  }
  const full = flags.has('full') || flags.has('l');
  const rows = items.map((x) => wanted.map((f) => fields[f](x, full)));
  if (!flags.has('no-legend')) rows.unshift(wanted.map((f) => f.toUpperCase()));
  ctx.out(ctx.model.fleetTableStyle === 'spaces' ? table(rows) : tabTable(rows));
  return 0;
}

const UNIT_TYPES = ['service', 'socket', 'device', 'mount', 'automount', 'timer', 'path', 'slice', 'scope', 'target', 'swap', 'snapshot'];

/** unitNameMangle: the base name, with `.service` appended unless it ends with a unit type. */
export function unitName(arg: string): string {
  const base = arg.slice(arg.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && UNIT_TYPES.includes(base.slice(dot + 1)) ? base : `${base}.service`;
}

/** fleetctl.go waitForState: each attempt polls every 250 ms for up to defaultSleepTime (2 s). */
const ATTEMPT_MS = 2000;

/** Waits until `done(u)`; false when `attempts` (> 0) ran out or the client went away. */
async function waitUnit(ctx: ToolContext, u: UnitState, done: (u: UnitState) => boolean, attempts: number): Promise<boolean> {
  for (let i = 0; attempts <= 0 || i < attempts; i++) {
    if (done(u)) return true;
    if (ctx.signal.aborted) return false;
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    ctx.signal.addEventListener('abort', abort);
    const timer = setTimeout(abort, ATTEMPT_MS);
    await ctx.model.waitFor(() => done(u), attempt.signal);
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', abort);
  }
  return done(u);
}

/**
 * tryWaitForUnitStates: --no-block prints "Triggered unit X <verb>"; otherwise every unit's
 * assertUnitState line "Unit X <state>[ on <machine>]" once it reaches the state. Returns the error
 * text of the first unit that timed out.
 */
async function waitForUnitStates(ctx: ToolContext, units: UnitState[], verb: string, state: JobState, attempts: number): Promise<string | undefined> {
  if (attempts < 0) {
    for (const u of units) ctx.out(`Triggered unit ${u.name} ${verb}\n`);
    return undefined;
  }
  const results = await Promise.all(
    units.map(async (u) => {
      const ok = await waitUnit(ctx, u, (x) => currentState(x) === state, attempts);
      if (ok) ctx.out(`Unit ${u.name} ${currentState(u)}${u.host ? ` on ${legend(ctx.model, u.host, false)}` : ''}\n`);
      return ok ? undefined : `timed out waiting for unit ${u.name} to report state ${state}`;
    }),
  );
  const err = results.find((r) => r !== undefined);
  if (err) ctx.err(`Error waiting for units: ${err}\n`);
  return err;
}

/** tryWaitForSystemdActiveState: --no-block prints "Triggered unit X start" again. */
async function waitForSystemdActive(ctx: ToolContext, units: UnitState[], attempts: number): Promise<string | undefined> {
  if (attempts < 0) {
    for (const u of units) ctx.out(`Triggered unit ${u.name} start\n`);
    return undefined;
  }
  // checkSystemdActiveState reports the first failed 2 s assertion even when it would block forever.
  const results = await Promise.all(
    units.map(async (u) => {
      const ok = await waitUnit(ctx, u, (x) => x.active === 'active', 1);
      return ok ? undefined : `Failed to find an active unit ${u.name} within 2s, err: Failed to find an active unit ${u.name}`;
    }),
  );
  const err = results.find((r) => r !== undefined);
  if (err) ctx.err(`Error waiting for units: ${err}\n`);
  return err;
}

export const fleetctl: Tool = async (ctx) => {
  const { flags, rest } = takeFlags(ctx.args, [
    'fields',
    'block-attempts',
    'endpoint',
    'driver',
    'tunnel',
    'request-timeout',
    'etcd-key-prefix',
    'ssh-port',
    'known-hosts-file',
  ]);
  const [cmd, ...names] = rest;
  const model = ctx.model;
  const me = model.machine(ctx.host);
  const faulted = model.fleetUnavailableCommands > 0;
  if (faulted) model.fleetUnavailableCommands--;
  if (faulted || (!me.fleetd && !model.fleetMachines().length)) {
    ctx.err('Error retrieving list of units from repository: googleapi: Error 503: fleet server unable to communicate with etcd\n');
    return 1;
  }
  // getBlockAttempts: 0 waits forever, N > 0 attempts, --no-block -1
  const attempts = flags.has('no-block') ? -1 : Math.max(0, Number(flags.get('block-attempts') ?? 0) || 0);

  /** findUnits: the named units the registry has (unknown names are skipped silently). */
  const find = (args: string[]): UnitState[] => args.map((a) => model.units.get(unitName(a))).filter((u): u is UnitState => u !== undefined);
  /** stop, unload and destroy act on registered units only; fleetctl exits 0 when there are none. */
  const registered = (args: string[]): UnitState[] | undefined => {
    if (!args.length) {
      ctx.err('No units given\n');
      return undefined;
    }
    const units = find(args);
    if (!units.length) {
      ctx.err('Units not found in registry\n');
      return undefined;
    }
    return units;
  };
  /** stop and unload: wait until each unit reached `state`, then say so as fleetctl does. */
  const settle = async (units: UnitState[], verb: string, past: string, state: JobState): Promise<number> => {
    const list = `[${units.map((u) => u.name).join(' ')}]`;
    const err = await waitForUnitStates(ctx, units, verb, state, attempts);
    if (err) {
      ctx.err(`Failed to ${verb} units ${list}. err: ${err}\n`);
      return 1;
    }
    ctx.err(`Successfully ${past} units ${list}.\n`);
    return 0;
  };

  switch (cmd) {
    case 'list-machines':
      return listing(
        ctx,
        model.fleetMachines(),
        machineFields(model),
        model.fleetVariant === 'seeds' ? 'machine,hostname,ip,metadata' : 'machine,ip,metadata',
        flags,
        cmd,
      );
    case 'list-units': {
      // registry UnitStates: the units an agent reports, by unit name then machine id
      const units = [...model.units.values()].filter((u) => u.host).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return listing(ctx, units, unitFields(model), 'unit,machine,active,sub', flags, cmd);
    }
    case 'list-unit-files': {
      const units = [...model.units.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return listing(ctx, units, unitFileFields(model), 'unit,hash,dstate,state,target', flags, cmd);
    }
    case 'cat': {
      if (names.length !== 1) {
        ctx.err('One unit file must be provided\n');
        return 1;
      }
      const u = model.units.get(unitName(names[0]));
      if (!u) {
        ctx.err(`Unit ${unitName(names[0])} not found\n`);
        return 1;
      }
      ctx.out(u.text); // "Must not add a newline here" (cat.go)
      return 0;
    }
    case 'start':
    case 'load': {
      ctx.mutating();
      if (!names.length) {
        ctx.err('No units given\n');
        return 0;
      }
      // lazyCreateUnits: a unit neither in the registry nor on disk
      for (const a of names) {
        if (!model.units.has(unitName(a))) {
          ctx.err(`Error creating units: unable to find Unit(${unitName(a)}) in Registry or on filesystem\n`);
          return 1;
        }
      }
      // setTargetStateOfUnits: units already at that desired state are not triggered
      const target: JobState = cmd === 'start' ? 'launched' : 'loaded';
      const triggered: UnitState[] = [];
      model.batch(() => {
        for (const a of names) {
          const u = model.units.get(unitName(a))!;
          if (u.dstate === target || triggered.includes(u)) continue;
          if (cmd === 'start') model.fleetStart(u.name);
          else model.fleetLoad(u.name);
          triggered.push(u);
        }
      });
      const err = await waitForUnitStates(ctx, triggered, cmd, target, attempts);
      if (err) {
        ctx.err(`Error waiting for unit states, exit status: ${err}\n`);
        return 1;
      }
      if (cmd === 'start') {
        const active = await waitForSystemdActive(ctx, triggered, attempts);
        if (active) {
          ctx.err(`Error waiting for systemd unit states, err: ${active}\n`);
          return 1;
        }
      }
      return 0;
    }
    case 'stop': {
      ctx.mutating();
      const units = registered(names);
      if (!units) return 0;
      const stopping: UnitState[] = [];
      const refused = model.batch(() => {
        for (const u of units) {
          const state = currentState(u);
          if (state === 'inactive') {
            ctx.err(`Unable to stop unit ${u.name} in state inactive\n`);
            return true;
          }
          if (state === 'loaded') continue; // already stopped
          model.fleetStop(u.name);
          stopping.push(u);
        }
        return false;
      });
      if (refused) return 1;
      return settle(stopping, 'stop', 'stopped', 'loaded');
    }
    case 'unload': {
      ctx.mutating();
      const units = registered(names);
      if (!units) return 0;
      const unloading: UnitState[] = [];
      model.batch(() => {
        for (const u of units) {
          if (currentState(u) === 'inactive') continue;
          model.fleetUnload(u.name);
          unloading.push(u);
        }
      });
      return settle(unloading, 'unload', 'unloaded', 'inactive');
    }
    case 'destroy': {
      ctx.mutating();
      const units = registered(names);
      if (!units) return 0;
      for (const u of units) {
        model.fleetDestroy(u.name);
        ctx.out(`Destroyed ${u.name}\n`);
      }
      return 0;
    }
    case undefined:
    case 'help':
      ctx.out('NAME:\n   fleetctl - fleetctl is a command-line interface to fleet, the cluster-wide CoreOS init system.\n');
      return 0;
    default:
      ctx.err(`Unknown command: ${cmd}\n`);
      return 1;
  }
};
