/**
 * Recorded workflow histories (test/fixtures/histories/<set>/*.json): written by the recorder
 * (test/replay/record-histories.ts, `npm run record:histories`), replayed against the current
 * workflow code by test/workflow/replay.test.ts. A set is the histories of one release (default: the
 * package version; HVFLOW_HISTORY_SET names another): runs of that release may be parked when the
 * next is deployed, so its set stays until the README's rule lets the patches it needs go.
 *
 * One file per history: what it records, the workflow type and id (replay needs the id: histories do
 * not carry it), and the history as Temporal's proto JSON, one event per line so a re-recording
 * diffs event by event.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');

/** The set the recorder writes: HVFLOW_HISTORY_SET, else `v<package version>`. */
export function historySet(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const set = process.env.HVFLOW_HISTORY_SET ?? `v${pkg.version}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(set)) {
    throw new Error(`HVFLOW_HISTORY_SET: ${JSON.stringify(set)} must be a directory name (letters, digits, . _ -)`);
  }
  return set;
}

/** Empties (or creates) a set's directory before it is recorded again. */
export function clearHistorySet(set: string): string {
  const dir = path.join(HISTORIES_DIR, set);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.json')) rmSync(path.join(dir, f));
  return dir;
}

export interface RecordedHistory {
  /** `<set>/<file name without .json>`. */
  name: string;
  /** What the history shows: the scenario, the gates and how they were answered. */
  scenario: string;
  workflowType: string;
  workflowId: string;
  history: History;
}

export function writeHistory(r: RecordedHistory): string {
  const { events = [] } = JSON.parse(historyToJSON(r.history)) as { events?: unknown[] };
  const head = JSON.stringify({ scenario: r.scenario, workflowType: r.workflowType, workflowId: r.workflowId });
  const body = events.map((e) => JSON.stringify(e)).join(',\n');
  const file = path.join(HISTORIES_DIR, `${r.name}.json`);
  writeFileSync(file, `${head.slice(0, -1)},"history":{"events":[\n${body}\n]}}\n`);
  return file;
}

/** Every history of every set (or of the directory given), sorted by name. */
export function readHistories(dir = HISTORIES_DIR): RecordedHistory[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const raw = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Omit<RecordedHistory, 'name' | 'history'> & { history: unknown };
      return { ...raw, name: f.replace(/\.json$/, ''), history: historyFromJSON(raw.history) };
    });
}
