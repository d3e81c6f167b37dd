/**
 * Operator controls on a running procedure: pause (finish the step in flight, then wait), resume,
 * abort (stop, stating what was done and what was not).
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { abortSignal, approveSignal, pauseSignal, resumeSignal } from '../../workflows/messages';

const t = useHarness();
const { lastSeq, mutatingSince } = t;
const evacuate = (host: string) => t.start('evacuateHypervisor', { host });

describe('operator controls', () => {
  it('pause holds the procedure before its next step; resume lets it finish', async () => {
    const seq = lastSeq();
    const handle = await evacuate('worker3');
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    await handle.signal(pauseSignal, { by: 'bob', reason: 'wait for the DC tech' });
    await handle.signal(approveSignal, { by: 'bob', reason: 'approved, but paused' });
    const paused = await waitForProgress(handle, (p) => p.phase === 'paused');
    expect(paused.pausedBy).toBe('bob');
    expect(mutatingSince(seq)).toEqual([]);
    await handle.signal(resumeSignal, { by: 'bob' });
    const r = (await handle.result()) as { moved: unknown[] };
    expect(r.moved.length).toBeGreaterThan(0);
    expect(mutatingSince(seq).map((e) => e.argv.join(' '))).toContain('systemctl stop fleet');
    // The history, not a wait, shows the hold: no activity was scheduled between the approval and the resume.
    const events = (await handle.fetchHistory()).events ?? [];
    const signalAt = (name: string) => events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name);
    const scheduled = events.map((e, i) => (e.activityTaskScheduledEventAttributes ? i : -1)).filter((i) => i >= 0);
    expect(signalAt('approve')).toBeGreaterThan(0);
    expect(scheduled.filter((i) => i > signalAt('approve') && i < signalAt('resume'))).toEqual([]);
    expect(scheduled.some((i) => i > signalAt('resume'))).toBe(true);
  });

  it('abort while paused stops the procedure and states that nothing was changed', async () => {
    const seq = lastSeq();
    const handle = await evacuate('worker2');
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    await handle.signal(pauseSignal, { by: 'bob' });
    await handle.signal(approveSignal, { by: 'bob', reason: 'ok' });
    await waitForProgress(handle, (p) => p.phase === 'paused');
    await handle.signal(abortSignal, { by: 'carol', reason: 'change freeze' });
    const err = await handle.result().catch((e) => e);
    expect(String(err.cause?.message)).toBe('aborted by carol: change freeze; nothing was changed on the cluster');
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('a control signal without `by` is ignored, visibly', async () => {
    const handle = await evacuate('worker2');
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    await handle.signal(abortSignal, {} as never);
    const p = await waitForProgress(handle, (x) => x.ignored.length > 0);
    expect(p.ignored[0]!.message).toMatch(/abort without `by` ignored/);
    expect(p.gate?.name).toBe('approve-evacuation');
  });
});
