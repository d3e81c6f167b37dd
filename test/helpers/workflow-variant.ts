/**
 * A workflow bundle built from a copy of workflows/ with edits: the next release's workflow code,
 * for the upgrade test. The copy sits in a temporary directory beside links to the repository's
 * domain/, activities/ and node_modules/, so its imports resolve as the original's do.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows } from '../../worker/create-worker';

const REPO = path.join(__dirname, '..', '..');

/** One edit of a file of workflows/: `find` must occur exactly once. */
export interface WorkflowEdit {
  file: string;
  find: string;
  replace: string;
}

export async function bundleWorkflowVariant(edits: WorkflowEdit[]): Promise<WorkflowBundleWithSourceMap> {
  const root = mkdtempSync(path.join(tmpdir(), 'hvflow-workflows-'));
  try {
    cpSync(path.join(REPO, 'workflows'), path.join(root, 'workflows'), { recursive: true });
    for (const dir of ['domain', 'activities', 'node_modules']) symlinkSync(path.join(REPO, dir), path.join(root, dir));
    for (const e of edits) {
      const file = path.join(root, 'workflows', e.file);
      const text = readFileSync(file, 'utf8');
      const at = text.indexOf(e.find);
      if (at < 0 || text.indexOf(e.find, at + 1) >= 0) {
        throw new Error(`workflows/${e.file}: the edit's text must occur exactly once: ${JSON.stringify(e.find)}`);
      }
      writeFileSync(file, text.slice(0, at) + e.replace + text.slice(at + e.find.length));
    }
    return await bundleWorkflows({ workflowsPath: path.join(root, 'workflows', 'index.ts') });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
