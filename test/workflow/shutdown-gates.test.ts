/**
 * clusterShutdown's failure gates offer only what makes sense (issue 11, item 9): a VM that still
 * runs after the seed's remedy cannot be skipped — the shutdown would unmount GlusterFS and power
 * its host off under it — so its gate offers retry and abort.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { approveSignal, decideSignal, rejectSignal } from '../../workflows/messages';

const t = useHarness({}, { sshConnectTimeoutMs: 2000 });

describe('clusterShutdown gates', () => {
  it('a hung VM whose remedy fails parks on retry / abort, never skip; a retry once the host answers goes on', async () => {
    const lab = t.h.lab;
    lab.faults.hangOnStop('db1'); // runs on top3
    const handle = await t.start('clusterShutdown', { stopTimeoutSeconds: 5, parallelism: 50 });
    await waitForProgress(handle, gateWaiting('approve-shutdown'));
    await handle.signal(approveSignal, { by: 'bob', reason: 'maintenance window' });
    // The remedy runs on db1's hypervisor: make it unreachable once db1 was asked to stop.
    await waitForProgress(handle, () => lab.commandLog({ tool: 'fleetctl' }).some((e) => e.argv[1] === 'stop' && e.argv.includes('pcocc-vm-db1.service')));
    await lab.faults.unreachable('top3');

    const p = await waitForProgress(handle, gateWaiting('remedy-vms-failed'), 120_000);
    expect(p.gate!.options).toEqual(['retry', 'abort']);
    expect(p.gate!.message).toMatch(/top3/);
    expect(p.gate!.message).not.toMatch(/skip/);

    await lab.faults.restore('top3');
    await handle.signal(decideSignal, { decision: 'retry', by: 'bob' });
    const q = await waitForProgress(handle, gateWaiting('approve-poweroff'), 120_000);
    expect(q.steps.find((s) => s.id === 'remedy-vms')!.state).toBe('done');
    await handle.signal(rejectSignal, { by: 'bob', reason: 'test over: the hosts stay on' });
    await handle.result().catch(() => undefined);
  });
});
