/**
 * The hvflow CLI run the way a person runs it: `client/bin.ts ...` (the `hvflow` bin) as a child process, with
 * TEMPORAL_ADDRESS / HVFLOW_TASK_QUEUE in its environment, against the real Temporal dev server and
 * the lab (real SSH, real etcd). Each spawn costs about a second: the commands are grouped.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WorkflowFailedError, ScheduleNotFoundError } from '@temporalio/client';
import { startHarness, waitForProgress, gateWaiting, type Harness } from '../helpers/harness';
import { testNamespace } from '../helpers/worker-slot';
import { progressQuery } from '../../workflows/messages';
import { CLUSTER, PROCEDURE, TARGET, AWAITING_APPROVAL } from '../../workflows/search-attributes';
import { lockWorkflowId } from '../../domain/contract';
import type { EvacuationResult } from '../../workflows/evacuate-host';

const ROOT = path.join(__dirname, '..', '..');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const lastSeq = () => h.lab.commandLog().reduce((m, e) => Math.max(m, e.seq), 0);
const mutatingSince = (seq: number) => h.lab.commandLog({ mutating: true }).filter((e) => e.seq > seq);
const cmd = (e: { host: string; argv: string[] }) => `${e.host}: ${e.argv.join(' ')}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `client/bin.ts ...args` (the `hvflow` bin) with the environment an operator would set: node
 * with tsx as its loader, one process (`npx tsx` would add npm's and tsx's own start, ~2 s a run).
 */
function hvflow(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Run> {
  return hvflowBg(args, env, timeoutMs).done;
}

/** The same, in the background: `output` resolves at its first line on stdout. */
function hvflowBg(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): { done: Promise<Run>; output: Promise<void> } {
  let firstOutput!: () => void;
  const output = new Promise<void>((r) => (firstOutput = r));
  const done = new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'client/bin.ts', ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: testNamespace(),
        HVFLOW_TASK_QUEUE: h.taskQueue,
        HVFLOW_CLUSTER: h.lab.inventory.cluster,
        USER: 'tester',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a hung run is killed whole, with anything it started
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) firstOutput();
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`hvflow ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      firstOutput();
      resolve({ code, stdout, stderr: stderr.replace(/^npm warn .*\n?/gm, '') });
    });
  });
  return { done, output };
}

const json = <T = any>(r: Run): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\nstderr: ${r.stderr}`);
  }
};

// Procedures and schedules a test leaves behind must not hold the cluster's lock for the next.
const startedIds: string[] = [];
const scheduleIds: string[] = [];
afterEach(async () => {
  for (const id of startedIds.splice(0))
    await h.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  for (const id of scheduleIds.splice(0))
    await h.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await lockReleased();
});

async function listScheduleIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of h.client.schedule.list()) ids.push(s.scheduleId);
  return ids.sort();
}

async function lockReleased() {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const d = await h.client.workflow
      .getHandle(lockWorkflowId('ocean'))
      .describe()
      .catch(() => undefined);
    if (d?.status.name !== 'RUNNING') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the cluster lock is still held');
}

describe('hvflow CLI', () => {
  it('plan evacuate worker1 (and plan shutdown) prints the plan readably and changes nothing', async () => {
    const seq = lastSeq();
    // No --cluster, no HVFLOW_CLUSTER: the cluster is the one of the worker's inventory.
    const fromInventory = { HVFLOW_CLUSTER: '', HVFLOW_INVENTORY: h.lab.inventoryPath };
    const [r, shutdown] = await Promise.all([hvflow(['plan', 'evacuate', 'worker1'], fromInventory), hvflow(['plan', 'shutdown'])]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('Plan: evacuate worker1 (dry run: nothing was changed)');
    expect(out).toMatch(/guards: GlusterFS client, etcd member/);
    expect(out).toMatch(/Units \/ VMs to move off worker1: 3, total weight 20000/);
    for (const vm of ['i0conf1', 'ns1', 'ns2']) expect(out).toMatch(new RegExp(`^\\s+${vm}\\s+pcocc-vm-${vm}\\.service\\s+\\d+\\s+(top|worker)\\d`, 'm'));
    expect(out).toMatch(
      /Execution order[^\n]*\n\s+1\. systemctl stop fleet on worker1\n\s+2\. umount -t fuse\.glusterfs -a on worker1\n\s+3\. systemctl stop etcd on worker1/,
    );
    expect(out).toMatch(/↷ Approval of the evacuation plan — dry run/);
    expect(out).toMatch(/approve-evacuation \(approve \/ reject\)/);
    // The cluster shutdown's plan (seed 001 order), from the same table.
    expect(shutdown.code, shutdown.stderr).toBe(0);
    expect(shutdown.stdout).toMatch(/Plan: shutdown of cluster ocean \(dry run: nothing was changed\)/);
    expect(shutdown.stdout).toMatch(/Order\n\s+1\. fleetctl stop --no-block \d+ VM\(s\)/);
    expect(shutdown.stdout).toMatch(/poweroff top1 \(last\)/);
    expect(shutdown.stdout).toMatch(/approve-shutdown \(approve \/ reject\)/);
    expect(mutatingSince(seq)).toEqual([]);

    // The dry run's workflow: hvflow's id, search attributes, summary and input.
    const id = /workflow (hvflow-ocean-evacuate-plan-worker1-\d{8}T\d{9}Z)/.exec(out)?.[1];
    expect(id, out).toBeDefined();
    const d = await h.client.workflow.getHandle(id!).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.typedSearchAttributes.get(PROCEDURE)).toBe('evacuateHost');
    expect(d.typedSearchAttributes.get(CLUSTER)).toBe('ocean');
    expect(d.typedSearchAttributes.get(TARGET)).toBe('worker1');
    expect(await d.staticSummary()).toBe('plan (dry run) of evacuate worker1 on cluster ocean, requested by tester');
    const result = (await h.client.workflow.getHandle(id!).result()) as EvacuationResult;
    expect(result.dryRun).toBe(true);
  });

  it('refuses bad input before connecting (exit 2, naming the field); other failures have their own exit codes', async () => {
    const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:1', HVFLOW_CONNECT_TIMEOUT: '1' };
    const noCluster = { ...nowhere, HVFLOW_CLUSTER: '', HVFLOW_INVENTORY: '' };
    const [badHost, badHostJson, badNumber, badDecision, badAt, noServer, notFound, clusterNeeded, badInventory] = await Promise.all([
      hvflow(['evacuate', 'top1;reboot', '--by', 'alice'], nowhere),
      hvflow(['--json', 'evacuate', 'top1;reboot'], nowhere),
      hvflow(['failback', '--max-moves', 'lots'], nowhere),
      hvflow(['decide', 'some-id', 'maybe', '--by', 'bob'], nowhere),
      hvflow(['schedule', 'create', 'evacuate', 'worker1', '--at', 'saturday 25:00'], nowhere),
      hvflow(['list'], nowhere),
      hvflow(['status', 'hvflow-ocean-evacuate-worker9-nope']),
      hvflow(['plan', 'evacuate', 'worker1'], noCluster),
      hvflow(['approve', '--by', 'bob'], { ...noCluster, HVFLOW_INVENTORY: '/nonexistent/inventory.yaml' }),
    ]);
    // Exit 2 although no server answers at that address: validated before any connection.
    expect(badHost.code).toBe(2);
    expect(badHost.stderr).toMatch(/host: "top1;reboot" must be a lowercase DNS label/);
    expect(badHostJson.code).toBe(2);
    expect(json(badHostJson).error).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/invalid input: host: "top1;reboot" must be a lowercase DNS label/),
    });
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toMatch(/maxMoves \(--max-moves\): "lots" must be a whole number from 1 to 10000/);
    expect(badDecision.code).toBe(2);
    expect(badDecision.stderr).toMatch(/decision: "maybe" must be one of approve, reject, retry, skip, abort, override/);
    expect(badAt.code).toBe(2);
    expect(badAt.stderr).toMatch(/--at: "saturday 25:00": 25:00 is not a time of day/);
    expect(noServer.code).toBe(4);
    expect(noServer.stderr).toMatch(/cannot connect to the Temporal server at 127\.0\.0\.1:1/);
    expect(notFound.code).toBe(5);
    expect(notFound.stderr).toMatch(/workflow hvflow-ocean-evacuate-worker9-nope not found/);
    // No cluster given and no inventory: there is no default cluster (a seed's name would be a guess).
    expect(clusterNeeded.code).toBe(2);
    expect(clusterNeeded.stderr).toMatch(/cluster: a cluster is needed \(none given\): give --cluster <name>, or set HVFLOW_CLUSTER, or HVFLOW_INVENTORY/);
    expect(badInventory.code).toBe(2);
    expect(badInventory.stderr).toMatch(/cluster: a cluster is needed \(HVFLOW_INVENTORY \(\/nonexistent\/inventory\.yaml\) cannot be read: ENOENT\)/);
  });

  it('takes every option as written and checks it with the schema the workflow applies: a blank, a newline, a path is refused (exit 2, the field and flag named), nothing trimmed', async () => {
    const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:1', HVFLOW_CONNECT_TIMEOUT: '1' };
    const cases: [string[], RegExp][] = [
      [['startup', '--vms', 'ns1,worker1 '], /^error: invalid input: vms\[1\] \(--vms\): "worker1 " must be a lowercase letter/m],
      [['plan', 'startup', '--vms', 'ns1\n'], /vms\[0\] \(--vms\): "ns1\\n" must be a lowercase letter/],
      [['startup', '--vms', 'ns1', '--exclude', '../x'], /exclude \(--exclude\): "\.\.\/x" names "\.\.\/x", which must be a lowercase letter/],
      [['startup', '--vms', 'ns1', '--exclude', 'ns2 '], /exclude \(--exclude\): "ns2 " must not contain blanks/],
      [['failback', '--hosts', 'top1,worker1 '], /hosts \(--hosts\): "top1,worker1 " must not contain blanks/],
      [['failback', '--max-moves', ' 2'], /maxMoves \(--max-moves\): " 2" must be a whole number from 1 to 10000/],
      [['evacuate', 'worker1 '], /host: "worker1 " must be a lowercase DNS label/],
      // A target that looks like an option is still the target: the field is named, not "unknown option".
      [['evacuate', '-oFoo=bar'], /^error: invalid input: host: "-oFoo=bar" must be a lowercase DNS label/m],
      [['plan', 'reintegrate', '--by', 'alice', '-oProxyCommand=sh'], /host: "-oProxyCommand=sh" must be a lowercase DNS label/],
      [['evacuate', 'worker1', '-oFoo=bar'], /^error: unknown option '-oFoo=bar'/m],
      [['evacuate', 'worker1', '--by', 'alice '], /requestedBy \(--by\): "alice " must not start or end with a blank/],
      [['evacuate', 'worker1', '--approvers', 'bob, carol'], /gatePolicy\.approvers\[1\] \(--approvers\): " carol" must not start or end with a blank/],
      [['decide', 'some-id', 'retry', '--by', 'bob\n'], /by \(--by\): "bob\\n" must not contain control characters/],
    ];
    const runs = await Promise.all(cases.map(([args]) => hvflow(args, nowhere)));
    runs.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  });

  it("an input only the workflow can check (a host or VM the cluster does not have) is refused like the CLI's own refusals: exit 2, the field named", async () => {
    const seq = lastSeq();
    const [host, vm] = await Promise.all([hvflow(['plan', 'evacuate', 'top9']), hvflow(['--json', 'plan', 'startup', '--vms', 'ns1,nosuchvm'])]);
    expect(host.code, host.stdout + host.stderr).toBe(2);
    expect(host.stderr).toMatch(/^error: /);
    expect(host.stderr).toMatch(
      /host: "top9" is not a hypervisor of cluster ocean \(refused by hvflow-ocean-evacuate-plan-top9-\d{8}T\d{9}Z; nothing was done\)$/m,
    );
    // Neither in a saved list nor a VM of the cluster: not planned, refused (the start-up's own check, workflows/cluster-startup.ts).
    expect(vm.code, vm.stdout + vm.stderr).toBe(2);
    expect(json(vm).error).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/vms\[1\]: "nosuchvm"/),
      details: { workflowId: expect.stringMatching(/^hvflow-ocean-startup-plan-ocean-/) },
    });
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('plan of an unsafe evacuation returns the plan with every failed check and its reason, exits 1, and parks on no gate', async () => {
    h.lab.faults.slowHeal('volspoms1', 12, 0); // 12 heal entries on each of its 3 bricks: evacuating a GlusterFS server is unsafe
    try {
      const seq = lastSeq();
      const [text, asJson] = await Promise.all([hvflow(['plan', 'evacuate', 'top2']), hvflow(['--json', 'plan', 'evacuate', 'top2'])]);
      expect(text.code, text.stdout + text.stderr).toBe(1);
      expect(text.stdout).toContain('Plan: evacuate top2 (dry run: nothing was changed)');
      expect(text.stdout).toMatch(/Unsafe: \d+ safety checks? failed; a real run would stop at their gates/);
      expect(text.stdout).toMatch(/✖ .*\): .*volspoms1: 36 heal entries pending/);
      expect(asJson.code).toBe(1);
      const r = json(asJson);
      expect(r.status).toBe('COMPLETED');
      expect(r.failedChecks).toEqual(
        expect.arrayContaining([expect.objectContaining({ reason: expect.stringMatching(/volspoms1: 36 heal entries pending/) })]),
      );
      // The dry run ended on its own: no gate was opened, nobody (not even the CLI) decided anything.
      const progress = await h.client.workflow.getHandle(r.workflowId).query(progressQuery);
      expect(progress.gates).toEqual([]);
      expect(mutatingSince(seq)).toEqual([]);
    } finally {
      h.lab.faults.slowHeal('volspoms1', 0, 0);
    }
  });

  it('schedule create refuses impossible maintenance windows: exit 2, the flag named, no schedule created', async () => {
    const seq = lastSeq();
    const schedulesBefore = await listScheduleIds();
    const base = ['schedule', 'create', 'evacuate', 'worker1', '--by', 'alice'];
    const cases: [string[], RegExp][] = [
      [['--at', '2025-07-05 02:00'], /--at: "2025-07-05 02:00" is in the past: the window would never start/],
      [['--at', '2027-02-30 02:00'], /--at: "2027-02-30 02:00": 2027-02-30 is not a date/],
      [['--cron', '0 2 30 2 *'], /--cron: "0 2 30 2 \*" never runs: no month in "2" has day "30"/],
      [['--cron', '0 24 * * 6'], /--cron: "0 24 \* \* 6": hour "24" is out of range 0-23/],
      [['--at', 'sat 02:00', '--tz', 'Mars/Olympus_Mons'], /--tz: "Mars\/Olympus_Mons" is not an IANA time zone/],
      [['--at', 'sat 02:00', '--catchup-window', '1s'], /--catchup-window: "1s" must be at least 10s/],
      [[], /--at or --cron: say when the maintenance window starts/],
    ];
    const runs = await Promise.all(cases.map(([flags]) => hvflow([...base, ...flags])));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    expect(await listScheduleIds()).toEqual(schedulesBefore);
    expect(h.lab.commandLog().filter((e) => e.seq > seq)).toEqual([]);
  });

  it('status-report runs clusterStatus and prints it (and --json parses)', async () => {
    const [text, asJson] = await Promise.all([hvflow(['status-report']), hvflow(['status-report', '--json'])]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Cluster ocean/m);
    expect(text.stdout).toMatch(/^worker1\s+worker\s+up\s+3\s+20000$/m);
    expect(text.stdout).toMatch(/volspoms1\s+0\s+no\s+no/);
    expect(asJson.code).toBe(0);
    const r = json(asJson);
    expect(r.workflowType).toBe('clusterStatus');
    expect(r.result.cluster).toBe('ocean');
    expect(r.result.machines.map((m: { host: string }) => m.host)).toContain('worker1');
    expect(r.result.problems).toEqual([]);
  });

  it('schedule create, list, pause, trigger and delete a maintenance window', async () => {
    const id = 'cli-test-window';
    scheduleIds.push(id);
    const created = await hvflow([
      '--json',
      'schedule',
      'create',
      'evacuate',
      'worker1',
      '--id',
      id,
      '--at',
      'sat 02:00',
      '--tz',
      'Europe/Paris',
      '--by',
      'alice',
      '--reason',
      'disk swap',
      '--gate-timeout',
      '4h',
    ]);
    expect(created.code, created.stderr + created.stdout).toBe(0);
    expect(json(created)).toMatchObject({ scheduleId: id, procedure: 'evacuate', target: 'worker1', timeZone: 'Europe/Paris', overlap: 'SKIP', paused: false });

    // What the server holds: calendar spec, time zone, policies, and the action's input.
    const d = await h.client.schedule.getHandle(id).describe();
    expect(d.spec.timezone).toBe('Europe/Paris');
    expect(d.spec.calendars).toHaveLength(1);
    expect(d.spec.calendars![0]).toMatchObject({
      dayOfWeek: [{ start: 'SATURDAY', end: 'SATURDAY', step: 1 }],
      hour: [{ start: 2, end: 2, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    });
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.policies.catchupWindow).toBe(3_600_000);
    expect(d.action.type).toBe('startWorkflow');
    if (d.action.type !== 'startWorkflow') throw new Error('unexpected action');
    expect(d.action.workflowType).toBe('evacuateHost');
    expect(d.action.taskQueue).toBe(h.taskQueue);
    expect(d.action.workflowId).toBe('hvflow-ocean-evacuate-worker1');
    expect(d.action.args).toEqual([{ cluster: 'ocean', host: 'worker1', requestedBy: `schedule:${id}`, reason: 'disk swap', gatePolicy: { timeout: '4h' } }]);
    // The next run is a Saturday at 02:00 in Paris.
    const next = d.info.nextActionTimes[0]!;
    const paris = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(
      next,
    );
    expect(paris).toBe('Sat 02:00');

    const [list, paused] = [await hvflow(['schedule', 'list']), await hvflow(['--json', 'schedule', 'pause', id, '--by', 'bob', '--reason', 'change freeze'])];
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+evacuate\\s+worker1\\s+at sat 02:00\\s+Europe/Paris\\s+skip\\s+60m\\s+active`, 'm'));
    expect(paused.code).toBe(0);
    expect(json(paused)).toMatchObject({ paused: true, note: 'paused by bob: change freeze' });
    expect((await h.client.schedule.getHandle(id).describe()).state.paused).toBe(true);

    // Triggered now: the run is a procedure requested by the schedule, with hvflow's search attributes.
    expect((await hvflow(['schedule', 'trigger', id])).code).toBe(0);
    let runId: string | undefined;
    for (let i = 0; i < 50 && !runId; i++) {
      runId = (await h.client.schedule.getHandle(id).describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!runId) await new Promise((r) => setTimeout(r, 200));
    }
    expect(runId).toMatch(/^hvflow-ocean-evacuate-worker1-/);
    startedIds.push(runId!);
    const run = h.client.workflow.getHandle(runId!);
    const p = await waitForProgress(run, gateWaiting('approve-evacuation'));
    expect(p.startedBy).toBe(`schedule:${id}`);
    expect((await run.describe()).typedSearchAttributes.get(PROCEDURE)).toBe('evacuateHost');

    // The window is called off: abort the run from the CLI; it stops and says the cluster is untouched.
    // --wait exits with how it ended: aborted is 1 (README: 1 the procedure failed, was rejected or aborted).
    const aborted = await hvflow(['--json', 'abort', runId!, '--by', 'bob', '--reason', 'window cancelled', '--wait']);
    expect(aborted.code, aborted.stderr + aborted.stdout).toBe(1);
    expect(json(aborted)).toMatchObject({ signal: 'abort', confirmed: true, status: 'FAILED', failure: { type: 'ProcedureAborted' } });
    expect(json(aborted).failure.message).toMatch(/aborted by bob: window cancelled; nothing was changed on the cluster/);

    const deleted = await hvflow(['schedule', 'delete', id]);
    expect(deleted.code).toBe(0);
    await expect(h.client.schedule.getHandle(id).describe()).rejects.toThrow(ScheduleNotFoundError);
    const again = await hvflow(['schedule', 'delete', id]);
    expect(again.code).toBe(5);
  });

  it('reject stops the procedure with nothing changed; its status then exits 1', async () => {
    const seq = lastSeq();
    const started = await hvflow(['--json', 'evacuate', 'worker2', '--by', 'alice', '--reason', 'fan noise']);
    expect(started.code, started.stderr).toBe(0);
    const s = json(started);
    startedIds.push(s.workflowId);
    expect(s.progress.gate.name).toBe('approve-evacuation');

    // Operator controls: pause holds it (confirmed by its progress), resume lets it go on.
    const paused = await hvflow(['--json', 'pause', s.workflowId, '--by', 'carol', '--reason', 'waiting for the DC technician']);
    expect(paused.code, paused.stderr).toBe(0);
    expect(json(paused)).toMatchObject({ signal: 'pause', confirmed: true, progress: { paused: true, pausedBy: 'carol' } });
    const resumed = await hvflow(['--json', 'resume', s.workflowId, '--by', 'carol']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed)).toMatchObject({ signal: 'resume', confirmed: true, progress: { paused: false } });

    // No ID: the procedure of the cluster waiting at a gate.
    const rejected = await hvflow(['--json', 'reject', '--by', 'bob', '--reason', 'not tonight']);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(json(rejected)).toMatchObject({
      workflowId: s.workflowId,
      gate: { name: 'approve-evacuation', decision: 'reject', by: 'bob', reason: 'not tonight' },
    });
    const err = await h.client.workflow
      .getHandle(s.workflowId)
      .result()
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String(err.cause?.message)).toMatch(/rejected at gate approve-evacuation by bob: not tonight; nothing was changed on the cluster/);

    const status = await hvflow(['status', s.workflowId]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/FAILED: rejected at gate approve-evacuation by bob: not tonight/);
    expect(status.stdout).toMatch(/approve-evacuation: reject by bob/);
    expect(mutatingSince(seq)).toEqual([]);
  });

  it('evacuate worker3: busy cluster refused, list shows it waiting first, status shows the gate, a wrong decision is refused, approve completes it', async () => {
    // An older running procedure that waits for nothing (no worker on its queue): listed after the waiting one.
    const idle = `hvflow-ocean-status-report-ocean-${randomUUID()}`;
    await h.client.workflow.start('clusterStatus', {
      taskQueue: `nobody-polls-${randomUUID()}`,
      workflowId: idle,
      args: [{ cluster: 'ocean' }],
      typedSearchAttributes: [
        { key: PROCEDURE, value: 'clusterStatus' },
        { key: CLUSTER, value: 'ocean' },
        { key: TARGET, value: 'ocean' },
        { key: AWAITING_APPROVAL, value: false },
      ],
    });
    startedIds.push(idle);
    const seq = lastSeq();
    const started = await hvflow(['--json', 'evacuate', 'worker3', '--by', 'alice', '--reason', 'disk swap']);
    expect(started.code, started.stderr).toBe(0);
    const s = json(started);
    const id: string = s.workflowId;
    startedIds.push(id);
    expect(id).toMatch(/^hvflow-ocean-evacuate-worker3-\d{8}T\d{9}Z$/);
    expect(s.input).toEqual({ cluster: 'ocean', host: 'worker3', requestedBy: 'alice', reason: 'disk swap' });
    expect(s.progress.gate).toMatchObject({ name: 'approve-evacuation', options: ['approve', 'reject'] });
    const d = await h.client.workflow.getHandle(id).describe();
    expect(d.typedSearchAttributes.get(TARGET)).toBe('worker3');
    expect(d.typedSearchAttributes.get(AWAITING_APPROVAL)).toBe(true);
    expect(await d.staticSummary()).toBe('evacuate worker3 on cluster ocean, requested by alice: disk swap');

    const [busy, list, listText, status, wrong] = await Promise.all([
      hvflow(['evacuate', 'worker1', '--by', 'erin']),
      hvflow(['--json', 'list']),
      hvflow(['list']),
      hvflow(['status', id]),
      hvflow(['decide', id, 'override', '--by', 'carol', '--reason', 'why not']),
    ]);
    // One procedure per cluster: refused before anything starts.
    expect(busy.code).toBe(3);
    expect(busy.stderr).toMatch(new RegExp(`cluster ocean is busy: evacuateHost worker3 \\(workflow ${id}, started by alice\\) is running`));
    expect(busy.stderr).toMatch(/Nothing was started/);

    expect(list.code).toBe(0);
    const rows = json<{ workflowId: string; awaitingApproval: boolean; gate?: string; target?: string; requestedBy?: string; procedure: string }[]>(list);
    const mine = rows.findIndex((r) => r.workflowId === id);
    expect(mine).toBeGreaterThanOrEqual(0);
    expect(rows[mine]).toMatchObject({ procedure: 'evacuate', target: 'worker3', awaitingApproval: true, gate: 'approve-evacuation', requestedBy: 'alice' });
    // Waiting ones first, although the idle one is older.
    const firstNotWaiting = rows.findIndex((r) => !r.awaitingApproval);
    expect(firstNotWaiting).toBeGreaterThan(mine);
    const idleRow = rows.findIndex((r) => r.workflowId === idle);
    expect(rows[idleRow]).toMatchObject({ procedure: 'status-report', awaitingApproval: false });
    expect(idleRow).toBeGreaterThan(mine);
    expect(listText.stdout).toMatch(/^ID\s+PROCEDURE\s+TARGET\s+PHASE\s+WAITING GATE\s+STARTED BY\s+AGE$/m);
    expect(listText.stdout).toMatch(new RegExp(`^${id}\\s+evacuate\\s+worker3\\s+awaiting approval\\s+approve-evacuation\\s+alice\\s+\\S+`, 'm'));

    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/⏸ Waiting at gate approve-evacuation \(approval, for [^)]+\)/);
    expect(status.stdout).toMatch(/Evacuate worker3: stop fleet/);
    expect(status.stdout).toMatch(/Options: approve, reject/);
    expect(status.stdout).toMatch(/✔ Read the inventory/);
    expect(status.stdout).toMatch(/elapsed \S+/);
    expect(status.stdout).toContain(`hvflow approve ${id} --by <you> --reason <why>`);

    // The update's validator refuses at once, with its message; nothing is decided.
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused: decision: "override" is not an option of gate approve-evacuation \(options: approve, reject\)/);
    expect((await h.client.workflow.getHandle(id).query(progressQuery)).gate?.name).toBe('approve-evacuation');
    expect(mutatingSince(seq)).toEqual([]);

    // `status --watch` without ID follows the cluster's running procedure (the lock holder) until it closes.
    const watch = hvflowBg(['--json', 'status', '--watch', '--interval', '0.5']);
    await watch.output;
    const approved = await hvflow(['--json', 'approve', id, '--by', 'bob', '--reason', 'x', '--wait']);
    expect(approved.code, approved.stderr).toBe(0);
    const a = json(approved);
    expect(a.gate).toMatchObject({ name: 'approve-evacuation', decision: 'approve', by: 'bob', reason: 'x' });
    expect(a.status).toBe('COMPLETED');
    const result = (await h.client.workflow.getHandle(id).result()) as EvacuationResult;
    expect(a.result).toEqual(result);
    expect(result.moved.map((m) => m.unit).sort()).toEqual(result.plan.units.map((u) => u.unit).sort());
    for (const m of result.moved) expect(m.host).not.toBe('worker3');
    expect(result.gates.find((g) => g.name === 'approve-evacuation')).toMatchObject({ decision: 'approve', by: 'bob', reason: 'x' });
    expect(mutatingSince(seq).map(cmd)).toEqual(['worker3: systemctl stop fleet', 'worker3: umount -t fuse.glusterfs -a', 'worker3: systemctl stop etcd']);

    const watched = await watch.done;
    expect(watched.code, watched.stderr).toBe(0);
    const views = watched.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(views.length).toBeGreaterThan(1);
    expect(views.every((v) => v.workflowId === id)).toBe(true);
    expect(views[0].progress.gate.name).toBe('approve-evacuation');
    expect(views.at(-1)).toMatchObject({ status: 'COMPLETED', closed: true });
  });

  it('--help as a process: exit 0, usage and example, with no server (every command in-process: test/unit/cli-help.test.ts)', async () => {
    const [top, deep] = await Promise.all([
      hvflow(['--help'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      hvflow(['schedule', 'create', 'evacuate', '--help'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
    ]);
    for (const r of [top, deep]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Usage: hvflow/);
      expect(r.stdout).toMatch(/Examples?:\n\s+\$ hvflow /);
    }
    expect(top.stdout).toMatch(/Exit codes:\n\s+0 {2}ok[\s\S]*3 {2}the cluster is busy[\s\S]*5 {2}not found/);
    expect(deep.stdout).toMatch(/Usage: hvflow schedule create evacuate/);
  });
});
