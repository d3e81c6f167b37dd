/**
 * The input of every procedure, as a schema: the workflows validate their one object argument with
 * it before doing anything (input may come from the Web UI's start form or `temporal workflow
 * start`, not only from hvflow's CLI), and the CLI validates with the same schema before it starts
 * anything. An error names the field, the value and the rule; nothing runs.
 *
 * Pure module (zod is plain JavaScript): imported by workflows.
 */
import { z } from 'zod';
import { HOST_NAME_RULE, VM_NAME_RULE, type NameRule } from './names';
import { expandNodeset, NodeSetError } from './nodeset';
import { windowSpecSchema } from './maintenance-windows';

// Every value is taken as written: a rule refuses what it does not allow, nothing is trimmed or rewritten.
const named = (rule: NameRule) => z.string().max(63).regex(rule.pattern, { message: rule.description });
/** Who asks or decides: free text (a name, an e-mail) kept exactly as sent, so a blank around it is refused. */
const who = z
  .string()
  .max(200)
  .superRefine((v, ctx) => {
    const refuse = (message: string) => ctx.addIssue({ code: 'custom', message, input: v });
    if (!/\S/.test(v)) refuse('must not be empty');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters it refuses
    else if (/[\x00-\x1f\x7f]/.test(v)) refuse('must not contain control characters');
    else if (/^\s|\s$/.test(v)) refuse('must not start or end with a blank (it is kept as written)');
  });

const NODESET_SYNTAX = /^[A-Za-z0-9_@:,[\]\-!&^/.]+$/;
/**
 * A nodeset expression of `rule` names (`lnet[1-4],ns1`; with `groups`, `@top,@worker` too), checked as
 * written: ClusterShell strips blanks around names, so `ns1 ` would silently mean `ns1`; here a blank is
 * refused. Every name the expression spells out must obey the rule; groups are the inventory's, resolved
 * (and refused when unknown) by the workflow.
 */
function nodesetOf(rule: NameRule, o: { groups: boolean }) {
  return z
    .string()
    .min(1)
    .max(1024)
    .superRefine((expr, ctx) => {
      const refuse = (message: string) => ctx.addIssue({ code: 'custom', message, input: expr });
      if (/\s/.test(expr)) return refuse('must not contain blanks (a nodeset is taken as written, never trimmed)');
      if (!NODESET_SYNTAX.test(expr)) return refuse(`must be a nodeset expression (names, [ranges]${o.groups ? ', @groups' : ''}, ',' '!' '&' '^')`);
      let usesGroup = false;
      let names: string[];
      try {
        names = expandNodeset(expr, () => {
          usesGroup = true;
          return [];
        });
      } catch (e) {
        // The nodeset error names the expression itself (as ClusterShell's does): no value shown twice.
        return ctx.addIssue({ code: 'custom', message: e instanceof NodeSetError ? e.message : String(e), input: undefined });
      }
      if (usesGroup && !o.groups) return refuse(`must list ${rule.kind}s, not @groups`);
      const bad = names.find((n) => !rule.pattern.test(n));
      if (bad !== undefined) refuse(`names ${JSON.stringify(bad)}, which ${rule.description}`);
    });
}
/** Temporal duration strings as the SDK reads them (ms package): '30s', '4h', '2 days'. */
const duration = z
  .string()
  .max(32)
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/, { message: "must be a duration such as '30s', '15m', '4h'" });
/** A whole number in [min, max]; one message for every way to miss it (a string, a fraction, out of range). */
const whole = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const number = (min: number, max: number) => {
  const error = `must be a number from ${min} to ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
};

export const gatePolicySchema = z.strictObject({
  approvers: z.array(who).max(100).optional(),
  distinctApprover: z.boolean().optional(),
  timeout: duration.optional(),
  onTimeout: z.enum(['abort', 'escalate']).optional(),
});

const base = {
  cluster: named(HOST_NAME_RULE),
  dryRun: z.boolean().optional(),
  requestedBy: who.optional(),
  reason: z.string().max(2000).optional(),
  gatePolicy: gatePolicySchema.optional(),
};
const minutes = (max: number) => whole(1, max);
const failbackOptions = {
  hosts: nodesetOf(HOST_NAME_RULE, { groups: true }).optional(),
  maxMoves: whole(1, 10_000).optional(),
  parallelism: whole(1, 8).optional(),
  moveCost: number(0, 1e9).optional(),
  moveInfra: z.array(named(VM_NAME_RULE)).max(1000).optional(),
};

const evacuateHost = z.strictObject({
  ...base,
  host: named(HOST_NAME_RULE),
  moveTimeoutMinutes: minutes(24 * 60).optional(),
  /** Xen: concurrent live migrations (seed 003's --threads, default 5); fleet moves the VMs itself. */
  threads: whole(1, 64).optional(),
});

const reintegrateHost = z.strictObject({
  ...base,
  ...failbackOptions,
  host: named(HOST_NAME_RULE),
  healWaitMinutes: minutes(7 * 24 * 60).optional(),
  etcdWaitMinutes: minutes(24 * 60).optional(),
  noFailback: z.boolean().optional(),
});

const rebootTimeouts = {
  moveTimeoutMinutes: minutes(24 * 60).optional(),
  rebootTimeoutMinutes: minutes(24 * 60).optional(),
  healWaitMinutes: minutes(7 * 24 * 60).optional(),
  etcdWaitMinutes: minutes(24 * 60).optional(),
};
const approval = z.enum(['plan', 'each-host'], { message: "must be 'plan' (approve the plan once) or 'each-host' (also before each host)" });

/** Seed 003 (workflows/rolling-reboot.ts): `hosts` (a nodeset) or `order`, not both. */
const rollingReboot = z
  .strictObject({
    ...base,
    ...rebootTimeouts,
    hosts: nodesetOf(HOST_NAME_RULE, { groups: true }).optional(),
    order: z
      .array(named(HOST_NAME_RULE))
      .min(1)
      .max(1000)
      .refine((o) => new Set(o).size === o.length, { message: 'names a host twice' })
      .optional(),
    threads: whole(1, 64).optional(),
    approval: approval.optional(),
    windows: z.array(windowSpecSchema).max(100).optional(),
  })
  .superRefine((x, ctx) => {
    if (x.hosts !== undefined && x.order !== undefined)
      ctx.addIssue({ code: 'custom', message: 'give hosts (a nodeset) or order (a list), not both', path: ['order'], input: undefined });
  });

/** One host of a rolling reboot: the child workflow rollingReboot starts (workflows/reboot-host.ts). */
const movement = z.strictObject({
  vm: named(VM_NAME_RULE),
  from: named(HOST_NAME_RULE),
  to: named(HOST_NAME_RULE),
  weight: number(0, 1e12),
  final: z.boolean(),
});
const rebootHost = z.strictObject({
  ...base,
  ...rebootTimeouts,
  host: named(HOST_NAME_RULE),
  step: z.strictObject({
    host: named(HOST_NAME_RULE),
    migrations: z.array(movement).max(100_000),
    stranded: z.array(z.strictObject({ vm: named(VM_NAME_RULE), weight: number(0, 1e12), reason: z.string().max(2000), expected: z.boolean() })).max(100_000),
    untouchable: z.array(named(VM_NAME_RULE)).max(100_000),
  }),
  rest: z.array(named(HOST_NAME_RULE)).max(1000),
  threads: whole(1, 64).optional(),
  approval: approval.optional(),
  approvedRestMigrations: whole(0, 1e9),
});

export const procedureInputSchemas = {
  /** Read-only: a dry run is the same read, so it takes `dryRun` like every procedure (the README says so). */
  clusterStatus: z.strictObject({ cluster: base.cluster, dryRun: base.dryRun }),
  evacuateHost,
  reintegrateHost,
  /** The old names of the two above (workflows/index.ts registers both names). */
  evacuateHypervisor: evacuateHost,
  reintegrateHypervisor: reintegrateHost,
  failback: z.strictObject({ ...base, ...failbackOptions, prefer: named(HOST_NAME_RULE).optional() }),
  /** Seed 001 shutdown (workflows/cluster-shutdown.ts). */
  clusterShutdown: z.strictObject({
    ...base,
    parallelism: whole(1, 1000).optional(),
    stopTimeoutSeconds: whole(5, 24 * 3600).optional(),
    clientsTimeoutSeconds: whole(5, 24 * 3600).optional(),
    hostDownTimeoutSeconds: whole(5, 24 * 3600).optional(),
    poweroffDelaySeconds: whole(1, 300).optional(),
  }),
  /** Seed 001 start-up (workflows/cluster-startup.ts): the VMs come from a shutdown or from `vms`. */
  clusterStartup: z
    .strictObject({
      ...base,
      shutdownWorkflowId: z
        .string()
        .min(1)
        .max(255)
        .regex(/^[A-Za-z0-9._:@-]+$/, { message: 'must be a workflow id (letters, digits, . _ : @ -)' })
        .optional(),
      vms: z.array(named(VM_NAME_RULE)).max(10_000).optional(),
      exclude: nodesetOf(VM_NAME_RULE, { groups: false }).optional(),
      parallelism: whole(1, 1000).optional(),
      hostUpTimeoutSeconds: whole(5, 24 * 3600).optional(),
      maxRttMs: number(0, 60_000).optional(),
      maxFpingMs: number(0, 600_000).optional(),
      healWaitMinutes: minutes(7 * 24 * 60).optional(),
      startTimeoutSeconds: whole(5, 24 * 3600).optional(),
      ipmiVia: named(HOST_NAME_RULE).optional(),
    })
    .refine((x) => x.shutdownWorkflowId !== undefined || x.vms !== undefined, {
      message: 'give shutdownWorkflowId (the shutdown whose VM list to start) or vms',
      path: ['shutdownWorkflowId'],
    }),
  rollingReboot,
  rebootHost,
  /** VM lists for the start-up: names checked like any name that reaches a command. */
  vmList: z.array(named(VM_NAME_RULE)).max(10_000),
};

/** Fields checked on their own, exactly as the procedures' schemas check them (a decision's `by`, `--cluster` of `hvflow list`). */
const FIELDS = { cluster: base.cluster, who };

/** Validates one value as field `kind`; the error names it `field` (e.g. `by (--by)`). */
export function validateField(kind: keyof typeof FIELDS, field: string, value: unknown): string {
  return (validateInput(z.strictObject({ [field]: FIELDS[kind] }), { [field]: value }) as Record<string, string>)[field]!;
}

export type ProcedureName = Exclude<keyof typeof procedureInputSchemas, 'vmList'>;

export class InvalidInputError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid input: ${issues.join('; ')}`);
    this.name = 'InvalidInputError';
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Validates `input` against `schema`; throws InvalidInputError naming every bad field. */
export function validateInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError([`input: ${describe(input)} must be one JSON object, e.g. {"cluster": "ocean", ...}`]);
  }
  const r = schema.safeParse(input, { reportInput: true });
  if (r.success) return r.data;
  throw new InvalidInputError(
    r.error.issues.map((i) => {
      const field =
        i.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
          .join('.')
          .replace(/\.\[/g, '[') || 'input';
      const value = 'input' in i && i.input !== undefined ? `${describe(i.input)} ` : '';
      if (i.code === 'unrecognized_keys') return `${field}: unknown field(s) ${i.keys.join(', ')}`;
      return `${field}: ${value}${i.message}`;
    }),
  );
}
