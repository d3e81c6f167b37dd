/**
 * GlusterFS: the health checks of seed 000 (no tier daemon, no rebalance, heal entries 0 on every
 * volume), the server stop of the evacuation (daemons, stop-all script, unmount) and the volume
 * stop / start / heal of the cluster shutdown and start-up (seed 001).
 *
 * The gluster CLI asks the local glusterd, so it runs on a server other than the one being
 * worked on.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { glusterServers, hypervisor, type Inventory } from '../domain/inventory';
import { assertVolumeName } from '../domain/names';
import {
  foreignGlusterClients,
  glusterBusy,
  parseGlusterHealInfo,
  parseGlusterPeerStatus,
  parseGlusterRebalanceStatus,
  parseGlusterTierStatus,
  parseGlusterVolumeStartStop,
  parseGlusterVolumeStatusClients,
  type GlusterPeer,
} from './gluster-parse';
import { expectSuccess } from './ssh';
import { parsed, runOn, sleepOrCancel, type ToolContext } from './remote';

/** How long a command that glusterd refuses as busy is tried again, and how often. */
const BUSY_RETRY_MS = 60_000;
const BUSY_POLL_MS = 2_000;

export interface VolumeHealth {
  volume: string;
  /** Sum of heal entries; null when a brick could not tell (unknown is not zero). */
  healEntries: number | null;
  bricks: { brick: string; connected: boolean; entries: number | null }[];
  rebalanceRunning: boolean;
  tierDaemon: boolean;
}

export interface GlusterHealth {
  ranOn: string;
  volumes: VolumeHealth[];
  /** Every volume: heal 0, no rebalance, no tier daemon. */
  healthy: boolean;
  problems: string[];
}

export function glusterCommandHost(inv: Inventory, avoid: string[] = []): string {
  const servers = glusterServers(inv).filter((h) => !avoid.includes(h));
  if (servers.includes(inv.controlHost)) return inv.controlHost;
  if (!servers.length) throw ApplicationFailure.nonRetryable(`no GlusterFS server left to run gluster from (avoiding ${avoid.join(', ')})`, 'InvalidInput');
  return servers[0]!;
}

export function glusterActivities(ctx: ToolContext) {
  const inv = ctx.inventory;
  const volumes = () => (inv.gluster?.volumes ?? []).map((v) => v.name);

  /**
   * One gluster command. glusterd refuses a command while another transaction holds the lock (an
   * operator's command, glusterd's own work after a peer rejoined): nothing was done, and the tool
   * says to try again after some time — so hvflow does, for up to BUSY_RETRY_MS, before it reports it.
   */
  async function gluster(host: string, args: string[], okExitCodes = [0], timeoutMs = 120_000) {
    const deadline = Date.now() + BUSY_RETRY_MS;
    for (;;) {
      const res = await runOn(ctx, host, ['gluster', '--mode=script', ...args], { okExitCodes, timeoutMs });
      if (!glusterBusy(res.stdout, res.stderr) || Date.now() > deadline) return res;
      await sleepOrCancel(BUSY_POLL_MS);
    }
  }

  async function volumeHealth(host: string, volume: string): Promise<VolumeHealth> {
    assertVolumeName(volume, 'volume');
    // tier and rebalance status exit non-zero when there is no tier / no rebalance: that is the answer.
    const tier = await gluster(host, ['volume', 'tier', volume, 'status'], [0, 1, 2]);
    const rebalance = await gluster(host, ['volume', 'rebalance', volume, 'status'], [0, 1, 2]);
    const heal = await gluster(host, ['volume', 'heal', volume, 'info'], [0, 1, 2]);
    const t = parsed(() => parseGlusterTierStatus(tier.stdout, tier.stderr));
    const r = parsed(() => parseGlusterRebalanceStatus(rebalance.stdout, rebalance.stderr));
    const h = parsed(() => parseGlusterHealInfo(heal.stdout, heal.stderr));
    return {
      volume,
      healEntries: h.total,
      bricks: h.bricks.map((b) => ({ brick: `${b.host}:${b.path}`, connected: b.connected, entries: b.entries })),
      rebalanceRunning: r.running,
      tierDaemon: t.tierDaemon,
    };
  }

  /** `getent hosts NAME...` on `host`: the addresses the names resolve to there (exit 2: some did not resolve). */
  async function resolveHosts(host: string, names: string[]): Promise<string[]> {
    if (!names.length) return [];
    const res = await runOn(ctx, host, ['getent', 'hosts', ...names], { okExitCodes: [0, 2] });
    return res.stdout
      .split('\n')
      .map((l) => /^(\S+)\s+\S+/.exec(l.trim())?.[1])
      .filter((a): a is string => !!a);
  }

  async function health(avoid: string[] = []): Promise<GlusterHealth> {
    const host = glusterCommandHost(inv, avoid);
    const vols: VolumeHealth[] = [];
    for (const v of volumes()) vols.push(await volumeHealth(host, v));
    const problems: string[] = [];
    for (const v of vols) {
      if (v.tierDaemon) problems.push(`${v.volume}: a tier daemon is active`);
      if (v.rebalanceRunning) problems.push(`${v.volume}: a rebalance is running`);
      if (v.healEntries === null) {
        const down = v.bricks.filter((b) => !b.connected).map((b) => b.brick);
        problems.push(`${v.volume}: heal entries unknown${down.length ? ` (bricks not connected: ${down.join(', ')})` : ''}`);
      } else if (v.healEntries > 0) problems.push(`${v.volume}: ${v.healEntries} heal entries pending`);
    }
    return { ranOn: host, volumes: vols, healthy: problems.length === 0, problems };
  }

  return {
    /** Seed 000's GlusterFS health check, every volume. */
    async glusterHealth(input: { avoid?: string[] } = {}): Promise<GlusterHealth> {
      return health(input.avoid);
    },

    /** Waits (heartbeating the count) until every volume reports 0 heal entries, or the timeout. */
    async waitHealDrained(input: { avoid?: string[]; timeoutMs: number; pollMs?: number }): Promise<GlusterHealth> {
      const deadline = Date.now() + input.timeoutMs;
      for (;;) {
        const h = await health(input.avoid);
        const pending = h.volumes.map((v) => `${v.volume}=${v.healEntries ?? '?'}`).join(' ');
        Context.current().heartbeat({ heal: pending });
        if (h.volumes.every((v) => v.healEntries === 0)) return h;
        if (Date.now() > deadline) {
          throw ApplicationFailure.create({ type: 'HealNotDrained', message: `heal entries did not drain within ${Math.round(input.timeoutMs / 1000)} s: ${pending}`, details: [h] });
        }
        await sleepOrCancel(input.pollMs ?? 2000);
      }
    },

    /** Seed 000 "GlusterFS shutdown": stop the daemons, kill what is left, unmount. */
    async stopGlusterServer(input: { host: string }): Promise<void> {
      const script = inv.gluster?.stopAllScript ?? '/usr/share/glusterfs/scripts/stop-all-gluster-processes.sh';
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'stop', 'glusterfsd', 'glusterd'], { timeoutMs: 120_000 }), 'systemctl stop glusterfsd glusterd');
      // "A non-zero return code requires some investigation": non-retryable, the step parks.
      expectSuccess(await runOn(ctx, input.host, [script, '-g'], { timeoutMs: 120_000 }), script);
    },

    /** `umount -t fuse.glusterfs -a` (seed 000 client stop, seed 001 before the volumes stop). */
    async unmountGluster(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['umount', '-t', 'fuse.glusterfs', '-a'], { timeoutMs: 120_000 }), 'umount');
    },

    /** Clients still connected other than the servers' own self-heal daemons (seed 001 note). */
    async glusterForeignClients(input: { avoid?: string[] } = {}): Promise<{ volume: string; brick: string; client: string }[]> {
      const host = glusterCommandHost(inv, input.avoid);
      const res = expectSuccess(await gluster(host, ['volume', 'status', 'all', 'clients']), 'gluster volume status');
      const status = parsed(() => parseGlusterVolumeStatusClients(res.stdout, res.stderr));
      // Bricks are named as the pool knows its servers (often a storage-network name such as
      // top1-data): their addresses are the ones the servers' self-heal daemons connect from.
      const brickHosts = [...new Set(status.flatMap((v) => v.bricks.map((b) => b.host)))].filter((h) => /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(h));
      const serverAddresses = [...glusterServers(inv).map((h) => hypervisor(inv, h).address), ...(await resolveHosts(host, brickHosts))];
      return foreignGlusterClients(status, serverAddresses).map((c) => ({ volume: c.volume, brick: c.brick, client: c.client.address }));
    },

    /** `gluster --mode=script volume stop|start VOL` (idempotent: already stopped / started is fine). */
    async glusterVolume(input: { volume: string; op: 'start' | 'stop' }): Promise<{ changed: boolean }> {
      assertVolumeName(input.volume, 'volume');
      const res = await gluster(glusterCommandHost(inv), ['volume', input.op, input.volume], [0, 1]);
      return { changed: parsed(() => parseGlusterVolumeStartStop(res.stdout, res.stderr)).changed };
    },

    /** `gluster volume heal VOL`: triggers the self-heal of a volume. */
    async glusterHeal(input: { volume: string }): Promise<void> {
      assertVolumeName(input.volume, 'volume');
      expectSuccess(await gluster(glusterCommandHost(inv), ['volume', 'heal', input.volume]), 'gluster volume heal');
    },

    /** `gluster peer status`: every peer must be in the cluster and connected. */
    async glusterPeers(): Promise<GlusterPeer[]> {
      const res = expectSuccess(await gluster(glusterCommandHost(inv), ['peer', 'status']), 'gluster peer status');
      return parsed(() => parseGlusterPeerStatus(res.stdout, res.stderr));
    },

    /** Seed 001: stop glusterd, then kill the remaining glusterfs / glusterfsd processes. */
    async stopGlusterProcesses(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'stop', 'glusterd'], { timeoutMs: 120_000 }), 'systemctl stop glusterd');
      // pkill exits 1 when nothing matched: already stopped is success.
      for (const name of ['glusterfs', 'glusterfsd']) expectSuccess(await runOn(ctx, input.host, ['pkill', name], { okExitCodes: [0, 1] }), `pkill ${name}`);
    },
  };
}
