/**
 * Runs a real program for a stand-in: its stdout and stderr go to the SSH session as they come, its
 * exit status is the command's, and a session that goes away (cancellation) ends it.
 */
import type { ChildProcess } from 'node:child_process';
import type { ToolContext } from './types';

export function passthrough(ctx: ToolContext, child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => ctx.out(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => ctx.err(d));
    const onAbort = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', onAbort);
    child.on('error', (e) => {
      ctx.signal.removeEventListener('abort', onAbort);
      ctx.err(`${ctx.tool}: ${e.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}
