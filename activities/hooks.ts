/**
 * Hooks: the inventory's commands around a run and around emptying a host (seed 003's
 * --pre-empty-script / --post-empty-script; CloudStack's unmanage / manage of the cluster). A hook
 * runs on the host the inventory names (or the host being emptied), as an argv quoted by the one
 * quoting helper; a hook that fails (non-zero exit, timeout) stops the procedure's step with its
 * command and output, to be retried, skipped or aborted by an operator: hvflow does not guess
 * whether a half-run hook may run again.
 */
import { ApplicationFailure } from '@temporalio/common';
import { hookCommand, hookOf, type HookName } from '../domain/inventory';
import { FAILURE } from '../domain/contract';
import { hookTargetOf, type ToolContext } from './remote';
import { expectSuccess, runFromActivity } from './ssh';

export interface HookRun {
  hook: HookName;
  ranOn: string;
  argv: string[];
  durationMs: number;
  /** The end of what it printed (stdout), for the step's detail. */
  output: string;
}

export function hookActivities(ctx: ToolContext) {
  const inv = ctx.inventory;
  return {
    async runHook(input: { hook: HookName; host?: string }): Promise<HookRun> {
      const hook = hookOf(inv, input.hook);
      if (!hook) throw ApplicationFailure.nonRetryable(`hooks.${input.hook}: the inventory of ${inv.cluster} declares no such hook`, FAILURE.invalidInput);
      const on = hook.on === '%h' ? input.host : hook.on;
      if (on === undefined)
        throw ApplicationFailure.nonRetryable(`hooks.${input.hook} runs on the host being emptied, and none was given`, FAILURE.invalidInput);
      const argv = hookCommand(hook, { cluster: inv.cluster, host: input.host });
      const result = expectSuccess(
        await runFromActivity(ctx.pool, hookTargetOf(inv, on, `hooks.${input.hook}.on`), argv, { timeoutMs: hook.timeoutSeconds * 1000 }),
        `hook ${input.hook} (${argv.join(' ')})`,
      );
      return { hook: input.hook, ranOn: on, argv, durationMs: result.durationMs, output: result.stdout.slice(-2000) };
    },
  };
}
