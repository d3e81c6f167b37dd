/**
 * Records the histories test/workflow/replay.test.ts replays (test/fixtures/histories/): every
 * procedure of workflows/index.ts run on the seed lab and the real Temporal dev server, through each
 * of its gates, with a retry, a park, an abort, a gate timeout, pause / resume, worker restarts and
 * worker processes killed (SIGKILL) mid-run. The complete histories hold every park; one is also kept
 * as it stands while the procedure waits at its gate (what a new worker finds after an upgrade).
 *
 *   npm run record:histories      into test/fixtures/histories/v<package version>/ (replaced)
 *   HVFLOW_HISTORY_SET=NAME npm run record:histories      into another set
 *   (HVFLOW_LAB_NET moves the lab, as for the tests)
 *
 * Not part of the suite (test/replay/vitest.record.mts runs it): re-record after a change to a
 * workflow that the replay test shows is meant (see the README, "Upgrading hvflow"). The scenarios run
 * in order on one lab, each leaving the cluster as the next expects; each waits for what the
 * procedure shows (its gate, its step), never for a time.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { gateWaiting, useHarness, waitForProgress } from '../helpers/harness';
import { until } from '../helpers/until';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process';
import { clearHistorySet, historySet, writeHistory } from '../helpers/histories';
import { abortSignal, approveSignal, decideSignal, pauseSignal, rejectSignal, resumeSignal } from '../../workflows/messages';
import { lockWorkflowId } from '../../domain/contract';
import * as workflows from '../../workflows';
import { xenPoolTopology } from '../../lab/xen-topology';

const t = useHarness();
/** A Xen pool beside the seed lab: its own sshd port on the same loopback block. */
const XEN_CLUSTER = 'pool1';
const x = useHarness({ topology: xenPoolTopology({ cluster: XEN_CLUSTER, hosts: 6, vms: 40, seed: 7 }), timeScale: 0.02, sshPortBase: 2422 });
const recorded = new Set<string>();
const set = historySet();
beforeAll(() => {
  clearHistorySet(set);
});

async function record(name: string, handle: WorkflowHandle, scenario: string) {
  const d = await handle.describe();
  writeHistory({ name: `${set}/${name}`, scenario, workflowType: d.type, workflowId: handle.workflowId, history: await handle.fetchHistory() });
  recorded.add(d.type);
}

/** The lock child of the procedure `handle` runs (its id is the cluster's). */
async function recordLock(name: string, scenario: string) {
  await record(name, t.h.client.workflow.getHandle(lockWorkflowId(t.h.lab.inventory.cluster)), scenario);
}

const failed = (handle: WorkflowHandle) =>
  handle.result().then(
    () => {
      throw new Error(`${handle.workflowId} completed; it was meant to fail`);
    },
    (e: Error) => e,
  );
const by = (reason: string) => ({ by: 'bob', reason });

describe('record the histories of every procedure', () => {
  it('clusterStatus', async () => {
    // Read-only: it takes no requestedBy.
    const handle = await t.h.client.workflow.start('clusterStatus', {
      taskQueue: t.h.taskQueue,
      workflowId: `clusterStatus-${randomUUID()}`,
      args: [{ cluster: 'ocean' }],
    });
    await handle.result();
    await record('cluster-status', handle, 'clusterStatus of the seed lab, completed');
  });

  it('failback: approved, a move fails (fleet cannot reach etcd), retried, completed', async () => {
    const handle = await t.start('failback', { maxMoves: 2 });
    await waitForProgress(handle, gateWaiting('approve-failback'));
    await handle.signal(approveSignal, by('rebalance'));
    await until('a move started', () => t.h.lab.commandLog({ mutating: true }).some((e) => e.argv[0] === 'fleetctl' && e.argv[1] === 'start'));
    t.h.lab.faults.fleetUnavailable(1);
    await waitForProgress(handle, gateWaiting('move-vms-failed'));
    await handle.signal(decideSignal, { decision: 'retry', ...by('etcd is back') });
    await handle.result();
    await record('failback-retried', handle, 'failback: approve-failback approved, move-vms-failed retried, completed');
  });

  it('evacuateHypervisor (the old name) dry run; evacuateHost rejected, gate timeout', async () => {
    const dry = await t.start('evacuateHypervisor', { host: 'worker1', dryRun: true });
    await dry.result();
    await record('evacuate-dry-run', dry, 'evacuateHypervisor worker1, dry run: the plan, no gate');

    const rejected = await t.start('evacuateHost', { host: 'worker3' });
    await waitForProgress(rejected, gateWaiting('approve-evacuation'));
    await rejected.signal(rejectSignal, by('not tonight'));
    await failed(rejected);
    await record('evacuate-rejected', rejected, 'evacuateHost worker3, rejected at approve-evacuation');

    const timedOut = await t.start('evacuateHost', { host: 'worker3', gatePolicy: { timeout: '1s', onTimeout: 'abort' } });
    await failed(timedOut);
    await record('evacuate-gate-timeout', timedOut, 'evacuateHost worker3, approve-evacuation unanswered: aborted by its 1 s timeout (a timer)');
  });

  it('evacuateHost: parked on a failed safety check, aborted by an operator', async () => {
    await t.h.lab.etcd!.stopMember('top2');
    await t.h.lab.etcd!.stopMember('top3');
    try {
      const handle = await t.start('evacuateHost', { host: 'worker1' });
      await waitForProgress(handle, gateWaiting('check-etcd-quorum-unsafe'));
      await handle.signal(abortSignal, by('top2 and top3 are down'));
      await failed(handle);
      await record('evacuate-aborted', handle, 'evacuateHost worker1 parked at check-etcd-quorum-unsafe, then the abort signal');
    } finally {
      await t.h.lab.etcd!.startMember('top2');
      await t.h.lab.etcd!.startMember('top3');
    }
  });

  it('evacuateHost: approved, paused and resumed, the worker restarted at the gate, while paused and mid-step', async () => {
    const handle = await t.start('evacuateHost', { host: 'worker3' });
    await waitForProgress(handle, gateWaiting('approve-evacuation'));
    await record('evacuate-parked-gate', handle, 'evacuateHost worker3 waiting at approve-evacuation');
    await t.h.restartWorker();
    await handle.signal(pauseSignal, by('change window not open yet'));
    await handle.signal(approveSignal, by('disk swap'));
    await waitForProgress(handle, (p) => p.phase === 'paused');
    await t.h.restartWorker();
    await handle.signal(resumeSignal, by('window open'));
    await waitForProgress(handle, (p) => p.steps.some((s) => s.id === 'stop-fleet' && s.state === 'running'));
    await t.h.restartWorker();
    await handle.result();
    const what = 'worker restarted at approve-evacuation, paused, approved, restarted while paused, resumed, restarted during stop-fleet, completed';
    await record('evacuate-approved-restarts', handle, `evacuateHost worker3: ${what}`);
    await recordLock('cluster-lock', 'the cluster lock child of evacuate-approved-restarts, released when it ended');
  });

  it('reintegrateHypervisor: the worker process killed (SIGKILL) at a gate and mid-move, the host check answered start, failback approved', async () => {
    // A queue of its own, served by real worker processes only, so that a kill -9 is the only worker gone.
    const taskQueue = `hvflow-record-crash-${randomUUID()}`;
    const env = workerEnv(t.h.lab, inject('temporalAddress'), taskQueue);
    let worker = await startWorkerProcess(env);
    try {
      const handle = await t.h.client.workflow.start('reintegrateHypervisor', {
        taskQueue,
        workflowId: `reintegrateHypervisor-${randomUUID()}`,
        args: [{ cluster: 'ocean', requestedBy: 'alice', host: 'worker3' }],
      });
      await waitForProgress(handle, gateWaiting('host-ready-unsafe'), 30_000);
      await worker.kill9();
      worker = await startWorkerProcess(env);
      await handle.signal(decideSignal, { decision: 'start', ...by('not rebooted') });
      await waitForProgress(handle, gateWaiting('approve-failback'), 90_000);
      const seq = t.lastSeq();
      await handle.signal(approveSignal, by('balance'));
      await until('a failback move started', () => t.mutatingSince(seq).some((e) => e.argv[0] === 'fleetctl' && e.argv[1] === 'unload'));
      // The move in flight is lost with the worker: it runs again on the next one after its heartbeat timeout.
      await worker.kill9();
      worker = await startWorkerProcess(env);
      await handle.result();
      const what = 'worker killed at host-ready-unsafe, answered start, approve-failback approved, worker killed during a move, completed';
      await record('reintegrate-crashes', handle, `reintegrateHypervisor worker3: ${what}`);
    } finally {
      await worker.stop();
    }
  });

  it('clusterShutdown: both approvals, a VM hung on stop gets its remedy', async () => {
    t.h.lab.faults.hangOnStop('db1');
    const handle = await t.start('clusterShutdown', { parallelism: 10, stopTimeoutSeconds: 6, poweroffDelaySeconds: 1, hostDownTimeoutSeconds: 60 });
    await waitForProgress(handle, gateWaiting('approve-shutdown'));
    await handle.signal(approveSignal, by('maintenance window'));
    await waitForProgress(handle, gateWaiting('approve-poweroff'), 120_000);
    await handle.signal(approveSignal, by('go'));
    await handle.result();
    await record('shutdown', handle, 'clusterShutdown: approve-shutdown and approve-poweroff approved, db1 hung on stop, completed');

    // The start-up from that shutdown: a host stays off (retried once back), a slow answer (overridden).
    t.h.lab.faults.stayOff('worker3');
    t.h.lab.faults.slowPing('top2', 250);
    const up = await t.start('clusterStartup', { shutdownWorkflowId: handle.workflowId, hostUpTimeoutSeconds: 8, startTimeoutSeconds: 60 });
    await waitForProgress(up, gateWaiting('host-not-back'), 90_000);
    t.h.lab.faults.stayOff('worker3', false);
    await up.signal(decideSignal, { decision: 'retry', by: 'carol' });
    await waitForProgress(up, gateWaiting('check-network-unsafe'), 90_000);
    await up.signal(decideSignal, { decision: 'override', by: 'carol', reason: 'top2 link known slow' });
    await up.result();
    await record('startup', up, 'clusterStartup from the shutdown: host-not-back retried, check-network-unsafe overridden, completed');
  });

  it('a Xen pool: clusterStatus; evacuateHost of a member approved and completed; reintegrateHost', async () => {
    const status = await x.h.client.workflow.start('clusterStatus', {
      taskQueue: x.h.taskQueue,
      workflowId: `clusterStatus-${randomUUID()}`,
      args: [{ cluster: XEN_CLUSTER }],
    });
    await status.result();
    await record('xen-cluster-status', status, 'clusterStatus of a lab Xen pool (6 hosts, 40 VMs), completed');
    const evacuation = await x.start('evacuateHost', { cluster: XEN_CLUSTER, host: 'xs2' });
    await waitForProgress(evacuation, gateWaiting('approve-evacuation'));
    await evacuation.signal(approveSignal, by('patching'));
    await evacuation.result();
    await record('xen-evacuate', evacuation, 'evacuateHost xs2 of a Xen pool: approve-evacuation approved, its VMs live-migrated 5 at a time, completed');
    const back = await x.start('reintegrateHost', { cluster: XEN_CLUSTER, host: 'xs2' });
    await back.result();
    await record('xen-reintegrate', back, 'reintegrateHost xs2 of a Xen pool: live again, enabled, completed');
  });

  it('a Xen pool: rollingReboot of three hosts approved and completed, one of its rebootHost children', async () => {
    const run = await x.start('rollingReboot', { cluster: XEN_CLUSTER, hosts: 'xs[1-3]' });
    await waitForProgress(run, gateWaiting('approve-rolling-reboot'));
    await run.signal(approveSignal, by('patch tuesday'));
    await run.result();
    await record(
      'xen-rolling-reboot',
      run,
      'rollingReboot of xs[1-3] of a Xen pool: approve-rolling-reboot approved, pool HA off and back on, three rebootHost children, completed',
    );
    await record(
      'xen-reboot-host',
      x.h.client.workflow.getHandle(`${run.workflowId}-xs1`),
      'rebootHost xs1 (the pool master), child of that rollingReboot: disabled, its VMs live-migrated, rebooted, back, enabled',
    );
  });

  it('recorded every workflow type the worker registers', () => {
    expect([...recorded].sort()).toEqual(Object.keys(workflows).sort());
  });
});
