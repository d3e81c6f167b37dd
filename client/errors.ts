/**
 * Exit codes of the hvflow CLI. Scripts rely on these numbers: they are listed in `hvflow --help`.
 */
// No Temporal import here: `--help` and usage errors must not load the SDK (client/classify.ts maps SDK errors).

export const ExitCode = {
  OK: 0,
  /** The procedure failed, was rejected or aborted (or, for `status`, is in that state); a dry run's plan is unsafe (a check failed). */
  FAILED: 1,
  /** Bad usage or input: unknown option, invalid name, decision refused by the gate. Nothing was changed. */
  USAGE: 2,
  /** The cluster is busy: another procedure holds its lock. Nothing was started. */
  BUSY: 3,
  /** Cannot connect to the Temporal server. */
  CONNECT: 4,
  /** No such workflow, schedule or waiting procedure. */
  NOT_FOUND: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `Exit codes:
  0  ok (a started procedure may be waiting at a gate: see its status)
  1  the procedure failed, was rejected or aborted; or the plan of a dry run is unsafe (a check failed)
  2  bad usage or input (the message names the field); nothing was changed
  3  the cluster is busy: another procedure holds its lock; nothing was started
  4  cannot connect to the Temporal server
  5  not found (workflow, schedule, or no procedure waiting)`;

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string, details?: unknown) => new CliError(ExitCode.USAGE, message, details);
export const notFound = (message: string, details?: unknown) => new CliError(ExitCode.NOT_FOUND, message, details);

/** The innermost meaningful message of a Temporal failure chain. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 10 && e instanceof Error; i++) {
    const cause = (e as { cause?: unknown }).cause;
    if (!(cause instanceof Error)) break;
    e = cause;
  }
  return e instanceof Error ? e.message : String(e);
}
