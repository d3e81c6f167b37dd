/**
 * The procedures the hvflow CLI knows: one table entry each. An entry says which workflow type the
 * command starts, its positional target, the options that become input fields, whether it changes
 * the cluster (takes the cluster's lock) and has a dry run, the gates it may stop at, and how its
 * plan and result are printed.
 *
 * The CLI builds every command from this table: `hvflow <name>`, `hvflow plan <name>` and
 * `hvflow schedule create <name>`. Adding a procedure is adding an entry here. The CLI starts
 * workflows by type name, so an entry may name a workflow the worker does not register yet.
 */
import { procedureInputSchemas, validateInput, InvalidInputError, type ProcedureName } from '../domain/procedure-inputs';
import { failedGate, GATE, unsafeGate } from '../domain/contract';
import type { GatePolicy, GateRecord } from '../workflows/messages';
import {
  renderClusterStatus,
  renderEvacuationPlan,
  renderFailbackPlan,
  renderReintegrationPlan,
  renderEvacuationResult,
  renderReintegrationResult,
  renderFailbackResult,
  renderEvacuationEvidence,
  renderFailbackEvidence,
  renderShutdownPlan,
  renderShutdownResult,
  renderShutdownEvidence,
  renderStartupPlan,
  renderStartupResult,
} from './render';
import { renderRollingRebootPlan, renderRollingRebootResult } from './render-rolling-reboot';

export type OptionKind = 'int' | 'number' | 'string' | 'host' | 'nodeset' | 'flag' | 'list' | 'windows';

export interface ProcedureOption {
  /** commander flags, e.g. '--max-moves <n>'. */
  flags: string;
  /** The input field the option sets. */
  field: string;
  kind: OptionKind;
  description: string;
}

export interface GateDoc {
  name: string;
  options: string;
  when: string;
}

export interface ProcedureSpec {
  /** CLI command name. */
  name: string;
  /** Workflow type the command starts; its input schema is the only check of what the command sends. */
  workflowType: ProcedureName;
  /** Names the same procedure had before (still registered): procedures started under them are shown as this one. */
  formerWorkflowTypes?: ProcedureName[];
  description: string;
  /** Positional argument, e.g. HOST → input.host. */
  target?: { arg: string; field: string; description: string };
  options: ProcedureOption[];
  /** The input takes the common fields: dryRun, requestedBy, reason, gatePolicy. */
  common: boolean;
  /** Changes the cluster: takes the cluster's lock (one procedure per cluster). */
  changesCluster: boolean;
  /** Has a dry run (`hvflow plan <name>`). */
  plannable: boolean;
  /** Read-only and quick: the CLI waits for its result and prints it. */
  awaitResult?: boolean;
  /** Gates the procedure may stop at (for help and plans). */
  gates: GateDoc[];
  examples: string[];
  /** The target shown in workflow ids, search attributes and lists. */
  targetOf(input: Record<string, unknown>, cluster: string): string;
  renderPlan?(result: unknown): string[];
  /** How the evidence of one of its gates is shown in `status` (undefined: as YAML). */
  renderEvidence?(gate: GateRecord): string[] | undefined;
  renderResult?(result: unknown): string[];
}

const SAFETY_GATE: GateDoc = {
  name: unsafeGate('<check>'),
  options: 'retry / override (with a reason) / abort',
  when: 'a safety check fails (etcd quorum, GlusterFS heal / rebalance / tier, N+1 capacity)',
};
const FAILURE_GATE: GateDoc = { name: failedGate('<step>'), options: 'retry / skip / abort', when: 'a step keeps failing after its retries' };

const failbackOptions: ProcedureOption[] = [
  { flags: '--hosts <nodeset>', field: 'hosts', kind: 'nodeset', description: 'hypervisors to balance between, nodeset syntax (default @top,@worker)' },
  { flags: '--max-moves <n>', field: 'maxMoves', kind: 'int', description: 'at most this many VM moves' },
  { flags: '--parallelism <n>', field: 'parallelism', kind: 'int', description: 'moves running at the same time (1-8, default 2)' },
  { flags: '--move-cost <weight>', field: 'moveCost', kind: 'number', description: 'weight a move must win back to be worth a VM restart' },
];

const byCluster = (_: Record<string, unknown>, cluster: string) => cluster;

export const PROCEDURES: ProcedureSpec[] = [
  {
    name: 'status-report',
    workflowType: 'clusterStatus',
    description: 'Read-only picture of the cluster: machines, units and where they run, weight per hypervisor, GlusterFS and etcd health.',
    options: [],
    common: false,
    changesCluster: false,
    plannable: false,
    awaitResult: true,
    gates: [],
    examples: ['hvflow status-report', 'hvflow status-report --json | jq .problems'],
    targetOf: byCluster,
    renderResult: renderClusterStatus,
  },
  {
    name: 'evacuate',
    workflowType: 'evacuateHost',
    formerWorkflowTypes: ['evacuateHypervisor'],
    description:
      'Evacuate one hypervisor: checks, approval gate, then fleet (seed 000): stop fleet (units fail over), stop GlusterFS, unmount, stop etcd; Xen (seed 003): disable the host, live-migrate its VMs as planned, verify it is empty.',
    target: { arg: 'HOST', field: 'host', description: 'the hypervisor to evacuate' },
    options: [
      {
        flags: '--move-timeout-minutes <n>',
        field: 'moveTimeoutMinutes',
        kind: 'int',
        description: 'how long fleet may take to move every unit off the host (default 10)',
      },
      {
        flags: '--threads <n>',
        field: 'threads',
        kind: 'int',
        description: 'Xen pools: live migrations at a time (default 5, seed 003); fleet moves the VMs itself',
      },
    ],
    common: true,
    changesCluster: true,
    plannable: true,
    gates: [{ name: GATE.approveEvacuation, options: 'approve / reject', when: 'after the checks, before anything is stopped' }, SAFETY_GATE, FAILURE_GATE],
    examples: ['hvflow evacuate worker1 --by alice --reason "disk swap, ticket 42"', 'hvflow plan evacuate worker1'],
    targetOf: (input, cluster) => (typeof input.host === 'string' ? input.host : cluster),
    renderPlan: renderEvacuationPlan,
    renderEvidence: renderEvacuationEvidence,
    renderResult: renderEvacuationResult,
  },
  {
    name: 'reintegrate',
    workflowType: 'reintegrateHost',
    formerWorkflowTypes: ['reintegrateHypervisor'],
    description: 'Bring a hypervisor back (seed 000): wait for GlusterFS heal and etcd, start fleet, measure the load, fail VMs back.',
    target: { arg: 'HOST', field: 'host', description: 'the hypervisor to reintegrate' },
    options: [
      { flags: '--heal-wait-minutes <n>', field: 'healWaitMinutes', kind: 'int', description: 'bound of the wait for heal entries to drain (default 30)' },
      { flags: '--etcd-wait-minutes <n>', field: 'etcdWaitMinutes', kind: 'int', description: 'bound of the wait for etcd members to be healthy (default 5)' },
      { flags: '--skip-failback', field: 'noFailback', kind: 'flag', description: 'do not move VMs back (run `hvflow failback` later)' },
      ...failbackOptions,
    ],
    common: true,
    changesCluster: true,
    plannable: true,
    gates: [
      { name: GATE.approveFailback, options: 'approve / skip / abort', when: 'before VMs are moved back (only if a move lowers the spread)' },
      SAFETY_GATE,
      FAILURE_GATE,
    ],
    examples: ['hvflow reintegrate worker1 --by alice', 'hvflow plan reintegrate worker1 --max-moves 3'],
    targetOf: (input, cluster) => (typeof input.host === 'string' ? input.host : cluster),
    renderPlan: renderReintegrationPlan,
    renderEvidence: renderFailbackEvidence,
    renderResult: renderReintegrationResult,
  },
  {
    name: 'failback',
    workflowType: 'failback',
    description: 'Rebalance VMs by unit Weight with as few moves as possible (seeds 000, 002): plan, approval gate, fleetctl unload + start.',
    options: [
      { flags: '--prefer <host>', field: 'prefer', kind: 'host', description: 'prefer moves to this hypervisor (the reintegrated one)' },
      ...failbackOptions,
    ],
    common: true,
    changesCluster: true,
    plannable: true,
    gates: [{ name: GATE.approveFailback, options: 'approve / reject', when: 'before any VM is moved' }, FAILURE_GATE],
    examples: ['hvflow failback --prefer worker1 --by alice', 'hvflow plan failback --max-moves 2'],
    targetOf: (input, cluster) => (typeof input.prefer === 'string' ? input.prefer : cluster),
    renderPlan: renderFailbackPlan,
    renderEvidence: renderFailbackEvidence,
    renderResult: renderFailbackResult,
  },
  {
    name: 'shutdown',
    workflowType: 'clusterShutdown',
    description:
      'Full management-cluster shutdown in the seed 001 order: every VM but DNS, DNS VMs, islet workers, GlusterFS, hypervisors (the control host last). Saves the list of running VMs for the start-up.',
    options: [
      { flags: '--parallelism <n>', field: 'parallelism', kind: 'int', description: 'VMs stopped per batch (default 10)' },
      {
        flags: '--stop-timeout-seconds <s>',
        field: 'stopTimeoutSeconds',
        kind: 'int',
        description: 'how long a batch may take to stop before the hung-VM remedy (default 300)',
      },
      {
        flags: '--clients-timeout-seconds <s>',
        field: 'clientsTimeoutSeconds',
        kind: 'int',
        description: 'how long GlusterFS clients may take to disconnect (default 120)',
      },
      {
        flags: '--host-down-timeout-seconds <s>',
        field: 'hostDownTimeoutSeconds',
        kind: 'int',
        description: 'how long a host may take to power off (default 600)',
      },
      {
        flags: '--poweroff-delay-seconds <s>',
        field: 'poweroffDelaySeconds',
        kind: 'int',
        description: 'delay of the poweroff, so that the SSH command returns (default 5)',
      },
    ],
    common: true,
    changesCluster: true,
    plannable: true,
    gates: [
      { name: GATE.approveShutdown, options: 'approve / reject', when: 'after the health checks, with the VM list and the order, before any VM is stopped' },
      { name: GATE.approvePoweroff, options: 'approve / reject', when: 'once GlusterFS is stopped, before the hypervisors are powered off' },
      SAFETY_GATE,
      FAILURE_GATE,
    ],
    examples: ['hvflow plan shutdown', 'hvflow shutdown --by alice --reason "power work in room B" --parallelism 20'],
    targetOf: byCluster,
    renderPlan: renderShutdownPlan,
    renderResult: renderShutdownResult,
    renderEvidence: renderShutdownEvidence,
  },
  {
    name: 'startup',
    workflowType: 'clusterStartup',
    description:
      "Ordered start-up (seed 001): hypervisors (IPMI), etcd, GlusterFS (peers, fping, volumes, heal), islet workers, fleet, DHCP, DNS, then the VMs of the shutdown's saved list.",
    options: [
      {
        flags: '--from-shutdown <workflow-id>',
        field: 'shutdownWorkflowId',
        kind: 'string',
        description: "the clusterShutdown whose saved VM list to start ('latest': the cluster's last completed shutdown)",
      },
      { flags: '--vms <names>', field: 'vms', kind: 'list', description: 'or the VMs to start, comma-separated (wins over --from-shutdown)' },
      { flags: '--exclude <nodeset>', field: 'exclude', kind: 'nodeset', description: 'VMs not to start, nodeset of VM names (e.g. lnet[1-4])' },
      { flags: '--parallelism <n>', field: 'parallelism', kind: 'int', description: 'VMs started per batch after DHCP and DNS (default 10)' },
      {
        flags: '--host-up-timeout-seconds <s>',
        field: 'hostUpTimeoutSeconds',
        kind: 'int',
        description: 'how long a powered-on host may take to answer SSH (default 900)',
      },
      { flags: '--max-rtt-ms <ms>', field: 'maxRttMs', kind: 'number', description: 'an fping round trip above this is a finding (default 100)' },
      {
        flags: '--max-fping-ms <ms>',
        field: 'maxFpingMs',
        kind: 'number',
        description: 'the whole fping run above this is a finding: slow name resolution (default 2000)',
      },
      { flags: '--heal-wait-minutes <n>', field: 'healWaitMinutes', kind: 'int', description: 'bound of the wait for heal entries to drain (default 30)' },
      {
        flags: '--start-timeout-seconds <s>',
        field: 'startTimeoutSeconds',
        kind: 'int',
        description: 'how long a tier of VMs may take to be running (default 600)',
      },
      {
        flags: '--ipmi-via <host>',
        field: 'ipmiVia',
        kind: 'host',
        description: "the one hypervisor or BMC relay to run ipmitool on (default: the inventory's ipmiFrom order)",
      },
    ],
    common: true,
    changesCluster: true,
    plannable: true,
    gates: [{ name: GATE.hostNotBack, options: 'retry / skip / abort', when: 'a powered-on host does not answer in time' }, SAFETY_GATE, FAILURE_GATE],
    examples: ['hvflow plan startup --from-shutdown latest', 'hvflow startup --from-shutdown latest --exclude "lnet[1-4]" --by alice'],
    targetOf: byCluster,
    renderPlan: renderStartupPlan,
    renderResult: renderStartupResult,
  },
  {
    name: 'rolling-reboot',
    workflowType: 'rollingReboot',
    description:
      'Reboot every hypervisor of a pool one after the other while every VM keeps running (seed 003): the whole-run plan (N+1 at every step, each VM moved the fewest times), one approval, then per host: empty it, reboot it, wait until it is back and ready. Xen: pool master first, pool HA off for the run and back on after.',
    options: [
      { flags: '--hosts <nodeset>', field: 'hosts', kind: 'nodeset', description: 'hosts to reboot (default: every hypervisor hvflow manages)' },
      {
        flags: '--order <hosts>',
        field: 'order',
        kind: 'list',
        description: 'or the hosts in the order to reboot them, comma-separated (Xen: the pool master first)',
      },
      { flags: '--threads <n>', field: 'threads', kind: 'int', description: 'Xen pools: live migrations at a time (default 5, seed 003)' },
      {
        flags: '--approval <policy>',
        field: 'approval',
        kind: 'string',
        description: "'plan' (default: approve the plan once) or 'each-host' (also before each host)",
      },
      {
        flags: '--windows <windows>',
        field: 'windows',
        kind: 'windows',
        description:
          "maintenance windows, ';'-separated: 'sat 02:00 for 4h Europe/Paris' (the --at syntax of schedules) or '2026-12-05T02:00:00Z..2026-12-05T06:00:00Z'",
      },
      { flags: '--move-timeout-minutes <n>', field: 'moveTimeoutMinutes', kind: 'int', description: 'how long emptying one host may take (default 30)' },
      { flags: '--reboot-timeout-minutes <n>', field: 'rebootTimeoutMinutes', kind: 'int', description: 'how long a host may take to come back (default 20)' },
      {
        flags: '--heal-wait-minutes <n>',
        field: 'healWaitMinutes',
        kind: 'int',
        description: 'bound of the wait for heal entries to drain after each host (default 30)',
      },
    ],
    common: true,
    changesCluster: true,
    plannable: true,
    gates: [
      { name: GATE.approveRollingReboot, options: 'approve / reject', when: 'after the checks, before the pool is prepared' },
      { name: GATE.approveHostReboot, options: 'approve / reject', when: 'before each host, with --approval each-host' },
      { name: GATE.rebootReplanned, options: 'approve / reject', when: 'the pool changed and the re-plan of the rest moves more VMs' },
      { name: GATE.hostNotBack, options: 'retry / skip / abort', when: 'a rebooted host does not come back in time' },
      SAFETY_GATE,
      FAILURE_GATE,
    ],
    examples: [
      'hvflow plan rolling-reboot --cluster pool1',
      'hvflow rolling-reboot --cluster pool1 --threads 5 --by alice --reason "XS 8.2 CU1 patches"',
      "hvflow rolling-reboot --cluster pool1 --windows 'sat 01:00 for 5h Europe/Paris;sun 01:00 for 5h Europe/Paris' --by alice",
    ],
    targetOf: (input, cluster) => (typeof input.hosts === 'string' ? input.hosts : Array.isArray(input.order) ? input.order.join(',') : cluster),
    renderPlan: renderRollingRebootPlan,
    renderResult: renderRollingRebootResult,
  },
];

export function procedureByName(name: string): ProcedureSpec | undefined {
  return PROCEDURES.find((p) => p.name === name);
}
export function procedureByWorkflowType(type: string): ProcedureSpec | undefined {
  return PROCEDURES.find((p) => p.workflowType === type || p.formerWorkflowTypes?.includes(type as ProcedureName));
}

/** What the CLI gathered for one start, before it becomes the workflow's input. */
export interface StartArgs {
  cluster: string;
  target?: string;
  /** Option values keyed by input field, as commander parsed them (strings, booleans). */
  values: Record<string, unknown>;
  requestedBy?: string;
  reason?: string;
  gatePolicy?: GatePolicy;
  /** Extra input fields (--input JSON), for fields the table has no option for. */
  extra?: Record<string, unknown>;
  dryRun?: boolean;
}

/** Flags of the common fields (bin.ts addProcedureOptions). */
const COMMON_FLAGS: Record<string, string> = {
  requestedBy: '--by',
  reason: '--reason',
  'gatePolicy.approvers': '--approvers',
  'gatePolicy.timeout': '--gate-timeout',
  'gatePolicy.onTimeout': '--on-timeout',
};

/** The flag of each input field, for messages: `maxMoves (--max-moves): "lots" must be ...`. */
function flagsOf(spec: ProcedureSpec): Record<string, string> {
  const flags: Record<string, string> = spec.common ? { ...COMMON_FLAGS } : {};
  for (const o of spec.options) flags[o.field] = o.flags.split(/[ ,]/)[0]!;
  return flags;
}

/** Names the flag after the field of each issue (`vms[1]: ...` becomes `vms[1] (--vms): ...`). */
function withFlags(spec: ProcedureSpec, e: InvalidInputError): InvalidInputError {
  const flags = flagsOf(spec);
  return new InvalidInputError(
    e.issues.map((issue) => {
      const field = /^([A-Za-z.]+)((?:\[\d+\])*):/.exec(issue);
      const flag = field && flags[field[1]!];
      return flag ? `${field[1]}${field[2]} (${flag})${issue.slice(field[0].length - 1)}` : issue;
    }),
  );
}

/**
 * An option's text as its field's type, as written: digits are a number, commas split a list; anything
 * else is passed on unchanged for the schema to refuse (" 2" is not 2, "ns1 " is not ns1).
 */
function convert(o: ProcedureOption, raw: unknown): unknown {
  if (o.kind === 'flag') return raw === true ? true : undefined;
  const text = String(raw);
  if (o.kind === 'int') return /^-?\d+$/.test(text) ? Number(text) : text;
  if (o.kind === 'number') return /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : text;
  if (o.kind === 'list') return text.split(',');
  if (o.kind === 'windows') return text.split(';').map(windowOf);
  return text;
}

/** `sat 02:00 for 4h Europe/Paris` or `2026-12-05T02:00:00Z..2026-12-05T06:00:00Z`, as written: the schema refuses what is wrong. */
function windowOf(text: string): Record<string, string> {
  const range = /^(.*)\.\.(.*)$/.exec(text);
  if (range) return { from: range[1]!, until: range[2]! };
  const m = /^(.*) for (\S+)(?: (\S+))?$/.exec(text);
  if (!m) return { at: text };
  return m[3] === undefined ? { at: m[1]!, for: m[2]! } : { at: m[1]!, for: m[2]!, tz: m[3] };
}

/**
 * Builds the input of a procedure and validates it with the procedure's schema, the one the workflow
 * itself applies (so the CLI and the workflow cannot disagree): a bad value throws, naming the field
 * and its flag, before anything connects.
 */
export function buildInput(spec: ProcedureSpec, a: StartArgs): Record<string, unknown> {
  const input: Record<string, unknown> = { ...(a.extra ?? {}), cluster: a.cluster };
  if (spec.target) {
    if (a.target === undefined) throw new InvalidInputError([`${spec.target.field}: the ${spec.target.arg} argument is required`]);
    input[spec.target.field] = a.target;
  }
  for (const o of spec.options) {
    const raw = a.values[o.field];
    if (raw === undefined || raw === false) continue;
    const v = convert(o, raw);
    if (v !== undefined) input[o.field] = v;
  }
  if (spec.common) {
    if (a.dryRun) input.dryRun = true;
    if (a.requestedBy !== undefined) input.requestedBy = a.requestedBy;
    if (a.reason !== undefined) input.reason = a.reason;
    if (a.gatePolicy && Object.keys(a.gatePolicy).length) input.gatePolicy = a.gatePolicy;
  }
  try {
    return validateProcedureInput(spec, input);
  } catch (e) {
    throw e instanceof InvalidInputError ? withFlags(spec, e) : e;
  }
}

export function validateProcedureInput(spec: ProcedureSpec, input: Record<string, unknown>): Record<string, unknown> {
  return validateInput(procedureInputSchemas[spec.workflowType], input) as Record<string, unknown>;
}
