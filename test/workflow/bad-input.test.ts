/**
 * Bad input, through the real server, as the Web UI or `temporal workflow start` could send it
 * (test/helpers/bad-input-corpus.ts): every case fails the procedure at once with a non-retryable
 * InvalidInput failure that names the field, and the lab's command log shows that no command reached
 * any host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startHarness, type Harness } from '../helpers/harness';
import { BAD_INPUTS } from '../helpers/bad-input-corpus';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/**
 * End to end: every case only the inventory refuses, and a sample of the schema's refusals, at least one
 * per procedure (the whole corpus is checked against the schemas in test/unit/bad-input.test.ts).
 */
const SAMPLE = new Set([
  'host with ;',
  'input as a string',
  'unknown field (a secret)',
  'requestedBy with a trailing space',
  'hosts nodeset with ;',
  'host with a pipe',
  'extra field',
  'an IPMI password in the input',
  'VM name with a newline',
  'exclude with a trailing space',
]);
for (const what of SAMPLE) if (!BAD_INPUTS.some(([, w]) => w === what)) throw new Error(`bad-input SAMPLE: no case "${what}" in the corpus`);
const CASES = BAD_INPUTS.filter(([, what, , , level]) => level === 'inventory' || SAMPLE.has(what));

describe('bad procedure input is rejected before anything reaches a host', () => {
  for (const [workflow, what, input, expected] of CASES) {
    it(`${workflow}: ${what}`, async () => {
      const before = h.lab.commandLog().length;
      const err = await h.client.workflow.execute(workflow, { taskQueue: h.taskQueue, workflowId: `bad-${randomUUID()}`, args: [input as never] }).then(
        () => undefined,
        (e) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('InvalidInput');
      expect((cause as ApplicationFailure).nonRetryable).toBe(true);
      expect(cause!.message).toMatch(expected);
      expect(h.lab.commandLog().slice(before)).toEqual([]);
    });
  }
});
