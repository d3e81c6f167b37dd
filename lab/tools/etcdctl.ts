/** etcdctl: logged, then the REAL etcdctl runs (against the lab's real etcd members). */
import { spawn } from 'node:child_process';
import { etcdCleanEnv } from '../etcd';
import { passthrough } from './passthrough';
import type { Tool } from './types';

const MUTATING = new Set(['set', 'mk', 'rm', 'rmdir', 'mkdir', 'update', 'put', 'del', 'member', 'backup', 'snapshot']);

export const etcdctl: Tool = (ctx) => {
  if (ctx.args.some((a) => MUTATING.has(a))) ctx.mutating();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) if (k.startsWith('ETCDCTL_')) env[k] = v;
  return passthrough(ctx, spawn(ctx.lab.etcdctl, ctx.args, { env: etcdCleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
};
