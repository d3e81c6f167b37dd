/**
 * A host's own readiness to run VMs: the daemons that should run on it (etcd on a member, glusterd
 * on a GlusterFS server) and its GlusterFS client mounts (VM images live there). Seed 000: "GlusterFS
 * and etcd daemon starts at boot time" — a host evacuated and brought back without a reboot has
 * neither, and a VM started there would find no image.
 *
 *   systemctl is-active etcd glusterd                 one state per unit
 *   findmnt -rn -t fuse.glusterfs -o TARGET,SOURCE    the mounted volumes (exit 1: none)
 *   systemctl start etcd glusterd; mount -a -t glusterfs   (the host's fstab says where)
 */
import { etcdMembers, glusterClients, glusterServers, type Inventory } from '../domain/inventory';
import { parseFindmntGlusterMounts } from './findmnt-parse';
import { parseSystemctlIsActive } from './systemd-parse';
import { expectSuccess } from './ssh';
import { parsed, runOn, type ToolContext } from './remote';
import { eachHostOfActivity, hostsFailure } from './each-host';

export interface HostReadiness {
  host: string;
  /** The daemons the inventory says run on the host, with their state. */
  services: { service: string; state: string }[];
  /** Volumes the host mounts now. */
  mounted: string[];
  /** Daemons that should run and do not. */
  servicesDown: string[];
  /** Volumes the host should mount and does not. */
  mountsMissing: string[];
  ready: boolean;
}

/** The daemons and mounts the inventory expects on `host`. */
export function expectedOn(inv: Inventory, host: string): { services: string[]; volumes: string[] } {
  const services = [...(etcdMembers(inv).includes(host) ? ['etcd'] : []), ...(glusterServers(inv).includes(host) ? ['glusterd'] : [])];
  const volumes = glusterClients(inv).includes(host) ? (inv.gluster?.volumes ?? []).map((v) => v.name) : [];
  return { services, volumes };
}

export function hostServicesActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  async function readiness(host: string): Promise<HostReadiness> {
    const want = expectedOn(inv, host);
    let services: HostReadiness['services'] = [];
    if (want.services.length) {
      // is-active exits 3 when a unit is not active: that is an answer, not a failure.
      const res = await runOn(ctx, host, ['systemctl', 'is-active', ...want.services], { okExitCodes: [0, 3, 4] });
      const states = parsed(() => parseSystemctlIsActive(res.stdout, want.services, res.stderr));
      services = want.services.map((service, i) => ({ service, state: states[i]! }));
    }
    let mounted: string[] = [];
    if (want.volumes.length) {
      const res = expectSuccess(await runOn(ctx, host, ['findmnt', '-rn', '-t', 'fuse.glusterfs', '-o', 'TARGET,SOURCE'], { okExitCodes: [0, 1] }), 'findmnt');
      mounted = [...new Set(parsed(() => parseFindmntGlusterMounts(res.stdout)).map((m) => m.volume))];
    }
    const servicesDown = services.filter((s) => s.state !== 'active').map((s) => s.service);
    const mountsMissing = want.volumes.filter((v) => !mounted.includes(v));
    return { host, services, mounted, servicesDown, mountsMissing, ready: servicesDown.length === 0 && mountsMissing.length === 0 };
  }

  async function startServicesOn(host: string): Promise<void> {
    const before = await readiness(host);
    if (before.servicesDown.length) {
      expectSuccess(
        await runOn(ctx, host, ['systemctl', 'start', ...before.servicesDown], { timeoutMs: 120_000 }),
        `systemctl start ${before.servicesDown.join(' ')}`,
      );
    }
    if (before.mountsMissing.length) {
      expectSuccess(await runOn(ctx, host, ['mount', '-a', '-t', 'glusterfs'], { timeoutMs: 120_000 }), 'mount -a -t glusterfs');
    }
  }

  return {
    /** The daemons that should run on each host and its GlusterFS mounts, as they are now. */
    async hostReadiness(input: { hosts: string[] }): Promise<HostReadiness[]> {
      return Promise.all(input.hosts.map((h) => readiness(h)));
    },

    /**
     * Starts the daemons the inventory expects on the host that are not running (`systemctl start`,
     * idempotent), then mounts its GlusterFS volumes from its fstab (`mount -a -t glusterfs` mounts
     * only what is not mounted yet). Returns the readiness after.
     */
    async startHostServices(input: { host: string }): Promise<HostReadiness> {
      await startServicesOn(input.host);
      return readiness(input.host);
    },

    /** startHostServices on every host, in one activity (activities/each-host.ts); fails naming each host it could not make ready. */
    async startServicesOnHosts(input: { hosts: string[] }): Promise<{ done: string[] }> {
      // the readiness after is the procedure's next check (hostReadiness): not read twice
      const r = await eachHostOfActivity(input.hosts, startServicesOn);
      if (r.failed.length) throw hostsFailure('systemctl start / mount -a -t glusterfs', r.failed);
      return { done: r.done };
    },
  };
}
