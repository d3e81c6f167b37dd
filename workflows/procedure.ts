/**
 * The runtime every procedure shares: its steps and their state, gates, operator controls
 * (pause / resume / abort), the `progress` query, the Web UI's current details and the search
 * attributes that let an operator find what waits for them.
 *
 * A procedure reads like its runbook:
 *   await proc.step('stop-fleet', 'Stop fleetd on worker1', () => act.stopFleet(...));
 * A step that keeps failing after its activity retries parks on a gate (retry / skip / abort)
 * instead of failing the run (seed 001: investigate any weirdness before going on).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  condition,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  CancellationScope,
  log,
} from '@temporalio/workflow';
import { failedGate, FAILURE, unsafeGate } from '../domain/contract';
import {
  abortSignal,
  approveSignal,
  decideSignal,
  decideUpdate,
  pauseSignal,
  progressQuery,
  rejectSignal,
  resumeSignal,
  type DecideInput,
  type FailedCheck,
  type Finished,
  type GateDecisionKind,
  type GateRecord,
  type ProcedureInputBase,
  type Progress,
  type StepProgress,
} from './messages';
import { awaitDecision, decisionError, type GateState } from './gate';
import { AWAITING_APPROVAL, CLUSTER, PHASE, PROCEDURE, TARGET } from './search-attributes';
import { notifyGateOpened } from './notify';
import { workOnCluster } from './cluster-scope';

/** A step as a plan lists it before it runs. */
export interface StepDef {
  id: string;
  title: string;
}

export interface GateSpec {
  name: string;
  kind: GateRecord['kind'];
  message: string;
  evidence?: Record<string, unknown>;
  options: GateDecisionKind[];
}

export interface StepOptions {
  /** A failed step may be skipped by an operator (default true; false for steps others depend on). */
  skippable?: boolean;
  /** The step changes the cluster (stops a daemon, moves a VM): an abort reports it as done. */
  changes?: boolean;
}

/**
 * What a failed check can offer besides retry / override / abort: an action that fixes what it found
 * (start a host's daemons). Chosen, it runs as a step of its own, then the check runs again.
 */
export interface CheckRemedy {
  decision: GateDecisionKind;
  /** The step that runs it, e.g. "Start etcd on worker1". */
  title: string;
  run: () => Promise<unknown>;
  /** Whether `override` is offered too (default true). */
  override?: boolean;
}

export interface CheckResult {
  ok: boolean;
  /** Why it is not safe, one sentence an operator understands at 3 a.m. */
  reason?: string;
  evidence?: Record<string, unknown>;
}

export class Procedure {
  readonly progress: Progress;
  /** Safety checks that failed: in a dry run every one (nothing parks), in a real run the overridden ones. */
  readonly failedChecks: FailedCheck[] = [];
  private readonly gates: GateState = { passed: [] };
  private readonly input: ProcedureInputBase;
  private readonly changing = new Set<string>();

  constructor(procedure: string, input: ProcedureInputBase, target?: string) {
    this.input = input;
    workOnCluster(input.cluster);
    this.progress = {
      procedure,
      cluster: input.cluster,
      target,
      dryRun: !!input.dryRun,
      phase: 'starting',
      paused: false,
      startedBy: input.requestedBy,
      steps: [],
      gates: this.gates.passed,
      ignored: [],
      failedChecks: this.failedChecks,
    };
    setHandler(progressQuery, () => ({ ...this.progress, gate: this.gates.current }));
    setHandler(approveSignal, (d) => void this.decide({ ...d, decision: this.gates.current?.kind === 'failure' ? 'retry' : 'approve' }));
    setHandler(rejectSignal, (d) => void this.decide({ ...d, decision: this.gates.current?.options.includes('reject') ? 'reject' : 'abort' }));
    setHandler(decideSignal, (d) => void this.decide(d));
    setHandler(decideUpdate, (d) => this.decide(d)!, {
      validator: (d) => {
        const err = decisionError(this.gates.current, d, this.input.gatePolicy, this.input.requestedBy);
        if (err) throw new Error(err);
      },
    });
    setHandler(pauseSignal, (o) => {
      if (!o?.by) return this.ignore('pause without `by` ignored');
      this.progress.paused = true;
      this.progress.pausedBy = o.by;
      this.render();
    });
    setHandler(resumeSignal, (o) => {
      if (!o?.by) return this.ignore('resume without `by` ignored');
      this.progress.paused = false;
      this.progress.pausedBy = undefined;
      this.render();
    });
    setHandler(abortSignal, (o) => {
      if (!o?.by) return this.ignore('abort without `by` ignored');
      this.progress.abortRequested = { by: o.by, reason: o.reason };
      this.render();
    });
    upsertSearchAttributes([
      { key: PROCEDURE, value: procedure },
      { key: CLUSTER, value: input.cluster },
      { key: TARGET, value: target ?? input.cluster },
      { key: PHASE, value: 'starting' },
      { key: AWAITING_APPROVAL, value: false },
    ]);
    this.render();
  }

  private decide(d: DecideInput): GateRecord | undefined {
    const gate = this.gates.current;
    const err = decisionError(gate, d, this.input.gatePolicy, this.input.requestedBy);
    if (err) {
      this.ignore(`${d?.decision ?? 'decision'} by ${d?.by ?? '?'} ignored: ${err}`);
      return undefined;
    }
    gate!.decision = d.decision;
    gate!.by = d.by;
    gate!.reason = d.reason || undefined;
    gate!.decidedAt = new Date().toISOString();
    return gate;
  }

  /** A message that could not be applied: recorded in the progress, never silent. */
  ignore(message: string) {
    this.progress.ignored.push({ at: new Date().toISOString(), message });
    log.warn(message);
  }

  /** Declares the steps up front so the plan shows them all before any runs. */
  plan(steps: { id: string; title: string }[], plan?: unknown) {
    for (const s of steps) {
      if (!this.progress.steps.some((x) => x.id === s.id)) this.progress.steps.push({ ...s, state: 'pending' });
    }
    if (plan !== undefined) this.progress.plan = plan;
    this.render();
  }

  setPhase(phase: string) {
    this.progress.phase = phase;
    upsertSearchAttributes([{ key: PHASE, value: phase }]);
    this.render();
  }

  private stepRecord(id: string, title: string): StepProgress {
    let s = this.progress.steps.find((x) => x.id === id);
    if (!s) {
      s = { id, title, state: 'pending' };
      this.progress.steps.push(s);
    }
    s.title = title;
    return s;
  }

  /** Records a step that is pure computation (a plan made in the workflow itself). */
  markDone(id: string, title: string, detail: string) {
    const s = this.stepRecord(id, title);
    s.state = 'done';
    s.detail = detail;
    s.startedAt = s.endedAt = new Date().toISOString();
    this.render();
  }

  markSkipped(id: string, title: string, why: string) {
    const s = this.stepRecord(id, title);
    s.state = 'skipped';
    s.detail = why;
    this.render();
  }

  note(id: string, detail: string) {
    const s = this.progress.steps.find((x) => x.id === id);
    if (s) s.detail = detail;
    this.render();
  }

  /** Waits while paused; throws when an abort was requested. Called between steps. */
  async checkpoint(): Promise<void> {
    if (this.progress.paused && !this.progress.abortRequested) {
      const before = this.progress.phase;
      this.setPhase('paused');
      await condition(() => !this.progress.paused || !!this.progress.abortRequested);
      this.setPhase(before);
    }
    const abort = this.progress.abortRequested;
    if (abort) throw this.aborted(`aborted by ${abort.by}${abort.reason ? `: ${abort.reason}` : ''}`);
  }

  /**
   * The failure that ends an aborted or rejected procedure. Its message states the state the
   * cluster is left in: which state-changing steps ran, and that nothing after them did.
   */
  private aborted(message: string): ApplicationFailure {
    const done = this.progress.steps.filter((s) => s.state === 'done' && this.changing.has(s.id));
    const state = done.length
      ? `; done before stopping: ${done.map((s) => s.title).join('; ')}; nothing after that was started`
      : '; nothing was changed on the cluster';
    // Where it stopped, not the whole progress (its plan lists every VM): the progress query has the rest.
    const { procedure, cluster, phase } = this.progress;
    const where = { procedure, cluster, phase, changed: done.map((s) => s.id) };
    return ApplicationFailure.create({ message: message + state, type: FAILURE.procedureAborted, nonRetryable: true, details: [where] });
  }

  snapshot(): Progress {
    return { ...this.progress, gate: this.gates.current };
  }

  /** Runs one step of the runbook; parks on a gate when it keeps failing. */
  async step<T>(id: string, title: string, fn: () => Promise<T>, opts: StepOptions = {}): Promise<T | undefined> {
    await this.checkpoint();
    const s = this.stepRecord(id, title);
    if (opts.changes) this.changing.add(id);
    for (;;) {
      s.state = 'running';
      s.startedAt = new Date().toISOString();
      s.detail = undefined;
      this.render();
      try {
        const value = await fn();
        s.state = 'done';
        s.endedAt = new Date().toISOString();
        this.render();
        return value;
      } catch (err) {
        if (isCancellation(err) || (err instanceof ApplicationFailure && err.type === FAILURE.procedureAborted)) throw err;
        const why = failureMessage(err);
        // Wrong input is not a cluster incident: no retry can fix it, the procedure fails at once.
        const cause = err instanceof ActivityFailure ? err.cause : err;
        if (cause instanceof ApplicationFailure && cause.type === FAILURE.invalidInput) throw ApplicationFailure.nonRetryable(why, FAILURE.invalidInput);
        if (this.progress.dryRun) {
          // A dry run never waits for an operator: it says what it could not find out.
          s.state = 'failed';
          s.detail = why;
          this.render();
          throw ApplicationFailure.nonRetryable(`dry run: step "${title}" failed: ${why}`, FAILURE.dryRunFailed);
        }
        s.state = 'parked';
        s.detail = why;
        const options: GateDecisionKind[] = opts.skippable === false ? ['retry', 'abort'] : ['retry', 'skip', 'abort'];
        const gate = await this.gate({
          name: failedGate(id),
          kind: 'failure',
          message: `Step "${title}" failed after its retries: ${why}. Investigate, then retry, ${opts.skippable === false ? '' : 'skip, '}or abort.`,
          evidence: { step: id, error: why },
          options,
        });
        if (gate.decision === 'skip') {
          s.state = 'skipped';
          s.detail = `skipped by ${gate.by}: ${gate.reason}`;
          this.render();
          return undefined;
        }
        // retry: loop
      }
    }
  }

  /**
   * A safety check that must hold before going on. When it does not, the procedure parks on a
   * gate stating the reason; `retry` checks again, `override` (with a reason) goes on, `abort` stops.
   */
  async ensure(
    id: string,
    title: string,
    check: () => Promise<CheckResult>,
    remedy?: (result: CheckResult) => CheckRemedy | undefined,
  ): Promise<CheckResult & { overriddenBy?: string; dryRunFailed?: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const result = (await this.step(id, title, check, { skippable: false }))!;
      if (result.ok) {
        this.note(id, 'ok');
        return result;
      }
      const s = this.stepRecord(id, title);
      const failed: FailedCheck = { id, title, reason: result.reason ?? 'check failed', evidence: result.evidence ?? {} };
      if (this.progress.dryRun) {
        // A dry run returns its plan with every failed check; the procedure goes on as if overridden.
        s.state = 'failed';
        s.detail = failed.reason;
        this.failedChecks.push(failed);
        this.render();
        return { ...result, dryRunFailed: true };
      }
      s.state = 'parked';
      s.detail = result.reason;
      const fix = remedy?.(result);
      const gate = await this.gate({
        name: unsafeGate(id),
        kind: 'safety',
        message: `Safety check "${title}" failed: ${result.reason}${fix ? ` (${fix.decision}: ${fix.title})` : ''}`,
        evidence: result.evidence ?? {},
        options: fix ? [fix.decision, 'retry', ...(fix.override === false ? [] : (['override'] as const)), 'abort'] : ['retry', 'override', 'abort'],
      });
      if (fix && gate.decision === fix.decision) {
        await this.step(`${id}-${fix.decision}-${attempt}`, fix.title, fix.run, { changes: true });
        continue;
      }
      if (gate.decision === 'override') {
        s.state = 'done';
        s.detail = `overridden by ${gate.by}: ${gate.reason} (was: ${result.reason})`;
        this.failedChecks.push({ ...failed, overriddenBy: gate.by });
        this.render();
        return { ...result, overriddenBy: gate.by };
      }
    }
  }

  /** Opens a gate and waits for its decision. abort / reject end the procedure. */
  async gate(spec: GateSpec): Promise<GateRecord> {
    if (this.progress.dryRun)
      throw ApplicationFailure.nonRetryable(`dry run reached gate ${spec.name}: a dry run never waits for a decision`, FAILURE.dryRunFailed);
    const record: GateRecord = {
      name: spec.name,
      kind: spec.kind,
      message: spec.message,
      evidence: spec.evidence ?? {},
      options: spec.options,
      openedAt: new Date().toISOString(),
    };
    this.gates.current = record;
    upsertSearchAttributes([{ key: AWAITING_APPROVAL, value: true }]);
    this.render();
    // Webhook (HVFLOW_WEBHOOK_URL), best effort: started, not awaited; its promise never rejects.
    void notifyGateOpened(this.progress, record);
    try {
      await awaitDecision(this.gates, this.input.gatePolicy, () => !!this.progress.abortRequested);
    } finally {
      this.gates.current = undefined;
      this.gates.passed.push(record);
      upsertSearchAttributes([{ key: AWAITING_APPROVAL, value: false }]);
      this.render();
    }
    if (record.decision === undefined) await this.checkpoint(); // woken by an operator abort
    if (record.decision === 'abort' || record.decision === 'reject') {
      throw this.aborted(`${record.decision === 'reject' ? 'rejected' : 'aborted'} at gate ${record.name} by ${record.by}: ${record.reason}`);
    }
    return record;
  }

  /** Runs clean-up that must happen even when the workflow is being cancelled. */
  async cleanup<T>(fn: () => Promise<T>): Promise<T> {
    return CancellationScope.nonCancellable(fn);
  }

  /** Ends the procedure: its result, with the failed checks (a dry run's findings), is also the progress' result. */
  finish<T extends object>(result: T): Finished<T> {
    const r = { ...result, failedChecks: this.failedChecks };
    this.progress.result = r;
    this.setPhase(this.progress.dryRun ? 'planned' : 'done');
    return r;
  }

  /** Markdown shown by the Web UI as the workflow's current details. */
  private render() {
    const p = this.progress;
    const icon: Record<string, string> = { pending: '·', planned: '·', running: '▶', done: '✔', skipped: '↷', failed: '✖', parked: '⏸' };
    const lines = [
      `**${p.procedure}** ${md(p.target ?? '')} on cluster ${md(p.cluster)}${p.dryRun ? ' (dry run)' : ''} — phase: **${md(p.phase)}**${p.paused ? ' (paused)' : ''}`,
      '',
    ];
    const gate = this.gates.current;
    if (gate) {
      lines.push(`**Waiting at gate \`${gate.name}\`**: ${md(gate.message)}`);
      lines.push(
        `Answer with: ${gate.options.join(', ')} (signal \`approve\`/\`reject\`, or \`decide\` with {"decision": ..., "by": ..., "reason": ...}).`,
        '',
      );
    }
    if (p.dryRun && this.failedChecks.length) {
      lines.push(`**${this.failedChecks.length} safety check(s) failed** — a real run would park on each:`);
      for (const c of this.failedChecks) lines.push(`- \`${unsafeGate(c.id)}\`: ${md(c.reason)}`);
      lines.push('');
    }
    for (const s of p.steps) lines.push(`- ${icon[s.state] ?? s.state} ${md(s.title)}${s.detail ? ` — ${md(s.detail)}` : ''}`);
    setCurrentDetails(lines.join('\n'));
  }

  get info() {
    return workflowInfo();
  }
}

/**
 * Free text (tool output, host names, reasons) inside the Web UI's markdown: characters markdown or
 * HTML would interpret (`<check>` is an HTML tag to the renderer, `*` emphasis) are escaped.
 */
export function md(text: string): string {
  return text.replace(/[\\`*_<>[\]#|&]/g, (c) => `\\${c}`);
}

export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return failureMessage(err.cause);
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The steps a procedure skipped, with why: part of every result. */
export function skippedSteps(proc: Procedure): string[] {
  return proc.progress.steps.filter((s) => s.state === 'skipped').map((s) => `${s.id}: ${s.detail ?? ''}`);
}
