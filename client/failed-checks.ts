/**
 * The safety checks a dry run found failing. A dry run never parks on a gate: it returns its plan with
 * every check that failed and why (`failedChecks` in its progress and result), and the CLI shows them
 * and exits 1. No SDK import: render.ts uses it, and `--help` must not load the Temporal SDK.
 */

import type { FailedCheck } from '../workflows/messages';

export type { FailedCheck };

/**
 * The failed checks of a dry run: in its result once it completed, in its progress before. A real
 * run lists the checks an operator overrode too: those were decided, they are not findings.
 */
export function failedChecksOf(v: { result?: unknown; progress?: unknown }): FailedCheck[] {
  const inResult = (v.result as { failedChecks?: unknown } | undefined)?.failedChecks;
  const inProgress = (v.progress as { failedChecks?: unknown } | undefined)?.failedChecks;
  const checks = Array.isArray(inResult) ? inResult : Array.isArray(inProgress) ? inProgress : [];
  return checks.filter((c): c is FailedCheck => typeof c?.reason === 'string' && !c.overriddenBy);
}
