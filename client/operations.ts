/**
 * What the CLI does with Temporal: start a procedure (id, search attributes, summary, memo), find
 * the running one of a cluster, read its progress, answer its gates, send operator controls.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { isGrpcDeadlineError, type WorkflowHandle, type WorkflowExecutionInfo } from '@temporalio/client';
import { AWAITING_APPROVAL, CLUSTER, PHASE, PROCEDURE, TARGET } from '../workflows/search-attributes';
import { clusterBusyMessage, FAILURE, lockWorkflowId, MEMO, type LockHolder, type ShutdownMemo } from '../domain/contract';
import { decideUpdate, progressQuery, type DecideInput, type GateRecord, type Progress } from '../workflows/messages';
import type { Connected } from './connection';
import { CliError, ExitCode, failureMessage, notFound, usage } from './errors';
import { failureType } from './classify';
import { failedChecksOf } from './failed-checks';
import type { ProcedureSpec } from './procedures';
import { procedureByWorkflowType } from './procedures';
import type { ListRow, ProcedureView, Status } from './views';

/** hvflow-<cluster>-<procedure>-<target>-<UTC timestamp to the millisecond>. */
export function procedureWorkflowId(cluster: string, procedure: string, target: string, at: Date = new Date()): string {
  const ts = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `hvflow-${cluster}-${procedure}-${target}-${ts}`;
}

/** Who holds the cluster's lock (the running procedure that changes it), if anybody. */
export async function clusterLockHolder(c: Connected, cluster: string): Promise<LockHolder | undefined> {
  try {
    const d = await c.client.workflow.getHandle(lockWorkflowId(cluster)).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    return (d.memo?.[MEMO.lockHolder] as LockHolder | undefined) ?? { workflowId: '(unknown)', procedure: '(unknown)' };
  } catch (e) {
    if ((e as Error)?.name === 'WorkflowNotFoundError') return undefined;
    throw e;
  }
}

/** Whether a worker polls the task queue (undefined: could not tell). */
export async function workerPolling(c: Connected): Promise<boolean | undefined> {
  try {
    const r = await c.connection.withDeadline(Date.now() + 5000, () =>
      c.client.workflowService.describeTaskQueue({
        namespace: c.settings.namespace,
        taskQueue: { name: c.settings.taskQueue, kind: 1 /* NORMAL */ },
        taskQueueType: 1 /* WORKFLOW */,
      }),
    );
    return (r.pollers?.length ?? 0) > 0;
  } catch {
    return undefined;
  }
}

export interface HvflowMemo {
  command: string;
  requestedBy?: string;
  reason?: string;
  dryRun?: boolean;
  scheduleId?: string;
}

/** Everything a start sets besides the input: id, search attributes, memo, summary. */
export function startOptions(
  spec: ProcedureSpec,
  input: Record<string, unknown>,
  cluster: string,
  opts: { dryRun?: boolean; requestedBy?: string; scheduleId?: string },
) {
  const target = spec.targetOf(input, cluster);
  const command = opts.dryRun ? `${spec.name}-plan` : spec.name;
  const reason = typeof input.reason === 'string' ? input.reason : undefined;
  const who = opts.requestedBy ?? (typeof input.requestedBy === 'string' ? input.requestedBy : undefined);
  const summary =
    `${opts.dryRun ? 'plan (dry run) of ' : ''}${spec.name} ${target === cluster ? '' : `${target} `}on cluster ${cluster}` +
    `${who ? `, requested by ${who}` : ''}${reason ? `: ${reason}` : ''}`;
  const memo: HvflowMemo = { command: spec.name, requestedBy: who, reason, dryRun: opts.dryRun || undefined, scheduleId: opts.scheduleId };
  return {
    target,
    command,
    typedSearchAttributes: [
      { key: PROCEDURE, value: spec.workflowType },
      { key: CLUSTER, value: cluster },
      { key: TARGET, value: target },
      { key: PHASE, value: 'starting' },
      { key: AWAITING_APPROVAL, value: false },
    ],
    memo: { [MEMO.procedure]: JSON.parse(JSON.stringify(memo)) as Record<string, unknown> },
    staticSummary: summary.slice(0, 400),
    staticDetails: [
      `Started with the hvflow CLI (${command}).`,
      '',
      'Input:',
      '```json',
      JSON.stringify(input, null, 2),
      '```',
      // Markdown: a gate name such as <check>-unsafe is code, or the renderer takes <check> for an HTML tag.
      spec.gates.length ? `Gates: ${spec.gates.map((g) => `\`${g.name}\` (${g.options})`).join('; ')}` : '',
    ].join('\n'),
  };
}

export interface Started {
  handle: WorkflowHandle;
  workflowId: string;
  runId: string;
  target: string;
}

/**
 * Starts a procedure. One that changes the cluster is refused (exit 3) when the cluster's lock is
 * held, before anything is started; the workflow takes the lock itself, so a race is still caught.
 */
export async function startProcedure(c: Connected, spec: ProcedureSpec, input: Record<string, unknown>, opts: { dryRun?: boolean } = {}): Promise<Started> {
  const cluster = String(input.cluster);
  if (spec.changesCluster && !opts.dryRun) {
    const holder = await clusterLockHolder(c, cluster);
    if (holder) {
      throw new CliError(ExitCode.BUSY, `${clusterBusyMessage(cluster, holder)}. Nothing was started.`, { holder });
    }
  }
  const o = startOptions(spec, input, cluster, opts);
  const workflowId = procedureWorkflowId(cluster, o.command, o.target);
  try {
    const handle = await c.client.workflow.start(spec.workflowType, {
      taskQueue: c.settings.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: o.typedSearchAttributes,
      memo: o.memo,
      staticSummary: o.staticSummary,
      staticDetails: o.staticDetails,
    });
    return { handle, workflowId, runId: handle.firstExecutionRunId, target: o.target };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) throw usage(`workflow id ${workflowId} is already in use; try again`);
    throw e;
  }
}

/**
 * Input that needs the server before the start: `startup --from-shutdown latest` becomes the id of
 * the cluster's last completed, real (not dry-run) clusterShutdown. Returns a note for the operator.
 */
export async function prepareInput(c: Connected, spec: ProcedureSpec, input: Record<string, unknown>): Promise<string | undefined> {
  if (spec.workflowType !== 'clusterStartup' || input.shutdownWorkflowId !== 'latest') return undefined;
  const cluster = String(input.cluster);
  const query = `WorkflowType = 'clusterShutdown' AND ExecutionStatus = 'Completed' AND ${CLUSTER.name} = ${quote(cluster)}`;
  let best: WorkflowExecutionInfo | undefined;
  let seen = 0;
  for await (const info of c.client.workflow.list({ query, pageSize: 100 })) {
    if (++seen > 500) break;
    const memo = info.memo ?? {};
    const dry = (memo[MEMO.shutdown] as Partial<ShutdownMemo> | undefined)?.dryRun ?? (memo[MEMO.procedure] as HvflowMemo | undefined)?.dryRun;
    if (dry) continue;
    if (!best || (info.closeTime ?? info.startTime) > (best.closeTime ?? best.startTime)) best = info;
  }
  if (!best) throw notFound(`--from-shutdown latest: no completed shutdown of cluster ${cluster}; give --from-shutdown <workflow-id> or --vms`);
  input.shutdownWorkflowId = best.workflowId;
  return `using the VM list of shutdown ${best.workflowId} (completed ${best.closeTime?.toISOString() ?? '?'})`;
}

function fromInfo(info: Omit<WorkflowExecutionInfo, 'raw'>): Omit<ProcedureView, 'progress' | 'progressError' | 'result' | 'failure'> {
  const sa = info.typedSearchAttributes;
  const memo = (info.memo?.[MEMO.procedure] ?? {}) as HvflowMemo;
  const status = info.status.name as Status;
  const end = info.closeTime ?? new Date();
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.type,
    procedure: procedureByWorkflowType(info.type)?.name,
    status,
    closed: status !== 'RUNNING',
    cluster: sa.get(CLUSTER),
    target: sa.get(TARGET),
    phase: sa.get(PHASE),
    awaitingApproval: sa.get(AWAITING_APPROVAL),
    requestedBy: memo.requestedBy,
    dryRun: memo.dryRun,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString(),
    elapsedMs: end.getTime() - info.startTime.getTime(),
  };
}

export async function queryProgress(c: Connected, handle: WorkflowHandle, timeoutMs = 5000): Promise<Progress> {
  return c.connection.withDeadline(Date.now() + timeoutMs, () => handle.query(progressQuery));
}

/** The procedure's state now: describe, progress query, and the outcome when closed. */
export async function viewProcedure(c: Connected, workflowId: string, opts: { query?: boolean; queryTimeoutMs?: number } = {}): Promise<ProcedureView> {
  const handle = c.client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const v: ProcedureView = { ...fromInfo(d), summary: await d.staticSummary().catch(() => undefined) };
  if (opts.query !== false) {
    try {
      v.progress = await queryProgress(c, handle, opts.queryTimeoutMs ?? 5000);
    } catch (e) {
      v.progressError =
        isGrpcDeadlineError(e) || /deadline/i.test(String((e as Error)?.message))
          ? `no worker answered on task queue ${d.taskQueue} in time`
          : failureMessage(e);
    }
  }
  if (v.progress) {
    v.phase = v.progress.phase;
    v.awaitingApproval = !!v.progress.gate;
    v.requestedBy ??= v.progress.startedBy;
    v.dryRun = v.progress.dryRun;
    v.target ??= v.progress.target;
    v.cluster ??= v.progress.cluster;
  }
  if (v.closed) {
    try {
      v.result = await c.connection.withDeadline(Date.now() + 10_000, () => handle.result());
    } catch (e) {
      v.failure = { message: failureMessage(e), type: failureType(e) };
    }
  }
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the procedure until `until` holds or it closes (or the timeout passes: the last view is
 * returned, flagged `timedOut`). `onView` sees every view (for --watch redraws).
 */
export async function follow(
  c: Connected,
  workflowId: string,
  until: (v: ProcedureView) => boolean,
  o: { timeoutMs?: number; intervalMs?: number; onView?: (v: ProcedureView) => void } = {},
): Promise<{ view: ProcedureView; timedOut: boolean }> {
  const deadline = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
  for (;;) {
    const v = await viewProcedure(c, workflowId, { queryTimeoutMs: 3000 });
    o.onView?.(v);
    if (v.closed || until(v)) return { view: v, timedOut: false };
    if (Date.now() >= deadline) return { view: v, timedOut: true };
    await sleep(Math.min(o.intervalMs ?? 500, Math.max(0, deadline - Date.now())));
  }
}

export const gateOpen = (v: ProcedureView) => !!v.progress?.gate;

/** Exit code a closed (or running) procedure stands for; a dry run whose plan is unsafe is 1, like a run that would park. */
export function exitCodeOf(v: ProcedureView): number {
  if (failedChecksOf(v).length) return ExitCode.FAILED;
  if (!v.closed || v.status === 'COMPLETED') return ExitCode.OK;
  if (v.failure?.type === FAILURE.clusterBusy) return ExitCode.BUSY;
  if (v.failure?.type === FAILURE.invalidInput) return ExitCode.USAGE;
  return ExitCode.FAILED;
}

const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;

/**
 * Running procedures (they carry the HvflowProcedure search attribute), the ones waiting for a
 * decision first (HvflowAwaitingApproval = true), then oldest first. Each one's progress is queried
 * for its waiting gate and who started it; when no worker answers, the search attributes are shown.
 */
export async function listProcedures(c: Connected, o: { cluster?: string; limit?: number } = {}): Promise<ListRow[]> {
  let query = `ExecutionStatus = 'Running' AND ${PROCEDURE.name} IS NOT NULL`;
  if (o.cluster) query += ` AND ${CLUSTER.name} = ${quote(o.cluster)}`;
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of c.client.workflow.list({ query, pageSize: 100 })) {
    infos.push(info);
    if (infos.length >= (o.limit ?? 100)) break;
  }
  const rows = await Promise.all(
    infos.map(async (info): Promise<ListRow> => {
      const base = fromInfo(info);
      const row: ListRow = {
        workflowId: base.workflowId,
        procedure: base.procedure ?? base.workflowType,
        workflowType: base.workflowType,
        cluster: base.cluster,
        target: base.target,
        phase: base.phase,
        awaitingApproval: !!base.awaitingApproval,
        requestedBy: base.requestedBy,
        dryRun: base.dryRun,
        startTime: base.startTime,
        ageMs: base.elapsedMs,
      };
      try {
        const p = await queryProgress(c, c.client.workflow.getHandle(info.workflowId, info.runId), 3000);
        row.phase = p.phase;
        row.requestedBy ??= p.startedBy;
        row.awaitingApproval = !!p.gate;
        row.gate = p.gate?.name;
        row.gateMessage = p.gate?.message;
        row.gateOptions = p.gate?.options;
      } catch {
        // no worker answering: the search attributes say enough
      }
      return row;
    }),
  );
  return rows.sort((a, b) => Number(b.awaitingApproval) - Number(a.awaitingApproval) || a.startTime.localeCompare(b.startTime));
}

/**
 * The procedure a command without ID means: the holder of the cluster's lock, else the one
 * running procedure of the cluster (the one waiting at a gate, with `awaiting`).
 */
export async function resolveProcedure(c: Connected, cluster: string, o: { awaiting?: boolean } = {}): Promise<string> {
  const holder = await clusterLockHolder(c, cluster);
  if (holder && holder.workflowId !== '(unknown)') {
    if (!o.awaiting) return holder.workflowId;
    const v = await viewProcedure(c, holder.workflowId, { queryTimeoutMs: 3000 }).catch(() => undefined);
    if (v && (v.awaitingApproval || !!v.progress?.gate)) return holder.workflowId;
  }
  const rows = (await listProcedures(c, { cluster })).filter((r) => !o.awaiting || r.awaitingApproval);
  if (rows.length === 1) return rows[0]!.workflowId;
  if (rows.length === 0) {
    throw notFound(o.awaiting ? `no procedure of cluster ${cluster} is waiting for a decision` : `no procedure is running on cluster ${cluster}`);
  }
  throw usage(
    `${rows.length} procedures ${o.awaiting ? 'wait for a decision' : 'run'} on cluster ${cluster}; name one: ${rows.map((r) => r.workflowId).join(', ')}`,
  );
}

/** Answers the gate waiting now with the decideGate update: the validator's refusal comes back at once. */
export async function decideGate(c: Connected, workflowId: string, d: DecideInput): Promise<GateRecord> {
  const handle = c.client.workflow.getHandle(workflowId);
  return handle.executeUpdate(decideUpdate, { args: [d] });
}

export function noGateMessage(v: ProcedureView): string {
  if (v.closed) return `${v.workflowId} is closed (${v.status}${v.failure ? `: ${v.failure.message}` : ''}): no gate to answer`;
  if (!v.progress) return `${v.workflowId}: cannot read its progress (${v.progressError ?? 'unknown'}); name the gate with --gate or use decide`;
  return `${v.workflowId} is not waiting at a gate (phase: ${v.phase})`;
}
