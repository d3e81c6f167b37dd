// Pure parsers for XenServer's xe (xapi-project/xen-api; test/fixtures/SOURCES.md "xe/").
//
// - Records (`<class>-list`, `-param-list`, host-get-vms-which-prevent-evacuation):
//   ocaml/xapi-cli-server/cli_printer.ml multi_line_record prints each field as
//   "<name> (<RO|RW|SRO|SRW|MRO|MRW>)[ [DEPRECATED]]: <value>", the names padded
//   to the longest + 4 (the first on the right, the others on the left), then two
//   blank lines. The markers are records.ml's (cli_operations.ml print_field): RO
//   / RW a plain field (printed "( RO)"), SRO / SRW a set ("a; b"), MRO / MRW a
//   map ("k: v; k2: v2"). Fields come in the record's order whatever the order of
//   params=; an expensive field prints "<expensive field>" in a list; a null
//   reference "<not in database>".
// - --minimal: cli_printer.ml make_printer: the FIRST field of each record (or
//   each value of a list), commas and backslashes escaped with a backslash,
//   joined by commas on one line; an empty line when there is none.
// - Errors (stderr, exit 1): cli_util.ml server_error prints a known xapi error
//   as its documentation line (ocaml/idl/datamodel_errors.ml) then one
//   "<param>: <value>" line per parameter (references as "uuid (name-label)",
//   "<param>: <unknown>" when missing, "<extra>: v" when extra); an error the
//   datamodel does not know comes from the client (ocaml/xe-cli/newcli.ml) as
//   "Error code: C" / "Error parameters: a, b". xapi_cli.ml param_error: "Unknown
//   command: X", "Required parameter not found: X", "Syntax error: ",
//   "Authentication failed", each followed by "For usage run: 'xe help'". The
//   client's own failures: newcli.ml main ("Unable to contact server. ...",
//   "Error: <strerror> (calling <fn> <arg>)", "Lost connection to the server.").
//   The code is not printed for a known error: it is found from the
//   documentation, in the wording of xapi 1.x (XenServer 7, "host", "slave") or of
//   today's xapi ("server", "supporter").
// - `host-compute-free-memory`: one decimal number of bytes (cli_operations.ml).
// - `host-param-get uuid=U param-name=other-config param-key=boot_time`: the map
//   key's value alone (cli_operations.ml p_get); a key the map lacks is
//   `failwith "Key K not found in map"`, printed as INTERNAL_ERROR "Failure: ...".
//   xapi sets boot_time and agent_start_time at each start (xapi/dbsync_slave.ml
//   refresh_localhost_info) as OCaml `string_of_float` of Unix seconds: whole
//   seconds print with a trailing dot ("1764892800.").

import { ParseError, ToolError, outputLines, parseCount } from './parse-error';

const TOOL = 'xe';

export type XeAccess = 'RO' | 'RW' | 'SRO' | 'SRW' | 'MRO' | 'MRW';

export interface XeField {
  value: string;
  access: XeAccess;
  deprecated: boolean;
}

/** A record: field name -> value as printed. */
export type XeRecord = Record<string, string>;

/** Values xe prints for what it cannot or will not give. */
export const XE_NULL_REF = '<not in database>';
export const XE_EXPENSIVE = '<expensive field>';

// ---- errors ----------------------------------------------------------------------------------

/** A known xapi error: its parameters and every wording of its documentation line the parser knows. */
const XAPI_ERRORS: Record<string, { params: string[]; docs: string[] }> = {
  INTERNAL_ERROR: {
    params: ['message'],
    docs: ['The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.'],
  },
  HOST_IS_SLAVE: {
    params: ['Master IP address'],
    docs: [
      'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.',
      'You cannot make regular API calls directly on a slave. Please pass API calls via the master host.',
    ],
  },
  HOST_NOT_DISABLED: { params: [], docs: ['This operation cannot be performed because the host is not disabled. Please disable the host and then try again.'] },
  HOST_IN_USE: {
    params: ['host', 'type', 'ref'],
    docs: ['This operation cannot be completed as the host is in use by (at least) the object of type and ref echoed below.'],
  },
  HOST_NOT_ENOUGH_FREE_MEMORY: {
    params: ['needed', 'available'],
    docs: ['Not enough server memory is available to perform this operation.', 'Not enough host memory is available to perform this operation'],
  },
  HOST_DISABLED: { params: ['host'], docs: ['The specified server is disabled.', 'The specified host is disabled.'] },
  HOST_DISABLED_UNTIL_REBOOT: {
    params: ['host'],
    docs: [
      'The specified server is disabled and cannot be re-enabled until after it has rebooted.',
      'The specified host is disabled and cannot be re-enabled until after it has rebooted.',
    ],
  },
  HOST_NOT_LIVE: {
    params: [],
    docs: ['This operation cannot be completed as the server is not live.', 'This operation cannot be completed as the host is not live.'],
  },
  HOST_OFFLINE: { params: ['host'], docs: ['You attempted an operation which involves a host which could not be contacted.'] },
  HOST_STILL_BOOTING: { params: [], docs: ['The host toolstack is still initialising. Please wait.'] },
  HOST_IN_EMERGENCY_MODE: { params: [], docs: ['Cannot perform operation as the host is running in emergency mode.'] },
  HOST_EVACUATE_IN_PROGRESS: { params: ['host'], docs: ['This host is being evacuated.'] },
  HOST_EVACUATE_VM_NOT_HA_PROTECTED: {
    params: ['vm'],
    docs: [
      "The host cannot be evacuated because HA is enabled on the pool and a VM running on it is not HA-protected (its ha_restart_priority is not set to 'restart'). " +
        "Set the VM's ha_restart_priority to 'restart', shut down or suspend the VM, or disable HA on the pool before evacuating the host.",
    ],
  },
  CANNOT_CONTACT_HOST: {
    params: ['host'],
    docs: [
      'Cannot forward messages because the server cannot be contacted. The server may be switched off or there may be network connectivity problems.',
      'Cannot forward messages because the host cannot be contacted.  The host may be switched off or there may be network connectivity problems.',
    ],
  },
  CANNOT_EVACUATE_HOST: { params: ['errors'], docs: ['This server cannot be evacuated.', 'This host cannot be evacuated.'] },
  NO_HOSTS_AVAILABLE: {
    params: [],
    docs: ['There were no servers available to complete the specified operation.', 'There were no hosts available to complete the specified operation.'],
  },
  VM_BAD_POWER_STATE: {
    params: ['vm', 'expected', 'actual'],
    docs: [
      'You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running. ' +
        "The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
    ],
  },
  VM_REQUIRES_SR: {
    params: ['vm', 'sr'],
    docs: ["You attempted to run a VM on a host which doesn't have access to an SR needed by the VM. The VM has at least one VBD attached to a VDI in the SR."],
  },
  VM_REQUIRES_NET: {
    params: ['vm', 'network'],
    docs: ["You attempted to run a VM on a host which doesn't have a PIF on a Network needed by the VM. The VM has at least one VIF attached to the Network."],
  },
  VM_INCOMPATIBLE_WITH_THIS_HOST: { params: ['vm', 'host', 'reason'], docs: ['The VM is incompatible with the CPU features of this host.'] },
  VM_MIGRATE_FAILED: { params: ['vm', 'source', 'destination', 'msg'], docs: ['An error occurred during the migration process.'] },
  VM_MIGRATE_CONTACT_REMOTE_SERVICE_FAILED: { params: [], docs: ['Failed to contact service on the destination host.'] },
  OTHER_OPERATION_IN_PROGRESS: {
    // the last two since xapi 1.x (XenServer 7) printed only the first two
    params: ['class', 'object', 'operation_type', 'operation_ref'],
    docs: ['Another operation involving the object is currently in progress'],
  },
  OPERATION_NOT_ALLOWED: { params: ['reason'], docs: ['You attempted an operation that was not allowed.'] },
  NOT_SUPPORTED_DURING_UPGRADE: { params: [], docs: ['This operation is not supported during an upgrade.'] },
  TASK_CANCELLED: { params: ['task'], docs: ['The request was asynchronously canceled.', 'The request was asynchronously cancelled.'] },
  HA_IS_ENABLED: { params: [], docs: ['The operation could not be performed because HA is enabled on the Pool'] },
  HA_NOT_ENABLED: { params: [], docs: ['The operation could not be performed because HA is not enabled on the Pool'] },
  HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN: {
    params: [],
    docs: [
      'This operation cannot be performed because it would invalidate VM failover planning such that the system would be unable to guarantee to restart protected VMs after a Host failure.',
    ],
  },
  HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED: {
    params: ['SR'],
    docs: [
      'This operation cannot be performed because the referenced SR is not properly shared. The SR must both be marked as shared and a currently_attached PBD must exist for each host.',
    ],
  },
  CANNOT_CREATE_STATE_FILE: { params: [], docs: ['An HA statefile could not be created, perhaps because no SR with the appropriate capability was found.'] },
  UUID_INVALID: { params: ['type', 'uuid'], docs: ['The uuid you supplied was invalid.'] },
  SESSION_AUTHENTICATION_FAILED: {
    params: [],
    docs: ['The credentials given by the user are incorrect, so access has been denied, and you have not been issued a session handle.'],
  },
};

const BY_DOC = new Map<string, string>(Object.entries(XAPI_ERRORS).flatMap(([code, e]) => e.docs.map((d) => [d, code] as [string, string])));

/** xapi_cli.ml param_error's first words -> code. */
const PARAM_ERRORS: [RegExp, string][] = [
  [/^Unknown command: /, 'UNKNOWN_COMMAND'],
  [/^Required parameter not found: /, 'REQUIRED_PARAMETER_NOT_FOUND'],
  [/^Syntax error: /, 'SYNTAX_ERROR'],
  [/^(Authentication failed|Username\/password must be specified)$/, 'SESSION_AUTHENTICATION_FAILED'],
];

/** newcli.ml's own failures: xe never reached a xapi that answered. */
const CLIENT_FAILURES = [
  /^Unable to contact server\. Please check server and port settings\.$/,
  /^Failed to contact a running management agent\.$/,
  /^Lost connection to the server\.$/,
  /^Error: .* \(calling \S+ .*\)$/,
  /^Host '.*' not found\.$/,
  /^Server internal error\.$/,
];

/**
 * A failure xe reported. `code` is the xapi error code (HOST_NOT_ENOUGH_FREE_MEMORY, HOST_IS_SLAVE,
 * ...), or for the CLI's own failures UNKNOWN_COMMAND, REQUIRED_PARAMETER_NOT_FOUND, SYNTAX_ERROR,
 * SESSION_AUTHENTICATION_FAILED, CONNECT_FAILED (no xapi answered), COMMAND_NOT_FOUND (no xe),
 * MULTIPLE_FAILURE (--multiple), UNKNOWN_ERROR (a documentation line the parser does not know).
 */
export class XeError extends ToolError {
  /** The parameters' values as printed, in order (references as "uuid (name-label)"). */
  readonly params: string[];
  /** The same by parameter name, for a known error. */
  readonly named: Record<string, string>;

  constructor(code: string, params: string[], named: Record<string, string>, toolMessage: string) {
    super(TOOL, code, toolMessage);
    this.params = params;
    this.named = named;
  }
}

/** A reference as xe prints it in an error: "uuid (name-label)" or a bare uuid. */
export function parseXeRef(value: string): { uuid: string; name?: string } {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?: \((.*)\))?$/.exec(value);
  if (!m) throw new ParseError(TOOL, 'not a reference (uuid or "uuid (name)")', value);
  return m[2] === undefined ? { uuid: m[1]! } : { uuid: m[1]!, name: m[2] };
}

/**
 * What xe printed on stderr (and stdout, for --multiple) for a failed command, as an XeError;
 * undefined when there is nothing (the command did not fail).
 */
export function parseXeError(stderr: string, stdout = ''): XeError | undefined {
  const ls = outputLines(stderr);
  const message = ls.join('\n');
  const first = ls.find((l) => l !== '');
  if (first === undefined) {
    const multi = outputLines(stdout).filter((l) => /^operation failed on [0-9a-f-]{36}: /.test(l));
    return multi.length ? new XeError('MULTIPLE_FAILURE', [], {}, outputLines(stdout).join('\n')) : undefined;
  }
  if (/^bash: xe: command not found$|: xe: not found$/.test(first)) return new XeError('COMMAND_NOT_FOUND', [], {}, message);
  if (CLIENT_FAILURES.some((re) => re.test(first))) return new XeError('CONNECT_FAILED', [], {}, message);
  for (const [re, code] of PARAM_ERRORS) {
    if (re.test(first)) {
      const detail = first.includes(': ') ? first.slice(first.indexOf(': ') + 2) : '';
      return new XeError(code, detail ? [detail] : [], {}, message);
    }
  }
  const start = ls.indexOf(first);
  const rest = ls.slice(start + 1).filter((l) => l !== '');
  if (first.startsWith('Error code: ')) {
    // an error the datamodel does not know: newcli.ml prints the code and the parameters
    const p = rest[0]?.startsWith('Error parameters: ') ? rest[0].slice('Error parameters: '.length) : '';
    return new XeError(first.slice('Error code: '.length), p === '' ? [] : p.split(', '), {}, message);
  }
  const code = BY_DOC.get(first);
  const names = code ? XAPI_ERRORS[code]!.params : [];
  const params: string[] = [];
  const named: Record<string, string> = {};
  rest.forEach((l, i) => {
    const name = names[i];
    const prefix = name === undefined ? '<extra>: ' : `${name}: `;
    if (code && !l.startsWith(prefix)) throw new ParseError(TOOL, `${code}: parameter ${i + 1}: expected "${prefix}..."`, l);
    const value = code ? l.slice(prefix.length) : l.includes(': ') ? l.slice(l.indexOf(': ') + 2) : l;
    if (value === '<unknown>' && name !== undefined) return; // fewer parameters than the datamodel says
    params.push(value);
    if (name !== undefined) named[name] = value;
    else if (!code && l.includes(': ')) named[l.slice(0, l.indexOf(': '))] = value;
  });
  return new XeError(code ?? 'UNKNOWN_ERROR', params, named, message);
}

/** Throws the XeError of a failed command (anything on stderr; --multiple failures on stdout). */
function checkFailure(stdout: string, stderr: string): void {
  const e = parseXeError(stderr, stdout);
  if (e) throw e;
}

// ---- records ---------------------------------------------------------------------------------

const FIELD_LINE = /^ *(\S+) \(( RO| RW|SRO|SRW|MRO|MRW)\)( \[DEPRECATED\])? *:(?: (.*))?$/;

/** Records with their fields' markers (cli_printer.ml multi_line_record, records separated by blank lines). */
export function parseXeRecordsDetailed(stdout: string, stderr = ''): Array<Record<string, XeField>> {
  checkFailure(stdout, stderr);
  const records: Array<Record<string, XeField>> = [];
  let current: Record<string, XeField> | undefined;
  outputLines(stdout).forEach((line, i) => {
    if (line === '') {
      current = undefined;
      return;
    }
    const m = FIELD_LINE.exec(line);
    if (!m) throw new ParseError(TOOL, `line ${i + 1}: not a "name ( RO): value" field`, line);
    if (!current) records.push((current = {}));
    const name = m[1]!;
    if (Object.hasOwn(current, name)) throw new ParseError(TOOL, `line ${i + 1}: field ${name} twice in one record`, line);
    current[name] = { value: m[4] ?? '', access: m[2]!.trim() as XeAccess, deprecated: m[3] !== undefined };
  });
  return records;
}

/** Records: field name -> value as printed. */
export function parseXeRecords(stdout: string, stderr = ''): XeRecord[] {
  return parseXeRecordsDetailed(stdout, stderr).map((r) => Object.fromEntries(Object.entries(r).map(([k, f]) => [k, f.value])));
}

/** `--minimal`: the values, commas and backslashes unescaped; [] for the empty line. */
export function parseXeMinimal(stdout: string, stderr = ''): string[] {
  checkFailure(stdout, stderr);
  const ls = outputLines(stdout);
  if (ls.length > 1) throw new ParseError(TOOL, `--minimal: expected one line, got ${ls.length}`, ls[1]);
  const line = ls[0] ?? '';
  if (line === '') return [];
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      const n = line[i + 1];
      if (n !== ',' && n !== '\\') throw new ParseError(TOOL, '--minimal: a backslash escapes only "," and "\\"', line);
      cur += n;
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** A set field's value ("a; b"): its members. */
export function parseXeSet(value: string): string[] {
  return value === '' ? [] : value.split('; ');
}

/** A map field's value ("k: v; k2: v2"). */
export function parseXeMap(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of parseXeSet(value)) {
    const i = kv.indexOf(': ');
    if (i < 0) throw new ParseError(TOOL, 'map entry without ": "', kv);
    out[kv.slice(0, i)] = kv.slice(i + 2);
  }
  return out;
}

/** `<class>-param-get`: the value (one line). */
export function parseXeParamGet(stdout: string, stderr = ''): string {
  checkFailure(stdout, stderr);
  const ls = outputLines(stdout);
  if (ls.length !== 1) throw new ParseError(TOOL, `param-get: expected one line, got ${ls.length}`);
  return ls[0]!;
}

/** INTERNAL_ERROR "Failure: Key K not found in map" (p_get with a param-key the map lacks). */
const KEY_NOT_IN_MAP = /^Failure: Key (.*) not found in map$/;

/** A host's boot_time as xe prints it (OCaml string_of_float of Unix seconds: "1764892800." or "1764892800.25"). */
const BOOT_TIME = /^\d+\.\d*$/;

/**
 * `host-param-get uuid=U param-name=other-config param-key=boot_time`: the value exactly as printed
 * (compared, never converted: a float printed by OCaml), or undefined when the host's other-config
 * has no boot_time (xapi never wrote it).
 */
export function parseXeBootTime(stdout: string, stderr = ''): string | undefined {
  const e = parseXeError(stderr, stdout);
  if (e?.code === 'INTERNAL_ERROR' && KEY_NOT_IN_MAP.test(e.params[0] ?? '')) return undefined;
  const v = parseXeParamGet(stdout, stderr);
  if (!BOOT_TIME.test(v)) throw new ParseError(TOOL, 'boot_time is not a number of seconds as xapi prints it', v);
  return v;
}

/** `host-compute-free-memory`: the bytes a host can still give VMs. */
export function parseXeComputeFreeMemory(stdout: string, stderr = ''): number {
  const v = parseXeParamGet(stdout, stderr);
  return parseCount(TOOL, 'host-compute-free-memory', v);
}

/** A command that prints nothing on success (host-disable, vm-migrate, host-evacuate, host-reboot, ...). */
export function parseXeSilent(stdout: string, stderr = ''): void {
  checkFailure(stdout, stderr);
  const ls = outputLines(stdout).filter((l) => l !== '');
  if (ls.length) throw new ParseError(TOOL, 'expected no output', ls[0]);
}

// ---- typed views -----------------------------------------------------------------------------

function bool(r: XeRecord, k: string): boolean | undefined {
  const v = r[k];
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new ParseError(TOOL, `${k} is not true or false`, v);
  return v === 'true';
}

function bytes(r: XeRecord, k: string): number | undefined {
  const v = r[k];
  return v === undefined || v === XE_EXPENSIVE ? undefined : parseCount(TOOL, k, v);
}

function ref(r: XeRecord, k: string): string | null | undefined {
  const v = r[k];
  return v === XE_NULL_REF ? null : v;
}

const set = (r: XeRecord, k: string) => (r[k] === undefined ? undefined : parseXeSet(r[k]));

export interface XePool {
  uuid?: string;
  nameLabel?: string;
  /** The master's host uuid. */
  master?: string;
  defaultSr?: string | null;
  haEnabled?: boolean;
  haHostFailuresToTolerate?: number;
  haPlanExistsFor?: number;
  haAllowOvercommit?: boolean;
  /** VDI uuids of the HA statefiles. */
  haStatefiles?: string[];
  haConfiguration?: Record<string, string>;
  fields: XeRecord;
}

/** `pool-list params=...`: the fields asked for, typed (absent when not asked for). */
export function parseXePools(stdout: string, stderr = ''): XePool[] {
  return parseXeRecords(stdout, stderr).map((r) => ({
    uuid: r['uuid'],
    nameLabel: r['name-label'],
    master: r['master'],
    defaultSr: ref(r, 'default-SR'),
    haEnabled: bool(r, 'ha-enabled'),
    haHostFailuresToTolerate: bytes(r, 'ha-host-failures-to-tolerate'),
    haPlanExistsFor: bytes(r, 'ha-plan-exists-for'),
    haAllowOvercommit: bool(r, 'ha-allow-overcommit'),
    haStatefiles: set(r, 'ha-statefiles'),
    haConfiguration: r['ha-configuration'] === undefined ? undefined : parseXeMap(r['ha-configuration']),
    fields: r,
  }));
}

export interface XeHost {
  uuid?: string;
  nameLabel?: string;
  address?: string;
  enabled?: boolean;
  /** host-metrics-live: its xapi answers the master. */
  live?: boolean;
  memoryTotal?: number;
  memoryOverhead?: number;
  /** What Xen reports free (sampled). */
  memoryFree?: number;
  /** host-compute-free-memory; only from param-get / param-list (a list prints "<expensive field>"). */
  memoryFreeComputed?: number;
  residentVms?: string[];
  currentOperations?: string[];
  /** other-config (boot_time, agent_start_time, ...), values as printed. */
  otherConfig?: Record<string, string>;
  fields: XeRecord;
}

/** `host-list params=...`. */
export function parseXeHosts(stdout: string, stderr = ''): XeHost[] {
  return parseXeRecords(stdout, stderr).map((r) => ({
    uuid: r['uuid'],
    nameLabel: r['name-label'],
    address: r['address'],
    enabled: bool(r, 'enabled'),
    live: bool(r, 'host-metrics-live'),
    memoryTotal: bytes(r, 'memory-total'),
    memoryOverhead: bytes(r, 'memory-overhead'),
    memoryFree: bytes(r, 'memory-free'),
    memoryFreeComputed: bytes(r, 'memory-free-computed'),
    residentVms: set(r, 'resident-vms'),
    currentOperations: set(r, 'current-operations'),
    otherConfig: r['other-config'] === undefined ? undefined : parseXeMap(r['other-config']),
    fields: r,
  }));
}

export type XePowerState = 'running' | 'halted' | 'paused' | 'suspended';
const POWER_STATES: readonly string[] = ['running', 'halted', 'paused', 'suspended'];

export interface XeVm {
  uuid?: string;
  nameLabel?: string;
  powerState?: XePowerState;
  /** Host uuid; null when it is resident nowhere ("<not in database>"). */
  residentOn?: string | null;
  isControlDomain?: boolean;
  memoryStaticMax?: number;
  memoryDynamicMax?: number;
  memoryDynamicMin?: number;
  memoryStaticMin?: number;
  memoryOverhead?: number;
  currentOperations?: string[];
  fields: XeRecord;
}

/** `vm-list params=...`. */
export function parseXeVms(stdout: string, stderr = ''): XeVm[] {
  return parseXeRecords(stdout, stderr).map((r) => {
    const ps = r['power-state'];
    if (ps !== undefined && !POWER_STATES.includes(ps)) throw new ParseError(TOOL, 'unknown power-state', ps);
    return {
      uuid: r['uuid'],
      nameLabel: r['name-label'],
      powerState: ps as XePowerState | undefined,
      residentOn: ref(r, 'resident-on'),
      isControlDomain: bool(r, 'is-control-domain'),
      memoryStaticMax: bytes(r, 'memory-static-max'),
      memoryDynamicMax: bytes(r, 'memory-dynamic-max'),
      memoryDynamicMin: bytes(r, 'memory-dynamic-min'),
      memoryStaticMin: bytes(r, 'memory-static-min'),
      memoryOverhead: bytes(r, 'memory-overhead'),
      currentOperations: set(r, 'current-operations'),
      fields: r,
    };
  });
}
