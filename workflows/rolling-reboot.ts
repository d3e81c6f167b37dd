/**
 * rollingReboot — seed 003: reboot every hypervisor of a pool, one after the other, while every VM
 * keeps running. On XenServer pools and fleet clusters (the stack's part: reboot-xen.ts,
 * reboot-fleet.ts; each host: reboot-host.ts, a child workflow of its own).
 *
 *   read the cluster        the hosts to reboot and their order: the pool master first on Xen
 *   checks                  every host up and accepting VMs; the guards healthy (etcd quorum,
 *                           GlusterFS heal); the whole-run plan fits at every step (N+1) with each
 *                           VM moving the fewest times the capacities allow (domain/migration.ts);
 *                           the VMs that cannot move, and what will happen to them
 *   ── gate: approve the plan (per host: VMs leaving and where to, VMs moving twice and why, the
 *      expected duration, the windows) ──
 *   prepare                 hooks.preRun (CloudStack unmanage); Xen pool HA off, its settings kept
 *   per host                rebootHost: re-check, empty, reboot, back, ready — inside the maintenance
 *                           windows when given (the run waits durably for the next one)
 *   restore                 pool HA as it was; hooks.postRun — also when the run fails, is aborted
 *                           or rejected mid-way
 *
 * Operator controls: pause (after the host in progress), resume, skipHost (one not started yet),
 * setThreads (from the next host on), abort (the host in progress cleans up, then the pool is
 * restored).
 */
import { ApplicationFailure, ChildWorkflowFailure, condition, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { ClusterSnapshot } from '../domain/cluster';
import { etcdMembers, glusterServers, stackOf, type Inventory } from '../domain/inventory';
import { planRollingReboot, type RollingRebootPlan } from '../domain/migration';
import { emptyingSeconds } from '../domain/reboot-step';
import { describeWindows, nextStartFor, parseWindows, windowsBetween, type ParsedWindows } from '../domain/maintenance-windows';
import { FAILURE, GATE } from '../domain/contract';
import { act } from './activities';
import { acquireClusterLock } from './cluster-lock';
import { checked, validated } from './validate';
import { failureMessage, Procedure, skippedSteps, type CheckResult } from './procedure';
import { glusterCheck } from './guards';
import { hookPlanLine, withRunHooks } from './hooks';
import { rebootDriverOf, rebootHost, rebootPlanOptions } from './reboot-host';
import { abortSignal, type Finished } from './messages';
import type { RebootDriver } from './reboot-driver';
import {
  setThreadsSignal,
  skipHostSignal,
  type HostRun,
  type HostStep,
  type RebootHostInput,
  type RollingRebootInput,
  type RollingRebootPlanView,
  type RollingRebootResult,
} from './rolling-reboot-types';

export type { RollingRebootInput, RollingRebootResult } from './rolling-reboot-types';

const STEP = {
  inventory: { id: 'inventory', title: 'Read the inventory' },
  read: { id: 'read-cluster', title: 'Read the cluster: hosts, VMs, loads' },
  hosts: { id: 'check-hosts', title: 'Safety: every host to reboot is up and accepts VMs' },
  guards: { id: 'check-guards', title: 'Safety: the guards are healthy (etcd quorum, GlusterFS heal)' },
  plan: { id: 'check-plan', title: 'Safety: the whole-run plan fits at every step (N+1)' },
  approve: { id: 'approve', title: 'Approval of the rolling reboot plan' },
};
/** Until a host of the run was measured: how long a reboot takes, down and up again. */
const FIRST_REBOOT_GUESS_MS = 10 * 60_000;

export async function rollingReboot(input: RollingRebootInput): Promise<Finished<RollingRebootResult>> {
  input = validated('rollingReboot', input) as RollingRebootInput;
  const proc = new Procedure('rollingReboot', input, input.hosts ?? input.order?.join(',') ?? input.cluster);
  const windows = input.windows?.length ? checked(() => parseWindows(input.windows!)) : undefined;

  // Operator controls of the run (pause, resume and abort are the Procedure's).
  const skip = new Map<string, string>();
  const started = new Set<string>();
  let order: string[] = [];
  let threadsOverride: number | undefined;
  let stack: 'xen' | 'fleet' | undefined;
  setHandler(skipHostSignal, (s) => {
    if (!s?.by) return proc.ignore('skipHost without `by` ignored');
    if (!order.includes(s.host)) return proc.ignore(`skipHost ${s.host} by ${s.by} ignored: not a host of this run (${order.join(', ')})`);
    if (started.has(s.host)) return proc.ignore(`skipHost ${s.host} by ${s.by} ignored: its turn has started (answer its gate, or abort)`);
    skip.set(s.host, `skipped by ${s.by}${s.reason ? `: ${s.reason}` : ''}`);
  });
  setHandler(setThreadsSignal, (t) => {
    if (!t?.by) return proc.ignore('setThreads without `by` ignored');
    if (stack === 'fleet') return proc.ignore(`setThreads by ${t.by} ignored: fleet moves a host's units itself, all at once`);
    if (!Number.isInteger(t.threads) || t.threads < 1 || t.threads > 64)
      return proc.ignore(`setThreads ${JSON.stringify(t.threads)} by ${t.by} ignored: threads must be a whole number from 1 to 64`);
    threadsOverride = t.threads;
  });

  proc.plan([STEP.inventory]);
  proc.setPhase('checking');
  const inv = (await proc.step(STEP.inventory.id, STEP.inventory.title, () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  const driver = rebootDriverOf(inv);
  stack = driver.stack;
  if (stack === 'fleet' && input.threads !== undefined) {
    throw ApplicationFailure.nonRetryable(
      `threads: ${inv.cluster} is a fleet cluster: fleet moves a host's units itself, a rolling reboot there has no threads`,
      FAILURE.invalidInput,
    );
  }
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'rollingReboot', input.hosts ?? inv.cluster, input.requestedBy);

  let read = (await proc.step(STEP.read.id, STEP.read.title, () => driver.read(inv), { skippable: false }))!;
  proc.note(STEP.read.id, read.summary);
  const chosen = checked(() => driver.order(inv, read, input));
  order = chosen.order;
  const threads = () => driver.threads(inv, { threads: threadsOverride ?? input.threads });
  proc.plan([STEP.hosts, STEP.guards, STEP.plan, STEP.approve, ...order.map((h) => hostStepDef(h))]);

  // ---- checks (a retry reads the cluster again) ----
  const planOptions = rebootPlanOptions(inv, driver, stack === 'xen' ? threads() : undefined, chosen.chooseOrder);
  let plan = planRollingReboot(read.snapshot, order, planOptions);
  const reread = async () => {
    read = await driver.read(inv);
    plan = planRollingReboot(read.snapshot, order, planOptions);
  };
  let hostsChecked = 0;
  await proc.ensure(STEP.hosts.id, STEP.hosts.title, async () => {
    if (hostsChecked++) await reread();
    return hostsCheck(read.snapshot, order);
  });
  await proc.ensure(STEP.guards.id, STEP.guards.title, () => guardsHealthy(inv));
  let planChecked = 0;
  await proc.ensure(STEP.plan.id, STEP.plan.title, async () => {
    if (planChecked++) await reread();
    return planCheck(plan, driver);
  });
  order = plan.order;
  const view = planView(inv, driver, plan, read.master, threads(), input, windows);
  proc.plan([], view);
  proc.note(STEP.plan.id, `${plan.totalMigrations} migration(s), ${view.movedTwice.length} VM(s) moved twice, about ${view.expectedMinutes} min`);

  const runs: HostRun[] = [];
  const result = (restored: string[]): Finished<RollingRebootResult> =>
    proc.finish<RollingRebootResult>({
      dryRun: !!input.dryRun,
      plan: view,
      hosts: runs,
      totals: totals(runs),
      restored,
      gates: proc.progress.gates,
      skipped: skippedSteps(proc),
    });
  if (input.dryRun) {
    proc.markSkipped(STEP.approve.id, STEP.approve.title, 'dry run: the plan is shown, nothing is changed');
    for (const h of order) proc.markSkipped(hostStepDef(h).id, hostStepDef(h).title, 'dry run');
    return result([]);
  }

  proc.setPhase('awaiting approval');
  await proc.step(STEP.approve.id, STEP.approve.title, () =>
    proc.gate({
      name: GATE.approveRollingReboot,
      kind: 'approval',
      message: `Reboot ${order.length} host(s) of ${inv.cluster} one after the other (${order.join(', ')}): ${plan.totalMigrations} migration(s), ${view.movedTwice.length} VM(s) moved twice, about ${view.expectedMinutes} min${driver.prepareLines(inv).length ? '; pool HA off for the run and back on after' : ''}.`,
      evidence: view as unknown as Record<string, unknown>,
      options: ['approve', 'reject'],
    }),
  );

  // ---- the run ----
  const steps = new Map<string, HostStep>(plan.steps.map((s) => [s.host, hostStepOf(s)]));
  let restored: string[] = [];
  await withRunHooks(proc, inv, async () => {
    proc.setPhase('preparing the pool');
    let prepared: unknown;
    let finished = false;
    try {
      prepared = await driver.prepare(proc, inv);
      let rebootMs = FIRST_REBOOT_GUESS_MS;
      for (let i = 0; i < order.length; i++) {
        const host = order[i]!;
        const def = hostStepDef(host);
        await proc.checkpoint();
        const hostStep = steps.get(host)!;
        const expectedMs =
          emptyingSeconds(
            hostStep.migrations.map((m) => m.weight),
            threads(),
            driver.migrationSeconds,
          ) *
            1000 +
          rebootMs;
        if (windows) await waitForWindow(proc, windows, host, expectedMs, () => skip.has(host));
        if (skip.has(host)) {
          proc.markSkipped(def.id, def.title, skip.get(host)!);
          runs.push({ host, outcome: 'skipped', detail: skip.get(host), migrations: [] });
          continue;
        }
        started.add(host);
        proc.setPhase(`rebooting ${host} (${i + 1}/${order.length})`);
        const rest = order.slice(i + 1).filter((h) => !skip.has(h));
        const childInput: RebootHostInput = {
          cluster: inv.cluster,
          requestedBy: input.requestedBy,
          gatePolicy: input.gatePolicy,
          host,
          step: hostStep,
          rest,
          threads: stack === 'xen' ? threads() : undefined,
          approval: input.approval,
          approvedRestMigrations: [host, ...rest].reduce((n, h) => n + (steps.get(h)?.migrations.length ?? 0), 0),
          moveTimeoutMinutes: input.moveTimeoutMinutes,
          rebootTimeoutMinutes: input.rebootTimeoutMinutes,
          healWaitMinutes: input.healWaitMinutes,
          etcdWaitMinutes: input.etcdWaitMinutes,
        };
        const r = await runHost(proc, def, childInput);
        runs.push(r);
        if (r.emptyAt && r.upAt) rebootMs = Math.max(rebootMs === FIRST_REBOOT_GUESS_MS ? 0 : rebootMs, Date.parse(r.upAt) - Date.parse(r.emptyAt));
        proc.note(def.id, hostNote(r));
        if (r.replanned?.plan.ok) {
          // The rest of the run follows the re-plan made from the fresh read (the child said why).
          for (const s of r.replanned.plan.steps) steps.set(s.host, hostStepOf(s));
          order = [...order.slice(0, i + 1), ...r.replanned.plan.order.slice(1), ...order.slice(i + 1).filter((h) => !r.replanned!.plan.order.includes(h))];
        }
      }
      finished = true;
    } finally {
      if (finished) {
        proc.setPhase('restoring the pool');
        restored = await driver.restore(proc, inv, prepared, false);
      } else if (prepared !== undefined) {
        // Failed, aborted or rejected mid-way: the pool is put back as it was before the run, whatever stopped it.
        await proc.cleanup(async () => {
          try {
            restored = await driver.restore(proc, inv, prepared, true);
          } catch (e) {
            proc.markSkipped('pool-restore', 'Restore the pool', `failed after the run stopped (restore it by hand): ${failureMessage(e)}`);
          }
        });
      }
    }
  });
  restored = [...restored, ...hookPlanLine(inv, 'postRun')];
  return result(restored);
}

/** What the child needs of a planned step (the batches and loads stay in the plan). */
const hostStepOf = ({ host, migrations, stranded, untouchable }: HostStep): HostStep => ({ host, migrations, stranded, untouchable });

const hostStepDef = (host: string) => ({ id: `host-${host}`, title: `Reboot ${host} (empty it, reboot, back, ready)` });

/**
 * One host's turn as a child workflow. An abort of the run goes to the child first (it cleans up its
 * host), then ends the run; a child aborted or rejected at its own gate ends the run the same way.
 */
async function runHost(proc: Procedure, def: { id: string; title: string }, input: RebootHostInput): Promise<HostRun> {
  const info = workflowInfo();
  const r = await proc.step(
    def.id,
    def.title,
    async () => {
      const child = await startChild(rebootHost, {
        workflowId: `${info.workflowId}-${input.host}`,
        args: [input],
        staticSummary: `rolling reboot of ${input.cluster}: ${input.host}`,
      });
      let outcome: { value?: HostRun; error?: unknown } | undefined;
      const done = child.result().then(
        (value) => void (outcome = { value }),
        (error) => void (outcome = { error }),
      );
      await condition(() => outcome !== undefined || !!proc.progress.abortRequested);
      if (!outcome) {
        const a = proc.progress.abortRequested!;
        await child.signal(abortSignal, { by: a.by, reason: a.reason });
        await done;
      }
      if (outcome!.error) {
        const e = outcome!.error;
        const cause = e instanceof ChildWorkflowFailure ? e.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type === FAILURE.procedureAborted) {
          proc.progress.abortRequested ??= { by: `the turn of ${input.host}`, reason: cause.message };
          // The run's abort says what the host's turn changed before it stopped.
          proc.markDone(def.id, `Turn of ${input.host}, stopped: ${cause.message}`, 'stopped');
          await proc.checkpoint(); // throws the run's abort
        }
        throw e;
      }
      return outcome!.value!;
    },
    { changes: true, skippable: false },
  );
  return r!;
}

/** Waits (durably) until the host's expected duration fits in a window; a skip of the host ends the wait. */
async function waitForWindow(proc: Procedure, w: ParsedWindows, host: string, expectedMs: number, skipped: () => boolean): Promise<void> {
  const id = `window-${host}`;
  for (;;) {
    const now = Date.now();
    const next = nextStartFor(w, now, expectedMs);
    if (next.start !== undefined && next.fits && next.start <= now) return;
    if (next.start === undefined || !next.fits) {
      const c = await proc.ensure(id, `A maintenance window fits ${host} (expected ${Math.ceil(expectedMs / 60_000)} min)`, async () => ({
        ok: false,
        reason:
          next.start === undefined
            ? `no maintenance window in the next year: ${host} cannot start (override starts it now)`
            : `no maintenance window is long enough for ${host} (expected ${Math.ceil(expectedMs / 60_000)} min; override starts it at the next window, ${new Date(next.start).toISOString()})`,
        evidence: { expectedMinutes: Math.ceil(expectedMs / 60_000), next: next.start === undefined ? undefined : new Date(next.start).toISOString() },
      }));
      if (c.overriddenBy) {
        if (next.start === undefined || next.start <= now) return;
        await sleepUntil(proc, next.start, skipped);
        return;
      }
      continue;
    }
    const before = proc.progress.phase;
    proc.setPhase(`waiting for the next maintenance window (${new Date(next.start).toISOString()}) before ${host}`);
    await sleepUntil(proc, next.start, skipped);
    proc.setPhase(before);
    await proc.checkpoint();
    if (skipped()) return;
  }
}

async function sleepUntil(proc: Procedure, at: number, skipped: () => boolean): Promise<void> {
  await condition(() => !!proc.progress.abortRequested || skipped(), Math.max(1, at - Date.now()));
}

function hostsCheck(s: ClusterSnapshot, order: string[]): CheckResult {
  const bad = order
    .map((h) => ({ h, x: s.hosts.find((y) => y.name === h) }))
    .filter(({ x }) => !x?.up || !x.schedulable)
    .map(({ h, x }) => `${h} ${!x ? 'is not in the cluster read' : !x.up ? 'is down' : 'accepts no VM (cordoned)'}`);
  return { ok: bad.length === 0, reason: bad.length ? `${bad.join('; ')}: a rolling reboot starts from a whole pool` : undefined, evidence: { hosts: order } };
}

/** Every etcd member healthy and every GlusterFS volume without heal, rebalance or tier daemon, before the first host. */
async function guardsHealthy(inv: Inventory): Promise<CheckResult> {
  const problems: string[] = [];
  const evidence: Record<string, unknown> = {};
  if (inv.etcd && etcdMembers(inv).length) {
    const e = await act.etcdHealth({});
    evidence.etcd = { healthy: e.healthyMembers, unhealthy: e.unhealthyMembers };
    if (e.unhealthyMembers.length)
      problems.push(`etcd member(s) not healthy: ${e.unhealthyMembers.join(', ')} (a member rebooting then could cost the quorum)`);
  }
  if (glusterServers(inv).length) {
    const g = glusterCheck(await act.glusterHealth({}));
    evidence.gluster = g.evidence;
    if (!g.ok) problems.push(`GlusterFS: ${g.reason}`);
  }
  if (!problems.length && !Object.keys(evidence).length) return { ok: true, evidence: { guards: 'none in the inventory' } };
  return { ok: problems.length === 0, reason: problems.join('; ') || undefined, evidence };
}

/** N+1 at every step; on Xen, a VM that cannot leave its host blocks that host's reboot (xapi reboots only an empty host). */
function planCheck(plan: RollingRebootPlan, driver: RebootDriver): CheckResult {
  const problems = [...plan.problems];
  if (driver.stack === 'xen') {
    for (const s of plan.steps) {
      const stay = [...s.stranded.filter((x) => x.expected).map((x) => x.vm), ...s.untouchable];
      if (stay.length)
        problems.push(
          `${s.host} keeps ${stay.join(', ')}, and xapi reboots only a host without running VMs: shut ${stay.length === 1 ? 'it' : 'them'} down first, or leave ${s.host} out`,
        );
    }
  }
  return {
    ok: problems.length === 0,
    reason: problems.join('; ') || undefined,
    evidence: { strategy: plan.strategy, order: plan.order, totalMigrations: plan.totalMigrations, problems },
  };
}

function planView(
  inv: Inventory,
  driver: RebootDriver,
  plan: RollingRebootPlan,
  master: string | undefined,
  threads: number,
  input: RollingRebootInput,
  windows: ParsedWindows | undefined,
): RollingRebootPlanView {
  const hosts = plan.steps.map((s) => {
    const seconds = emptyingSeconds(
      s.migrations.map((m) => m.weight),
      threads,
      driver.migrationSeconds,
    );
    return {
      host: s.host,
      migrations: s.migrations.map((m) => ({ vm: m.vm, to: m.to, weight: m.weight, final: m.final })),
      staying: [
        ...s.stranded.map((x) => ({ vm: x.vm, reason: `${x.reason}: ${stayFate(driver, x.expected)}` })),
        ...s.untouchable.map((vm) => ({ vm, reason: `never-touch (inventory): ${stayFate(driver, true)}` })),
      ],
      expectedMinutes: Math.ceil((seconds * 1000 + FIRST_REBOOT_GUESS_MS) / 60_000),
    };
  });
  const first = plan.order[0];
  const movedTwice = Object.entries(plan.migrationsPerVm)
    .filter(([, n]) => n > 1)
    .map(([vm, n]) => {
      const fromFirst = plan.steps[0]?.migrations.some((m) => m.vm === vm);
      return {
        vm,
        why: fromFirst
          ? `on ${first}, rebooted first: every other host it can go to is rebooted after it${n > 2 ? ` (${n} moves: room ran short later too)` : ''}`
          : `${n} moves: when its host is emptied, the hosts already rebooted have no room for it`,
      };
    });
  const now = Date.now();
  return {
    stack: driver.stack,
    capacityUnit: inv.capacityUnit ?? (stackOf(inv) === 'xen' ? 'MiB' : 'weight'),
    order: plan.order,
    ...(master ? { master } : {}),
    ...(driver.stack === 'xen' ? { threads } : {}),
    approval: input.approval ?? 'plan',
    hosts,
    movedTwice,
    totalMigrations: plan.totalMigrations,
    expectedMinutes: hosts.reduce((n, h) => n + h.expectedMinutes, 0),
    prepare: [...hookPlanLine(inv, 'preRun'), ...driver.prepareLines(inv)],
    restore: [...driver.restoreLines(inv), ...hookPlanLine(inv, 'postRun')],
    ...(windows && input.windows
      ? { windows: { spec: describeWindows(input.windows), next: windowsBetween(windows, now, now + 14 * 86_400_000).slice(0, 10) } }
      : {}),
    strategy: plan.strategy,
  };
}

function stayFate(driver: RebootDriver, expected: boolean): string {
  if (driver.stack === 'xen') return 'it blocks the reboot of its host (xapi reboots only an empty host)';
  return expected ? 'it goes down with its host and starts again on it after the reboot' : 'no room elsewhere: it would go down with its host';
}

function hostNote(r: HostRun): string {
  if (r.outcome !== 'rebooted') return `${r.outcome}: ${r.detail ?? ''}`;
  return `${r.migrations.length} VM(s) moved, back at ${r.upAt ?? '?'}${r.replanned ? `; the rest re-planned (${r.replanned.reason})` : ''}`;
}

function totals(runs: HostRun[]): RollingRebootResult['totals'] {
  const moves = new Map<string, number>();
  for (const r of runs) for (const m of r.migrations) if (m.result === 'migrated') moves.set(m.vm, (moves.get(m.vm) ?? 0) + 1);
  return {
    rebooted: runs.filter((r) => r.outcome === 'rebooted').length,
    skipped: runs.filter((r) => r.outcome === 'skipped').length,
    notBack: runs.filter((r) => r.outcome === 'not-back').length,
    migrations: [...moves.values()].reduce((a, b) => a + b, 0),
    movedTwice: [...moves.values()].filter((n) => n > 1).length,
  };
}
