/**
 * Lab faults in the middle of an evacuation (seed 000), on the real Temporal server: the step that
 * meets the fault retries within its policy, then parks on a gate that says what happened. The step
 * is never reported done; the operator's retry or skip is what moves the procedure on.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, decideSignal, pauseSignal, progressQuery, resumeSignal } from '../../workflows/messages';
import type { EvacuationResult } from '../../workflows/evacuate-host';
import { until } from '../helpers/until';

// A 2 s SSH answer timeout keeps the retries of an unreachable host short.
const t = useHarness({}, { sshConnectTimeoutMs: 2_000 });
const h = () => t.h;
const ran = (host: string, argv: string, since: number) =>
  h()
    .lab.commandLog({ host })
    .filter((e) => e.seq > since && e.argv.join(' ') === argv);

async function evacuate(host: string) {
  const handle = await t.start('evacuateHypervisor', { host });
  await waitForProgress(handle, gateWaiting('approve-evacuation'), 90_000);
  await handle.signal(approveSignal, { by: 'bob', reason: 'fault test' });
  return handle;
}

describe('faults during an evacuation', () => {
  it('the host stops answering SSH while fleet stops on it: the step retries, parks saying so, never done; a retry after the fix completes it', async () => {
    const seq = t.lastSeq();
    const handle = await evacuate('worker1');
    await until('systemctl stop fleet on worker1', () => ran('worker1', 'systemctl stop fleet', seq).length > 0);
    await h().lab.faults.unreachable('worker1'); // its sshd frozen, the running session with it

    const p = await waitForProgress(handle, gateWaiting('stop-fleet-failed'), 150_000);
    expect(p.gate!.kind).toBe('failure');
    expect(p.gate!.options).toEqual(['retry', 'abort']); // units may be half moved: no skipping this one
    expect(p.gate!.message).toMatch(/Fleet shutdown on worker1/);
    expect(p.gate!.message).toMatch(/SSH connection to worker1 \(\S+\) (failed|dropped)|no answer/);
    expect(p.steps.find((s) => s.id === 'stop-fleet')!.state).toBe('parked'); // its outcome is unknown: not done
    for (const later of ['unmount-gluster', 'stop-etcd']) expect(p.steps.find((s) => s.id === later)!.state).toBe('pending');
    expect(ran('worker1', 'umount -t fuse.glusterfs -a', seq)).toEqual([]);
    expect(h().lab.etcd!.isRunning('worker1')).toBe(true);

    await h().lab.faults.restore('worker1');
    await handle.signal(decideSignal, { decision: 'retry', by: 'carol', reason: 'network fixed' });
    const r: EvacuationResult = await handle.result();
    expect(r.moved.map((m) => m.unit).sort()).toEqual(['pcocc-vm-i0conf1.service', 'pcocc-vm-ns1.service', 'pcocc-vm-ns2.service']);
    // `systemctl stop fleet` again on retry is harmless (a stopped unit stays stopped); the rest once.
    expect(ran('worker1', 'systemctl stop fleet', seq).length).toBeLessThanOrEqual(2);
    expect(ran('worker1', 'umount -t fuse.glusterfs -a', seq)).toHaveLength(1);
    expect(ran('worker1', 'systemctl stop etcd', seq)).toHaveLength(1);
    const final = await handle.query(progressQuery);
    expect(final.gates.map((g) => [g.name, g.decision, g.by])).toContainEqual(['stop-fleet-failed', 'retry', 'carol']);
  });

  it('the host crashes between two steps: the next steps park, a skip is recorded as skipped, never as done', async () => {
    const seq = t.lastSeq();
    const handle = await evacuate('worker2');
    await until('systemctl stop fleet on worker2', () => ran('worker2', 'systemctl stop fleet', seq).length > 0);
    // Pause: the procedure finishes the step in flight (fleet stopped, units moved), then waits.
    await handle.signal(pauseSignal, { by: 'carol', reason: 'fault test' });
    await waitForProgress(handle, (p) => p.paused && p.steps.find((s) => s.id === 'stop-fleet')!.state === 'done', 60_000);
    await h().lab.faults.crash('worker2'); // power lost: SSH refused from now on
    await handle.signal(resumeSignal, { by: 'carol', reason: 'fault test' });

    const p = await waitForProgress(handle, gateWaiting('unmount-gluster-failed'), 120_000);
    expect(p.gate!.message).toMatch(/Gluster client stop on worker2.*SSH connection to worker2 \(\S+\) failed: connect ECONNREFUSED/);
    expect(p.steps.find((s) => s.id === 'unmount-gluster')!.state).toBe('parked');
    await handle.signal(decideSignal, { decision: 'skip', by: 'carol', reason: 'worker2 lost power: nothing is mounted' });

    const q = await waitForProgress(handle, gateWaiting('stop-etcd-failed'), 120_000);
    expect(q.steps.find((s) => s.id === 'unmount-gluster')!.state).toBe('skipped');
    await handle.signal(decideSignal, { decision: 'skip', by: 'carol', reason: 'worker2 lost power: its etcd member is down' });

    const r: EvacuationResult = await handle.result();
    for (const m of r.moved) expect(h().lab.model.unit(m.unit.replace(/^pcocc-vm-|\.service$/g, ''))!.host, m.unit).not.toBe('worker2');
    const final = await handle.query(progressQuery);
    expect(final.steps.filter((s) => s.id === 'unmount-gluster' || s.id === 'stop-etcd').map((s) => [s.id, s.state])).toEqual([
      ['unmount-gluster', 'skipped'],
      ['stop-etcd', 'skipped'],
    ]);
    expect(
      h()
        .lab.commandLog({ host: 'worker2', mutating: true })
        .filter((e) => e.seq > seq)
        .map((e) => e.argv.join(' ')),
    ).toEqual(['systemctl stop fleet']);
    await h().lab.faults.restore('worker2');
  });
});
