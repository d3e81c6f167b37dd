/**
 * Upgrading hvflow must not break procedures in flight: every recorded history
 * (test/fixtures/histories/, `npm run record:histories`) replays against the current workflow code.
 * A change that would give a parked procedure a non-determinism error on the new worker fails here;
 * guard it with patched() (README, "Upgrading hvflow").
 */
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/harness';
import { readHistories } from '../helpers/histories';
import * as workflows from '../../workflows';

const histories = readHistories();

describe('recorded histories replay against the current workflow code', () => {
  it('has histories of every workflow type the worker registers', () => {
    expect([...new Set(histories.map((h) => h.workflowType))].sort()).toEqual(Object.keys(workflows).sort());
  });

  it('replays each of them without a non-determinism error', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
    );
    const failures: string[] = [];
    let replayed = 0;
    // Results come in the order of the histories (a parked history and the complete one share an id).
    for await (const r of results) {
      const h = histories[replayed++]!;
      expect(r.workflowId).toBe(h.workflowId);
      if (r.error) failures.push(`${h.name} (${h.scenario}): ${r.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  });
});
