/**
 * GlusterFS: the health checks of seed 000 (no tier daemon, no rebalance, heal entries 0 on every
 * volume), the server stop of the evacuation (daemons, stop-all script, unmount) and the volume
 * stop / start / heal of the cluster shutdown and start-up (seed 001).
 *
 * The gluster CLI asks the local glusterd, so it runs on a server other than the one being worked
 * on; a server that cannot be reached, or whose glusterd does not answer, is passed over for the
 * next one (as the etcd checks do), and the answer names the server it came from.
 *
 * What is checked depends on each volume's type (`gluster volume info`, once per check): a
 * replicated or dispersed volume has heal entries; a distribute volume has no heal (glusterd
 * refuses heal commands on it), so its bricks must be online instead.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { glusterServers, hypervisor, type Inventory } from '../domain/inventory';
import { assertVolumeName } from '../domain/names';
import {
  foreignGlusterClients,
  glusterBusy,
  glusterdUnreachable,
  glusterVolumeHeals,
  parseGlusterHealInfo,
  parseGlusterPeerStatus,
  parseGlusterRebalanceStatus,
  parseGlusterTierStatus,
  parseGlusterVolumeInfo,
  parseGlusterVolumeStartStop,
  parseGlusterVolumeStatus,
  parseGlusterVolumeStatusClients,
  type GlusterPeer,
  type GlusterVolumeInfo,
} from './gluster-parse';
import { expectSuccess } from './ssh';
import { parsed, runOn, sleepOrCancel, type ToolContext } from './remote';
import { FAILURE } from '../domain/contract';
import { eachHostOfActivity, hostsFailure } from './each-host';

/** How long a command that glusterd refuses as busy is tried again, and how often. */
const BUSY_RETRY_MS = 60_000;
const BUSY_POLL_MS = 2_000;

export interface VolumeHealth {
  volume: string;
  /** `gluster volume info` Type: Replicate, Distributed-Replicate, Disperse, Distribute, ... */
  type: string;
  status: GlusterVolumeInfo['status'];
  /** Replicated or dispersed: heal entries apply. False for a distribute volume, which has no heal. */
  heals: boolean;
  /** Sum of heal entries; null when a brick could not tell (unknown is not zero), or when the volume has no heal. */
  healEntries: number | null;
  /** From `heal info` (a volume that heals) or `volume status` (one that does not): connected = online. */
  bricks: { brick: string; connected: boolean; entries: number | null }[];
  rebalanceRunning: boolean;
  tierDaemon: boolean;
}

export interface GlusterHealth {
  ranOn: string;
  volumes: VolumeHealth[];
  /** Every volume started, no rebalance, no tier daemon; heal 0 where it heals, every brick online where it does not. */
  healthy: boolean;
  problems: string[];
}

/** The servers the gluster CLI is tried on, in order: the control host when it is one, then the others; never an avoided one. */
export function glusterCommandHosts(inv: Inventory, avoid: string[] = []): string[] {
  const servers = glusterServers(inv).filter((h) => !avoid.includes(h));
  if (!servers.length)
    throw ApplicationFailure.nonRetryable(`no GlusterFS server left to run gluster from (avoiding ${avoid.join(', ')})`, FAILURE.invalidInput);
  return servers.includes(inv.controlHost) ? [inv.controlHost, ...servers.filter((h) => h !== inv.controlHost)] : servers;
}

/** A server the gluster CLI cannot be used on now: not reachable over SSH, or its glusterd does not answer. */
class ServerUnavailable extends Error {}

/** What is wrong with a volume, in words (none: healthy). */
export function volumeProblems(v: VolumeHealth): string[] {
  if (v.status !== 'Started') return [`${v.volume}: the volume is ${v.status}, not started`];
  const problems: string[] = [];
  if (v.tierDaemon) problems.push(`${v.volume}: a tier daemon is active`);
  if (v.rebalanceRunning) problems.push(`${v.volume}: a rebalance is running`);
  const down = v.bricks.filter((b) => !b.connected).map((b) => b.brick);
  if (!v.heals) {
    if (down.length)
      problems.push(`${v.volume}: brick(s) not online: ${down.join(', ')} (a ${v.type} volume keeps one copy of each file: the files on them are unavailable)`);
  } else if (v.healEntries === null) {
    problems.push(`${v.volume}: heal entries unknown${down.length ? ` (bricks not connected: ${down.join(', ')})` : ''}`);
  } else if (v.healEntries > 0) problems.push(`${v.volume}: ${v.healEntries} heal entries pending`);
  return problems;
}

/** Nothing left to wait for after a server came back: heal drained where the volume heals, every brick online where it does not. */
function settled(v: VolumeHealth): boolean {
  return v.status === 'Started' && (v.heals ? v.healEntries === 0 : v.bricks.every((b) => b.connected));
}

function progressOf(v: VolumeHealth): string {
  if (v.status !== 'Started') return `${v.volume}=${v.status}`;
  return v.heals ? `${v.volume}=${v.healEntries ?? '?'}` : `${v.volume}=${v.bricks.filter((b) => b.connected).length}/${v.bricks.length} bricks online`;
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
      if (glusterdUnreachable(res.stdout, res.stderr)) throw new ServerUnavailable(`${host}: glusterd does not answer`);
      if (!glusterBusy(res.stdout, res.stderr) || Date.now() > deadline) return res;
      await sleepOrCancel(BUSY_POLL_MS);
    }
  }

  /**
   * Runs `fn` on the first GlusterFS server that answers: one that cannot be reached over SSH, or
   * whose glusterd does not answer, is passed over for the next (the etcd checks do the same).
   */
  async function onServer<T>(avoid: string[] | undefined, fn: (host: string) => Promise<T>): Promise<{ ranOn: string; result: T }> {
    const passed: string[] = [];
    for (const host of glusterCommandHosts(inv, avoid)) {
      try {
        return { ranOn: host, result: await fn(host) };
      } catch (e) {
        if (e instanceof ServerUnavailable) passed.push(e.message);
        else if (e instanceof ApplicationFailure && e.type === 'SshConnectionError') passed.push(`${host}: ${e.message}`);
        else throw e;
      }
    }
    throw ApplicationFailure.create({ type: 'GlusterUnavailable', message: `no GlusterFS server answered: ${passed.join('; ')}` });
  }

  async function volumeInfo(host: string, volume?: string): Promise<GlusterVolumeInfo[]> {
    const res = await gluster(host, ['volume', 'info', ...(volume ? [volume] : [])], [0, 1]);
    return parsed(() => parseGlusterVolumeInfo(res.stdout, res.stderr));
  }

  async function volumeHealth(host: string, info: GlusterVolumeInfo): Promise<VolumeHealth> {
    const volume = info.name;
    assertVolumeName(volume, 'volume');
    const heals = glusterVolumeHeals(info);
    const base = { volume, type: info.type, status: info.status, heals, healEntries: null, rebalanceRunning: false, tierDaemon: false };
    if (info.status !== 'Started') return { ...base, bricks: info.bricks.map((b) => ({ brick: `${b.host}:${b.path}`, connected: false, entries: null })) };
    // tier and rebalance status exit non-zero when there is no tier / no rebalance: that is the answer.
    const tier = await gluster(host, ['volume', 'tier', volume, 'status'], [0, 1, 2]);
    const rebalance = await gluster(host, ['volume', 'rebalance', volume, 'status'], [0, 1, 2]);
    const t = parsed(() => parseGlusterTierStatus(tier.stdout, tier.stderr));
    const r = parsed(() => parseGlusterRebalanceStatus(rebalance.stdout, rebalance.stderr));
    const flags = { rebalanceRunning: r.running, tierDaemon: t.tierDaemon };
    if (!heals) {
      // no heal to ask about (glusterd would refuse it): the bricks must be up
      const status = await gluster(host, ['volume', 'status', volume], [0, 1]);
      const [v] = parsed(() => parseGlusterVolumeStatus(status.stdout, status.stderr));
      const bricks = (v?.processes ?? []).filter((p) => p.kind === 'Brick').map((p) => ({ brick: `${p.host}:${p.path}`, connected: p.online, entries: null }));
      return { ...base, ...flags, bricks };
    }
    // heal info exits 0 even when a brick is unreachable; its non-zero exits carry an error text
    const heal = await gluster(host, ['volume', 'heal', volume, 'info'], [0, 1, 2]);
    const h = parsed(() => parseGlusterHealInfo(heal.stdout, heal.stderr));
    return {
      ...base,
      ...flags,
      healEntries: h.total,
      bricks: h.bricks.map((b) => ({ brick: `${b.host}:${b.path}`, connected: b.connected, entries: b.entries })),
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
    const { ranOn, result: vols } = await onServer(avoid, async (host) => {
      const info = await volumeInfo(host); // every volume's type and state, one command per check
      const out: VolumeHealth[] = [];
      for (const name of volumes()) {
        const v = info.find((x) => x.name === name);
        if (!v)
          throw ApplicationFailure.create({
            type: FAILURE.toolError,
            nonRetryable: true,
            message: `gluster volume info on ${host} does not list volume ${name} of the inventory`,
            details: [{ code: 'no-such-volume' }],
          });
        out.push(await volumeHealth(host, v));
      }
      return out;
    });
    const problems = vols.flatMap(volumeProblems);
    return { ranOn, volumes: vols, healthy: problems.length === 0, problems };
  }

  async function unmountOn(host: string): Promise<void> {
    expectSuccess(await runOn(ctx, host, ['umount', '-t', 'fuse.glusterfs', '-a'], { timeoutMs: 120_000 }), 'umount');
  }

  return {
    /** Seed 000's GlusterFS health check, every volume, what applies to its type. */
    async glusterHealth(input: { avoid?: string[] } = {}): Promise<GlusterHealth> {
      return health(input.avoid);
    },

    /** Waits (heartbeating the state) until every volume heals to 0 entries, or has every brick online when it has no heal; or the timeout. */
    async waitHealDrained(input: { avoid?: string[]; timeoutMs: number; pollMs?: number }): Promise<GlusterHealth> {
      const deadline = Date.now() + input.timeoutMs;
      for (;;) {
        const h = await health(input.avoid);
        const pending = h.volumes.map(progressOf).join(' ');
        Context.current().heartbeat({ heal: pending });
        if (h.volumes.every(settled)) return h;
        if (Date.now() > deadline) {
          throw ApplicationFailure.create({
            type: 'HealNotDrained',
            message: `heal entries did not drain within ${Math.round(input.timeoutMs / 1000)} s: ${pending}`,
            details: [h],
          });
        }
        await sleepOrCancel(input.pollMs ?? 2000);
      }
    },

    /** Seed 000 "GlusterFS shutdown": stop the daemons, kill what is left, unmount. */
    async stopGlusterServer(input: { host: string }): Promise<void> {
      const script = inv.gluster?.stopAllScript ?? '/usr/share/glusterfs/scripts/stop-all-gluster-processes.sh';
      expectSuccess(
        await runOn(ctx, input.host, ['systemctl', 'stop', 'glusterfsd', 'glusterd'], { timeoutMs: 120_000 }),
        'systemctl stop glusterfsd glusterd',
      );
      // "A non-zero return code requires some investigation": non-retryable, the step parks.
      expectSuccess(await runOn(ctx, input.host, [script, '-g'], { timeoutMs: 120_000 }), script);
    },

    /** `umount -t fuse.glusterfs -a` (seed 000 client stop, seed 001 before the volumes stop). */
    async unmountGluster(input: { host: string }): Promise<void> {
      await unmountOn(input.host);
    },

    /** unmountGluster on every host, in one activity (activities/each-host.ts); fails naming each host it could not unmount. */
    async unmountGlusterOnHosts(input: { hosts: string[] }): Promise<{ done: string[] }> {
      const r = await eachHostOfActivity(input.hosts, unmountOn);
      if (r.failed.length) throw hostsFailure('umount -t fuse.glusterfs -a', r.failed);
      return { done: r.done };
    },

    /** Clients still connected other than the servers' own self-heal daemons (seed 001 note). */
    async glusterForeignClients(input: { avoid?: string[] } = {}): Promise<{ ranOn: string; clients: { volume: string; brick: string; client: string }[] }> {
      const { ranOn, result } = await onServer(input.avoid, async (host) => {
        const res = expectSuccess(await gluster(host, ['volume', 'status', 'all', 'clients']), 'gluster volume status');
        const status = parsed(() => parseGlusterVolumeStatusClients(res.stdout, res.stderr));
        // Bricks are named as the pool knows its servers (often a storage-network name such as
        // top1-data): their addresses are the ones the servers' self-heal daemons connect from.
        const brickHosts = [...new Set(status.flatMap((v) => v.bricks.map((b) => b.host)))].filter((h) => /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(h));
        const serverAddresses = [...glusterServers(inv).map((h) => hypervisor(inv, h).address), ...(await resolveHosts(host, brickHosts))];
        return foreignGlusterClients(status, serverAddresses).map((c) => ({ volume: c.volume, brick: c.brick, client: c.client.address }));
      });
      return { ranOn, clients: result };
    },

    /** `gluster --mode=script volume stop|start VOL` (idempotent: already stopped / started is fine). */
    async glusterVolume(input: { volume: string; op: 'start' | 'stop' }): Promise<{ ranOn: string; changed: boolean }> {
      assertVolumeName(input.volume, 'volume');
      const { ranOn, result } = await onServer(undefined, async (host) => {
        const res = await gluster(host, ['volume', input.op, input.volume], [0, 1]);
        return parsed(() => parseGlusterVolumeStartStop(res.stdout, res.stderr)).changed;
      });
      return { ranOn, changed: result };
    },

    /** `gluster volume heal VOL`: triggers the self-heal of a volume that has one (never sent to a distribute volume). */
    async glusterHeal(input: { volume: string }): Promise<{ ranOn: string; triggered: boolean; reason?: string }> {
      assertVolumeName(input.volume, 'volume');
      const { ranOn, result } = await onServer(undefined, async (host) => {
        const [info] = await volumeInfo(host, input.volume);
        if (info && !glusterVolumeHeals(info)) return { triggered: false, reason: `${input.volume} is a ${info.type} volume: it has no self-heal` };
        expectSuccess(await gluster(host, ['volume', 'heal', input.volume]), 'gluster volume heal');
        return { triggered: true };
      });
      return { ranOn, ...result };
    },

    /** `gluster peer status`: every peer must be in the cluster and connected. */
    async glusterPeers(): Promise<{ ranOn: string; peers: GlusterPeer[] }> {
      const { ranOn, result } = await onServer(undefined, async (host) => {
        const res = expectSuccess(await gluster(host, ['peer', 'status']), 'gluster peer status');
        return parsed(() => parseGlusterPeerStatus(res.stdout, res.stderr));
      });
      return { ranOn, peers: result };
    },

    /** Seed 001: stop glusterd, then kill the remaining glusterfs / glusterfsd processes. */
    async stopGlusterProcesses(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'stop', 'glusterd'], { timeoutMs: 120_000 }), 'systemctl stop glusterd');
      // pkill exits 1 when nothing matched: already stopped is success.
      for (const name of ['glusterfs', 'glusterfsd']) expectSuccess(await runOn(ctx, input.host, ['pkill', name], { okExitCodes: [0, 1] }), `pkill ${name}`);
    },
  };
}
