/**
 * The hostile-input corpus (test/helpers/bad-input-corpus.ts) against the procedure input schemas the
 * workflows validate with (workflows/validate.ts): every case is refused with a message naming the
 * field and the reason. The few only the inventory can refuse pass the schema and run end to end
 * (test/workflow/bad-input.test.ts), like a sample of the others.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, procedureInputSchemas, validateInput } from '../../domain/procedure-inputs';
import { BAD_INPUTS } from '../helpers/bad-input-corpus';

const refusal = (workflow: keyof typeof procedureInputSchemas, input: unknown): unknown => {
  try {
    validateInput(procedureInputSchemas[workflow], input);
    return undefined;
  } catch (e) {
    return e;
  }
};

describe('bad procedure input is refused by the input schema', () => {
  for (const [workflow, what, input, expected, level] of BAD_INPUTS) {
    if (level === 'inventory') {
      it(`${workflow}: ${what} (passes the schema: only the inventory refuses it, end to end)`, () => {
        expect(refusal(workflow, input)).toBeUndefined();
      });
      continue;
    }
    it(`${workflow}: ${what}`, () => {
      const err = refusal(workflow, input);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as Error).message).toMatch(expected);
    });
  }
});
