/**
 * One real Temporal dev server (CLI 1.5.1, Server 1.29.1) for the whole integration run, with the
 * Web UI on (the e2e test drives it) and hvflow's search attributes registered. It listens on
 * loopback only and is stopped when the run ends.
 *
 * And the workflow bundle, built once for the run (it takes 6-19 s) while the server starts, with the
 * tests' timing interceptor: the harness's workers and the worker processes the tests spawn
 * (HVFLOW_WORKFLOW_BUNDLE, inherited from this process's environment) all load this file.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevServer } from '../scripts/temporal-dev-server';
import { bundleWorkflows } from '../worker/create-worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalDbFile: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hvflow-temporal-'));
  const port = 17233 + Math.floor(Math.random() * 500);
  const dbFile = path.join(dir, 'temporal.db');
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const [server] = await Promise.all([
    startDevServer({
      port,
      uiPort: port + 1000,
      dbFilename: dbFile,
      logFile: openSync(path.join(dir, 'server.log'), 'a'),
    }),
    bundleWorkflows({ workflowInterceptorModules: [path.join(__dirname, 'helpers', 'fast-timing-interceptor.ts')] }).then((b) => writeFileSync(bundlePath, b.code)),
  ]);
  process.env.HVFLOW_WORKFLOW_BUNDLE = bundlePath;
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl!);
  project.provide('temporalDbFile', dbFile);
  return async () => {
    await server.stop();
  };
}
