/**
 * The host's view of its GlusterFS client mounts: `findmnt -rn -t fuse.glusterfs -o TARGET,SOURCE`
 * (util-linux 2.38 raw output: test/fixtures/findmnt) and `mount -a -t glusterfs`, which mounts the
 * fstab's GlusterFS entries not mounted yet (the lab's fstab: every volume on every client host, as
 * topology.glusterClients says). In real-GlusterFS mode both act on the host's real FUSE mounts.
 */
import { realGlusterOf } from './gluster-real';
import { passthrough } from './passthrough';
import { storageName } from './gluster';
import type { Tool } from './types';

/** Where the simulated fstab mounts a volume. */
export const mountPoint = (volume: string) => `/mnt/${volume}`;

export const findmnt: Tool = async (ctx) => {
  const real = realGlusterOf(ctx);
  if (real) return passthrough(ctx, real.spawn(ctx.host, ['findmnt', ...ctx.args]));
  if (ctx.args.join(' ') !== '-rn -t fuse.glusterfs -o TARGET,SOURCE') {
    ctx.err('findmnt: the lab simulates only `findmnt -rn -t fuse.glusterfs -o TARGET,SOURCE`\n');
    return 1;
  }
  const m = ctx.model.machine(ctx.host);
  const lines: string[] = [];
  for (const v of ctx.model.volumes.values()) {
    if (!m.glusterfs || !m.mounts.has(v.name)) continue;
    lines.push(`${mountPoint(v.name)} ${storageName({ name: v.bricks[0]!.host })}:/${v.name}`);
  }
  if (!lines.length) return 1;
  ctx.out(lines.map((l) => `${l}\n`).join(''));
  return 0;
};

export const mount: Tool = async (ctx) => {
  if (ctx.args.join(' ') !== '-a -t glusterfs') {
    ctx.err('mount: the lab simulates only `mount -a -t glusterfs`\n');
    return 1;
  }
  ctx.mutating();
  const real = realGlusterOf(ctx);
  if (real) {
    await real.mountAll(ctx.host);
    ctx.model.mountClient(ctx.host);
    return 0;
  }
  // mount.glusterfs fetches the volfile from a server: a volume that is not started cannot mount.
  const failed = ctx.model.mountClient(ctx.host);
  for (const v of failed) ctx.err(`Mount failed. Check the log file /var/log/glusterfs/mnt-${v}.log for more details.\n`);
  return failed.length ? 32 : 0;
};
