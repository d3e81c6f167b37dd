// Pure parsers for fleetctl output (fleet 1.0.x as patched at the seeds' site).
//
// Formats, from coreos/fleet v1.0.0:
// - fleetctl/help.go getTabOutWithWriter: tables go through text/tabwriter
//   Init(w, 0, 8, 1, '\t', 0), i.e. cells are padded with TABS; the seeds show
//   the same tables re-aligned with spaces (copied from a document). Both are
//   accepted: a row containing a tab is split on tabs, otherwise on spaces.
// - fleetctl/list_machines.go, list_units.go, list_unit_files.go: the legend is
//   strings.ToUpper(strings.Join(fields, "\t")); a missing value prints "-".
// - fleetctl/fleetctl.go machineIDLegend / machineFullLegend: "<8 hex>..." or
//   the full id with --full, then "/<PublicIP>" upstream. The seeds' patched
//   fleet prints "/<hostname>" instead (e.g. "944cd548.../top1") and has a
//   `hostname` field for list-machines and list-units. Both forms are accepted:
//   a suffix that is an IP address is returned as `ip`, otherwise as `hostname`.
// - fleetctl/fleetctl.go tryWaitForUnitStates / assertUnitState and
//   start.go, stop.go, load.go, unload.go, destroy.go: the messages.
// - vendor/github.com/coreos/go-systemd/unit/serialize.go: `fleetctl cat`.
// - job/job.go: [X-Fleet] keys (MachineMetadata, Conflicts, MachineOf, ...).

import { ParseError, outputLines } from './parse-error';

const TOOL = 'fleetctl';

export type FleetJobState = 'inactive' | 'loaded' | 'launched';
const JOB_STATES: readonly string[] = ['inactive', 'loaded', 'launched'];

/** A machine as printed in a MACHINE / TARGET column or a "... on <machine>" message. */
export interface FleetMachineRef {
  /** The id as printed: 8 hex digits when truncated, the full machine id with --full. */
  id: string;
  /** True when printed as "<id>..." (no --full): `id` is then only a prefix. */
  idTruncated: boolean;
  /** Legend suffix when it is a name (seeds' patched fleet). */
  hostname?: string;
  /** Legend suffix when it is an IP address (upstream fleet). */
  ip?: string;
}

export interface FleetMachine {
  id: string;
  idTruncated: boolean;
  /** HOSTNAME column (patched fleet), else the `hostname` metadata. Required. */
  hostname: string;
  /** Absent when fleet printed "-" (no public IP) or the ip column was not requested. */
  ip?: string;
  metadata: Record<string, string>;
  /** Columns this parser does not know, by lower-case legend name. */
  extra?: Record<string, string>;
}

export interface FleetUnit {
  unit: string;
  /** Absent when the unit is not scheduled ("-") or the column was not requested. */
  machineId?: string;
  machineIdTruncated?: boolean;
  hostname?: string;
  ip?: string;
  active?: string;
  sub?: string;
  load?: string;
  hash?: string;
  extra?: Record<string, string>;
}

export interface FleetUnitFile {
  unit: string;
  hash: string;
  /** Desired state; null when fleet printed "-". */
  dstate: FleetJobState | null;
  /** Current state; null when fleet printed "-" (always the case for global units). */
  state: FleetJobState | null;
  /** TARGET "global" (or GLOBAL column "true"). */
  global: boolean;
  targetId?: string;
  targetIdTruncated?: boolean;
  targetHost?: string;
  targetIp?: string;
  desc?: string;
  extra?: Record<string, string>;
}

export interface FleetUnitSpec {
  /**
   * The seeds' patched `Weight=` key. Undefined when the unit has none: it is
   * NOT defaulted to 0 here (the seed's shell arithmetic would fail on it);
   * the capacity planner decides what a weightless unit costs.
   */
  weight?: number;
  /** MachineMetadata / X-ConditionMachineMetadata: key -> allowed values. */
  metadata: Record<string, string[]>;
  /** Conflicts / X-Conflicts, whitespace-split (globs kept as written). */
  conflicts: string[];
  /** First MachineOf / X-ConditionMachineOf value. */
  machineOf?: string;
  /** Every MachineOf value (fleet requires all of them on the same machine). */
  machineOfAll: string[];
  /** MachineID / X-ConditionMachineID / X-ConditionMachineBootID pin. */
  machineId?: string;
  global: boolean;
  replaces: string[];
  description?: string;
  /** Every option of the unit file, in order. */
  options: Array<{ section: string; name: string; value: string }>;
}

// ---------------------------------------------------------------------------
// machine legends

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpAddress(s: string): boolean {
  const m = IPV4.exec(s);
  if (m) return m.slice(1).every((o) => Number(o) <= 255);
  return s.includes(':') && /^[0-9A-Fa-f:.]+$/.test(s);
}

/** Parse "944cd548.../top1", "944cd548.../10.1.0.1", "944cd548...", or a full id. */
export function parseFleetMachineLegend(text: string, line?: string): FleetMachineRef {
  const m = /^([0-9a-fA-F]{1,64})(\.\.\.)?(?:\/([^\s/]+))?$/.exec(text);
  if (!m) throw new ParseError(TOOL, `not a machine legend (expected "<id>.../<host>")`, line ?? text);
  const ref: FleetMachineRef = { id: m[1]!, idTruncated: m[2] !== undefined };
  const suffix = m[3];
  if (suffix !== undefined) {
    if (isIpAddress(suffix)) ref.ip = suffix;
    else ref.hostname = suffix;
  }
  return ref;
}

// ---------------------------------------------------------------------------
// tables

export type FleetListCommand = 'list-machines' | 'list-units' | 'list-unit-files';

const KNOWN_FIELDS: Record<FleetListCommand, readonly string[]> = {
  // upstream: machine, ip, metadata; the seeds' patched fleet adds hostname
  'list-machines': ['machine', 'hostname', 'ip', 'metadata'],
  // upstream: unit, load, active, sub, machine, hash; patched: hostname
  'list-units': ['unit', 'machine', 'hostname', 'active', 'sub', 'load', 'hash'],
  'list-unit-files': ['unit', 'hash', 'dstate', 'state', 'target', 'tmachine', 'global', 'desc'],
};

/** Defaults used when there is no legend and no `fields` option. */
const DEFAULT_FIELDS: Record<FleetListCommand, readonly string[]> = {
  // the seeds' patched default (seed 002: MACHINE HOSTNAME IP METADATA)
  'list-machines': ['machine', 'hostname', 'ip', 'metadata'],
  'list-units': ['unit', 'machine', 'active', 'sub'],
  'list-unit-files': ['unit', 'hash', 'dstate', 'state', 'target'],
};

/** Columns whose value may contain spaces (only safe as last column when space-aligned). */
const FREE_TEXT = new Set(['desc']);

export interface FleetTableOptions {
  /** The --fields value (comma list or array). Checked against the legend when there is one. */
  fields?: string | readonly string[];
  /** False when --no-legend was given. Default true. */
  legend?: boolean;
}

export interface FleetTable {
  columns: string[];
  rows: Array<Record<string, string>>;
  /** For each row: the source line, verbatim, and its 1-based line number. */
  source: Array<{ line: string; lineNo: number }>;
}

function normalizeFields(fields: string | readonly string[]): string[] {
  const list = typeof fields === 'string' ? fields.split(',') : [...fields];
  return list.map((f) => f.trim().toLowerCase());
}

function splitCells(line: string, ncols: number, columns: readonly string[], lineNo: number): string[] {
  let cells: string[];
  if (line.includes('\t')) {
    cells = line.split(/\t+/);
  } else {
    cells = line.trim() === '' ? [] : line.trim().split(/ +/);
    const last = columns[ncols - 1];
    if (cells.length > ncols && last !== undefined && FREE_TEXT.has(last)) {
      cells = [...cells.slice(0, ncols - 1), cells.slice(ncols - 1).join(' ')];
    }
  }
  if (cells.length !== ncols) {
    throw new ParseError(TOOL, `line ${lineNo}: expected ${ncols} columns (${columns.join(',')}), got ${cells.length}`, line);
  }
  return cells;
}

/**
 * Parse any fleetctl list-* table into raw cells keyed by lower-case field
 * name. Unknown columns are kept (they are named by the legend).
 */
export function parseFleetTable(command: FleetListCommand, text: string, opts: FleetTableOptions = {}): FleetTable {
  const lines = outputLines(text);
  const legend = opts.legend ?? true;
  const wanted = opts.fields !== undefined ? normalizeFields(opts.fields) : undefined;
  let columns: string[];
  let start = 0;
  if (legend) {
    const header = lines[0];
    if (header === undefined) throw new ParseError(TOOL, `${command}: empty output, expected a legend line`);
    const cells = header.includes('\t') ? header.split(/\t+/) : header.trim().split(/ +/);
    if (!cells.every((c) => /^[A-Z][A-Z0-9_]*$/.test(c))) {
      throw new ParseError(TOOL, `${command}: line 1: expected a legend (upper-case column names); was --no-legend given?`, header);
    }
    columns = cells.map((c) => c.toLowerCase());
    if (wanted && wanted.join(',') !== columns.join(',')) {
      throw new ParseError(TOOL, `${command}: legend does not match --fields ${wanted.join(',')}`, header);
    }
    start = 1;
  } else {
    columns = wanted ?? [...DEFAULT_FIELDS[command]];
    const first = lines[0];
    if (first !== undefined && first.trim().split(/\s+/).join(',') === columns.join(',').toUpperCase()) {
      throw new ParseError(TOOL, `${command}: line 1: unexpected legend while --no-legend was assumed`, first);
    }
  }
  if (new Set(columns).size !== columns.length) {
    throw new ParseError(TOOL, `${command}: duplicate column in ${columns.join(',')}`);
  }
  const rows: Array<Record<string, string>> = [];
  const source: FleetTable['source'] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const cells = splitCells(line, columns.length, columns, i + 1);
    const row: Record<string, string> = {};
    columns.forEach((c, k) => {
      row[c] = cells[k]!;
    });
    rows.push(row);
    source.push({ line, lineNo: i + 1 });
  }
  return { columns, rows, source };
}

function extraOf(command: FleetListCommand, row: Record<string, string>): Record<string, string> | undefined {
  const known = KNOWN_FIELDS[command];
  let extra: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(row)) {
    if (!known.includes(k)) (extra ??= {})[k] = v;
  }
  return extra;
}

const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]+\.[A-Za-z]+$/;

function checkUnitName(name: string, line: string, lineNo: number): string {
  if (!UNIT_NAME.test(name)) throw new ParseError(TOOL, `line ${lineNo}: not a unit name: ${JSON.stringify(name)}`, line);
  return name;
}

function dash(v: string | undefined): string | undefined {
  return v === undefined || v === '-' ? undefined : v;
}

/** Parse "k=v,k2=v2" (fleetctl formatMetadata) or "-". */
export function parseFleetMetadata(text: string, line?: string): Record<string, string> {
  const md: Record<string, string> = {};
  if (text === '-') return md;
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ParseError(TOOL, `bad metadata pair ${JSON.stringify(pair)}`, line ?? text);
    const k = pair.slice(0, eq);
    if (Object.hasOwn(md, k)) throw new ParseError(TOOL, `duplicate metadata key ${JSON.stringify(k)}`, line ?? text);
    md[k] = pair.slice(eq + 1);
  }
  return md;
}

/**
 * `fleetctl list-machines [--no-legend] [--full] [--fields ...]`.
 * Needs the machine column, and a hostname (hostname column or metadata).
 */
export function parseFleetListMachines(text: string, opts: FleetTableOptions = {}): FleetMachine[] {
  const table = parseFleetTable('list-machines', text, opts);
  if (!table.columns.includes('machine')) {
    throw new ParseError(TOOL, `list-machines: no MACHINE column in ${table.columns.join(',')}; use parseFleetTable for partial field sets`);
  }
  return table.rows.map((row, i) => {
    const { line, lineNo } = table.source[i]!;
    const ref = parseFleetMachineLegend(row['machine']!, line);
    if (ref.hostname !== undefined || ref.ip !== undefined) {
      throw new ParseError(TOOL, `list-machines: line ${lineNo}: MACHINE column carries a "/" suffix`, line);
    }
    const metadata = row['metadata'] !== undefined ? parseFleetMetadata(row['metadata'], line) : {};
    const hostname = dash(row['hostname']) ?? metadata['hostname'];
    if (hostname === undefined || hostname === '') {
      throw new ParseError(TOOL, `list-machines: line ${lineNo}: no hostname (no HOSTNAME column and no hostname= metadata)`, line);
    }
    const m: FleetMachine = { id: ref.id, idTruncated: ref.idTruncated, hostname, metadata };
    const ip = dash(row['ip']);
    if (ip !== undefined) {
      if (!isIpAddress(ip)) throw new ParseError(TOOL, `list-machines: line ${lineNo}: not an IP address: ${JSON.stringify(ip)}`, line);
      m.ip = ip;
    }
    const extra = extraOf('list-machines', row);
    if (extra) m.extra = extra;
    return m;
  });
}

/**
 * The legend and the lines of `units` only, of a `fleetctl list-units` output with its legend (the
 * unit is a line's first cell): a wait for 100 VMs of a 10,000-VM cluster parses 100 lines, not
 * 10,000, on every poll. The lines kept are parsed as strictly as ever; their numbers are their own.
 */
export function listUnitsLinesOf(text: string, units: ReadonlySet<string>): string {
  const lines = text.split('\n');
  const kept = [lines[0] ?? ''];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const end = line.search(/\s/);
    if (units.has(end < 0 ? line : line.slice(0, end))) kept.push(line);
  }
  return `${kept.join('\n')}\n`;
}

/**
 * `fleetctl list-units [--no-legend] [--full] [--fields ...]`, e.g. the seeds'
 * `--no-legend --fields hostname,unit` and `--fields unit,sub --no-legend`.
 * A unit without machine ("-") has no machineId/hostname/ip.
 */
export function parseFleetListUnits(text: string, opts: FleetTableOptions = {}): FleetUnit[] {
  const table = parseFleetTable('list-units', text, opts);
  if (!table.columns.includes('unit')) {
    throw new ParseError(TOOL, `list-units: no UNIT column in ${table.columns.join(',')}`);
  }
  return table.rows.map((row, i) => {
    const { line, lineNo } = table.source[i]!;
    const u: FleetUnit = { unit: checkUnitName(row['unit']!, line, lineNo) };
    const machine = dash(row['machine']);
    if (machine !== undefined) {
      const ref = parseFleetMachineLegend(machine, line);
      u.machineId = ref.id;
      u.machineIdTruncated = ref.idTruncated;
      if (ref.hostname !== undefined) u.hostname = ref.hostname;
      if (ref.ip !== undefined) u.ip = ref.ip;
    }
    const hostname = dash(row['hostname']);
    if (hostname !== undefined) {
      if (u.hostname !== undefined && u.hostname !== hostname) {
        throw new ParseError(TOOL, `list-units: line ${lineNo}: HOSTNAME ${hostname} disagrees with MACHINE ${machine}`, line);
      }
      u.hostname = hostname;
    }
    for (const k of ['active', 'sub', 'load', 'hash'] as const) {
      const v = dash(row[k]);
      if (v === undefined) continue;
      if (!/^[a-z0-9-]+$/.test(v)) throw new ParseError(TOOL, `list-units: line ${lineNo}: bad ${k.toUpperCase()} value ${JSON.stringify(v)}`, line);
      u[k] = v;
    }
    const extra = extraOf('list-units', row);
    if (extra) u.extra = extra;
    return u;
  });
}

function jobState(v: string, what: string, line: string, lineNo: number): FleetJobState | null {
  if (v === '-') return null;
  if (!JOB_STATES.includes(v)) throw new ParseError(TOOL, `list-unit-files: line ${lineNo}: bad ${what} ${JSON.stringify(v)}`, line);
  return v as FleetJobState;
}

/** `fleetctl list-unit-files [--no-legend] [--full] [--fields ...]` (also its `| grep host$` lines). */
export function parseFleetListUnitFiles(text: string, opts: FleetTableOptions = {}): FleetUnitFile[] {
  const table = parseFleetTable('list-unit-files', text, opts);
  for (const c of ['unit', 'hash', 'dstate', 'state']) {
    if (!table.columns.includes(c)) throw new ParseError(TOOL, `list-unit-files: no ${c.toUpperCase()} column in ${table.columns.join(',')}`);
  }
  return table.rows.map((row, i) => {
    const { line, lineNo } = table.source[i]!;
    const hash = row['hash']!;
    if (!/^[0-9a-f]{7,40}$/.test(hash)) throw new ParseError(TOOL, `list-unit-files: line ${lineNo}: bad HASH ${JSON.stringify(hash)}`, line);
    const f: FleetUnitFile = {
      unit: checkUnitName(row['unit']!, line, lineNo),
      hash,
      dstate: jobState(row['dstate']!, 'DSTATE', line, lineNo),
      state: jobState(row['state']!, 'STATE', line, lineNo),
      global: false,
    };
    if (row['global'] !== undefined) {
      if (row['global'] !== 'true' && row['global'] !== 'false') {
        throw new ParseError(TOOL, `list-unit-files: line ${lineNo}: bad GLOBAL ${JSON.stringify(row['global'])}`, line);
      }
      f.global = row['global'] === 'true';
    }
    const target = row['target'] ?? row['tmachine'];
    if (target === 'global') f.global = true;
    else if (target !== undefined && target !== '-') {
      const ref = parseFleetMachineLegend(target, line);
      f.targetId = ref.id;
      f.targetIdTruncated = ref.idTruncated;
      if (ref.hostname !== undefined) f.targetHost = ref.hostname;
      if (ref.ip !== undefined) f.targetIp = ref.ip;
    }
    const desc = dash(row['desc']);
    if (desc !== undefined) f.desc = desc;
    const extra = extraOf('list-unit-files', row);
    if (extra) f.extra = extra;
    return f;
  });
}

// ---------------------------------------------------------------------------
// fleetctl cat

/** fleet unit/unit.go parseMultivalueLine: `"a=b" "c=d"` -> [a=b, c=d]; anything else is one value. */
function parseMultivalueLine(line: string): string[] {
  if (!line.startsWith('"') || !line.endsWith('"')) return [line];
  const values: string[] = [];
  let v = '';
  let within = false;
  for (const ch of line) {
    if (ch === '"') {
      within = !within;
      continue;
    }
    if (ch === ' ' && !within) {
      values.push(v);
      v = '';
      continue;
    }
    v += ch;
  }
  values.push(v);
  return values;
}

/** fleet job/job.go unitPrintf: %n %N %p %i from the unit name. */
function unitPrintf(s: string, unitName: string | undefined): string {
  if (unitName === undefined) return s;
  const dot = unitName.lastIndexOf('.');
  const full = unitName;
  const name = dot > 0 ? unitName.slice(0, dot) : unitName;
  const at = name.indexOf('@');
  const prefix = at >= 0 ? name.slice(0, at) : name;
  const instance = at >= 0 ? name.slice(at + 1) : '';
  return s.replace(/%n/g, full).replace(/%N/g, name).replace(/%p/g, prefix).replace(/%i/g, instance);
}

/**
 * `fleetctl cat UNIT`: the unit file as fleet serializes it. Returns the
 * scheduling-relevant [X-Fleet] options and the seeds' `Weight=` key.
 * `Weight` is looked up under its exact name in any section (the seed greps
 * the whole file); more than one, or a non-integer value, is an error.
 * Pass `unitName` to expand %n %N %p %i in [X-Fleet] values as fleet does.
 */
export function parseFleetUnitFile(text: string, unitName?: string): FleetUnitSpec {
  const lines = outputLines(text);
  const options: FleetUnitSpec['options'] = [];
  let section: string | undefined;
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '' || /^\s*[#;]/.test(line)) return;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      return;
    }
    const opt = /^([A-Za-z0-9_-]+)=(.*)$/.exec(line);
    if (!opt) throw new ParseError(TOOL, `cat: line ${lineNo}: not a [Section] or Key=Value line`, line);
    if (section === undefined) throw new ParseError(TOOL, `cat: line ${lineNo}: option outside any section`, line);
    options.push({ section, name: opt[1]!, value: opt[2]! });
  });
  if (options.length === 0) throw new ParseError(TOOL, 'cat: empty unit file');

  const spec: FleetUnitSpec = { metadata: {}, conflicts: [], machineOfAll: [], global: false, replaces: [], options };
  const weights = options.filter((o) => o.name === 'Weight');
  if (weights.length > 1) throw new ParseError(TOOL, `cat: ${weights.length} Weight= lines`, weights.map((w) => `${w.name}=${w.value}`).join(' | '));
  const w = weights[0];
  if (w) {
    if (!/^\d+$/.test(w.value) || !Number.isSafeInteger(Number(w.value))) {
      throw new ParseError(TOOL, 'cat: Weight is not a non-negative integer', `Weight=${w.value}`);
    }
    spec.weight = Number(w.value);
  }
  const desc = options.find((o) => o.section === 'Unit' && o.name === 'Description');
  if (desc) spec.description = desc.value;

  const globalValues: string[] = [];
  for (const o of options) {
    if (o.section !== 'X-Fleet') continue;
    const values = parseMultivalueLine(o.value).map((v) => unitPrintf(v, unitName));
    const raw = `${o.name}=${o.value}`;
    switch (o.name) {
      case 'MachineMetadata':
      case 'X-ConditionMachineMetadata':
        for (const pair of values) {
          const parts = pair.split('=');
          if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
            throw new ParseError(TOOL, 'cat: MachineMetadata value is not key=value', raw);
          }
          (spec.metadata[parts[0]!] ??= []).push(parts[1]!);
        }
        break;
      case 'Conflicts':
      case 'X-Conflicts':
        for (const v of values) spec.conflicts.push(...v.split(/\s+/).filter((s) => s !== ''));
        break;
      case 'MachineOf':
      case 'X-ConditionMachineOf':
        spec.machineOfAll.push(...values);
        break;
      case 'MachineID':
      case 'X-ConditionMachineID':
      case 'X-ConditionMachineBootID':
        if (spec.machineId === undefined && values[0]) spec.machineId = values[0];
        break;
      case 'Global':
        globalValues.push(...values);
        break;
      case 'Replaces':
        spec.replaces.push(...values);
        break;
      default:
        // Weight (patched) and keys of other fleet versions: kept in `options`.
        break;
    }
  }
  if (spec.machineOfAll.length > 0) spec.machineOf = spec.machineOfAll[0];
  // job/job.go IsGlobal: the last Global value wins, compared case-insensitively to "true"
  const lastGlobal = globalValues[globalValues.length - 1];
  spec.global = lastGlobal !== undefined && lastGlobal.toLowerCase() === 'true';
  return spec;
}

// ---------------------------------------------------------------------------
// start / stop / load / unload / destroy / submit messages

export type FleetCommandEvent =
  /** "Unit X launched on 29b0afbf.../top2", "Unit X loaded", "Unit hello.service inactive" */
  | { kind: 'state'; unit: string; state: FleetJobState | null; machine?: FleetMachineRef }
  /** "Triggered unit X start" (--no-block), "Triggered global unit X stop" */
  | { kind: 'triggered'; unit: string; action: string; global: boolean }
  /** "Successfully stopped units [a b]." / "Successfully unloaded units [...]." (stderr) */
  | { kind: 'succeeded'; action: 'stopped' | 'unloaded'; units: string[] }
  /** "Destroyed X" */
  | { kind: 'destroyed'; unit: string }
  /** "Units not found in registry" (fleetctl exits 0) */
  | { kind: 'not-found' }
  /** Warnings and "Found same Unit(X) in Registry, nothing to do" */
  | { kind: 'notice'; message: string }
  /** A failure reported by fleetctl (stderr, non-zero exit). */
  | { kind: 'error'; message: string; unit?: string; units?: string[] };

export interface FleetCommandResult {
  events: FleetCommandEvent[];
  /** No 'error' event. */
  ok: boolean;
}

function unitList(inner: string): string[] {
  return inner.trim() === '' ? [] : inner.trim().split(/ +/);
}

/**
 * Messages of `fleetctl start|stop|load|unload|destroy|submit [--no-block]`.
 * Pass stdout and stderr (or one combined capture): lines are classified
 * individually, an unknown line is a ParseError.
 */
export function parseFleetctlUnitCommand(stdout: string, stderr = ''): FleetCommandResult {
  const events: FleetCommandEvent[] = [];
  const lines = outputLines(stdout, stderr);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    let m: RegExpExecArray | null;
    if ((m = /^Unit (\S+) (inactive|loaded|launched|)(?: on (\S+))?$/.exec(line))) {
      const ev: FleetCommandEvent = { kind: 'state', unit: m[1]!, state: m[2] === '' ? null : (m[2] as FleetJobState) };
      if (m[3] !== undefined) ev.machine = parseFleetMachineLegend(m[3], line);
      events.push(ev);
    } else if ((m = /^Triggered (global )?unit (\S+) (\S+)$/.exec(line))) {
      events.push({ kind: 'triggered', unit: m[2]!, action: m[3]!, global: m[1] !== undefined });
    } else if ((m = /^Successfully (stopped|unloaded) units \[(.*)\]\.$/.exec(line))) {
      events.push({ kind: 'succeeded', action: m[1] as 'stopped' | 'unloaded', units: unitList(m[2]!) });
    } else if ((m = /^Destroyed (\S+)$/.exec(line))) {
      events.push({ kind: 'destroyed', unit: m[1]! });
    } else if (line === 'Units not found in registry') {
      events.push({ kind: 'not-found' });
    } else if ((m = /^Found same Unit\((\S+)\) in Registry, nothing to do$/.exec(line)) || /^(WARNING|Warning): /.test(line)) {
      events.push({ kind: 'notice', message: line });
    } else if ((m = /^Unable to stop unit (\S+) in state (\S+)$/.exec(line))) {
      events.push({ kind: 'error', message: line, unit: m[1]! });
    } else if ((m = /^Failed to (?:stop|unload) units \[(.*?)\]\. err: /.exec(line))) {
      events.push({ kind: 'error', message: line, units: unitList(m[1]!) });
    } else if ((m = /^Unit (\S+) not found$/.exec(line))) {
      events.push({ kind: 'error', message: line, unit: m[1]! });
    } else if (
      line === 'No units given' ||
      /^Error (waiting for units|waiting for unit states|waiting for systemd unit states|creating units|starting units|loading units|destroying units|retrieving [^:]*)[,:] /.test(
        line,
      ) ||
      /^Unable to initialize client: /.test(line)
    ) {
      events.push({ kind: 'error', message: line });
    } else {
      throw new ParseError(TOOL, `line ${lineNo}: unknown fleetctl message`, line);
    }
  });
  return { events, ok: !events.some((e) => e.kind === 'error') };
}
