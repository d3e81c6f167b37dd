/**
 * `lab-hook`: the program the lab's inventories name in their hooks (Topology.hooks). It prints what
 * it was asked and where, and exits 0 — or with the code a test set for its first word
 * (`failHook`), as a site's hook script that fails would. Logged like every stand-in, so tests see
 * when each hook ran relative to the procedure's commands.
 */
import type { LabModel } from '../model';
import type { Tool } from './types';

declare module '../model' {
  interface LabModel {
    /** First word of a hook's arguments -> exit code of its next runs (how many). */
    hookFailures?: Map<string, { code: number; times: number }>;
  }
}

/** The next `times` runs of the hook whose first argument is `word` exit with `code`. */
export function failHook(model: LabModel, word: string, code = 1, times = 1): void {
  (model.hookFailures ??= new Map()).set(word, { code, times });
}

export const labHook: Tool = async (ctx) => {
  ctx.mutating();
  const fault = ctx.model.hookFailures?.get(ctx.args[0] ?? '');
  if (fault && fault.times > 0) {
    fault.times--;
    ctx.err(`lab-hook ${ctx.args.join(' ')}: failing as asked (exit ${fault.code})\n`);
    return fault.code;
  }
  ctx.out(`lab-hook ${ctx.args.join(' ')} on ${ctx.host}\n`);
  return 0;
};
