/** The local GlusterFS process tools: umount -t fuse.glusterfs -a, pkill glusterfs[d], stop-all-gluster-processes.sh. */
import { brickPid, shdPid } from './gluster';
import { takeFlags, type Tool } from './types';

export const umount: Tool = async (ctx) => {
  const { flags } = takeFlags(ctx.args, ['t']);
  if (!flags.has('a') || flags.get('t') !== 'fuse.glusterfs') {
    ctx.err('umount: the lab simulates only `umount -t fuse.glusterfs -a`\n');
    return 32;
  }
  ctx.mutating();
  ctx.model.unmountAll(ctx.host);
  return 0;
};

export const pkill: Tool = async (ctx) => {
  const { rest } = takeFlags(ctx.args, []);
  const pattern = rest[0] ?? '';
  ctx.mutating();
  const m = ctx.model.machine(ctx.host);
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    ctx.err(`pkill: invalid regular expression\n`);
    return 2;
  }
  // process names as ps shows them; pkill matches the pattern anywhere in the name
  const procs = [
    { name: 'glusterfsd', on: m.glusterfsd, kill: () => ctx.model.stopBricks(ctx.host) },
    { name: 'glusterfs', on: m.glusterfs, kill: () => ctx.model.killGlusterfs(ctx.host) },
    { name: 'glusterd', on: m.glusterd, kill: () => ctx.model.stopGlusterd(ctx.host) },
  ].filter((p) => p.on && re.test(p.name));
  for (const p of procs) p.kill();
  return procs.length ? 0 : 1;
};

/**
 * /usr/share/glusterfs/scripts/stop-all-gluster-processes.sh [-g] (glusterfs extras/): with -g
 * (graceful) it first asks the local glusterd whether a rebalance runs (exit 64) or heal entries
 * are pending (exit 65) — with glusterd stopped, as seed 000 does first, every check finds nothing.
 * Then SIGTERM to each FUSE mount process ("sending SIGTERM to mount process with pid: N") and to
 * each pid file of /var/run/gluster (bricks, self-heal daemon: "sending SIGTERM to pid: N"), a
 * blank line after its `sleep 5` (not waited for here), and a SIGKILL pass that finds nothing left.
 */
export const stopAllGluster: Tool = async (ctx) => {
  const model = ctx.model;
  const m = model.machine(ctx.host);
  const opts = ctx.args
    .filter((a) => a.startsWith('-'))
    .join('')
    .replace(/-/g, '');
  for (const o of opts) {
    if (o !== 'g') {
      ctx.out(
        `Usage: ${ctx.tool} [-g] [-h]\n    options:\n    -g  Terminate in graceful mode\n    -h  Show this message, then exit\n\neg:\n 1. ${ctx.tool}\n 2. ${ctx.tool} -g\n`,
      );
      return o === 'h' ? 0 : 127;
    }
    if (m.glusterd) {
      for (const v of model.volumes.values()) {
        if (v.status === 'Started' && v.rebalance === 'in progress' && v.bricks.length > v.replica) return 64;
        if (v.status === 'Started' && model.healEntries(v.name).some((b) => b.up && b.entries > 0)) return 65;
      }
    }
  }
  ctx.mutating();
  const index = [...model.machines.keys()].indexOf(ctx.host);
  const vols = [...model.volumes.values()];
  const lines: string[] = [];
  if (m.glusterfs) vols.forEach((v, i) => m.mounts.has(v.name) && lines.push(`sending SIGTERM to mount process with pid: ${5000 + index * 20 + i}`));
  if (m.glusterfsd)
    vols.forEach(
      (v, i) => v.status === 'Started' && v.bricks.some((b) => b.host === ctx.host) && lines.push(`sending SIGTERM to pid: ${brickPid(model, ctx.host, i)}`),
    );
  // the self-heal daemon runs on a server of a started replicated volume
  const shd = vols.some((v) => v.status === 'Started' && v.type === 'replicate' && v.bricks.some((b) => b.host === ctx.host));
  if (m.glusterfs && shd) lines.push(`sending SIGTERM to pid: ${shdPid(model, ctx.host)}`);
  model.stopBricks(ctx.host);
  model.killGlusterfs(ctx.host);
  ctx.out(lines.map((l) => `${l}\n`).join('') + '\n');
  return 0;
};
