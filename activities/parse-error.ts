// Errors shared by the pure output parsers (activities/*-parse.ts).
//
// The parsers are pure (no Node API, no I/O) so that workflows may reuse them
// inside the Temporal sandbox. Two error classes, on purpose:
//
// - ParseError: the text is not what the tool prints (unknown line, missing
//   column, truncated output...). Never swallowed into a partial result.
// - ToolError: the text is understood and is the tool reporting a failure
//   (glusterd unreachable, BMC session failure, volume does not exist...).
//   `code` lets an activity classify it (retryable or not) without matching
//   message strings itself.

import { FAILURE } from '../domain/contract';

export class ParseError extends Error {
  readonly tool: string;
  /** The offending line, verbatim, when the problem is tied to one line. */
  readonly line?: string;

  constructor(tool: string, message: string, line?: string) {
    super(line === undefined ? `${tool}: ${message}` : `${tool}: ${message}: ${JSON.stringify(line)}`);
    this.name = FAILURE.parseError;
    this.tool = tool;
    this.line = line;
  }
}

export class ToolError extends Error {
  readonly tool: string;
  /** Stable, parser-defined classification (e.g. 'glusterd-unreachable', 'session'). */
  readonly code: string;
  /** The tool's own message, verbatim (several lines joined with '\n'). */
  readonly toolMessage: string;

  constructor(tool: string, code: string, toolMessage: string) {
    super(`${tool}: ${code}: ${toolMessage}`);
    this.name = FAILURE.toolError;
    this.tool = tool;
    this.code = code;
    this.toolMessage = toolMessage;
  }
}

/**
 * Split command output into lines: '\n' separated, a final newline does not
 * make an extra empty line, a trailing '\r' (pty) is dropped. Several
 * streams (stdout, stderr) are concatenated in the given order.
 */
export function outputLines(...texts: string[]): string[] {
  const lines: string[] = [];
  for (const text of texts) {
    if (text === '') continue;
    const parts = text.split('\n');
    if (parts[parts.length - 1] === '') parts.pop();
    for (const p of parts) lines.push(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
  return lines;
}

/** Parse a non-negative decimal integer that must fit a JS safe integer. */
export function parseCount(tool: string, what: string, text: string, line?: string): number {
  if (!/^\d+$/.test(text)) throw new ParseError(tool, `${what} is not a non-negative integer`, line ?? text);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new ParseError(tool, `${what} is out of range`, line ?? text);
  return n;
}
