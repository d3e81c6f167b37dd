/**
 * Whether a start-up can go on without some hosts: what an operator's `skip` at a power-on or
 * `host-not-back` gate would mean. Skipping is offered only where the rest of the procedure can
 * run, and check, without them; each reason says why not.
 *
 * Pure module: no Node APIs, workflows import it.
 */
import { etcdMembers, glusterServers, type Inventory } from './inventory';
import { quorumSize } from './quorum';
import { listNames } from './cluster';

/** Why the start-up cannot go on without `hosts` (with `alreadyOut` left out before); empty when it can. */
export function reasonsNotToGoOnWithout(inv: Inventory, hosts: string[], alreadyOut: string[] = []): string[] {
  const reasons: string[] = [];
  if (hosts.includes(inv.controlHost)) {
    reasons.push(
      `${inv.controlHost} is the control host: the start-up runs its cluster-wide commands there (to start without it, name another controlHost in the inventory)`,
    );
  }
  const servers = glusterServers(inv).filter((h) => hosts.includes(h));
  if (servers.length) {
    const volumes = (inv.gluster?.volumes ?? []).map((v) => v.name);
    reasons.push(
      `${listNames(servers)} ${servers.length > 1 ? 'serve' : 'serves'} GlusterFS bricks (${volumes.join(', ')}): the start-up checks the peers and heals the volumes with every server up`,
    );
  }
  const members = etcdMembers(inv);
  const out = new Set([...hosts, ...alreadyOut]);
  const left = members.filter((m) => !out.has(m));
  const quorum = quorumSize(members.length);
  if (members.length && left.length < quorum) {
    reasons.push(
      `without ${listNames(members.filter((m) => out.has(m)))}, ${left.length} of ${members.length} etcd members are left, below the quorum of ${quorum}: fleet cannot run`,
    );
  }
  return reasons;
}
