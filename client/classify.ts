/**
 * Maps any error (SDK, gRPC, input validation) to a CliError with the exit code scripts expect.
 * Kept apart from errors.ts so that `--help` and usage errors never load the Temporal SDK.
 */
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, ScheduleNotFoundError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { InvalidInputError } from '../domain/procedure-inputs';
import { InvalidNameError } from '../domain/names';
import { FAILURE } from '../domain/contract';
import { CliError, ExitCode, failureMessage, notFound, usage } from './errors';

/** The ApplicationFailure type at the root of a failure chain, if any. */
export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  let type: string | undefined;
  for (let i = 0; i < 10 && e instanceof Error; i++) {
    if (e instanceof ApplicationFailure && e.type) type = e.type;
    e = (e as { cause?: unknown }).cause;
  }
  return type;
}

// gRPC status codes (grpc-js `status`), without depending on grpc-js directly.
const GRPC = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** Maps any error to a CliError with the exit code scripts expect. */
export function classify(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof InvalidInputError) return usage(err.message, { issues: err.issues });
  if (err instanceof InvalidNameError) return usage(err.message);
  if (err instanceof WorkflowNotFoundError) return notFound(`workflow ${err.workflowId} not found`);
  if (err instanceof ScheduleNotFoundError) return notFound(`schedule ${err.scheduleId} not found`);
  if (err instanceof WorkflowUpdateFailedError) return usage(`refused: ${failureMessage(err)}`);
  if (err instanceof WorkflowFailedError) {
    const busy = failureType(err) === FAILURE.clusterBusy;
    return new CliError(busy ? ExitCode.BUSY : ExitCode.FAILED, failureMessage(err));
  }
  if (isGrpcServiceError(err)) {
    const details = err.details || err.message;
    switch (err.code) {
      case GRPC.UNAVAILABLE:
      case GRPC.UNAUTHENTICATED:
        return new CliError(ExitCode.CONNECT, `cannot reach the Temporal server: ${details}`);
      case GRPC.NOT_FOUND:
        return notFound(details);
      case GRPC.INVALID_ARGUMENT:
      case GRPC.ALREADY_EXISTS:
        return usage(details);
      default:
        return new CliError(ExitCode.FAILED, details);
    }
  }
  const inner = (err as { cause?: unknown })?.cause;
  if (inner && isGrpcServiceError(inner)) return classify(inner);
  if (err instanceof TemporalFailure) return new CliError(ExitCode.FAILED, failureMessage(err));
  return new CliError(ExitCode.FAILED, err instanceof Error ? err.message : String(err));
}
