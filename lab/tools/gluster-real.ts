/**
 * The GlusterFS commands of a host in the lab's real-GlusterFS mode (`startLab({ gluster: 'real' })`):
 * the real `gluster`, `umount`, `pkill` and stop-all-gluster-processes.sh run inside the host's
 * namespaces (lab/gluster-real.ts), so what they print and do is GlusterFS 10's own. Hosts outside
 * the real pool (islets) keep the simulated tools.
 */
import { STOP_ALL_SCRIPT, type RealGluster } from '../gluster-real';
import { passthrough } from './passthrough';
import { takeFlags, type Tool, type ToolContext } from './types';

/** The real pool, when this host is part of it. */
export function realGlusterOf(ctx: ToolContext): RealGluster | undefined {
  const g = ctx.lab.gluster;
  return g?.has(ctx.host) ? g : undefined;
}

/** Read-only gluster invocations; anything else asks glusterd to change something. */
function glusterReadOnly(args: string[]): boolean {
  const [group, verb, , sub] = takeFlags(args, []).rest;
  if (group === 'pool' || (group === 'peer' && verb === 'status')) return true;
  if (group !== 'volume') return group === undefined || group === 'help';
  if (['info', 'status', 'list', 'get', 'top', 'help'].includes(verb ?? '')) return true;
  if (verb === 'heal') return sub === 'info' || sub === 'statistics';
  if (verb === 'rebalance' || verb === 'tier') return sub === 'status';
  return false;
}

const real =
  (argv: (ctx: ToolContext) => string[], mutating: (ctx: ToolContext) => boolean, after?: (ctx: ToolContext, code: number) => void): Tool =>
  async (ctx) => {
    const g = realGlusterOf(ctx)!;
    if (mutating(ctx)) ctx.mutating();
    const code = await passthrough(ctx, g.spawn(ctx.host, argv(ctx)));
    after?.(ctx, code);
    return code;
  };

export const glusterReal = real(
  (ctx) => ['gluster', ...ctx.args],
  (ctx) => !glusterReadOnly(ctx.args),
);

export const umountReal = real(
  (ctx) => ['umount', ...ctx.args],
  () => true,
  // the model follows, for the lab's own views (who mounts what)
  (ctx, code) => code === 0 && ctx.args.includes('fuse.glusterfs') && void ctx.model.unmountAll(ctx.host),
);

export const pkillReal = real(
  (ctx) => ['pkill', ...ctx.args],
  () => true,
);

export const stopAllGlusterReal = real(
  (ctx) => ['bash', STOP_ALL_SCRIPT, ...ctx.args],
  () => true,
);
