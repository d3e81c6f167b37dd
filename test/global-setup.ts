/**
 * One real Temporal dev server (CLI 1.5.1, Server 1.29.1) for the whole integration run, with the
 * Web UI on (the e2e test drives it) and hvflow's search attributes registered. It listens on
 * loopback only and is stopped when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevServer } from '../scripts/temporal-dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalDbFile: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hvflow-temporal-'));
  const port = 17233 + Math.floor(Math.random() * 500);
  const dbFile = path.join(dir, 'temporal.db');
  const server = await startDevServer({
    port,
    uiPort: port + 1000,
    dbFilename: dbFile,
    logFile: openSync(path.join(dir, 'server.log'), 'a'),
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl!);
  project.provide('temporalDbFile', dbFile);
  return async () => {
    await server.stop();
  };
}
