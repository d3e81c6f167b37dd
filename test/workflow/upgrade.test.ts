/**
 * An upgrade with a procedure parked at its gate (README, "Upgrading hvflow"): the worker of
 * version A (today's workflows/) is replaced by one of version B, whose evacuateHypervisor has two
 * more steps, each behind patched() as the rule says: one before the approval gate, one after it.
 *
 * - The parked run completes on B: it replays its history (patched() is false where the history has
 *   no marker: no step before the gate it never ran) and takes B's code after the gate.
 * - A new start runs B from its first step.
 * - The same change without patched() breaks the parked run: its history does not replay.
 */
import { describe, expect, it } from 'vitest';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { bundleWorkflowVariant, type WorkflowEdit } from '../helpers/workflow-variant';
import { approveSignal, progressQuery } from '../../workflows/messages';
import type { EvacuationResult } from '../../workflows/evacuate-host';

const t = useHarness();

const BEFORE_GATE = '  const plan = driver.planView(inv, view, host, guards, evacuation, guardEvidence, input);\n';
const AFTER_GATE = '  // The plan shown at the gate is what runs: a fresh read must give the same VMs, the same plan, still room.\n';
const beforeGateStep = "await proc.step('b-before-gate', 'B: etcd health read before the plan', () => act.etcdHealth({}));\n";
const afterGateStep = "await proc.step('b-after-gate', 'B: etcd health read after the approval', () => act.etcdHealth({}));\n";

/** Version B: the two steps, guarded by patched() (or not, to show what the guard is for). */
function versionB(guarded: boolean): WorkflowEdit[] {
  const guard = (id: string) => (guarded ? `  if (patched('${id}')) ` : '  ');
  return [
    {
      file: 'evacuate-host.ts',
      find: 'import type { EvacuationPlan }',
      replace: "import { patched } from '@temporalio/workflow';\nimport type { EvacuationPlan }",
    },
    { file: 'evacuate-host.ts', find: BEFORE_GATE, replace: guard('upgrade-test-before-gate') + beforeGateStep + BEFORE_GATE },
    { file: 'evacuate-host.ts', find: AFTER_GATE, replace: guard('upgrade-test-after-gate') + afterGateStep + AFTER_GATE },
  ];
}

/** The patch ids of a history's patch markers, in order. */
function patchIds(history: History): string[] {
  return (history.events ?? []).flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

const stepState = async (handle: { query: (q: typeof progressQuery) => Promise<{ steps: { id: string; state: string }[] }> }, id: string) =>
  (await handle.query(progressQuery)).steps.find((s) => s.id === id)?.state;

describe('upgrading the worker while a procedure waits at its gate', () => {
  it('the parked evacuation completes on version B, a new start runs B, and unguarded the change breaks it', async () => {
    const [b, unguarded] = await Promise.all([bundleWorkflowVariant(versionB(true)), bundleWorkflowVariant(versionB(false))]);

    // Version A: the evacuation parks at its approval gate.
    const parked = await t.start('evacuateHypervisor', { host: 'worker3' });
    await waitForProgress(parked, gateWaiting('approve-evacuation'));
    const atGate = await parked.fetchHistory();

    // Without the guard, version B cannot replay what A recorded.
    await expect(replay(unguarded, atGate, parked.workflowId)).rejects.toThrow(DeterminismViolationError);
    await expect(replay(b, atGate, parked.workflowId)).resolves.toBeUndefined();

    // Deploy B: A stops, B starts on the same task queue (docker compose up -d replaces the container so).
    await t.h.restartWorker(b);
    await parked.signal(approveSignal, { by: 'bob', reason: 'disk swap' });
    const r: EvacuationResult = await parked.result();
    expect(r.moved.length).toBeGreaterThan(0);
    for (const m of r.moved) expect(m.host, m.unit).not.toBe('worker3');
    expect(t.h.lab.model.machine('worker3').fleetd).toBe(false);
    // Before the gate it kept A's steps; after it, B's.
    expect(await stepState(parked, 'b-before-gate')).toBeUndefined();
    expect(await stepState(parked, 'b-after-gate')).toBe('done');
    expect(patchIds(await parked.fetchHistory())).toEqual(['hvflow-gate-webhook', 'upgrade-test-after-gate']);

    // A new start runs B from the start (a dry run: it stops where the plan is shown).
    const fresh = await t.start('evacuateHypervisor', { host: 'worker1', dryRun: true });
    await fresh.result();
    expect(await stepState(fresh, 'b-before-gate')).toBe('done');
    expect(patchIds(await fresh.fetchHistory())).toEqual(['upgrade-test-before-gate']);
  });
});

function replay(bundle: WorkflowBundleWithSourceMap, history: History, workflowId: string) {
  return Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
}
