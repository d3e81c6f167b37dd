/** Tool name (as the symlink in a host's bin dir is named) -> stand-in. */
import { etcdctl } from './etcdctl';
import { fleetctl } from './fleetctl';
import { fping } from './fping';
import { getent } from './getent';
import { hostnamectl } from './hostnamectl';
import { gluster } from './gluster';
import { glusterReal, pkillReal, realGlusterOf, stopAllGlusterReal, umountReal } from './gluster-real';
import { pkill, stopAllGluster, umount } from './glusterprocs';
import { ipmitool } from './ipmitool';
import { findmnt, mount } from './mounts';
import { pcocc } from './pcocc';
import { nodectrl, poweroff, systemdRun } from './power';
import { systemctl } from './systemctl';
import type { Tool } from './types';
import { labHook } from './hook';
import { xe } from './xe';

/** The real GlusterFS tool on a host of the real pool, the simulated one elsewhere. */
const realOr =
  (realTool: Tool, simulated: Tool): Tool =>
  (ctx) =>
    realGlusterOf(ctx) ? realTool(ctx) : simulated(ctx);

export const TOOLS: Record<string, Tool> = {
  fleetctl,
  systemctl,
  hostnamectl,
  gluster: realOr(glusterReal, gluster),
  pcocc,
  ipmitool,
  nodectrl,
  poweroff,
  umount: realOr(umountReal, umount),
  pkill: realOr(pkillReal, pkill),
  fping,
  etcdctl,
  'stop-all-gluster-processes.sh': realOr(stopAllGlusterReal, stopAllGluster),
  'systemd-run': systemdRun,
  getent,
  findmnt,
  mount,
  xe,
  'lab-hook': labHook,
};

/** What a Xen pool's host runs: xe and the generic tools (no fleet, pcocc, GlusterFS or etcd). */
export const XEN_HOST_TOOLS = ['xe', 'ipmitool', 'fping', 'getent', 'poweroff', 'systemd-run'];
