/**
 * hvflow's command tree — start, follow, answer and schedule hvflow procedures on a Temporal server.
 * client/bin.ts runs it as a process; tests build it in-process to read every command's help.
 *
 * Every command is built from the procedure table (client/procedures.ts); `--json` prints one JSON
 * document on stdout; the exit code says what happened (client/errors.ts, `hvflow --help`).
 */
import { Command, CommanderError, Option } from 'commander';
import os from 'node:os';
import { validateField } from '../domain/procedure-inputs';
import type { GatePolicy } from '../workflows/messages';
import { FAILURE, GATE_DECISIONS, SEARCH_ATTRIBUTE, type GateDecisionKind } from '../domain/contract';
import { clusterOf, connect, connectionSettings, type Connected, type ConnectionFlags, type ConnectionSettings } from './connection';
import { CliError, EXIT_CODES_HELP, ExitCode, notFound, usage } from './errors';
import { failedChecksOf } from './failed-checks';
import type { ProcedureView } from './views';
import { buildInput, PROCEDURES, procedureByWorkflowType, type ProcedureSpec } from './procedures';
import { bold, dim, green, red, renderGeneric, renderList, renderPlanOutput, renderProgress, useColour, yellow, type ProgressOptions } from './render';
import { checkScheduleId, OVERLAP_CHOICES, parseAt, parseCatchupWindow, parseCron, parseOverlap, parseTimeZone } from './schedule-spec';

// The Temporal SDK is loaded only by commands that talk to the server: `--help` and usage errors stay fast.
const ops = () => import('./operations');
const schedules = () => import('./schedules');
const classify = async (e: unknown) => (await import('./classify')).classify(e);

const DECISIONS: readonly GateDecisionKind[] = GATE_DECISIONS;

// ── output and context ─────────────────────────────────────────────────────────────────────────

interface GlobalOptions extends ConnectionFlags {
  json?: boolean;
  color?: boolean;
}

class Ctx {
  readonly json: boolean;
  readonly settings: ConnectionSettings;
  private connected?: Connected;

  constructor(readonly cmd: Command) {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    this.json = !!g.json;
    useColour(!this.json && g.color !== false && !!process.stdout.isTTY && !process.env.NO_COLOR);
    this.settings = connectionSettings(g);
  }

  /** The cluster the command acts on (none given: a usage error saying how to give one). */
  get cluster(): string {
    return clusterOf(this.settings);
  }

  async client(): Promise<Connected> {
    return (this.connected ??= await connect(this.settings));
  }

  async close() {
    await this.connected?.close().catch(() => undefined);
  }

  /** Prints `data` as JSON, or the lines for people. */
  print(data: unknown, lines: () => string[]) {
    if (this.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else process.stdout.write(`${lines().join('\n')}\n`);
  }

  warn(message: string) {
    process.stderr.write(`${yellow('warning:')} ${message}\n`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny lint/suspicious/noConfusingVoidType: commander passes each action its own arguments; an action may return nothing
type Action = (ctx: Ctx, ...args: any[]) => Promise<number | void>;

/** Wraps a command's action: errors become an exit code and a message (JSON with --json). */
function run(fn: Action) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    let ctx: Ctx | undefined;
    let code: number;
    try {
      ctx = new Ctx(cmd);
      code = (await fn(ctx, ...args.slice(0, -1))) ?? ExitCode.OK;
    } catch (e) {
      const err = await classify(e);
      code = err.exitCode;
      const json = ctx?.json ?? process.argv.includes('--json');
      if (json) process.stdout.write(`${JSON.stringify({ error: { exitCode: err.exitCode, message: err.message, details: err.details } }, null, 2)}\n`);
      else process.stderr.write(`${red('error:')} ${err.message}\n`);
    } finally {
      await ctx?.close();
    }
    exitCode = code;
  };
}

let exitCode = 0;

/** Who runs the command: `--by`, else $USER; checked by the procedures' schema, never trimmed. */
function who(by: string | undefined, field = 'by'): string {
  let v = by;
  if (v === undefined) {
    v = process.env.USER || process.env.LOGNAME;
    if (!v) {
      try {
        v = os.userInfo().username;
      } catch {
        v = undefined;
      }
    }
  }
  if (v === undefined) throw usage(`${field} (--by): who you are is required (no $USER to default to)`);
  return validateField('who', `${field} (--by)`, v);
}

function seconds(value: string | undefined, flag: string, dflt: number): number {
  if (value === undefined) return dflt * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usage(`${flag}: ${JSON.stringify(value)} must be a positive number of seconds`);
  return n * 1000;
}

function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * `hvflow evacuate -oFoo=bar`: commander would report an unknown option, naming no field. A word that
 * stands where the target goes (the only argument) is the target, so the schema refuses it naming the
 * field (`host: "-oFoo=bar" must be ...`); an unknown option next to a target is still one.
 */
function targetMayLookLikeAnOption(cmd: Command): Command {
  const c = cmd as Command & { unknownOption(flag: string): void };
  const unknownOption = c.unknownOption.bind(c);
  c.unknownOption = (flag: string) => {
    if (c.args.length !== 1 || c.args[0] !== flag) unknownOption(flag);
  };
  return cmd;
}

// ── procedure options (from the table) ─────────────────────────────────────────────────────────

interface CommonOptions {
  by?: string;
  reason?: string;
  approvers?: string;
  distinctApprover?: boolean;
  gateTimeout?: string;
  onTimeout?: 'abort' | 'escalate';
  input?: string;
}

function addProcedureOptions(cmd: Command, spec: ProcedureSpec, o: { who: string }) {
  if (spec.options.length) cmd.optionsGroup(`${spec.name} options:`);
  for (const opt of spec.options) cmd.addOption(new Option(opt.flags, opt.description));
  if (spec.common) {
    cmd.optionsGroup('Request and gate policy:');
    cmd.option('--by <who>', `${o.who} (default: $USER)`);
    cmd.option('--reason <why>', 'why, recorded with the procedure');
    cmd.option('--approvers <names>', 'only these people may answer its gates (comma-separated)');
    cmd.option('--distinct-approver', 'whoever starts it may not approve its gates');
    cmd.option('--gate-timeout <duration>', "a gate not answered within this time (e.g. '4h') times out");
    cmd.addOption(new Option('--on-timeout <action>', 'what a timed-out gate does').choices(['abort', 'escalate']));
    cmd.option('--input <json>', 'extra input fields as a JSON object (fields the CLI has no option for)');
  }
  cmd.optionsGroup('Options:');
}

/** Gathers the input of a procedure from a command's arguments and options (validated, no network). */
function procedureInput(
  ctx: Ctx,
  spec: ProcedureSpec,
  target: string | undefined,
  opts: Record<string, unknown> & CommonOptions,
  o: { dryRun?: boolean; requestedBy?: string },
) {
  const values: Record<string, unknown> = {};
  for (const opt of spec.options) {
    const attr = new Option(opt.flags).attributeName();
    values[opt.field] = opts[attr];
  }
  let extra: Record<string, unknown> | undefined;
  if (opts.input !== undefined) {
    try {
      extra = JSON.parse(opts.input) as Record<string, unknown>;
    } catch (e) {
      throw usage(`--input: not valid JSON: ${(e as Error).message}`);
    }
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw usage('--input: must be a JSON object, e.g. \'{"maxMoves": 2}\'');
  }
  let gatePolicy: GatePolicy | undefined;
  if (spec.common) {
    gatePolicy = {};
    if (opts.approvers !== undefined) gatePolicy.approvers = opts.approvers.split(',');
    if (opts.distinctApprover) gatePolicy.distinctApprover = true;
    if (opts.gateTimeout !== undefined) gatePolicy.timeout = opts.gateTimeout;
    if (opts.onTimeout !== undefined) gatePolicy.onTimeout = opts.onTimeout;
  }
  return buildInput(spec, {
    cluster: ctx.cluster,
    target,
    values,
    requestedBy: spec.common ? (o.requestedBy ?? who(opts.by, 'requestedBy')) : undefined,
    reason: opts.reason,
    gatePolicy,
    extra,
    dryRun: o.dryRun,
  });
}

/** Progress lines, with the procedure's own rendering of its gates' evidence. */
function showProgress(v: ProcedureView, o: ProgressOptions = {}): string[] {
  return renderProgress(v, { evidence: procedureByWorkflowType(v.workflowType)?.renderEvidence, ...o });
}

// ── watching ───────────────────────────────────────────────────────────────────────────────────

function signature(v: ProcedureView): string {
  const p = v.progress;
  return JSON.stringify([
    v.status,
    v.phase,
    p?.paused,
    p?.abortRequested,
    p?.steps.map((s) => [s.state, s.detail]),
    p?.gate?.name,
    p?.gate?.openedAt,
    p?.ignored.length,
  ]);
}

/** Redraws the progress on a terminal; elsewhere prints it (or one JSON line) whenever it changes. */
function watcher(ctx: Ctx) {
  let last = '';
  const tty = !!process.stdout.isTTY && !ctx.json;
  return (v: ProcedureView) => {
    const sig = signature(v);
    if (tty) {
      process.stdout.write(
        `\x1b[H\x1b[2J${showProgress(v).join('\n')}\n${dim(v.closed ? '' : '\n(watching; Ctrl-C to stop watching, the procedure goes on)')}\n`,
      );
    } else if (sig !== last) {
      if (ctx.json) process.stdout.write(`${JSON.stringify(v)}\n`);
      else process.stdout.write(`${showProgress(v).join('\n')}\n${'─'.repeat(40)}\n`);
    }
    last = sig;
  };
}

/**
 * The workflow refused its input with a check that needs the cluster (a host, VM or group it does not
 * have): that is bad input, exit 2, reported like the CLI's own refusals.
 */
function refuseInvalidInput(view: ProcedureView) {
  if (view.failure?.type !== FAILURE.invalidInput) return;
  throw usage(`${view.failure.message} (refused by ${view.workflowId}; nothing was done)`, { workflowId: view.workflowId });
}

// ── commands ───────────────────────────────────────────────────────────────────────────────────

async function startCommand(
  ctx: Ctx,
  spec: ProcedureSpec,
  target: string | undefined,
  opts: Record<string, unknown> & CommonOptions & { detach?: boolean; wait?: boolean; timeout?: string },
) {
  const { follow, gateOpen, exitCodeOf, startProcedure, workerPolling, prepareInput } = await ops();
  const input = procedureInput(ctx, spec, target, opts, {});
  const timeoutMs = seconds(opts.timeout, '--timeout', spec.awaitResult ? 120 : 60);
  const c = await ctx.client();
  const note = await prepareInput(c, spec, input);
  if (note && !ctx.json) process.stderr.write(`${note}\n`);
  if ((await workerPolling(c)) === false)
    ctx.warn(`no worker polls task queue ${c.settings.taskQueue}: the procedure will wait until one does (--task-queue / HVFLOW_TASK_QUEUE?)`);
  const started = await startProcedure(c, spec, input);
  const head = { workflowId: started.workflowId, runId: started.runId, procedure: spec.name, workflowType: spec.workflowType, input };
  if (!ctx.json) process.stderr.write(`${green('started')} ${spec.name} ${started.target}: ${started.workflowId}\n`);
  if (opts.detach) {
    ctx.print({ ...head, status: 'RUNNING' }, () => [started.workflowId]);
    return ExitCode.OK;
  }
  if (spec.awaitResult) {
    const { view, timedOut } = await follow(c, started.workflowId, () => false, { timeoutMs });
    if (timedOut)
      throw new CliError(
        ExitCode.FAILED,
        `${started.workflowId} did not finish within ${timeoutMs / 1000}s (is a worker running on task queue ${c.settings.taskQueue}?)`,
      );
    refuseInvalidInput(view);
    ctx.print({ ...head, status: view.status, result: view.result, failure: view.failure }, () =>
      view.status === 'COMPLETED' ? (spec.renderResult ?? renderGeneric)(view.result) : showProgress(view),
    );
    return exitCodeOf(view);
  }
  const onView = opts.wait ? watcher(ctx) : undefined;
  const { view, timedOut } = await follow(c, started.workflowId, opts.wait ? () => false : gateOpen, { timeoutMs: opts.wait ? undefined : timeoutMs, onView });
  refuseInvalidInput(view);
  if (opts.wait) {
    if (!ctx.json && view.status === 'COMPLETED' && spec.renderResult) process.stdout.write(`\n${spec.renderResult(view.result).join('\n')}\n`);
    return exitCodeOf(view);
  }
  ctx.print({ ...head, ...view, timedOut }, () => [
    ...showProgress(view),
    ...(timedOut ? ['', dim(`still running after ${timeoutMs / 1000}s; follow it with: hvflow status ${started.workflowId} --watch`)] : []),
    ...(view.closed && view.status === 'COMPLETED' && spec.renderResult ? ['', ...spec.renderResult(view.result)] : []),
  ]);
  return exitCodeOf(view);
}

async function planCommand(ctx: Ctx, spec: ProcedureSpec, target: string | undefined, opts: Record<string, unknown> & CommonOptions & { timeout?: string }) {
  const { follow, gateOpen, exitCodeOf, startProcedure, workerPolling, decideGate, prepareInput } = await ops();
  const input = procedureInput(ctx, spec, target, opts, { dryRun: true });
  const timeoutMs = seconds(opts.timeout, '--timeout', 120);
  const c = await ctx.client();
  const note = await prepareInput(c, spec, input);
  if (note && !ctx.json) process.stderr.write(`${note}\n`);
  if ((await workerPolling(c)) === false) ctx.warn(`no worker polls task queue ${c.settings.taskQueue}: the dry run will wait until one does`);
  const started = await startProcedure(c, spec, input, { dryRun: true });
  const { view, timedOut } = await follow(c, started.workflowId, gateOpen, { timeoutMs });
  const base = { workflowId: started.workflowId, procedure: spec.name, workflowType: spec.workflowType, input, dryRun: true };
  if (timedOut)
    throw new CliError(
      ExitCode.FAILED,
      `the dry run ${started.workflowId} did not finish within ${timeoutMs / 1000}s (is a worker running on task queue ${c.settings.taskQueue}?)`,
    );
  if (!view.closed && view.progress?.gate) {
    // A worker older than `failedChecks` parks a dry run on the gate (as does a read-only step that keeps
    // failing): a real run would stop there too; the dry run is ended.
    const gate = view.progress.gate;
    if (gate.options.includes('abort')) {
      await decideGate(c, started.workflowId, {
        gate: gate.name,
        decision: 'abort',
        by: String(input.requestedBy ?? 'hvflow plan'),
        reason: 'dry run: the plan stops at this gate',
      }).catch(() => undefined);
    }
    ctx.print({ ...base, status: 'STOPPED_AT_GATE', gate, progress: view.progress }, () => [
      ...showProgress(view, { answers: false }),
      '',
      red(bold(`The dry run stopped at gate ${gate.name}: a real run would stop there too.`)),
      dim('(the dry run was ended; nothing was changed)'),
    ]);
    return ExitCode.FAILED;
  }
  refuseInvalidInput(view);
  if (view.status !== 'COMPLETED') {
    ctx.print({ ...base, status: view.status, failure: view.failure }, () => showProgress(view));
    return exitCodeOf(view);
  }
  // An unsafe plan (failed checks, each with its reason) is printed with the plan and exits 1.
  const failedChecks = failedChecksOf(view);
  const plan = { ...base, status: view.status, plan: view.result, steps: view.progress?.steps, gates: spec.gates, failedChecks };
  ctx.print(plan, () => renderPlanOutput(view, spec));
  return exitCodeOf(view);
}

async function answerCommand(
  ctx: Ctx,
  kind: 'approve' | 'reject',
  id: string | undefined,
  opts: { by?: string; reason?: string; gate?: string; wait?: boolean; timeout?: string },
) {
  const { follow, exitCodeOf, resolveProcedure, viewProcedure, decideGate, noGateMessage } = await ops();
  const by = who(opts.by);
  const timeoutMs = seconds(opts.timeout, '--timeout', 600);
  const cluster = id === undefined ? ctx.cluster : undefined; // before connecting: no cluster is a usage error
  const c = await ctx.client();
  const workflowId = id ?? (await resolveProcedure(c, cluster!, { awaiting: true }));
  const view = await viewProcedure(c, workflowId, { queryTimeoutMs: 5000 });
  const gate = view.progress?.gate;
  if (!gate && !opts.gate) throw notFound(noGateMessage(view));
  let decision: GateDecisionKind;
  if (kind === 'approve') decision = gate && !gate.options.includes('approve') && gate.options.includes('retry') ? 'retry' : 'approve';
  else decision = gate && !gate.options.includes('reject') && gate.options.includes('abort') ? 'abort' : 'reject';
  const record = await decideGate(c, workflowId, { gate: opts.gate ?? gate!.name, decision, by, reason: opts.reason });
  const line = `${green('✔')} gate ${record.name} of ${workflowId}: ${record.decision} by ${record.by}${record.reason ? ` — ${record.reason}` : ''}`;
  if (!opts.wait) {
    ctx.print({ workflowId, gate: record }, () => [line]);
    return ExitCode.OK;
  }
  if (!ctx.json) process.stdout.write(`${line}\n`);
  const next = (v: ProcedureView) => !!v.progress?.gate && (v.progress.gate.name !== record.name || v.progress.gate.openedAt !== record.openedAt);
  const { view: after, timedOut } = await follow(c, workflowId, next, { timeoutMs });
  const spec = procedureByWorkflowType(after.workflowType);
  ctx.print({ gate: record, ...after, timedOut }, () => [
    '',
    ...showProgress(after),
    ...(after.status === 'COMPLETED' && spec?.renderResult ? ['', ...spec.renderResult(after.result)] : []),
    ...(timedOut ? [dim(`still running after ${timeoutMs / 1000}s: hvflow status ${workflowId} --watch`)] : []),
  ]);
  return exitCodeOf(after);
}

async function decideCommand(ctx: Ctx, id: string, decision: string, opts: { by?: string; reason?: string; gate?: string }) {
  const { decideGate } = await ops();
  if (!DECISIONS.includes(decision as GateDecisionKind))
    throw usage(`decision: ${JSON.stringify(decision)} must be one of ${DECISIONS.join(', ')} (and an option of the gate waiting)`);
  const by = who(opts.by);
  const c = await ctx.client();
  const record = await decideGate(c, id, { decision: decision as GateDecisionKind, by, reason: opts.reason, gate: opts.gate });
  ctx.print({ workflowId: id, gate: record }, () => [
    `${green('✔')} gate ${record.name} of ${id}: ${record.decision} by ${record.by}${record.reason ? ` — ${record.reason}` : ''}`,
  ]);
  return ExitCode.OK;
}

async function controlCommand(
  ctx: Ctx,
  kind: 'pause' | 'resume' | 'abort',
  id: string,
  opts: { by?: string; reason?: string; wait?: boolean; timeout?: string },
) {
  const { follow, exitCodeOf, viewProcedure } = await ops();
  const by = who(opts.by);
  if (kind === 'abort' && !opts.reason?.trim()) throw usage('--reason: an abort must say why');
  const c = await ctx.client();
  const before = await viewProcedure(c, id, { query: false });
  if (before.closed) throw notFound(`${id} is already closed (${before.status})`);
  const handle = c.client.workflow.getHandle(id);
  const { pauseSignal, resumeSignal, abortSignal } = await import('../workflows/messages');
  const signal = { pause: pauseSignal, resume: resumeSignal, abort: abortSignal }[kind];
  await handle.signal(signal, { by, reason: opts.reason });
  const applied = (v: ProcedureView) =>
    kind === 'pause' ? !!v.progress?.paused : kind === 'resume' ? v.progress?.paused === false : !!v.progress?.abortRequested;
  const timeoutMs = seconds(opts.timeout, '--timeout', kind === 'abort' && opts.wait ? 600 : 10);
  const { view, timedOut } = await follow(c, id, (v) => applied(v) && !(kind === 'abort' && opts.wait), { timeoutMs, intervalMs: 300 });
  const done = view.closed || applied(view);
  const what = { pause: 'paused (the step in flight finishes, then it waits)', resume: 'resumed', abort: 'abort requested (clean-up, then it stops)' }[kind];
  ctx.print({ signal: kind, by, reason: opts.reason, confirmed: done, ...view, timedOut }, () => [
    done ? `${green('✔')} ${id}: ${what}` : `${yellow('…')} ${id}: ${kind} sent; not confirmed by its progress yet`,
    ...(opts.wait || view.closed ? ['', ...showProgress(view)] : []),
  ]);
  if (kind !== 'abort' || !opts.wait) return ExitCode.OK;
  // --wait reports how the procedure ended (README's table): aborted is a failed procedure, exit 1.
  if (view.closed) return exitCodeOf(view);
  if (!ctx.json) process.stderr.write(`${red('error:')} ${id} had not stopped after ${timeoutMs / 1000}s (hvflow status ${id} --watch)\n`);
  return ExitCode.FAILED; // --json: the document printed says timedOut
}

async function statusCommand(ctx: Ctx, id: string | undefined, opts: { watch?: boolean; interval?: string; evidenceLines?: string }) {
  const { follow, exitCodeOf, resolveProcedure, viewProcedure } = await ops();
  const interval = seconds(opts.interval, '--interval', 1);
  const evidenceLines = opts.evidenceLines === undefined ? 12 : Number(opts.evidenceLines);
  if (!Number.isInteger(evidenceLines) || evidenceLines < 0) throw usage(`--evidence-lines: ${JSON.stringify(opts.evidenceLines)} must be a whole number`);
  const cluster = id === undefined ? ctx.cluster : undefined; // before connecting: no cluster is a usage error
  const c = await ctx.client();
  const workflowId = id ?? (await resolveProcedure(c, cluster!));
  if (!opts.watch) {
    const v = await viewProcedure(c, workflowId);
    ctx.print(v, () => showProgress(v, { evidenceLines }));
    return exitCodeOf(v);
  }
  const { view } = await follow(c, workflowId, () => false, { intervalMs: interval, onView: watcher(ctx) });
  return exitCodeOf(view);
}

async function listCommand(ctx: Ctx, opts: { limit?: string; allClusters?: boolean }) {
  const { listProcedures } = await ops();
  const limit = opts.limit === undefined ? 100 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usage(`--limit: ${JSON.stringify(opts.limit)} must be a positive whole number`);
  const cluster = opts.allClusters ? undefined : ctx.settings.cluster;
  const c = await ctx.client();
  const rows = await listProcedures(c, { cluster, limit });
  ctx.print(rows, () => renderList(rows));
  return ExitCode.OK;
}

// ── program ────────────────────────────────────────────────────────────────────────────────────

export function buildProgram(): Command {
  const program = new Command('hvflow');
  program
    .description('Start, follow, approve and schedule hypervisor-cluster procedures (durable Temporal workflows).')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .optionsGroup('Connection (flags win over the environment):')
    .option('--address <host:port>', 'Temporal frontend [env TEMPORAL_ADDRESS, default 127.0.0.1:7233]')
    .option('--namespace <name>', 'Temporal namespace [env TEMPORAL_NAMESPACE, default "default"]')
    .option('--task-queue <name>', "the hvflow worker's task queue [env HVFLOW_TASK_QUEUE, default hvflow]")
    .option('--cluster <name>', 'cluster to act on [env HVFLOW_CLUSTER, else the cluster of $HVFLOW_INVENTORY; no default]')
    .option('--tls', 'connect with TLS [env TEMPORAL_TLS=true]')
    .option('--tls-cert-path <file>', 'client certificate for mTLS [env TEMPORAL_TLS_CERT]')
    .option('--tls-key-path <file>', 'its private key [env TEMPORAL_TLS_KEY]')
    .option('--tls-ca-path <file>', 'CA certificates the server is checked against [env TEMPORAL_TLS_CA]')
    .option('--tls-server-name <name>', 'server name to verify [env TEMPORAL_TLS_SERVER_NAME]')
    .option('--connect-timeout <seconds>', 'give up connecting after this long [env HVFLOW_CONNECT_TIMEOUT, default 5]')
    .optionsGroup('Output:')
    .option('--json', 'print one JSON document on stdout (errors too: {"error": {...}})')
    .option('--no-color', 'no ANSI colours (also NO_COLOR=1)')
    .optionsGroup('Options:')
    .addHelpText(
      'after',
      `
Environment: TEMPORAL_API_KEY (API key, e.g. Temporal Cloud) is read from the environment only.

${EXIT_CODES_HELP}
${examples(
  'hvflow plan evacuate worker1                        # dry run: the full plan, nothing touched',
  'hvflow evacuate worker1 --by alice --reason "disk swap"   # stops at the approval gate',
  'hvflow list                                         # running procedures, those waiting for you first',
  'hvflow status --watch                               # the running procedure of the cluster, live',
  'hvflow approve --by bob --reason "ticket 42"        # answer the gate waiting now',
  "hvflow schedule create evacuate worker1 --at 'sat 02:00' --tz Europe/Paris",
)}`,
    );

  // Procedures: one command each, from the table.
  program.commandsGroup('Procedures:');
  for (const spec of PROCEDURES) {
    const cmd = program.command(spec.name).description(spec.description);
    if (spec.target) targetMayLookLikeAnOption(cmd).argument(`<${spec.target.arg}>`, spec.target.description);
    addProcedureOptions(cmd, spec, { who: 'who starts it' });
    if (!spec.awaitResult) {
      cmd.option('--detach', 'print the workflow id and return at once');
      cmd.option('--wait', 'follow the procedure until it closes (answer its gates from another terminal)');
      cmd.option('--timeout <seconds>', 'without --wait: how long to follow it until it waits at a gate (default 60)');
    } else cmd.option('--timeout <seconds>', 'how long to wait for the result (default 120)');
    const gateHelp = spec.gates.length ? `\nGates:\n${spec.gates.map((g) => `  ${g.name} (${g.options}): ${g.when}`).join('\n')}\n` : '';
    cmd.addHelpText('after', `${gateHelp}${examples(...spec.examples)}`);
    cmd.action(run((ctx, ...a) => startCommand(ctx, spec, spec.target ? (a[0] as string) : undefined, (spec.target ? a[1] : a[0]) as never)));
  }

  program.commandsGroup('Plans and decisions:');
  const plan = program
    .command('plan')
    .description('Dry run: start a procedure with dryRun:true and print its plan (hosts, units / VMs, moves, order, gates). Changes nothing.')
    .addHelpText('after', examples('hvflow plan evacuate worker1', 'hvflow plan failback --max-moves 2 --json'));
  for (const spec of PROCEDURES.filter((p) => p.plannable)) {
    const cmd = plan.command(spec.name).description(`plan of: ${spec.description}`);
    if (spec.target) targetMayLookLikeAnOption(cmd).argument(`<${spec.target.arg}>`, spec.target.description);
    addProcedureOptions(cmd, spec, { who: 'who asks for the plan' });
    cmd.option('--timeout <seconds>', 'how long to wait for the plan (default 120)');
    cmd.addHelpText('after', examples(`hvflow plan ${spec.name}${spec.target ? ` ${spec.target.arg === 'HOST' ? 'worker1' : spec.target.arg}` : ''}`));
    cmd.action(run((ctx, ...a) => planCommand(ctx, spec, spec.target ? (a[0] as string) : undefined, (spec.target ? a[1] : a[0]) as never)));
  }

  for (const kind of ['approve', 'reject'] as const) {
    program
      .command(kind)
      .argument('[ID]', 'workflow id (default: the procedure of the cluster waiting at a gate)')
      .description(
        kind === 'approve'
          ? 'Approve the gate a procedure waits at (on a failed step: retry). Sent as the decideGate update: a refusal comes back at once.'
          : 'Reject the gate a procedure waits at: it stops, stating what was changed (where reject is not an option: abort).',
      )
      .option('--by <who>', 'who decides (default: $USER); recorded with the gate')
      .option('--reason <why>', kind === 'reject' ? 'why (required)' : 'why, recorded with the gate')
      .option('--gate <name>', 'the gate you mean (refused if another one waits)')
      .option('--wait', 'then follow the procedure until it closes or waits at another gate')
      .option('--timeout <seconds>', 'with --wait: how long (default 600)')
      .addHelpText(
        'after',
        examples(
          `hvflow ${kind} hvflow-ocean-evacuate-worker1-20250705T020000000Z --by bob --reason "ticket 42"`,
          `hvflow ${kind} --by bob --reason "${kind === 'approve' ? 'maintenance window' : 'not tonight'}"   # the gate waiting on the cluster`,
        ),
      )
      .action(run((ctx, id, opts) => answerCommand(ctx, kind, id, opts)));
  }

  program
    .command('decide')
    .argument('<ID>', 'workflow id')
    .argument('<DECISION>', `one of the options of the gate waiting: ${DECISIONS.join(', ')}`)
    .description(
      'Answer the gate waiting with any option it lists (retry, skip, override, abort...). Uses the decideGate update: a refused decision exits 2 with the reason.',
    )
    .option('--by <who>', 'who decides (default: $USER)')
    .option('--reason <why>', 'why (required for override, reject, skip and abort)')
    .option('--gate <name>', 'the gate you mean (refused if another one waits)')
    .addHelpText(
      'after',
      examples('hvflow decide hvflow-ocean-evacuate-worker1-20250705T020000000Z override --by carol --reason "top2 is being replaced, quorum checked by hand"'),
    )
    .action(run((ctx, id, decision, opts) => decideCommand(ctx, id, decision, opts)));

  program.commandsGroup('Operator controls:');
  const controls = {
    pause: 'Pause: the step in flight finishes, then the procedure waits until resumed.',
    resume: 'Resume a paused procedure.',
    abort: 'Abort: the procedure stops after clean-up and states what it changed (the cluster is left in a stated, safe state).',
  } as const;
  for (const kind of ['pause', 'resume', 'abort'] as const) {
    const cmd = program
      .command(kind)
      .argument('<ID>', 'workflow id')
      .description(controls[kind])
      .option('--by <who>', 'who (default: $USER)')
      .option('--reason <why>', kind === 'abort' ? 'why (required)' : 'why');
    if (kind === 'abort') cmd.option('--wait', 'wait until the procedure has stopped and print its final state (exit code: how it ended; aborted is 1)');
    cmd.option('--timeout <seconds>', 'how long to wait for the procedure to confirm (default 10; abort --wait: 600)');
    cmd.addHelpText(
      'after',
      examples(
        `hvflow ${kind} hvflow-ocean-evacuate-worker1-20250705T020000000Z --by bob${kind === 'resume' ? '' : ` --reason "${kind === 'abort' ? 'change freeze' : 'waiting for the DC technician'}"`}`,
      ),
    );
    cmd.action(run((ctx, id, opts) => controlCommand(ctx, kind, id, opts)));
  }

  program.commandsGroup('Following:');
  program
    .command('status')
    .argument('[ID]', 'workflow id (default: the running procedure of the cluster: the lock holder)')
    .description('Progress of a procedure: steps with their state, the gate waiting (message, options, how to answer), elapsed time.')
    .option('--watch', 'redraw until the procedure closes (exit code: its outcome)')
    .option('--interval <seconds>', 'with --watch: refresh period (default 1)')
    .option('--evidence-lines <n>', 'lines of gate evidence shown (default 12; --json has all)')
    .addHelpText('after', examples('hvflow status --watch', 'hvflow status hvflow-ocean-evacuate-worker1-20250705T020000000Z --json | jq .progress.gate'))
    .action(run((ctx, id, opts) => statusCommand(ctx, id, opts)));

  program
    .command('list')
    .description(`Running procedures, those waiting at a gate first (search attribute ${SEARCH_ATTRIBUTE.awaitingApproval}), then oldest first.`)
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--all-clusters', 'ignore --cluster / HVFLOW_CLUSTER')
    .addHelpText('after', examples('hvflow list', "hvflow list --json | jq -r '.[] | select(.awaitingApproval) | .workflowId'"))
    .action(run((ctx, opts) => listCommand(ctx, opts)));

  // Schedules.
  program.commandsGroup('Maintenance windows:');
  const schedule = program
    .command('schedule')
    .description('Maintenance windows on Temporal Schedules: create, list, show, pause, unpause, trigger, delete.')
    .addHelpText(
      'after',
      examples(
        "hvflow schedule create evacuate worker1 --at 'sat 02:00' --tz Europe/Paris --by alice",
        'hvflow schedule list',
        'hvflow schedule pause hvflow-ocean-evacuate-worker1 --by bob --reason "change freeze"',
      ),
    );
  const create = schedule
    .command('create')
    .description('Create a schedule whose action starts a procedure (requestedBy schedule:<id>). One subcommand per procedure.')
    .addHelpText(
      'after',
      examples(
        "hvflow schedule create evacuate worker1 --at 'sat 02:00' --tz Europe/Paris",
        "hvflow schedule create status-report --cron '0 6 * * *' --id morning-report",
      ),
    );
  for (const spec of PROCEDURES) {
    const cmd = create.command(spec.name).description(`schedule: ${spec.description}`);
    if (spec.target) targetMayLookLikeAnOption(cmd).argument(`<${spec.target.arg}>`, spec.target.description);
    addProcedureOptions(cmd, spec, { who: 'who creates the schedule (the runs are requested by schedule:<id>)' });
    if (!spec.common) cmd.option('--by <who>', 'who creates the schedule (default: $USER)');
    cmd
      .optionsGroup('When:')
      .option('--id <schedule-id>', 'schedule id (default hvflow-<cluster>-<procedure>-<target>)')
      .option('--at <when>', "calendar time, repeatable: 'sat 02:00', 'mon-fri 22:30', 'daily 03:00', '2025-07-05 02:00'", collect, [])
      .option('--cron <expr>', "cron expression, repeatable: '0 2 * * 6'", collect, [])
      .option('--tz <zone>', 'IANA time zone of --at / --cron (default UTC)', 'UTC')
      .addOption(new Option('--overlap <policy>', 'when the previous run still runs').choices(OVERLAP_CHOICES).default('skip'))
      .option('--catchup-window <duration>', 'a run missed while the server was down still starts within this window', '1h')
      .option('--paused', 'create it paused')
      .option('--note <text>', 'note shown with the schedule')
      .optionsGroup('Options:')
      .addHelpText('after', examples(`hvflow schedule create ${spec.name}${spec.target ? ' worker1' : ''} --at 'sat 02:00' --tz Europe/Paris --by alice`))
      .action(
        run(async (ctx, ...a) => {
          const target = spec.target ? (a[0] as string) : undefined;
          const opts = (spec.target ? a[1] : a[0]) as Record<string, unknown> &
            CommonOptions & { id?: string; at: string[]; cron: string[]; tz: string; overlap: string; catchupWindow: string; paused?: boolean; note?: string };
          const createdBy = who(opts.by);
          const at = opts.at;
          const cron = opts.cron.map(parseCron);
          if (!at.length && !cron.length) throw usage('--at or --cron: say when the maintenance window starts');
          at.forEach((a) => parseAt(a));
          const timeZone = parseTimeZone(opts.tz);
          const overlap = parseOverlap(opts.overlap);
          const catchupWindowMs = parseCatchupWindow(opts.catchupWindow);
          // The id needs the target, which needs the input: validate with a placeholder first.
          const probe = procedureInput(ctx, spec, target, opts, { requestedBy: 'schedule:probe' });
          const id = checkScheduleId(opts.id ?? `hvflow-${ctx.cluster}-${spec.name}-${spec.targetOf(probe, ctx.cluster)}`);
          const input = procedureInput(ctx, spec, target, opts, { requestedBy: `schedule:${id}` });
          if (input.shutdownWorkflowId === 'latest')
            throw usage("--from-shutdown latest would be resolved now, not when the schedule runs: give the shutdown's workflow id");
          if (!spec.common) delete input.requestedBy;
          const c = await ctx.client();
          const { createSchedule, describeSchedule, renderSchedule } = await schedules();
          await createSchedule(c, {
            id,
            spec,
            input,
            cluster: ctx.cluster,
            at,
            cron,
            timeZone,
            overlap,
            catchupWindowMs,
            paused: opts.paused,
            createdBy,
            note: opts.note,
          });
          const row = await describeSchedule(c, id);
          ctx.print(row, () => [`${green('✔')} schedule ${id} created`, ...renderSchedule(row)]);
        }),
      );
  }
  schedule
    .command('list')
    .description("hvflow's schedules: procedure, target, when, time zone, overlap policy, catch-up window, state, next run.")
    .option('--all', 'also schedules not created by hvflow')
    .addHelpText('after', examples('hvflow schedule list', 'hvflow schedule list --json'))
    .action(
      run(async (ctx, opts: { all?: boolean }) => {
        const c = await ctx.client();
        const { listSchedules, renderSchedules } = await schedules();
        const rows = await listSchedules(c, { all: opts.all, cluster: ctx.settings.cluster });
        ctx.print(rows, () => renderSchedules(rows));
      }),
    );
  schedule
    .command('show')
    .argument('<ID>', 'schedule id')
    .description('One schedule in full: spec, policies, next and recent runs.')
    .addHelpText('after', examples('hvflow schedule show hvflow-ocean-evacuate-worker1'))
    .action(
      run(async (ctx, id: string) => {
        const { describeSchedule, renderSchedule } = await schedules();
        const row = await describeSchedule(await ctx.client(), checkScheduleId(id));
        ctx.print(row, () => renderSchedule(row));
      }),
    );
  for (const kind of ['pause', 'unpause'] as const) {
    schedule
      .command(kind)
      .argument('<ID>', 'schedule id')
      .description(kind === 'pause' ? 'Pause a schedule: no run starts until unpaused.' : 'Unpause a schedule.')
      .option('--by <who>', 'who (default: $USER)')
      .option('--reason <why>', 'why (kept as the schedule note)')
      .addHelpText(
        'after',
        examples(`hvflow schedule ${kind} hvflow-ocean-evacuate-worker1 --by bob --reason "${kind === 'pause' ? 'change freeze' : 'freeze over'}"`),
      )
      .action(
        run(async (ctx, id: string, opts: { by?: string; reason?: string }) => {
          const by = who(opts.by);
          const handle = (await ctx.client()).client.schedule.getHandle(checkScheduleId(id));
          const note = `${kind}d by ${by}${opts.reason ? `: ${opts.reason}` : ''}`;
          if (kind === 'pause') await handle.pause(note);
          else await handle.unpause(note);
          const { describeSchedule, renderSchedule } = await schedules();
          const row = await describeSchedule(await ctx.client(), id);
          ctx.print(row, () => [`${green('✔')} schedule ${id} ${kind}d`, ...renderSchedule(row)]);
        }),
      );
  }
  schedule
    .command('trigger')
    .argument('<ID>', 'schedule id')
    .description('Start the scheduled procedure now (its overlap policy applies).')
    .addHelpText('after', examples('hvflow schedule trigger hvflow-ocean-status-report-ocean'))
    .action(
      run(async (ctx, id: string) => {
        const c = await ctx.client();
        await c.client.schedule.getHandle(checkScheduleId(id)).trigger();
        ctx.print({ scheduleId: id, triggered: true }, () => [`${green('✔')} schedule ${id} triggered`]);
      }),
    );
  schedule
    .command('delete')
    .argument('<ID>', 'schedule id')
    .description('Delete a schedule (procedures it started go on).')
    .addHelpText('after', examples('hvflow schedule delete hvflow-ocean-evacuate-worker1'))
    .action(
      run(async (ctx, id: string) => {
        await (await ctx.client()).client.schedule.getHandle(checkScheduleId(id)).delete();
        ctx.print({ scheduleId: id, deleted: true }, () => [`${green('✔')} schedule ${id} deleted`]);
      }),
    );

  return program;
}

/** Parses argv, runs the command, exits with the code it says (client/errors.ts). */
export async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; any other parse error is bad usage.
      exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    } else {
      process.stderr.write(`${red('error:')} ${e instanceof Error ? e.message : String(e)}\n`);
      exitCode = (await classify(e)).exitCode;
    }
  }
  process.stdout.write('', () => process.exit(exitCode));
}
