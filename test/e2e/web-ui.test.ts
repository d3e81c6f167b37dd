/**
 * The Temporal Web UI (2.42.1, served by the dev server of the global setup), driven in Debian's
 * headless chromium as an operator would use it:
 *   - start a dry run of evacuateHypervisor from the UI's "Start Workflow" form and see it complete;
 *   - find the evacuation waiting for approval (query `HvflowAwaitingApproval = true`), read its
 *     current details (the gate and the steps), send the `approve` signal from "More Actions ›
 *     Send a Signal", see it complete, and save a screenshot (test-results/web-ui-approved.png).
 * And the other way the README documents: `temporal workflow start` with each procedure's JSON input.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, onTestFailed } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { WorkflowHandle } from '@temporalio/client';
import { startHarness, waitForProgress, gateWaiting, type Harness } from '../helpers/harness';
import { testNamespace } from '../helpers/worker-slot';
import { temporalCliPath } from '../../scripts/temporal-dev-server';
import type { EvacuationResult } from '../../workflows/evacuate-host';
import { progressQuery } from '../../workflows/messages';
import { procedureByWorkflowType } from '../../client/procedures';
import { startOptions } from '../../client/operations';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = path.join(__dirname, '..', '..', 'test-results');
const ui = inject('temporalUiUrl');

let h: Harness;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const started: WorkflowHandle[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/ensure-system.sh installs it)`);
  mkdirSync(RESULTS, { recursive: true });
  userDataDir = mkdtempSync(path.join(tmpdir(), 'hvflow-chromium-'));
  const [harness, ctx] = await Promise.all([
    startHarness(),
    chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
      timezoneId: 'UTC',
    }),
  ]);
  h = harness;
  context = ctx;
  context.setDefaultTimeout(20_000);
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  for (const handle of started) await handle.terminate('test over').catch(() => undefined);
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await h?.stop();
});

beforeEach((ctx) => {
  onTestFailed(async () => {
    const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    await page?.screenshot({ path: path.join(RESULTS, `web-ui-failed-${name}.png`), fullPage: true }).catch(() => undefined);
  });
});

/** Types into one of the UI's CodeMirror editors (JSON input, summary): as pasted text, so no auto-closed brackets. */
async function typeInEditor(editor: ReturnType<Page['locator']>, text: string) {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(text);
}

/** The workflow page's status badge (Running, Completed, Failed...). */
function status(name: string) {
  return page.locator('main header').getByText(name, { exact: true }).first();
}

/**
 * The Current Details pane of the "User Metadata" tab: the workflow's markdown, rendered in an
 * iframe, read until it contains `expected` (the tab is reloaded to fetch them afresh).
 */
async function currentDetails(expected: string): Promise<string> {
  return eventually(`current details showing "${expected}"`, async () => {
    if (page.url().endsWith('/user-metadata')) await page.reload();
    else await page.getByRole('tab', { name: 'User Metadata' }).click();
    await page.getByText('Current Details', { exact: true }).waitFor();
    // Summary, details and current details are each rendered in an iframe: the one that says it.
    const frames = page.locator('iframe[title="output"]');
    await frames.first().waitFor();
    for (let i = 0; i < (await frames.count()); i++) {
      const text = await frames.nth(i).contentFrame().locator('body').innerText({ timeout: 5000 });
      if (text.includes(expected)) return text;
    }
    return undefined;
  });
}

/** The procedure's result, or an error quoting its progress when it does not finish in time. */
async function resultWithin<T = EvacuationResult>(handle: WorkflowHandle, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const p = await handle.query(progressQuery).catch((e) => String(e));
      reject(new Error(`${handle.workflowId} did not finish within ${timeoutMs} ms: ${JSON.stringify(p).slice(0, 2000)}`));
    }, timeoutMs);
  });
  return Promise.race([handle.result() as Promise<T>, stuck]).finally(() => clearTimeout(timer));
}

/** Polls `fn` until it holds: the UI refreshes on its own, but not always at once. */
async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('Temporal Web UI', () => {
  it('starts a dry run of evacuateHypervisor from the Start Workflow form', async () => {
    const workflowId = `ui-dry-run-worker2-${randomUUID().slice(0, 8)}`;
    await page.goto(`${ui}/namespaces/${testNamespace()}/workflows`);
    await page.getByRole('button', { name: 'Start Workflow' }).click();
    await page.getByRole('heading', { name: 'Start a Workflow' }).waitFor();
    // "More options" first (it holds the summary field): the layout settles before anything is typed.
    await page.getByRole('button', { name: 'More options' }).click();
    await page.getByRole('heading', { name: 'User Metadata' }).waitFor();

    await page.getByTestId('workflowId').fill(workflowId);
    await page.getByTestId('taskQueue').fill(h.taskQueue);
    await page.getByTestId('taskQueue').blur();
    // The form checks the task queue when the field is left: our worker polls it.
    await page.getByText('Task Queue is Active').waitFor();
    await page.getByTestId('workflowType').fill('evacuateHypervisor');
    const editors = page.locator('main [contenteditable="true"][role="textbox"]');
    await typeInEditor(editors.first(), '{"cluster":"ocean","host":"worker2","dryRun":true}');
    // Optional: a summary the workflow page shows in its User Metadata.
    await typeInEditor(editors.nth(1), 'Dry run: evacuation plan of worker2');
    await page.getByTestId('start-workflow-button').click();

    const handle = h.client.workflow.getHandle(workflowId);
    started.push(handle);
    await eventually('the workflow started from the form', async () => (await handle.describe()).type === 'evacuateHypervisor');
    const r: EvacuationResult = await handle.result();
    expect(r).toMatchObject({ host: 'worker2', dryRun: true });
    expect(r.plan.steps[0]).toBe('systemctl stop fleet on worker2');

    // Its page: completed, with the summary typed in the form and the procedure's current details.
    await page.goto(`${ui}/namespaces/${testNamespace()}/workflows/${workflowId}`);
    await status('Completed').waitFor();
    const details = await currentDetails('phase: planned');
    expect(details).toContain('evacuateHypervisor worker2 on cluster ocean (dry run) — phase: planned');
    expect(details).toMatch(/↷ Approval of the evacuation plan — dry run: the plan is shown, nothing is changed/);
    await currentDetails('Dry run: evacuation plan of worker2'); // the summary typed in the form
  });

  it('each procedure starts from `temporal workflow start` with the JSON input of the README', async () => {
    const temporal = temporalCliPath();
    // Dry runs: the whole plan, nothing changed (before the next test evacuates worker3: a
    // shutdown rightly parks while an etcd member is down).
    const inputs: [string, Record<string, unknown>][] = [
      ['clusterStatus', { cluster: 'ocean' }],
      ['evacuateHypervisor', { cluster: 'ocean', host: 'worker1', dryRun: true, requestedBy: 'alice', reason: 'disk swap' }],
      ['reintegrateHypervisor', { cluster: 'ocean', host: 'worker3', dryRun: true, requestedBy: 'alice' }],
      ['failback', { cluster: 'ocean', dryRun: true, maxMoves: 4 }],
      ['clusterShutdown', { cluster: 'ocean', dryRun: true, requestedBy: 'alice', reason: 'power maintenance' }],
      ['clusterStartup', { cluster: 'ocean', dryRun: true, vms: ['ns1', 'ns2', 'i0conf1'], requestedBy: 'alice' }],
    ];
    for (const [type, input] of inputs) {
      const workflowId = `cli-${type}-${randomUUID().slice(0, 8)}`;
      // As an operator types it (plus --address for the test server).
      execFileSync(
        temporal,
        [
          'workflow',
          'start',
          '--address',
          inject('temporalAddress'),
          '--namespace',
          testNamespace(),
          '--type',
          type,
          '--task-queue',
          h.taskQueue,
          '--workflow-id',
          workflowId,
          '--input',
          JSON.stringify(input),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const handle = h.client.workflow.getHandle(workflowId);
      started.push(handle);
      const result = await resultWithin<Record<string, unknown>>(handle, 30_000);
      expect(result, type).toMatchObject(type === 'clusterStatus' ? { cluster: 'ocean' } : { dryRun: true });
    }
  });

  it("shows what hvflow's CLI and the procedure write as written: <check>-unsafe in the details, a dry run's failed checks", async () => {
    // Started as `hvflow plan evacuate top2` starts it (its static details list the gates).
    const spec = procedureByWorkflowType('evacuateHypervisor')!;
    const input = { cluster: 'ocean', host: 'top2', requestedBy: 'alice' };
    const o = startOptions(spec, input, 'ocean', { dryRun: true });
    const workflowId = `ui-plan-top2-${randomUUID().slice(0, 8)}`;
    h.lab.faults.slowHeal('volspoms1', 3, 0);
    try {
      const handle = await h.client.workflow.start('evacuateHypervisor', {
        taskQueue: h.taskQueue,
        workflowId,
        args: [{ ...input, dryRun: true }],
        memo: o.memo,
        staticSummary: o.staticSummary,
        staticDetails: o.staticDetails,
      });
      started.push(handle);
      await resultWithin(handle, 30_000);
    } finally {
      h.lab.faults.slowHeal('volspoms1', 0, 0);
    }
    await page.goto(`${ui}/namespaces/${testNamespace()}/workflows/${workflowId}`);
    await status('Completed').waitFor();
    expect(await currentDetails('Gates:')).toMatch(/<check>-unsafe \(retry \/ override \(with a reason\) \/ abort\); <step>-failed \(retry \/ skip \/ abort\)/);
    const details = await currentDetails('safety check(s) failed');
    expect(details).toContain('check-gluster-unsafe: volspoms1: 9 heal entries pending');
  });

  it('finds the evacuation waiting for approval, approves it with the approve signal, sees it complete', async () => {
    const workflowId = `ui-evacuate-worker3-${randomUUID().slice(0, 8)}`;
    const handle = await h.client.workflow.start('evacuateHypervisor', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{ cluster: 'ocean', host: 'worker3', requestedBy: 'alice', reason: 'BMC firmware upgrade' }],
    });
    started.push(handle);
    await waitForProgress(handle, gateWaiting('approve-evacuation'));

    // The list, filtered as the README says: what waits for an operator.
    await page.goto(`${ui}/namespaces/${testNamespace()}/workflows`);
    await page.getByTestId('toggle-manual-query').click();
    const query = page.getByTestId('manual-search-input');
    await query.fill('HvflowAwaitingApproval = true');
    await query.press('Enter');
    const link = page.getByRole('link', { name: workflowId, exact: true });
    await eventually('the waiting procedure in the filtered list', async () => {
      if (await link.isVisible()) return true;
      await query.press('Enter'); // visibility may lag the search-attribute update by a moment
      return false;
    });
    expect(page.url()).toContain('query=HvflowAwaitingApproval');
    const row = page.getByRole('row').filter({ has: link });
    await expect(row.innerText()).resolves.toMatch(/Running[\s\S]*evacuateHypervisor/);

    // Its page: running, and the current details show the gate and the steps.
    await link.click();
    await status('Running').waitFor();
    const waiting = await currentDetails('Waiting at gate');
    expect(waiting).toContain('evacuateHypervisor worker3 on cluster ocean — phase: awaiting approval');
    expect(waiting).toMatch(/Waiting at gate approve-evacuation: Evacuate worker3: stop fleet \(2 unit\(s\)/);
    expect(waiting).toContain('Answer with: approve, reject');
    expect(waiting).toContain('✔ Safety: N+1, the other hypervisors have room for its weight — ok');
    expect(waiting).toContain('▶ Approval of the evacuation plan');
    expect(waiting).toContain('· Fleet shutdown: systemctl stop fleet, units fail over');

    // More Actions › Send a Signal › approve, with who and why.
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
    const dialog = page.locator('dialog[open][data-testid="signal-confirmation-modal"]');
    await dialog.waitFor();
    await dialog.getByTestId('signal-select-button').click();
    await dialog.getByRole('option', { name: 'approve', exact: true }).click();
    const payload = '{"by":"ui-operator","reason":"approved from the Web UI"}';
    const editor = dialog.locator('[contenteditable="true"][role="textbox"]');
    // The editor may still be settling when the dialog opens: type until it holds the payload.
    await eventually(
      'the signal payload in the dialog editor',
      async () => {
        await typeInEditor(editor, payload);
        return (await editor.innerText()).replace(/\s+/g, '') === payload.replace(/\s+/g, '');
      },
      10_000,
    );
    await dialog.getByTestId('confirm-modal-button').click();
    await dialog.waitFor({ state: 'hidden' });

    // The workflow received the decision (or said why it ignored it), then ran to completion:
    // checked through the client first, so a failure names the layer that failed.
    const decided = await waitForProgress(handle, (p) => p.ignored.length > 0 || p.gates.some((g) => g.name === 'approve-evacuation'), 30_000);
    expect(decided.ignored, 'signals the workflow ignored').toEqual([]);
    const r = await resultWithin(handle, 90_000);

    // The UI shows it completed (reloaded every few seconds: the page's own refresh is not awaited).
    await eventually(
      'status Completed in the UI',
      async () => {
        if (await status('Completed').isVisible()) return true;
        await page.reload();
        await page.locator('main header').waitFor();
        return false;
      },
      30_000,
    );
    const done = await currentDetails('phase: done');
    expect(done).toContain('phase: done');
    expect(done).not.toContain('Waiting at gate');
    expect(done).toMatch(/✔ Fleet shutdown on worker3: systemctl stop fleet, units fail over — .*(batch3|lb2) → /);
    expect(done).toContain('✔ Etcd shutdown on worker3: systemctl stop etcd');
    await page.screenshot({ path: path.join(RESULTS, 'web-ui-approved.png'), fullPage: true });

    // The decision is recorded with who and why, as sent from the UI.
    expect(r.gates.find((g) => g.name === 'approve-evacuation')).toMatchObject({ decision: 'approve', by: 'ui-operator', reason: 'approved from the Web UI' });

    // Nothing waits any more.
    await page.goto(`${ui}/namespaces/${testNamespace()}/workflows?query=${encodeURIComponent('HvflowAwaitingApproval = true')}`);
    await eventually('the procedure gone from the waiting list', async () => {
      await page.getByRole('table').first().waitFor();
      if (!(await link.isVisible())) return true;
      await page.reload();
      return false;
    });
  });
});
