/** Runs a stand-in in-process (no socket, no SSH): for model-level tests and the CLI. */
import type { LabModel } from '../model';
import { TOOLS } from './index';
import type { ToolContext } from './types';

export async function runTool(
  model: LabModel,
  host: string,
  argv: string[],
  o: { env?: Record<string, string>; lab?: ToolContext['lab'] } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  const [tool, ...args] = argv;
  const entry = model.logStart(host, argv);
  const ctx: ToolContext = {
    host,
    tool,
    args,
    env: o.env ?? {},
    cwd: '/',
    model,
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    signal: new AbortController().signal,
    mutating: () => void (entry.mutating = true),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    lab: o.lab ?? { etcdctl: '/usr/bin/etcdctl', etcdEndpoints: {} },
  };
  const impl = TOOLS[tool];
  if (!impl) throw new Error(`no stand-in for ${tool}`);
  const code = await impl(ctx);
  entry.exitCode = code;
  return { stdout, stderr, code };
}
