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

const named = (rule: NameRule) => z.string().max(63).regex(rule.pattern, { message: rule.description });
const who = z.string().trim().min(1, { message: 'must not be empty' }).max(200).regex(/^[^\x00-\x1f\x7f]+$/, { message: 'must not contain control characters' });
const nodeset = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9_@:,\[\]\-!&^/ .]+$/, { message: 'must be a nodeset expression (names, [ranges], @groups, , ! &)' });
/** Temporal duration strings as the SDK reads them (ms package): '30s', '4h', '2 days'. */
const duration = z
  .string()
  .max(32)
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/, { message: "must be a duration such as '30s', '15m', '4h'" });

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
const minutes = (max: number) => z.number().int().min(1).max(max);
const failbackOptions = {
  hosts: nodeset.optional(),
  maxMoves: z.number().int().min(1).max(10_000).optional(),
  parallelism: z.number().int().min(1).max(8).optional(),
  moveCost: z.number().min(0).max(1e9).optional(),
  moveInfra: z.array(named(VM_NAME_RULE)).max(1000).optional(),
};

export const procedureInputSchemas = {
  clusterStatus: z.strictObject({ cluster: base.cluster }),
  evacuateHypervisor: z.strictObject({ ...base, host: named(HOST_NAME_RULE), moveTimeoutMinutes: minutes(24 * 60).optional() }),
  reintegrateHypervisor: z.strictObject({
    ...base,
    ...failbackOptions,
    host: named(HOST_NAME_RULE),
    healWaitMinutes: minutes(7 * 24 * 60).optional(),
    etcdWaitMinutes: minutes(24 * 60).optional(),
    noFailback: z.boolean().optional(),
  }),
  failback: z.strictObject({ ...base, ...failbackOptions, prefer: named(HOST_NAME_RULE).optional() }),
  /** Seed 001 shutdown (workflows/cluster-shutdown.ts). */
  clusterShutdown: z.strictObject({
    ...base,
    parallelism: z.number().int().min(1).max(1000).optional(),
    stopTimeoutSeconds: z.number().int().min(5).max(24 * 3600).optional(),
    clientsTimeoutSeconds: z.number().int().min(5).max(24 * 3600).optional(),
    hostDownTimeoutSeconds: z.number().int().min(5).max(24 * 3600).optional(),
    poweroffDelaySeconds: z.number().int().min(1).max(300).optional(),
  }),
  /** Seed 001 start-up (workflows/cluster-startup.ts): the VMs come from a shutdown or from `vms`. */
  clusterStartup: z
    .strictObject({
      ...base,
      shutdownWorkflowId: z.string().min(1).max(255).regex(/^[A-Za-z0-9._:@-]+$/, { message: 'must be a workflow id (letters, digits, . _ : @ -)' }).optional(),
      vms: z.array(named(VM_NAME_RULE)).max(10_000).optional(),
      exclude: nodeset.optional(),
      parallelism: z.number().int().min(1).max(1000).optional(),
      hostUpTimeoutSeconds: z.number().int().min(5).max(24 * 3600).optional(),
      maxRttMs: z.number().min(0).max(60_000).optional(),
      maxFpingMs: z.number().min(0).max(600_000).optional(),
      healWaitMinutes: minutes(7 * 24 * 60).optional(),
      startTimeoutSeconds: z.number().int().min(5).max(24 * 3600).optional(),
      ipmiVia: named(HOST_NAME_RULE).optional(),
    })
    .refine((x) => x.shutdownWorkflowId !== undefined || x.vms !== undefined, {
      message: 'give shutdownWorkflowId (the shutdown whose VM list to start) or vms',
      path: ['shutdownWorkflowId'],
    }),
  /** VM lists for the start-up: names checked like any name that reaches a command. */
  vmList: z.array(named(VM_NAME_RULE)).max(10_000),
};

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
      const field = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || 'input';
      const value = 'input' in i && i.input !== undefined ? `${describe(i.input)} ` : '';
      if (i.code === 'unrecognized_keys') return `${field}: unknown field(s) ${i.keys.join(', ')}`;
      return `${field}: ${value}${i.message}`;
    }),
  );
}
