/**
 * One real Temporal dev server (CLI 1.5.1, Server 1.29.1) for the whole run, with the Web UI on (the
 * e2e test drives it), hvflow's search attributes registered and one namespace per vitest worker
 * (test/helpers/worker-slot.ts). It listens on loopback only and is stopped when the run ends.
 *
 * And the workflow bundle, built once for the run (it takes 6-19 s) while the server starts, with the
 * tests' timing interceptor: the harness's workers and the worker processes the tests spawn
 * (HVFLOW_WORKFLOW_BUNDLE, inherited from this process's environment) all load this file.
 *
 * And a temporary directory of the run's own, made TMPDIR for every process of the run (inherited
 * like the bundle's path): the labs, the extra Temporal servers and the server's database live in
 * it, so the audit checks what this run left, not what another run on the machine is using.
 *
 * The integration and audit projects both list this file; the second call shares what the first
 * started (both run in vitest's main process), and the last teardown stops it.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevServer } from '../scripts/temporal-dev-server';
import { bundleWorkflows } from '../worker/create-worker';
import { DEFAULT_FIRST_LAB_NET, labNetFor, testNamespace } from './helpers/worker-slot';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    workflowBundlePath: string;
    /** HVFLOW_LAB_NET as given to the run: vitest worker 1's loopback block. */
    firstLabNet: string;
    /** The run's TMPDIR. */
    runDir: string;
  }
}

interface Suite {
  context: { temporalAddress: string; temporalUiUrl: string; workflowBundlePath: string; firstLabNet: string; runDir: string };
  stop(): Promise<void>;
  users: number;
}
const shared = globalThis as { hvflowSuite?: Promise<Suite> };

async function startSuite(maxWorkers: number): Promise<Suite> {
  const firstLabNet = process.env.HVFLOW_LAB_NET || DEFAULT_FIRST_LAB_NET;
  labNetFor(maxWorkers, firstLabNet); // every worker's block exists, or say so now
  const runDir = mkdtempSync(path.join(tmpdir(), 'hvflow-run-'));
  process.env.TMPDIR = runDir;
  const dir = mkdtempSync(path.join(runDir, 'hvflow-temporal-'));
  const port = 17233 + Math.floor(Math.random() * 500);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const [server] = await Promise.all([
    startDevServer({
      port,
      uiPort: port + 1000,
      dbFilename: path.join(dir, 'temporal.db'),
      logFile: openSync(path.join(dir, 'server.log'), 'a'),
      namespaces: Array.from({ length: maxWorkers }, (_, i) => testNamespace(i + 1)),
    }),
    bundleWorkflows({ workflowInterceptorModules: [path.join(__dirname, 'helpers', 'fast-timing-interceptor.ts')] }).then((b) =>
      writeFileSync(bundlePath, b.code),
    ),
  ]);
  process.env.HVFLOW_WORKFLOW_BUNDLE = bundlePath;
  return {
    context: { temporalAddress: server.address, temporalUiUrl: server.uiUrl!, workflowBundlePath: bundlePath, firstLabNet, runDir },
    stop: () => server.stop(),
    users: 0,
  };
}

export default async function setup(project: TestProject) {
  const suite = await (shared.hvflowSuite ??= startSuite(project.vitest.config.maxWorkers));
  suite.users++;
  for (const [key, value] of Object.entries(suite.context)) project.provide(key as keyof Suite['context'], value);
  return async () => {
    if (--suite.users === 0) await suite.stop();
  };
}
