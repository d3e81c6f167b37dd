/**
 * The inventory's hooks in a procedure (activities/hooks.ts runs them): a step each where the
 * inventory declares one, a skipped step saying so where it does not. The run-level pair brackets
 * the changes: once preRun has run, postRun runs at the end — also when the procedure fails or is
 * aborted, so that a cluster unmanaged in CloudStack for the run is managed again.
 */
import { hookCommand, hookOf, type HookName, type Inventory } from '../domain/inventory';
import { act } from './activities';
import type { Procedure } from './procedure';

const TITLES: Record<HookName, string> = {
  preRun: 'Hook before the run (hooks.preRun)',
  postRun: 'Hook after the run (hooks.postRun)',
  preEmpty: 'Hook before emptying the host (hooks.preEmpty)',
  postEmpty: 'Hook after emptying the host (hooks.postEmpty)',
  postReboot: 'Hook after the host is back (hooks.postReboot)',
};

export const hookStep = (name: HookName, suffix = '') => ({ id: `hook-${name}${suffix}`, title: TITLES[name] });

/** What a hook will run, for a plan's list of steps (nothing when the inventory declares none). */
export function hookPlanLine(inv: Inventory, name: HookName, host?: string): string[] {
  const hook = hookOf(inv, name);
  return hook ? [`hook ${name}: ${hookCommand(hook, { cluster: inv.cluster, host }).join(' ')} on ${hook.on === '%h' ? host : hook.on}`] : [];
}

/** Runs one hook as a step (a failure parks: retry, skip or abort), or marks the step skipped when the inventory has none. */
export async function runHook(proc: Procedure, inv: Inventory, name: HookName, host?: string, suffix = ''): Promise<void> {
  const { id, title } = hookStep(name, suffix);
  const hook = hookOf(inv, name);
  if (!hook) {
    proc.markSkipped(id, title, `the inventory declares no ${name} hook`);
    return;
  }
  const ran = await proc.step(id, `${title}: ${hook.command[0]} on ${hook.on === '%h' ? host : hook.on}`, () => act.runHook({ hook: name, host }), {
    changes: true,
  });
  if (ran) proc.note(id, `ran on ${ran.ranOn} in ${Math.round(ran.durationMs / 100) / 10} s`);
}

/** preRun, the body, postRun; postRun also when the body fails or is aborted (then a failure of its own is noted, not parked on). */
export async function withRunHooks<T>(proc: Procedure, inv: Inventory, body: () => Promise<T>): Promise<T> {
  await runHook(proc, inv, 'preRun');
  let finished = false;
  try {
    const result = await body();
    finished = true;
    await runHook(proc, inv, 'postRun');
    return result;
  } finally {
    if (!finished && hookOf(inv, 'postRun')) {
      const { id, title } = hookStep('postRun');
      await proc.cleanup(async () => {
        try {
          const ran = await act.runHook({ hook: 'postRun' });
          proc.markDone(id, title, `ran on ${ran.ranOn} after the procedure stopped`);
        } catch (e) {
          proc.markSkipped(id, title, `failed after the procedure stopped (run it by hand): ${e instanceof Error ? e.message : String(e)}`);
        }
      });
    }
  }
}
