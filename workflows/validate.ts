/** Workflow-side input validation: a bad input fails the procedure at once, before any activity. */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { InvalidInputError, procedureInputSchemas, validateInput, type ProcedureName } from '../domain/procedure-inputs';
import { FAILURE } from '../domain/contract';

export function validated<N extends ProcedureName>(name: N, input: unknown): z.output<(typeof procedureInputSchemas)[N]> {
  try {
    return validateInput(procedureInputSchemas[name], input) as z.output<(typeof procedureInputSchemas)[N]>;
  } catch (e) {
    if (e instanceof InvalidInputError) throw ApplicationFailure.nonRetryable(e.message, FAILURE.invalidInput, ...e.issues);
    throw e;
  }
}

/**
 * Runs a pure check against the inventory (a host that must be a hypervisor, a nodeset that must
 * resolve). Its error becomes a non-retryable InvalidInput failure of the procedure: a plain Error
 * thrown by workflow code would only fail the workflow task and retry it forever.
 */
export function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ApplicationFailure) throw e;
    throw ApplicationFailure.nonRetryable(e instanceof Error ? e.message : String(e), FAILURE.invalidInput);
  }
}
