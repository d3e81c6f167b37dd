/**
 * xe, as XenServer's CLI prints it, answered by the lab's Xen pool (lab/xen.ts). Sources:
 * xapi-project/xen-api (test/fixtures/SOURCES.md, "xe/", says which function each format is):
 *
 * - the client (ocaml/xe-cli/newcli.ml): takes -s/-p/-u/-pw/-pwf/--nossl/--debug for itself, prints
 *   the server's `Print` lines on stdout with a newline, `PrintStderr` on stderr as they are, an
 *   unknown error as "Error code: C" / "Error parameters: P, Q", and exits with the server's status
 *   (1 on any error);
 * - the server (ocaml/xapi-cli-server): cli_frontend.ml parse_commandline (`k=v`, `--flag` = true,
 *   the command table), xapi_cli.ml (a pool member forwards every command to the master, over its
 *   Unix socket only: a command that reached a member over TCP gets HOST_IS_SLAVE; exception_handler:
 *   how each failure is printed), cli_util.ml server_error (a known error: its documentation line,
 *   then one "param: value" line each, references as "uuid (name-label)"), cli_printer.ml (records:
 *   multi_line_record, two blank lines after each; --minimal: the first field of each record, comma
 *   separated, one line), cli_operations.ml (the commands; `<class>-list` filters on any field and
 *   prints the fields of `params=` in the record's order, expensive ones as "<expensive field>"),
 *   records.ml (the fields, their order, RO / RW / SRO / MRO and how values print);
 * - the error texts: ocaml/idl/datamodel_errors.ml.
 *
 * The records carry the fields the lab models (a subset of xapi's, in xapi's order): `params=all`
 * prints those. sr-, vdi- and vbd-list exist so that a VM's disk on local storage can be found.
 */
import { LabError } from '../model';
import { XapiError, type XenHost, type XenPool, type XenSr, type XenVm } from '../xen';
import type { Tool, ToolContext } from './types';

// ---- errors ----------------------------------------------------------------------------------

/** datamodel_errors.ml: the parameters and documentation of the errors the lab raises. */
const ERRORS: Record<string, { params: string[]; doc: string }> = {
  INTERNAL_ERROR: {
    params: ['message'],
    doc: 'The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.',
  },
  HOST_IS_SLAVE: {
    params: ['Master IP address'],
    doc: 'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.',
  },
  HOST_NOT_DISABLED: { params: [], doc: 'This operation cannot be performed because the host is not disabled. Please disable the host and then try again.' },
  HOST_NOT_ENOUGH_FREE_MEMORY: { params: ['needed', 'available'], doc: 'Not enough server memory is available to perform this operation.' },
  HOST_DISABLED: { params: ['host'], doc: 'The specified server is disabled.' },
  HOST_DISABLED_UNTIL_REBOOT: { params: ['host'], doc: 'The specified server is disabled and cannot be re-enabled until after it has rebooted.' },
  HOST_NOT_LIVE: { params: [], doc: 'This operation cannot be completed as the server is not live.' },
  HOST_OFFLINE: { params: ['host'], doc: 'You attempted an operation which involves a host which could not be contacted.' },
  CANNOT_CONTACT_HOST: {
    params: ['host'],
    doc: 'Cannot forward messages because the server cannot be contacted. The server may be switched off or there may be network connectivity problems.',
  },
  NO_HOSTS_AVAILABLE: { params: [], doc: 'There were no servers available to complete the specified operation.' },
  HOST_EVACUATE_VM_NOT_HA_PROTECTED: {
    params: ['vm'],
    doc:
      "The host cannot be evacuated because HA is enabled on the pool and a VM running on it is not HA-protected (its ha_restart_priority is not set to 'restart'). " +
      "Set the VM's ha_restart_priority to 'restart', shut down or suspend the VM, or disable HA on the pool before evacuating the host.",
  },
  VM_BAD_POWER_STATE: {
    params: ['vm', 'expected', 'actual'],
    doc:
      'You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running. ' +
      "The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
  },
  VM_REQUIRES_SR: {
    params: ['vm', 'sr'],
    doc: "You attempted to run a VM on a host which doesn't have access to an SR needed by the VM. The VM has at least one VBD attached to a VDI in the SR.",
  },
  VM_MIGRATE_CONTACT_REMOTE_SERVICE_FAILED: { params: [], doc: 'Failed to contact service on the destination host.' },
  OTHER_OPERATION_IN_PROGRESS: {
    params: ['class', 'object', 'operation_type', 'operation_ref'],
    doc: 'Another operation involving the object is currently in progress',
  },
  OPERATION_NOT_ALLOWED: { params: ['reason'], doc: 'You attempted an operation that was not allowed.' },
  HA_IS_ENABLED: { params: [], doc: 'The operation could not be performed because HA is enabled on the Pool' },
  HA_NOT_ENABLED: { params: [], doc: 'The operation could not be performed because HA is not enabled on the Pool' },
  HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED: {
    params: ['SR'],
    doc: 'This operation cannot be performed because the referenced SR is not properly shared. The SR must both be marked as shared and a currently_attached PBD must exist for each host.',
  },
  CANNOT_CREATE_STATE_FILE: { params: [], doc: 'An HA statefile could not be created, perhaps because no SR with the appropriate capability was found.' },
  UUID_INVALID: { params: ['type', 'uuid'], doc: 'The uuid you supplied was invalid.' },
};

/** cli_operations.ml `failwith`: xapi_cli.ml prints it as INTERNAL_ERROR "Failure: ...". */
class CliFailure extends Error {}
/** Records.CLI_failed_to_find_param: printed as the unknown error "Missing parameter". */
class MissingParam extends Error {}
/** xapi_cli.ml param_error: "<what>: <detail>" and "For usage run: 'xe help'". */
class ParamError extends Error {
  constructor(
    readonly what: string,
    readonly detail: string,
  ) {
    super(what);
  }
}
/** cli_operations.ml Multiple_failure: one "operation failed on <uuid>: <message>" line each, on stdout. */
class MultipleFailure extends Error {
  constructor(readonly fails: [string, string][]) {
    super('multiple failure');
  }
}

/** cli_util.ml ref_convert: a reference the pool knows prints as "uuid (name-label)". */
function refConvert(x: XenPool, p: string): string {
  const r = x.refs.get(p);
  return r ? (r.name === undefined ? r.uuid : `${r.uuid} (${r.name})`) : p;
}

/** cli_util.ml get_server_error: the doc line and "param: value" lines (missing: <unknown>, extra: <extra>). */
function serverErrorLines(x: XenPool, code: string, params: string[]): string[] | undefined {
  const e = ERRORS[code];
  if (!e) return undefined;
  const values = params.map((p) => refConvert(x, p));
  const n = Math.max(e.params.length, values.length);
  const lines = [e.doc];
  for (let i = 0; i < n; i++) lines.push(`${e.params[i] ?? '<extra>'}: ${values[i] ?? '<unknown>'}`);
  return lines;
}

function serverError(ctx: ToolContext, x: XenPool, code: string, params: string[]): void {
  const lines = serverErrorLines(x, code, params);
  if (lines) for (const l of lines) ctx.err(`${l}\n`);
  else ctx.err(`Error code: ${code}\nError parameters: ${params.map((p) => refConvert(x, p)).join(', ')}\n`);
}

// ---- printing (cli_printer.ml) ---------------------------------------------------------------

type Printed = [string, string][];

/** multi_line_record: keys padded to the longest + 4, the first on the right, the others on the left. */
function multiLineRecord(r: Printed): string {
  const width = 4 + Math.max(0, ...r.map(([k]) => k.length));
  return r.map(([k, v], i) => `${i === 0 ? k.padEnd(width) : k.padStart(width)}: ${v}`).join('\n') + '\n';
}

const escapeCommas = (s: string) => s.replace(/[\\,]/g, (c) => `\\${c}`);

class Printer {
  private readonly buffer: string[] = [];
  constructor(
    private readonly ctx: ToolContext,
    readonly minimal: boolean,
  ) {}

  table(records: Printed[]): void {
    if (this.minimal) {
      if (records.length && records.every((r) => r.length)) this.buffer.unshift(records.map((r) => escapeCommas(r[0]![1])).join(','));
    } else for (const r of records) this.ctx.out(`${multiLineRecord(r)}\n\n`);
  }

  list(values: string[]): void {
    if (this.minimal) this.buffer.unshift(values.map(escapeCommas).join(','));
    else for (const v of values) this.ctx.out(`${v}\n`);
  }

  msg(s: string): void {
    if (!this.minimal) this.ctx.out(`${s}\n`);
  }

  flush(): void {
    if (this.minimal) this.ctx.out(`${this.buffer.join(',')}\n`);
  }
}

// ---- records (records.ml) --------------------------------------------------------------------

/** records.ml nid: a null reference. */
const NID = '<not in database>';

interface Field<T> {
  name: string;
  get(o: T, x: XenPool): string;
  /** A set field (SRO / SRW): its members. */
  members?: (o: T, x: XenPool) => string[];
  /** A map field (MRO / MRW): its pairs, in the database's order (records.ml get_from_map prints "k: v; k2: v2"). */
  map?: (o: T, x: XenPool) => [string, string][];
  /** Settable (RW / SRW) in xapi. */
  rw?: boolean;
  /** What the lab does on `<class>-param-set` (a settable field without it is refused as not simulated). */
  write?: (o: T, value: string, x: XenPool) => void;
  hidden?: boolean;
  /** Needs another API call: `-list` prints "<expensive field>". */
  expensive?: boolean;
}

interface XeClass<T> {
  name: string;
  /** The database table UUID_INVALID names. */
  table: string;
  all(x: XenPool): T[];
  uuid(o: T): string;
  fields: Field<T>[];
  /** gen_cmds: the fields `-list` prints without params=. */
  defaults: string[];
  /** gen_cmds: filters `-list` always applies. */
  filters: [string, string][];
}

/** print_field: "name ( RO)", "( RW)", "(SRO)", "(SRW)", "(MRO)", "(MRW)". */
function label<T>(f: Field<T>): string {
  return `${f.name} (${f.members ? (f.rw ? 'SRW' : 'SRO') : f.map ? (f.rw ? 'MRW' : 'MRO') : f.rw ? ' RW' : ' RO'})`;
}

const semi = (xs: string[]) => xs.join('; ');
/** records.ml get_from_map. */
const mapText = (kvs: [string, string][]) => semi(kvs.map(([k, v]) => `${k}: ${v}`));
/** get_uuid_from_ref: a host's uuid, <not in database> for a null reference. */
const hostUuid = (x: XenPool, uuid: string | undefined) => (uuid === undefined ? NID : (x.hosts.get(uuid)?.uuid ?? NID));

function parseInt64(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new CliFailure('Int64.of_string');
  return Number(v);
}

/** bool_of_string; its Invalid_argument reaches exception_handler's catch-all (INTERNAL_ERROR, Printexc.to_string). */
function parseBool(v: string): boolean {
  if (v !== 'true' && v !== 'false') throw new XapiError('INTERNAL_ERROR', ['Invalid_argument("bool_of_string")']);
  return v === 'true';
}

const POOL: XeClass<XenPool> = {
  name: 'pool',
  table: 'pool',
  all: (x) => [x],
  uuid: (x) => x.pool.uuid,
  defaults: ['uuid', 'name-label', 'name-description', 'master', 'default-SR'],
  filters: [],
  fields: [
    { name: 'uuid', get: (x) => x.pool.uuid },
    { name: 'name-label', rw: true, get: (x) => x.pool.name, write: (x, v) => void (x.pool.name = v) },
    { name: 'name-description', rw: true, get: () => '' },
    { name: 'master', get: (x) => x.pool.master },
    { name: 'default-SR', rw: true, get: (x) => [...x.srs.values()].find((s) => s.shared)?.uuid ?? NID },
    { name: 'ha-enabled', get: (x) => String(x.pool.haEnabled) },
    {
      name: 'ha-configuration',
      get: (x) =>
        semi(
          Object.entries(x.pool.haConfiguration)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, v]) => `${k}: ${v}`),
        ),
    },
    { name: 'ha-statefiles', get: (x) => semi(x.pool.haStatefiles) },
    {
      name: 'ha-host-failures-to-tolerate',
      rw: true,
      get: (x) => String(x.pool.haHostFailuresToTolerate),
      write: (x, v) => {
        const n = parseInt64(v);
        if (n < 0) throw new XapiError('INVALID_VALUE', ['ha_host_failures_to_tolerate', v]);
        x.pool.haHostFailuresToTolerate = n;
      },
    },
    { name: 'ha-plan-exists-for', get: (x) => String(x.haPlanExistsFor()) },
    { name: 'ha-allow-overcommit', rw: true, get: (x) => String(x.pool.haAllowOvercommit), write: (x, v) => void (x.pool.haAllowOvercommit = parseBool(v)) },
    { name: 'ha-overcommitted', get: () => 'false' },
    { name: 'ha-cluster-stack', get: () => 'xhad' },
  ],
};

/** Host current-operations: a reboot, an evacuation, the VMs on their way in (reserve_memory_for_vm's VM.migrate). */
function hostOperations(h: XenHost, x: XenPool): string[] {
  const ops: string[] = [];
  if (h.shutdownTask) ops.push('shutdown');
  if (h.evacuateTask) ops.push('evacuate');
  for (const v of x.vms.values()) if (v.scheduledOn === h.uuid) ops.push('VM.migrate');
  return ops;
}

const HOST: XeClass<XenHost> = {
  name: 'host',
  table: 'host',
  all: (x) => [...x.hosts.values()],
  uuid: (h) => h.uuid,
  defaults: ['uuid', 'name-label', 'name-description'],
  filters: [],
  fields: [
    { name: 'uuid', get: (h) => h.uuid },
    { name: 'name-label', rw: true, get: (h) => h.name },
    { name: 'name-description', rw: true, get: () => 'Default install' },
    { name: 'current-operations', get: (h, x) => semi(hostOperations(h, x)), members: hostOperations },
    { name: 'enabled', get: (h) => String(h.enabled) },
    // records.ml host_record: other-config (add_to_map / remove_from_map: MRW), after capabilities
    { name: 'other-config', rw: true, get: (h) => mapText(h.otherConfig), map: (h) => h.otherConfig },
    { name: 'hostname', get: (h) => h.name },
    { name: 'address', get: (h) => h.address },
    { name: 'memory-overhead', get: (h) => String(h.memoryOverhead) },
    { name: 'memory-total', get: (h) => String(h.memoryTotal) },
    { name: 'memory-free', get: (h, x) => String(x.reportedFreeMemory(h)) },
    { name: 'memory-free-computed', expensive: true, get: (h, x) => String(x.freeMemory(h)) },
    { name: 'host-metrics-live', get: (h) => String(h.live) },
    { name: 'control-domain-uuid', get: (h) => h.controlDomain },
    {
      name: 'resident-vms',
      get: (h, x) => semi(x.residentOn(h).map((v) => v.uuid)),
      members: (h, x) => x.residentOn(h).map((v) => v.uuid),
    },
  ],
};

const vmOperations = (v: XenVm) => (v.operation ? [v.operation.op] : []);

const VM: XeClass<XenVm> = {
  name: 'vm',
  table: 'VM',
  all: (x) => [...x.vms.values()],
  uuid: (v) => v.uuid,
  defaults: ['name-label', 'uuid', 'power-state'],
  filters: [['is-a-template', 'false']],
  fields: [
    { name: 'uuid', get: (v) => v.uuid },
    { name: 'name-label', rw: true, get: (v) => v.name },
    { name: 'name-description', rw: true, get: (v) => (v.isControlDomain ? 'The domain which manages physical devices and manages other domains' : '') },
    { name: 'is-a-template', rw: true, get: () => 'false' },
    { name: 'is-a-snapshot', get: () => 'false' },
    { name: 'is-control-domain', get: (v) => String(v.isControlDomain) },
    { name: 'power-state', get: (v) => v.powerState },
    { name: 'memory-overhead', get: (v) => String(v.memoryOverhead) },
    { name: 'memory-static-max', rw: true, get: (v) => String(v.memoryStaticMax) },
    { name: 'memory-dynamic-max', rw: true, get: (v) => String(v.memoryDynamicMax) },
    { name: 'memory-dynamic-min', rw: true, get: (v) => String(v.memoryDynamicMin) },
    { name: 'memory-static-min', rw: true, get: (v) => String(v.memoryStaticMin) },
    { name: 'VCPUs-max', rw: true, get: (v) => String(v.vcpus) },
    { name: 'VCPUs-at-startup', rw: true, get: (v) => String(v.vcpus) },
    { name: 'current-operations', get: (v) => semi(vmOperations(v)), members: vmOperations },
    { name: 'resident-on', get: (v, x) => hostUuid(x, v.residentOn) },
    { name: 'affinity', rw: true, get: () => NID },
    { name: 'ha-restart-priority', rw: true, get: (v) => v.haRestartPriority },
  ],
};

const SR: XeClass<XenSr> = {
  name: 'sr',
  table: 'SR',
  all: (x) => [...x.srs.values()],
  uuid: (s) => s.uuid,
  defaults: ['uuid', 'name-label', 'name-description', 'host', 'type', 'content-type'],
  filters: [],
  fields: [
    { name: 'uuid', get: (s) => s.uuid },
    { name: 'name-label', rw: true, get: (s) => s.name },
    { name: 'name-description', rw: true, get: () => '' },
    // records.ml: the host of its one PBD by name, "<shared>" with several
    { name: 'host', get: (s, x) => (s.shared ? '<shared>' : (x.hosts.get(s.host!)?.name ?? NID)) },
    { name: 'type', get: (s) => s.type },
    { name: 'content-type', get: () => 'user' },
    { name: 'shared', rw: true, get: (s) => String(s.shared) },
  ],
};

/** A guest's disk: its VDI and its VBD. */
type Disk = XenVm & Required<Pick<XenVm, 'sr' | 'vdi' | 'vbd'>>;
const disks = (x: XenPool) => [...x.vms.values()].filter((v): v is Disk => v.vdi !== undefined);

const VDI: XeClass<Disk> = {
  name: 'vdi',
  table: 'VDI',
  all: disks,
  uuid: (v) => v.vdi.uuid,
  defaults: ['uuid', 'name-label', 'name-description', 'virtual-size', 'read-only', 'sharable', 'sr-uuid'],
  filters: [],
  fields: [
    { name: 'uuid', get: (v) => v.vdi.uuid },
    { name: 'name-label', rw: true, get: (v) => v.vdi.name },
    { name: 'name-description', rw: true, get: () => '' },
    { name: 'sr-uuid', get: (v) => v.sr.uuid },
    { name: 'sr-name-label', get: (v) => v.sr.name },
    { name: 'vbd-uuids', get: (v) => v.vbd.uuid, members: (v) => [v.vbd.uuid] },
    { name: 'virtual-size', get: (v) => String(v.vdi.virtualSize) },
    { name: 'type', get: () => 'User' },
    { name: 'sharable', get: () => 'false' },
    { name: 'read-only', get: () => 'false' },
  ],
};

const VBD: XeClass<Disk> = {
  name: 'vbd',
  table: 'VBD',
  all: disks,
  uuid: (v) => v.vbd.uuid,
  defaults: ['uuid', 'vm-uuid', 'vm-name-label', 'vdi-uuid', 'device', 'empty'],
  filters: [],
  fields: [
    { name: 'uuid', get: (v) => v.vbd.uuid },
    { name: 'vm-uuid', get: (v) => v.uuid },
    { name: 'vm-name-label', get: (v) => v.name },
    { name: 'vdi-uuid', get: (v) => v.vdi.uuid },
    { name: 'vdi-name-label', get: (v) => v.vdi.name },
    { name: 'empty', get: () => 'false' },
    { name: 'device', get: (v) => (v.powerState === 'running' ? 'xvda' : '') },
    { name: 'userdevice', rw: true, get: () => '0' },
    { name: 'bootable', rw: true, get: () => 'true' },
    { name: 'mode', rw: true, get: () => 'RW' },
    { name: 'type', rw: true, get: () => 'Disk' },
    { name: 'currently-attached', get: (v) => String(v.powerState === 'running') },
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: one table of classes of different record types
const CLASSES: XeClass<any>[] = [POOL, HOST, VM, SR, VDI, VBD];

/** cli_operations.ml stdparams: never filters. */
const STDPARAMS = ['server', 'password', 'port', 'username', 'minimal', 'force', 'multiple', 'all', 'message-priority', 'trace'];

type Params = [string, string][];
const param = (ps: Params, k: string) => ps.find(([p]) => p === k)?.[1];
const boolParam = (ps: Params, k: string, dflt = false) => {
  const v = param(ps, k);
  return v === undefined ? dflt : parseBool(v);
};

/** filter_records_on_fields: by a field's value, or `set:contains=member` (the field type taken from the first record). */
function filter<T>(c: XeClass<T>, x: XenPool, records: T[], [k, v]: [string, string]): T[] {
  if (!records.length) return records;
  const exact = c.fields.find((f) => f.name === k);
  if (exact) return records.filter((o) => exact.get(o, x) === v);
  const colon = k.indexOf(':');
  if (colon >= 0) {
    const f = c.fields.find((g) => g.name === k.slice(0, colon));
    if (!f) throw new CliFailure(`Unknown field '${k}'`);
    if (!f.members) throw new CliFailure(`Field '${f.name}' is not a set or map`);
    if (k.slice(colon + 1) !== 'contains') throw new CliFailure('Invalid syntax for set filtering (should be set-param:contains=key)');
    return records.filter((o) => f.members!(o, x).includes(v));
  }
  throw new CliFailure(`Unknown field '${k}'`);
}

/** select_fields + print_field: the fields of params= (all: every one), in the record's order. */
function printFields<T>(c: XeClass<T>, x: XenPool, o: T, chosen: string[] | 'all', list: boolean): Printed {
  return c.fields
    .filter((f) => (chosen === 'all' ? true : chosen.includes(f.name)) && !f.hidden)
    .map((f) => [label(f), list && f.expensive ? '<expensive field>' : f.get(o, x)]);
}

function chooseParams(ps: Params, defaults: string[]): string[] | 'all' {
  const p = param(ps, 'params');
  if (p === undefined) return defaults;
  return p === 'all' ? 'all' : p.split(',');
}

function byUuid<T>(c: XeClass<T>, x: XenPool, uuid: string): T {
  const o = c.all(x).find((r) => c.uuid(r) === uuid);
  if (o === undefined) throw new XapiError('UUID_INVALID', [c.table, uuid]);
  return o;
}

function fieldOf<T>(c: XeClass<T>, name: string): Field<T> {
  const f = c.fields.find((g) => g.name === name);
  if (!f) throw new MissingParam(name);
  return f;
}

// ---- commands (cli_frontend.ml, cli_operations.ml) -------------------------------------------

interface Run {
  x: XenPool;
  ps: Params;
  out: Printer;
}

interface Command {
  reqd: string[];
  mutating?: boolean;
  run(r: Run): void | Promise<void>;
}

/** gen_cmds / make_param_funs: <class>-list, -param-list, -param-get, -param-set. */
function classCommands<T>(c: XeClass<T>): Record<string, Command> {
  return {
    [`${c.name}-list`]: {
      reqd: [],
      run: ({ x, ps, out }) => {
        const all = c.all(x);
        const filters = [...c.filters, ...ps.filter(([k]) => k !== 'params' && !STDPARAMS.includes(k) && !k.startsWith('database:'))];
        const records = filters.reduce((rs, f) => filter(c, x, rs, f), all);
        const chosen = chooseParams(ps, c.defaults);
        out.table((boolParam(ps, 'all') ? all : records).map((o) => printFields(c, x, o, chosen, true)));
      },
    },
    [`${c.name}-param-list`]: {
      reqd: ['uuid'],
      run: ({ x, ps, out }) => out.table([printFields(c, x, byUuid(c, x, param(ps, 'uuid')!), 'all', false)]),
    },
    [`${c.name}-param-get`]: {
      reqd: ['uuid', 'param-name'],
      run: ({ x, ps, out }) => {
        const o = byUuid(c, x, param(ps, 'uuid')!);
        const f = fieldOf(c, param(ps, 'param-name')!);
        const key = param(ps, 'param-key');
        // p_get: param-key on a map field is that key's value (a missing key: failwith); elsewhere ignored
        if (key !== undefined && f.map) {
          const kv = f.map(o, x).find(([k]) => k === key);
          if (!kv) throw new CliFailure(`Key ${key} not found in map`);
          out.list([kv[1]]);
        } else out.list([f.get(o, x)]);
      },
    },
    [`${c.name}-param-set`]: {
      reqd: ['uuid'],
      mutating: true,
      run: ({ x, ps }) => {
        const o = byUuid(c, x, param(ps, 'uuid')!);
        for (const [k, v] of ps) {
          if (k === 'uuid' || STDPARAMS.includes(k)) continue;
          const f = c.fields.find((g) => g.name === k);
          if (!f) throw new CliFailure(`Unknown field '${k}'`);
          if (f.members) throw new CliFailure('Cannot param-set on set fields');
          if (!f.rw) throw new CliFailure(`Field '${k}' is read-only.`);
          if (!f.write) throw new LabError(`xe ${c.name}-param-set ${k}: not simulated by the lab`);
          f.write(o, v, x);
        }
        x.model.emit('change');
      },
    },
  };
}

/** select_hosts: host=<uuid|hostname|name-label>, then the other parameters as filters. */
function selectHosts(x: XenPool, ps: Params, ignore: string[]): XenHost[] {
  const h = param(ps, 'host');
  const candidates = HOST.all(x).filter((o) => h === undefined || o.uuid === h || o.name === h);
  const filters = ps.filter(([k]) => k !== 'host' && !STDPARAMS.includes(k.split(':')[0]!) && !ignore.includes(k.split(':')[0]!));
  return filters.reduce((rs, f) => filter(HOST, x, rs, f), candidates);
}

/** do_multiple: every one, the failures collected (their message as cli_util.ml get_server_error makes it). */
async function doMultiple<T>(x: XenPool, items: T[], uuid: (o: T) => string, op: (o: T) => unknown): Promise<void> {
  const fails: [string, string][] = [];
  for (const o of items) {
    try {
      await op(o);
    } catch (e) {
      if (!(e instanceof XapiError)) throw e;
      const lines = serverErrorLines(x, e.code, e.params);
      fails.unshift([uuid(o), lines ? lines.join('\n') : `${e.code}: [ ${e.params.join('; ')} ]`]);
    }
  }
  if (fails.length) throw new MultipleFailure(fails);
}

/** do_host_op: one host, or several with --multiple (when the operation allows it). */
async function doHostOp(r: Run, op: (h: XenHost) => unknown, o: { multiple?: boolean; ignore?: string[] } = {}): Promise<void> {
  const hosts = selectHosts(r.x, r.ps, o.ignore ?? []);
  const multiple = o.multiple ?? true;
  if (!hosts.length) throw new CliFailure('No matching hosts found');
  if (hosts.length === 1) return void (await op(hosts[0]!));
  if (multiple && boolParam(r.ps, 'multiple')) return doMultiple(r.x, hosts, (h) => h.uuid, op);
  throw new CliFailure(
    multiple
      ? 'Multiple matching hosts found. --multiple required to complete the operation'
      : 'Multiple matching hosts found. Operation can only be performed on one host at a time',
  );
}

/** select_vms: not templates, control domains only when asked, vm=<uuid|name-label>, the rest as filters. */
function selectVms(x: XenPool, ps: Params, ignore: string[], includeControl: boolean): XenVm[] {
  const v = param(ps, 'vm');
  const rest: Params = [...(includeControl ? [] : ([['is-control-domain', 'false']] as Params)), ['is-a-template', 'false'], ...ps.filter(([k]) => k !== 'vm')];
  const candidates = VM.all(x).filter((o) => v === undefined || o.uuid === v || o.name === v);
  const filters = rest.filter(([k]) => ![...STDPARAMS, ...ignore].includes(k.split(':')[0]!));
  return filters.reduce((rs, f) => filter(VM, x, rs, f), candidates);
}

async function doVmOp(r: Run, op: (v: XenVm) => unknown, ignore: string[], includeControl: boolean): Promise<void> {
  const vms = selectVms(r.x, r.ps, ignore, includeControl);
  if (!vms.length) throw new CliFailure('No matching VMs found');
  if (vms.length === 1) return void (await op(vms[0]!));
  if (boolParam(r.ps, 'multiple')) return doMultiple(r.x, vms, (v) => v.uuid, op);
  throw new CliFailure('Multiple matches VMs found. --multiple required to complete the operation');
}

const COMMANDS: Record<string, Command> = {
  ...Object.assign({}, ...CLASSES.map(classCommands)),
  'host-compute-free-memory': {
    reqd: [],
    run: (r) => doHostOp(r, (h) => r.out.msg(String(r.x.freeMemory(h))), { multiple: false }),
  },
  'host-compute-memory-overhead': {
    reqd: [],
    run: (r) => doHostOp(r, (h) => r.out.msg(String(h.memoryOverhead)), { multiple: false }),
  },
  'host-disable': {
    reqd: [],
    mutating: true,
    run: (r) => {
      const autoEnable = boolParam(r.ps, 'auto-enable', true);
      return doHostOp(r, (h) => r.x.disable(h, autoEnable), { ignore: ['auto-enable'] });
    },
  },
  'host-enable': { reqd: [], mutating: true, run: (r) => doHostOp(r, (h) => r.x.enable(h)) },
  'host-reboot': { reqd: [], mutating: true, run: (r) => doHostOp(r, (h) => r.x.reboot(h)) },
  'host-evacuate': {
    reqd: [],
    mutating: true,
    run: (r) => {
      const b = param(r.ps, 'batch-size');
      if (b !== undefined && !/^\d+$/.test(b)) throw new LabError(`batch-size=${b}: Scanf "%Lu" fails`);
      return doHostOp(r, (h) => r.x.evacuate(h, b === undefined ? 0 : Number(b)), { multiple: false, ignore: ['network-uuid', 'batch-size'] });
    },
  },
  'host-get-vms-which-prevent-evacuation': {
    reqd: ['uuid'],
    run: ({ x, ps, out }) => {
      const host = byUuid(HOST, x, param(ps, 'uuid')!);
      const chosen = chooseParams(ps, ['uuid', 'name-label', 'reason']);
      // the VM's record plus a "reason" field (code and parameters, comma separated, references raw)
      for (const [vm, error] of x.vmsWhichPreventEvacuation(host)) {
        const fields: Printed = [...printFields(VM, x, vm, chosen, false)];
        if (chosen === 'all' || chosen.includes('reason')) fields.push(['reason ( RO)', error.join(',')]);
        out.table([fields]);
      }
    },
  },
  'vm-migrate': {
    reqd: [],
    mutating: true,
    run: async (r) => {
      // host-uuid and host-name are read as host (backwards compatibility)
      r.ps = r.ps.map(([k, v]) => (k === 'host-uuid' || k === 'host-name' ? ['host', v] : [k, v]));
      if (r.ps.some(([k]) => /^(remote-master|remote-username|vif|remote-password|remote-network|vdi|vgpu|image-format)/.test(k))) {
        throw new LabError('xe vm-migrate: storage live migration (remote-master, vdi:, ...) is not simulated by the lab');
      }
      const dest = param(r.ps, 'host');
      if (dest === undefined) throw new CliFailure('No destination host specified');
      const to = HOST.all(r.x).find((h) => h.name === dest || h.uuid === dest);
      if (!to) throw new CliFailure(`Host ${dest} not found`);
      await doVmOp(r, (vm) => r.x.migrate(vm, to), ['host', 'host-uuid', 'host-name', 'live', 'compress'], true);
    },
  },
  'pool-ha-enable': {
    reqd: [],
    mutating: true,
    run: async ({ x, ps }) => {
      const config = Object.fromEntries(ps.filter(([k]) => k.startsWith('ha-config:')).map(([k, v]) => [k.slice('ha-config:'.length), v]));
      const srs = param(ps, 'heartbeat-sr-uuids');
      await x.haEnable(srs === undefined ? [] : srs.split(','), config);
    },
  },
  'pool-ha-disable': { reqd: [], mutating: true, run: ({ x }) => x.haDisable() },
};

// ---- the command line (newcli.ml parse_args, cli_frontend.ml parse_commandline) ---------------

const CLIENT_SWITCHES: Record<string, string> = { '-s': 'server', '-p': 'port', '-u': 'username', '-pw': 'password', '-pwf': 'passwordfile', '-h': 'server' };
const CLIENT_FLAGS: Record<string, string> = { '--nossl': 'nossl', '--debug': 'debug', '--debug-on-fail': 'debugonfail' };
const CLIENT_KEYS = ['server', 'port', 'username', 'password', 'passwordfile', 'nossl', 'debug', 'debugonfail', 'traceparent'];
/** cli_frontend.ml switch_map: the one-dash switches the server knows (the client took the others). */
const SERVER_SWITCHES: Record<string, string> = { '-u': 'username', '-pw': 'password', '-s': 'server', '-h': 'server', '-p': 'port' };

const USAGE = `Usage:
  xe <command>
    [ -s <server> ]            XenServer host
    [ -p <port> ]              XenServer port number
    [ -u <username> -pw <password> | -pwf <password file> ]
                               User authentication (password or file)
    [ --nossl ]                Disable SSL/TLS
    [ --debug ]                Enable debug output
    [ --debug-on-fail ]        Enable debug output only on failure
    [ --minimal ]              Output only values in a comma-separated lists
    [ --traceparent <value> ]  Distributed tracing context
    [ --trace ]                Show task stacktrace on failure
    [ <other arguments> ... ]  Command-specific options

A full list of commands can be obtained by running
  xe help -s <server> -p <port>
`;

/** newcli.ml parse_args: what the client keeps for itself, and the rest for the server. */
function clientArgs(args: string[]): { client: Map<string, string>; rest: string[] } {
  const client = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (CLIENT_SWITCHES[a] !== undefined && i + 1 < args.length) client.set(CLIENT_SWITCHES[a]!, args[++i]!);
    else if (a === '--traceparent' && i + 1 < args.length) client.set('traceparent', args[++i]!);
    else if (CLIENT_FLAGS[a] !== undefined) client.set(CLIENT_FLAGS[a]!, 'true');
    else if (a.includes('=') && CLIENT_KEYS.includes(a.slice(0, a.indexOf('=')))) client.set(a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
    else rest.push(a);
  }
  return { client, rest };
}

/** parse_params_2: `--x` is x=true, a known `-x v` switch, `k=v` (the value may hold more '='). */
function serverParams(args: string[]): Params {
  const out: Params = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) out.push([a.slice(2), 'true']);
    else if (a.startsWith('-')) {
      if (SERVER_SWITCHES[a] === undefined || i + 1 >= args.length) throw new ParamError('Syntax error', '');
      out.push([SERVER_SWITCHES[a]!, args[++i]!]);
    } else {
      const eq = a.indexOf('=');
      out.push(eq < 0 ? [a, ''] : [a.slice(0, eq), a.slice(eq + 1)]);
    }
  }
  return out;
}

export const xe: Tool = async (ctx) => {
  const x = ctx.model.xen;
  if (!x) {
    ctx.err('bash: xe: command not found\n');
    return 127;
  }
  if (ctx.args.includes('-help') || ctx.args.includes('--help')) {
    ctx.err(USAGE);
    return 0;
  }
  const { client, rest } = clientArgs(ctx.args);
  if (!rest.length) {
    ctx.err(USAGE);
    return 0;
  }
  const here = x.findHost(ctx.host);
  if (!here) throw new LabError(`${ctx.host} is no host of Xen pool ${x.pool.name}`);
  try {
    // parse_commandline re-raises any failure as ParseError "": "Syntax error: "
    const [cmdname, ...argv] = rest;
    if (cmdname!.includes('=')) throw new ParamError('Syntax error', '');
    const ps = [...serverParams(argv), ['username', client.get('username') ?? 'root'], ['password', client.get('password') ?? 'null']] as Params;
    const cmd = COMMANDS[cmdname!];
    if (!cmd) throw new ParamError('Unknown command', cmdname!);
    for (const k of cmd.reqd) if (param(ps, k) === undefined) throw new ParamError('Required parameter not found', k);
    const server = client.get('server');
    if (server !== undefined && server !== '127.0.0.1') {
      // over TCP (through stunnel): the named host's xapi logs in; a member refuses (xapi_session.ml login_with_password)
      const target = [...x.hosts.values()].find((h) => h.address === server || h.name === server);
      if (!target?.agent) {
        ctx.err('Unable to contact server. Please check server and port settings.\n');
        return 1;
      }
      if (target.uuid !== x.pool.master) throw new XapiError('HOST_IS_SLAVE', [x.masterHost().address]);
      const password = client.get('password');
      if (password === undefined || password === 'null') throw new ParamError('', 'Authentication failed');
    } else if (here.uuid !== x.pool.master && !(await x.untilMasterAnswers(ctx.signal))) {
      // a member forwards the command to the master over its Unix socket (xapi_cli.ml do_rpcs), waiting while the master is down
      return 130;
    }
    if (cmd.mutating) ctx.mutating();
    const out = new Printer(ctx, boolParam(ps, 'minimal'));
    await cmd.run({ x, ps, out });
    out.flush();
    return 0;
  } catch (e) {
    if (e instanceof XapiError) serverError(ctx, x, e.code, e.params);
    else if (e instanceof CliFailure) serverError(ctx, x, 'INTERNAL_ERROR', [`Failure: ${e.message}`]);
    else if (e instanceof MissingParam) serverError(ctx, x, 'Missing parameter', [e.message]);
    else if (e instanceof ParamError) ctx.err(`${e.what ? `${e.what}: ${e.detail}` : e.detail}\nFor usage run: 'xe help'\n`);
    else if (e instanceof MultipleFailure) for (const [uuid, msg] of e.fails) ctx.out(`operation failed on ${uuid}: ${msg}\n`);
    else throw e;
    return 1;
  }
};
