/**
 * rebootHost — one host of a rolling reboot (seed 003's per-host loop), a child of rollingReboot so
 * that each host's steps live in a history of their own (a 64-host run stays far from Temporal's
 * limits) and show in the Web UI under the run:
 *
 *   read the cluster        a fresh read: the host is up and accepts VMs
 *   guards                  etcd keeps its quorum without the host; no heal, rebalance or tier daemon
 *   the step still holds    the VMs on the host and their destinations as approved; otherwise the
 *                           rest of the run is re-planned from this read (and asked again when the
 *                           new plan moves more VMs)
 *   ── gate (approval `each-host`) ──
 *   empty the host          the stack's evacuation: cordon, hooks.preEmpty, move its VMs, verify
 *   hooks.postEmpty; stop its guards (GlusterFS daemons, unmount, etcd: seed 000's order)
 *   reboot                  its boot identity read first; a retry never reboots it twice
 *   wait until it is back   down, then up with a new boot identity, bounded: a host that does not
 *                           come back parks on `host-not-back` (retry / skip / abort)
 *   ready                   daemons, guards healthy, it accepts VMs again; hooks.postReboot
 *
 * Aborted before the host went down, it accepts VMs again (its guards untouched); aborted once it is
 * back, the same; in between it is left cordoned, and the result says so.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { planRollingReboot, type RollingRebootOptions } from '../domain/migration';
import { checkRebootStep } from '../domain/reboot-step';
import { stackOf, vmSet, type Inventory } from '../domain/inventory';
import { FAILURE, GATE } from '../domain/contract';
import { act } from './activities';
import { validated } from './validate';
import { failureMessage, Procedure, skippedSteps } from './procedure';
import { ensureGuardsAllowStop, GUARD_CHECK_STEPS, GUARD_STOP_STEPS, guardsOf, readGuards, stopGuards } from './guards';
import { hookStep, runHook } from './hooks';
import { xenReboot } from './reboot-xen';
import { fleetReboot } from './reboot-fleet';
import type { RebootDriver } from './reboot-driver';
import type { Finished } from './messages';
import type { HostRun, HostStep, RebootHostInput, RebootHostResult } from './rolling-reboot-types';

export const rebootDriverOf = (inv: Inventory): RebootDriver => (stackOf(inv) === 'xen' ? xenReboot : fleetReboot);

/** The planner's options of a run, the same for its first plan and every re-plan. */
export function rebootPlanOptions(inv: Inventory, driver: RebootDriver, threads: number | undefined, chooseOrder: boolean): RollingRebootOptions {
  return { threads, neverTouch: vmSet(inv, 'neverTouch'), capacityAware: true, chooseOrder, ...driver.planTuning(inv) };
}

const STEP = {
  inventory: { id: 'inventory', title: 'Read the inventory' },
  read: { id: 'read-cluster', title: 'Read the cluster: the host is up and accepts VMs' },
  host: { id: 'check-host', title: 'Safety: the host is up and accepts VMs' },
  step: { id: 'check-step', title: 'The approved step still holds on a fresh read (or the rest is re-planned)' },
  approve: { id: 'approve-host', title: 'Approval of this host (approval policy each-host)' },
  boot: { id: 'boot-identity', title: 'Read the boot identity of the host (to never reboot it twice)' },
  reboot: { id: 'reboot', title: 'Reboot the host' },
  back: { id: 'wait-back', title: 'Wait until the host went down and is back' },
};

export async function rebootHost(input: RebootHostInput): Promise<Finished<RebootHostResult>> {
  input = validated('rebootHost', input) as RebootHostInput;
  const host = input.host;
  const info = workflowInfo();
  if (!info.parent) {
    throw ApplicationFailure.nonRetryable(
      `rebootHost runs one host of a rollingReboot, which prepares the pool and restores it: start rollingReboot with {"hosts": "${host}"}`,
      FAILURE.invalidInput,
    );
  }
  const proc = new Procedure('rebootHost', input, host);
  proc.plan([STEP.inventory]);
  proc.setPhase('checking');
  const inv = (await proc.step(STEP.inventory.id, STEP.inventory.title, () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  const driver = rebootDriverOf(inv);
  const guards = guardsOf(inv, host);
  proc.plan([
    STEP.read,
    STEP.host,
    ...GUARD_CHECK_STEPS,
    STEP.step,
    STEP.approve,
    ...driver.emptySteps,
    hookStep('postEmpty'),
    ...GUARD_STOP_STEPS,
    STEP.boot,
    STEP.reboot,
    STEP.back,
    ...driver.readySteps,
    hookStep('postReboot'),
  ]);
  const run: HostRun = { host, outcome: 'rebooted', migrations: [], startedAt: new Date().toISOString() };
  const finish = (): Finished<RebootHostResult> => proc.finish<RebootHostResult>({ ...run, gates: proc.progress.gates, skipped: skippedSteps(proc) });

  // ---- checks on a fresh read ----
  let read = (await proc.step(STEP.read.id, `Read the cluster: ${host} is up and accepts VMs`, () => driver.read(inv, [host]), { skippable: false }))!;
  proc.note(STEP.read.id, read.summary);
  await proc.ensure(STEP.host.id, `Safety: ${host} is up and accepts VMs`, async () => {
    const h = read.snapshot.hosts.find((x) => x.name === host);
    if (h?.up && h.schedulable) return { ok: true };
    read = await driver.read(inv, [host]);
    const again = read.snapshot.hosts.find((x) => x.name === host);
    return again?.up && again.schedulable
      ? { ok: true }
      : {
          ok: false,
          reason: `${host} is ${!again ? 'not in the cluster read' : !again.up ? 'down' : 'not accepting VMs (cordoned by someone else?)'}`,
          evidence: { host: again },
        };
  });
  const evidence = await readGuards(proc, host, guards);
  await ensureGuardsAllowStop(proc, inv, host, guards, evidence);
  let step: HostStep = input.step;
  await proc.ensure(STEP.step.id, STEP.step.title, async () => {
    const c = checkRebootStep(read.snapshot, step);
    if (c.ok) return { ok: true, evidence: { migrations: step.migrations.length } };
    // The cluster changed since the plan was approved: re-plan the rest of the run from this read.
    const plan = planRollingReboot(read.snapshot, [host, ...input.rest], rebootPlanOptions(inv, driver, input.threads, false));
    const reason = c.problems.join('; ');
    run.replanned = { reason, plan };
    if (!plan.ok)
      return {
        ok: false,
        reason: `the cluster changed (${reason}) and no plan fits any more: ${plan.reason}`,
        evidence: { problems: c.problems, plan: plan.problems },
      };
    const { migrations, stranded, untouchable } = plan.steps[0]!;
    step = { host, migrations, stranded, untouchable };
    proc.note(STEP.step.id, `re-planned the rest: ${reason}`);
    return { ok: true, evidence: { replanned: true, problems: c.problems } };
  });
  if (run.replanned?.plan.ok && run.replanned.plan.totalMigrations > input.approvedRestMigrations) {
    const p = run.replanned.plan;
    await proc.gate({
      name: GATE.rebootReplanned,
      kind: 'approval',
      message: `The cluster changed since the plan was approved (${run.replanned.reason}). The re-plan of the ${p.order.length} host(s) left moves ${p.totalMigrations} VM(s) instead of ${input.approvedRestMigrations}. Approve the new plan, or reject to stop the run.`,
      evidence: {
        reason: run.replanned.reason,
        order: p.order,
        totalMigrations: p.totalMigrations,
        approvedMigrations: input.approvedRestMigrations,
        steps: p.steps.map((s) => ({ host: s.host, migrations: s.migrations })),
      },
      options: ['approve', 'reject'],
    });
  }
  if (input.approval === 'each-host') {
    await proc.step(STEP.approve.id, `Approval of ${host}`, () =>
      proc.gate({
        name: GATE.approveHostReboot,
        kind: 'approval',
        message: `Reboot ${host}: move ${step.migrations.length} VM(s) off it (${step.migrations.map((m) => `${m.vm} → ${m.to}`).join(', ') || 'none'}), reboot it, wait until it is back.`,
        evidence: { host, migrations: step.migrations, stranded: step.stranded, guards },
        options: ['approve', 'reject'],
      }),
    );
  } else proc.markSkipped(STEP.approve.id, STEP.approve.title, 'approval policy: the plan, once');

  // ---- empty, stop, reboot, back ----
  let state: 'untouched' | 'cordoned' | 'stopped' | 'back' | 'ready' = 'untouched';
  try {
    proc.setPhase('emptying');
    state = 'cordoned';
    run.migrations = await driver.empty(proc, inv, host, step, input, read);
    run.emptyAt = new Date().toISOString();
    await runHook(proc, inv, 'postEmpty', host);
    state = 'stopped';
    await stopGuards(proc, inv, host, guards);

    proc.setPhase('rebooting');
    run.bootBefore = await proc.step(STEP.boot.id, `Read the boot identity of ${host}`, () => driver.bootIdentity(host), { skippable: false });
    const issued = await proc.step(STEP.reboot.id, `Reboot ${host}`, () => driver.reboot(host, run.bootBefore), { skippable: false, changes: true });
    proc.note(STEP.reboot.id, issued === 'rebooting' ? 'reboot asked' : `${issued}: not asked again`);
    const timeoutMs = (input.rebootTimeoutMinutes ?? 20) * 60_000;
    for (;;) {
      const waitFrom = Date.now();
      try {
        const back = await driver.waitBack(host, run.bootBefore, timeoutMs);
        if (back.downAfterMs !== undefined) run.downAt = new Date(waitFrom + back.downAfterMs).toISOString();
        run.upAt = new Date().toISOString();
        run.bootAfter = back.boot;
        proc.markDone(STEP.back.id, `Wait until ${host} went down and is back`, `back after ${Math.round(back.upAfterMs / 1000)} s`);
        break;
      } catch (err) {
        const why = failureMessage(err);
        const gate = await proc.gate({
          name: GATE.hostNotBack,
          kind: 'host',
          message: `${host} is not back after its reboot: ${why}. Check its console and BMC, then retry the wait, skip it (the run goes on without it; it stays out of the pool), or abort.`,
          evidence: { host, error: why, bootBefore: run.bootBefore },
          options: ['retry', 'skip', 'abort'],
        });
        if (gate.decision === 'skip') {
          run.outcome = 'not-back';
          run.detail = `did not come back (${why}); skipped by ${gate.by}: ${gate.reason}`;
          proc.markSkipped(STEP.back.id, STEP.back.title, run.detail);
          for (const s of [...driver.readySteps, hookStep('postReboot')]) proc.markSkipped(s.id, s.title, `${host} is not back`);
          return finish();
        }
      }
    }
    state = 'back';
    proc.setPhase('bringing back');
    await driver.ready(proc, inv, host, input);
    state = 'ready';
    run.readyAt = new Date().toISOString();
    await runHook(proc, inv, 'postReboot', host);
    return finish();
  } finally {
    if (state === 'cordoned' || state === 'back') await uncordonAfterStop(proc, driver, host, state);
  }
}

/** Clean-up of a host whose turn stopped (an abort, a rejection) while it was up with its guards running: it accepts VMs again. */
async function uncordonAfterStop(proc: Procedure, driver: RebootDriver, host: string, state: string): Promise<void> {
  await proc.cleanup(async () => {
    try {
      await driver.uncordon(host);
      proc.markDone('uncordon', `${host} accepts VMs again (the run stopped ${state === 'back' ? 'after it came back' : 'before it went down'})`, 'clean-up');
    } catch (e) {
      proc.markSkipped('uncordon', `${host} accepts VMs again`, `could not (do it by hand): ${failureMessage(e)}`);
    }
  });
}
