/**
 * Gate policies: who may decide, the update's synchronous validator, and what a gate nobody answers does.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, decideUpdate, progressQuery, rejectSignal } from '../../workflows/messages';

const t = useHarness();
const { lastSeq, mutatingSince } = t;

async function evacuate(extra: Record<string, unknown>) {
  const handle = await t.start('evacuateHypervisor', { host: 'worker3', ...extra });
  await waitForProgress(handle, gateWaiting('approve-evacuation'));
  return handle;
}

describe('gate policies', () => {
  it('the update validator refuses a decision at once, with the reason', async () => {
    const handle = await evacuate({});
    const attempt = (d: Record<string, unknown>) => handle.executeUpdate(decideUpdate, { args: [d as never] });
    await expect(attempt({ decision: 'override', by: 'bob', reason: 'x' })).rejects.toThrow(WorkflowUpdateFailedError);
    const err = await attempt({ decision: 'retry', by: 'bob' }).catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/"retry" is not an option of gate approve-evacuation \(options: approve, reject\)/);
    const noBy = await attempt({ decision: 'approve', by: '' }).catch((e) => e);
    expect(String(noBy.cause?.message)).toMatch(/by: who decides is required/);
    // Taken as written: a name with a blank around it is refused, never trimmed into another one.
    const padded = await attempt({ decision: 'approve', by: 'bob ' }).catch((e) => e);
    expect(String(padded.cause?.message)).toMatch(/^by: "bob " /);
    const wrongGate = await attempt({ decision: 'approve', by: 'bob', gate: 'stop-etcd' }).catch((e) => e);
    expect(String(wrongGate.cause?.message)).toMatch(/gate stop-etcd is not waiting; approve-evacuation is/);
    // A rejected update leaves no trace of a decision: the gate still waits.
    expect((await handle.query(progressQuery)).gate?.name).toBe('approve-evacuation');
    // A valid decision through the update returns the decided gate.
    const rec = await attempt({ decision: 'reject', by: 'bob', reason: 'not now' });
    expect(rec).toMatchObject({ name: 'approve-evacuation', decision: 'reject', by: 'bob', reason: 'not now' });
    await expect(handle.result()).rejects.toThrow();
  });

  it('only listed approvers, and not the requester, may decide', async () => {
    const seq = lastSeq();
    const handle = await evacuate({ gatePolicy: { approvers: ['alice', 'bob'], distinctApprover: true } });
    await handle.signal(approveSignal, { by: 'mallory', reason: 'let me' });
    await handle.signal(approveSignal, { by: 'alice', reason: 'my own' });
    const p = await waitForProgress(handle, (x) => x.ignored.length >= 2);
    expect(p.gate?.name).toBe('approve-evacuation');
    expect(p.ignored.map((i) => i.message).join('\n')).toMatch(/mallory is not an allowed approver/);
    expect(p.ignored.map((i) => i.message).join('\n')).toMatch(/alice started this procedure and may not decide its gates/);
    expect(mutatingSince(seq)).toEqual([]);
    await handle.signal(rejectSignal, { by: 'bob', reason: 'policy test' });
    const err = await handle.result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/rejected at gate approve-evacuation by bob: policy test/);
  });

  it('a gate nobody answers aborts cleanly at its timeout, nothing changed', async () => {
    const seq = lastSeq();
    const handle = await evacuate({ gatePolicy: { timeout: '3s', onTimeout: 'abort' } });
    const err = await handle.result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/aborted at gate approve-evacuation by hvflow \(gate timeout\): nobody answered within 3s/);
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('with escalate, a timed-out gate stays open, flagged, until answered', async () => {
    const handle = await evacuate({ gatePolicy: { timeout: '2s', onTimeout: 'escalate' } });
    const p = await waitForProgress(handle, (x) => !!x.gate?.timedOut, 30_000);
    expect(p.gate?.name).toBe('approve-evacuation');
    await handle.signal(rejectSignal, { by: 'bob', reason: 'seen the escalation' });
    await expect(handle.result()).rejects.toThrow();
  });
});
