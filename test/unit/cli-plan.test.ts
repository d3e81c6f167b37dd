/**
 * A dry run that finds an unsafe plan returns it with every failed check (the workflows' `failedChecks`)
 * instead of parking on a gate: `hvflow plan` prints each check with its reason and exits 1, and so does
 * `hvflow status` of that dry run. test/e2e/cli.test.ts runs it against the lab.
 */
import { describe, expect, it } from 'vitest';
import { failedChecksOf, type FailedCheck } from '../../client/failed-checks';
import { exitCodeOf } from '../../client/operations';
import type { ProcedureView } from '../../client/views';
import { renderPlanOutput, renderProgress } from '../../client/render';

const CHECKS: FailedCheck[] = [
  {
    id: 'check-etcd-quorum',
    title: 'etcd quorum without top2',
    reason: 'would leave 3 healthy members of 6; quorum is 4',
    evidence: { healthy: ['top1', 'top3', 'worker1'], quorum: 4 },
  },
  { id: 'check-gluster', title: 'GlusterFS: no heal, rebalance or tier daemon', reason: 'volspoms1: 36 heal entries pending', evidence: {} },
];

function dryRun(o: { inResult?: FailedCheck[]; inProgress?: FailedCheck[] } = {}): ProcedureView {
  return {
    workflowId: 'hvflow-ocean-evacuate-plan-top2-20250705T020000000Z',
    runId: 'run',
    workflowType: 'evacuateHypervisor',
    procedure: 'evacuate',
    status: 'COMPLETED',
    closed: true,
    cluster: 'ocean',
    target: 'top2',
    dryRun: true,
    startTime: '2025-07-05T02:00:00.000Z',
    elapsedMs: 1200,
    result: { dryRun: true, host: 'top2', ...(o.inResult ? { failedChecks: o.inResult } : {}) },
    progress: {
      procedure: 'evacuateHypervisor',
      cluster: 'ocean',
      target: 'top2',
      dryRun: true,
      phase: 'done',
      paused: false,
      steps: [{ id: 'check-etcd-quorum', title: 'etcd quorum without top2', state: 'failed' }],
      gates: [],
      ignored: [],
      ...(o.inProgress ? { failedChecks: o.inProgress } : {}),
    } as ProcedureView['progress'],
  };
}
const spec = { name: 'evacuate', gates: [{ name: '<check>-unsafe', options: 'retry / override (with a reason) / abort', when: 'a safety check fails' }] };

describe('an unsafe dry run', () => {
  it('lists every failed check with its reason and evidence, and exits 1', () => {
    const v = dryRun({ inResult: CHECKS });
    expect(failedChecksOf(v)).toEqual(CHECKS);
    const out = renderPlanOutput(v, spec).join('\n');
    expect(out).toContain('Unsafe: 2 safety checks failed; a real run would stop at their gates');
    expect(out).toMatch(/✖ etcd quorum without top2 \(check-etcd-quorum\): would leave 3 healthy members of 6; quorum is 4\n\s+healthy:\n\s+- top1/);
    expect(out).toMatch(/✖ GlusterFS: no heal, rebalance or tier daemon \(check-gluster\): volspoms1: 36 heal entries pending/);
    expect(exitCodeOf(v)).toBe(1);
  });

  it('reads the checks from the progress too (hvflow status of the dry run)', () => {
    const v = dryRun({ inProgress: CHECKS.slice(1) });
    expect(failedChecksOf(v)).toEqual(CHECKS.slice(1));
    expect(renderProgress(v).join('\n')).toMatch(
      /Unsafe: 1 safety check failed[^\n]*\n\s+✖ GlusterFS: no heal, rebalance or tier daemon \(check-gluster\): volspoms1: 36 heal entries pending/,
    );
    expect(exitCodeOf(v)).toBe(1);
  });

  it('a safe dry run has no such section and exits 0', () => {
    const v = dryRun({ inResult: [] });
    expect(renderPlanOutput(v, spec).join('\n')).not.toMatch(/Unsafe/);
    expect(exitCodeOf(v)).toBe(0);
  });
});

describe('a real run that went on past an overridden check', () => {
  it('is not unsafe: an override was decided by an operator, it is no finding', () => {
    const v = dryRun({ inResult: [{ ...CHECKS[0]!, overriddenBy: 'carol' }] });
    expect(failedChecksOf(v)).toEqual([]);
  });
});
