/** The gate webhook's message: evidence summary and the commands that answer each kind of gate. */
import { describe, expect, it } from 'vitest';
import { buildGateNotification } from '../../activities/notify';
import { summarizeEvidence } from '../../workflows/notify';

const wf = { workflowId: "evac-o'brien", runId: 'r1', namespace: 'prod', taskQueue: 'hvflow' };

describe('gate notification', () => {
  it('summarizes evidence one short line per field, arrays counted, long values cut', () => {
    const s = summarizeEvidence({ host: 'worker3', units: [{ vm: 'lb2', weight: 1000 }, 'x'], skipped: undefined, big: 'y'.repeat(1000), n: 3 });
    expect(s.summary).toEqual(['host: worker3', 'units: 2 item(s): {"vm":"lb2","weight":1000}, x', `big: ${'y'.repeat(234)}…`, 'n: 3']);
    expect(s.summary[2]).toHaveLength(240);
    expect(s.truncated).toBe(true);
    expect(summarizeEvidence(undefined)).toEqual({ summary: [], truncated: false });
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    expect(summarizeEvidence(many)).toMatchObject({ truncated: true });
    expect(summarizeEvidence(many).summary).toHaveLength(20);
  });

  it('a failure gate is answered with decide (retry / skip / abort), quoted for the shell, namespace named', () => {
    const n = buildGateNotification(
      {
        procedure: 'evacuateHypervisor',
        cluster: 'ocean',
        target: 'worker1',
        gate: { name: 'stop-fleet-failed', kind: 'failure', message: 'Step failed.', options: ['retry', 'skip', 'abort'], openedAt: '2025-01-01T00:00:00Z' },
        evidence: { summary: ['error: ssh dropped'], truncated: false },
      },
      wf,
    );
    expect(n.howToAnswer.hvflow).toEqual(
      ['retry', 'skip', 'abort'].map((d) => `hvflow decide 'evac-o'\\''brien' ${d} --gate 'stop-fleet-failed' --by <you> --reason '<why>'`),
    );
    expect(n.howToAnswer.temporal).toEqual(
      ['retry', 'skip', 'abort'].map(
        (d) =>
          `temporal workflow signal --namespace 'prod' --workflow-id 'evac-o'\\''brien' --name decide --input '{"decision":"${d}","gate":"stop-fleet-failed","by":"<you>","reason":"<why>"}'`,
      ),
    );
    expect(n.text).toContain(`Answer: hvflow decide 'evac-o'\\''brien' retry --gate 'stop-fleet-failed'`);
    expect(n).toMatchObject({ type: 'hvflow.gate.waiting', workflowId: "evac-o'brien", namespace: 'prod', evidence: { summary: ['error: ssh dropped'] } });
  });

  it('an approval gate offers approve, and decide for its other options; every command names the gate', () => {
    const n = buildGateNotification(
      {
        procedure: 'failback',
        cluster: 'ocean',
        gate: { name: 'approve-failback', kind: 'approval', message: 'Move 3 VMs.', options: ['approve', 'skip', 'abort'], openedAt: 'now' },
        evidence: { summary: [], truncated: false },
      },
      { ...wf, workflowId: 'fb-1', namespace: 'default' },
    );
    expect(n.howToAnswer.hvflow).toEqual([
      `hvflow approve 'fb-1' --gate 'approve-failback' --by <you> --reason '<why>'`,
      `hvflow decide 'fb-1' skip --gate 'approve-failback' --by <you> --reason '<why>'`,
      `hvflow decide 'fb-1' abort --gate 'approve-failback' --by <you> --reason '<why>'`,
    ]);
    expect(n.howToAnswer.temporal).toEqual([
      `temporal workflow signal --workflow-id 'fb-1' --name approve --input '{"gate":"approve-failback","by":"<you>","reason":"<why>"}'`,
      `temporal workflow signal --workflow-id 'fb-1' --name decide --input '{"decision":"skip","gate":"approve-failback","by":"<you>","reason":"<why>"}'`,
      `temporal workflow signal --workflow-id 'fb-1' --name decide --input '{"decision":"abort","gate":"approve-failback","by":"<you>","reason":"<why>"}'`,
    ]);
    expect(n.text).toBe(
      `hvflow: failback on cluster ocean waits at gate approve-failback (approval): Move 3 VMs. Options: approve, skip, abort. Workflow fb-1. Answer: hvflow approve 'fb-1' --gate 'approve-failback' --by <you> --reason '<why>'`,
    );
  });
});
