/**
 * The gluster CLI, printing what GlusterFS prints (formats from the glusterfs sources, tag v10.5,
 * and v3.12.15 where the seeds' 3.x differs): cli/src/cli-rpc-ops.c, cli/src/cli-cmd.c,
 * cli/src/cli-cmd-volume.c, heal/src/glfs-heal.c, the glusterd messages of
 * xlators/mgmt/glusterd/src. `cli_out` is printf + "\n" on stdout, `cli_err` the same on stderr;
 * the exit status is `exit(-ret)` of cli/src/input.c cli_batch (1 for a failed command).
 *
 * The version is the model's (`glusterVersion`): the seeds' 3.x by default, where `volume tier`
 * exists; GlusterFS >= 6 has no `volume tier` at all.
 *
 * Servers are named as the seeds' trusted pool knows them: the storage-network name `<host>-data`
 * (seed 002 mounts `top1-data:/volspoms1`) with the storage address 10.5.x.y (seed 001's `data:`
 * addresses) for a host whose fleet address is 10.1.x.y; `getent hosts` resolves both.
 */
import { createHash } from 'node:crypto';
import type { LabModel, MachineState, RebalanceNode, VolumeState } from '../model';
import { LabError } from '../model';
import { takeFlags, type Tool, type ToolContext } from './types';

const DASHES = '----------------------------------------------';

/** The name a server has in the trusted pool and in brick names (seed 002: `top1-data`). */
export function storageName(m: Pick<MachineState, 'name'>): string {
  return `${m.name}-data`;
}

/** The server's address on the storage network (seed 001: `data: 10.5.0.[1-3]` for `adm: 10.1.0.[1-3]`). */
export function storageAddress(m: Pick<MachineState, 'ip'>): string {
  const a = /^10\.1\.(\d+)\.(\d+)$/.exec(m.ip);
  return a ? `10.5.${a[1]}.${a[2]}` : m.ip;
}

function uuid(s: string): string {
  const h = createHash('sha1').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The glusterd UUID of a server (`gluster peer status` "Uuid:"). */
export function peerUuid(host: string): string {
  return uuid(`peer/${host}`);
}

function major(model: LabModel): number {
  return Number(model.glusterVersion.split('.')[0]);
}

/** Client op-version (GD_OP_VERSION_MAX of the version). */
function opVersion(model: LabModel): number {
  return major(model) >= 10 ? 100000 : 31202;
}

function brickName(model: LabModel, host: string, path: string): string {
  const m = model.machines.get(host);
  return `${m ? storageName(m) : host}:${path}`;
}

/** The lab's process ids (deterministic): the bricks of volume number `volumeIndex` and the self-heal daemon of a host. */
export function brickPid(model: LabModel, host: string, volumeIndex: number): number {
  return 4000 + [...model.machines.keys()].indexOf(host) * 20 + volumeIndex;
}
export function shdPid(model: LabModel, host: string): number {
  return brickPid(model, host, 10);
}

/** cli/src/cli.h usage(), through cli_out. */
const USAGE =
  ' Usage: gluster [options] <help> <peer> <pool> <volume>\n' +
  ' Options:\n' +
  ' --help  Shows the help information\n' +
  ' --version  Shows the version\n' +
  ' --print-logdir  Shows the log directory\n' +
  ' --print-statedumpdir Shows the state dump directory\n\n';

// ---- volume info ---------------------------------------------------------------------------

/** libglusterfs vol_type_str for the volume types the lab has. */
function volType(v: VolumeState): string {
  if (v.hotTier) return 'Tier';
  if (v.type === 'distribute') return 'Distribute';
  return v.bricks.length > v.replica ? 'Distributed-Replicate' : 'Replicate';
}

/**
 * cli-rpc-ops.c gf_cli_get_volume_cbk for one volume (each starts with cli_out(" ")). A 3.x tier
 * volume (v3.12.15 gf_cli_print_tier_info, reconstructed from the sources: 3.x is not captured)
 * lists its hot tier's bricks, then its cold tier's, numbered on; attach-tier sets its two options.
 */
export function volumeInfo(model: LabModel, v: VolumeState): string {
  const n = v.bricks.length;
  const arbiter = v.arbiter ?? 0;
  let bricks: string;
  if (v.type === 'distribute') bricks = String(n);
  else if (arbiter) bricks = `${n / v.replica} x (${v.replica - arbiter} + ${arbiter}) = ${n}`;
  else bricks = `${n / v.replica} x ${v.replica} = ${n}`;
  const hot = v.hotTier?.bricks ?? [];
  const brickLines = (list: typeof v.bricks, from: number) =>
    list.map((b, i) => {
      const isArbiter = list === v.bricks && arbiter > 0 && v.replica > 1 && i % v.replica >= v.replica - arbiter;
      return `Brick${from + i}: ${brickName(model, b.host, b.path)}${isArbiter ? ' (arbiter)' : ''}`;
    });
  const layout = v.hotTier
    ? [
        `Number of Bricks: ${hot.length + n}`,
        'Transport-type: tcp',
        'Hot Tier :',
        'Hot Tier Type : Distribute',
        `Number of Bricks: ${hot.length}`,
        ...brickLines(hot, 1),
        'Cold Tier:',
        `Cold Tier Type : ${v.type === 'distribute' ? 'Distribute' : n > v.replica ? 'Distributed-Replicate' : 'Replicate'}`,
        `Number of Bricks: ${bricks}`,
        ...brickLines(v.bricks, hot.length + 1),
      ]
    : [`Number of Bricks: ${bricks}`, 'Transport-type: tcp', 'Bricks:', ...brickLines(v.bricks, 1)];
  const lines = [
    ' ',
    `Volume Name: ${v.name}`,
    `Type: ${volType(v)}`,
    `Volume ID: ${v.id}`,
    `Status: ${v.status}`,
    'Snapshot Count: 0',
    ...layout,
    'Options Reconfigured:',
    // glusterd-brick-ops.c (v3.12.15) at attach-tier: features.ctr-enabled, cluster.tier-mode (newest first)
    ...(v.hotTier ? ['cluster.tier-mode: cache', 'features.ctr-enabled: on'] : []),
    ...(v.shardBlockSize ? [`features.shard-block-size: ${v.shardBlockSize}`, 'features.shard: on'] : []),
    // what `volume create` sets: the replicate-only options for replicated volumes only
    // (test/fixtures/gluster-real/volume-info-volspoms1, volume-info-volscratch)
    ...(v.type === 'replicate' ? ['cluster.granular-entry-heal: on'] : []),
    'storage.fips-mode-rchecksum: on',
    'transport.address-family: inet',
    'nfs.disable: on',
    ...(v.type === 'replicate' ? ['performance.client-io-threads: off'] : []),
  ];
  return lines.join('\n') + '\n';
}

// ---- heal info -----------------------------------------------------------------------------

/**
 * `gluster volume heal VOL info` of a started volume with a brick up: glfsheal's stdout, per brick
 * `Brick host:path` (glfsh_print_brick_from_xl), the entries (glfsh_print_hr_heal_status "%s%s\n":
 * the path, or <gfid:...> when it cannot be resolved, then " "), then glfsh_print_hr_heal_op_status:
 * "Status: Connected" and "Number of entries: N", or for a brick it cannot reach strerror(ENOTCONN)
 * and "Number of entries: -"; then a blank line.
 */
export function healInfo(model: LabModel, volume: string, summary = false): string {
  let out = '';
  for (const { brick, up, entries } of model.healEntries(volume)) {
    out += `Brick ${brickName(model, brick.host, brick.path)}\n`;
    if (summary) {
      // glfsh_print_hr_heal_op_summary
      const n = (x: number) => (up ? String(x) : '-');
      out += `Status: ${up ? 'Connected' : 'Transport endpoint is not connected'}\nTotal Number of entries: ${n(entries)}\n`;
      out += `Number of entries in heal pending: ${n(entries)}\nNumber of entries in split-brain: ${n(0)}\nNumber of entries possibly healing: ${n(0)}\n\n`;
      continue;
    }
    if (!up) {
      out += 'Status: Transport endpoint is not connected\nNumber of entries: -\n\n';
      continue;
    }
    for (let i = 0; i < entries; i++) out += `<gfid:${uuid(`${volume}/${brick.host}/${i}`)}> \n`;
    out += `Status: Connected\nNumber of entries: ${entries}\n\n`;
  }
  return out;
}

// ---- status clients ------------------------------------------------------------------------

interface ClientConnection {
  host: string;
  /** Self-heal daemon of a server, or a FUSE mount. */
  kind: 'shd' | 'fuse';
}

/**
 * The client processes connected to every brick of a started volume: each server's self-heal
 * daemon for a replicated volume (seed 001: "hypervisors themselves may appear as clients"; a
 * distribute volume has none: status-volscratch-clients), then each FUSE mount.
 */
function clientConnections(model: LabModel, v: VolumeState): ClientConnection[] {
  const servers = new Set(v.type === 'replicate' ? v.bricks.map((b) => b.host) : []);
  const out: ClientConnection[] = [];
  for (const m of model.machines.values()) if (servers.has(m.name) && m.power && m.glusterd && m.glusterfs) out.push({ host: m.name, kind: 'shd' });
  for (const m of model.machines.values()) if (m.power && m.glusterfs && m.mounts.has(v.name)) out.push({ host: m.name, kind: 'fuse' });
  return out;
}

/**
 * cli-rpc-ops.c cli_print_volume_status_clients for one started volume. Client source ports count
 * down from 49151, the self-heal daemons' connections first (brick by brick), then the FUSE mounts';
 * byte counters are deterministic.
 */
export function statusClients(model: LabModel, v: VolumeState): string {
  const lines = [`Client connections for volume ${v.name}`];
  const conns = clientConnections(model, v);
  const online = v.bricks.map((b) => model.brickUp(v, b));
  const shds = conns.filter((c) => c.kind === 'shd').length;
  let shdPort = 49151;
  let fusePort = 49151 - shds * online.filter(Boolean).length;
  v.bricks.forEach((b, bi) => {
    lines.push(DASHES);
    lines.push(`Brick : ${brickName(model, b.host, b.path)}`);
    if (!online[bi]) {
      lines.push('Brick is offline');
      return;
    }
    lines.push(`Clients connected : ${conns.length}`);
    if (!conns.length) return;
    lines.push(`${'Hostname'.padEnd(48)} ${'BytesRead'.padStart(15)} ${'BytesWritten'.padStart(15)} ${'OpVersion'.padStart(15)}`);
    lines.push(`${'--------'.padEnd(48)} ${'---------'.padStart(15)} ${'------------'.padStart(15)} ${'---------'.padStart(15)}`);
    conns.forEach((c, i) => {
      const address = `${storageAddress(model.machine(c.host))}:${c.kind === 'shd' ? shdPort-- : fusePort--}`;
      const read = (c.kind === 'shd' ? 1235000 : 52428800) + 97 * bi + 13 * i;
      const written = (c.kind === 'shd' ? 877000 : 1048576) + 31 * bi + 7 * i;
      lines.push(`${address.padEnd(48)} ${String(read).padStart(15)} ${String(written).padStart(15)} ${String(opVersion(model)).padStart(15)}`);
    });
  });
  lines.push(`${DASHES}\n`);
  return lines.join('\n') + '\n';
}

// ---- status --------------------------------------------------------------------------------

/** cli.h CLI_VOL_STATUS_BRICK_LEN, CLI_BRICK_STATUS_LINE_LEN */
const STATUS_NAME_LEN = 43;
const STATUS_LINE = '-'.repeat(78);

/**
 * cli-cmd-volume.c cli_print_brick_status: the process name in a 43-column field (a longer one is cut
 * every 43 characters onto lines of its own), then TCP port, RDMA port, online, pid.
 */
function statusRow(name: string, port: number | undefined, online: boolean, pid: number | undefined): string {
  let out = '';
  let rest = name;
  while (rest.length > STATUS_NAME_LEN) {
    out += `${rest.slice(0, STATUS_NAME_LEN)}\n`;
    rest = rest.slice(STATUS_NAME_LEN);
  }
  const cells = online && port ? [String(port).padEnd(10), '0'.padEnd(11)] : ['N/A'.padEnd(10), 'N/A'.padEnd(11)];
  return `${out}${rest.padEnd(STATUS_NAME_LEN + 1)}${cells.join('')}${(online ? 'Y' : 'N').padEnd(8)}${(online && pid ? String(pid) : 'N/A').padEnd(5)}\n`;
}

/**
 * cli-rpc-ops.c gf_cli_status_cbk and cli_print_volume_status_tasks for `gluster volume status VOL`
 * of a started volume: every brick (port and pid N/A when it is down), the self-heal daemons of a
 * replicated volume (the local one, then the peers' — real 10.3 lists those in the order their
 * answers arrive: status-volspoms1-lab), then the tasks. Ports and pids are the lab's (deterministic).
 */
export function volumeStatus(model: LabModel, v: VolumeState, host: string): string {
  const index = [...model.volumes.keys()].indexOf(v.name);
  let out = `Status of volume: ${v.name}\n${'Gluster process'.padEnd(STATUS_NAME_LEN)} TCP Port  RDMA Port  Online  Pid\n${STATUS_LINE}\n`;
  if (v.hotTier) {
    // v3.12.15 gf_cli_status_cbk: the hot tier's bricks under "Hot Bricks:", then "Cold Bricks:"
    out += 'Hot Bricks:\n';
    for (const b of v.hotTier.bricks) {
      const m = model.machine(b.host);
      out += statusRow(
        `Brick ${brickName(model, b.host, b.path)}`,
        49152 + index + 32,
        v.status === 'Started' && m.power && m.glusterfsd,
        brickPid(model, b.host, index + 32),
      );
    }
    out += 'Cold Bricks:\n';
  }
  for (const b of v.bricks) {
    const up = model.brickUp(v, b);
    out += statusRow(`Brick ${brickName(model, b.host, b.path)}`, 49152 + index, up, brickPid(model, b.host, index));
  }
  if (v.type === 'replicate') {
    const servers = [...new Set(v.bricks.map((b) => b.host))];
    const shds = [host, ...servers.filter((s) => s !== host)].filter((s) => {
      const m = model.machine(s);
      return servers.includes(s) && m.power && m.glusterd && m.glusterfs;
    });
    for (const s of shds)
      out += statusRow(`Self-heal Daemon on ${s === host ? 'localhost' : storageName(model.machine(s))}`, undefined, true, shdPid(model, s));
  }
  out += ` \nTask Status of Volume ${v.name}\n${STATUS_LINE}\n`;
  if (v.rebalance === 'not started') return `${out}There are no active volume tasks\n \n`;
  const task = (k: string, value: string) => `${k.padEnd(20)} : ${value.padEnd(20)}\n`;
  return `${out}${task('Task', 'Rebalance')}${task('ID', v.rebalanceId ?? uuid(`rebalance/${v.name}`))}${task('Status', v.rebalance)} \n`;
}

// ---- peer status ---------------------------------------------------------------------------

/** cli-rpc-ops.c gf_cli_output_peer_status: the other servers of the trusted pool. */
export function peerStatus(model: LabModel, host: string): string {
  const servers = [...model.machines.values()].filter((m) => m.name !== host && model.isGlusterServer(m.name));
  let out = `Number of Peers: ${servers.length}\n`;
  for (const m of servers) {
    const connected = m.power && m.glusterd;
    out += `\nHostname: ${storageName(m)}\nUuid: ${peerUuid(m.name)}\nState: Peer in Cluster (${connected ? 'Connected' : 'Disconnected'})\n`;
    const others = model.glusterOtherNames.get(m.name) ?? [];
    if (others.length) out += `Other names:\n${others.map((o) => `${o}\n`).join('')}`;
  }
  return out;
}

// ---- rebalance status ----------------------------------------------------------------------

/** libglusterfs gf_uint64_2human_readable. */
export function humanSize(n: number): string {
  const units: [number, string][] = [
    [2 ** 50, 'PB'],
    [2 ** 40, 'TB'],
    [2 ** 30, 'GB'],
    [2 ** 20, 'MB'],
    [2 ** 10, 'KB'],
  ];
  for (const [u, s] of units) if (n >= u) return `${(n / u).toFixed(1)}${s}`;
  return `${n}Bytes`;
}

function hms(seconds: number, width: number): string {
  const s = Math.floor(seconds);
  return `${String(Math.floor(s / 3600)).padStart(width)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** cli-rpc-ops.c gf_cli_print_rebalance_status (not fix-layout); the local node is "localhost". */
export function rebalanceStatus(model: LabModel, v: VolumeState, host: string): string {
  const servers = [...new Set(v.bricks.map((b) => b.host))];
  const given = v.rebalanceNodes;
  const nodes: RebalanceNode[] =
    given ??
    servers.map((h) => ({
      host: h,
      status: v.rebalance === 'completed' ? 'completed' : 'in progress',
      files: 0,
      bytes: 0,
      scanned: 0,
      failures: 0,
      skipped: 0,
      runSeconds: 0,
      timeLeftSeconds: 0,
    }));
  // the peers that answer in peer order (a node down is skipped), the local node last ("localhost"),
  // as real GlusterFS 10.3 prints it (test/fixtures/gluster-real/rebalance-status-*)
  const ordered = [...nodes.filter((n) => n.host !== host), ...nodes.filter((n) => n.host === host)].filter((n) => {
    const m = model.machines.get(n.host);
    return !m || (m.power && m.glusterd);
  });
  const f = (cells: string[]) =>
    `${cells[0].padStart(40)} ${cells[1].padStart(16)} ${cells[2].padStart(13)} ${cells[3].padStart(13)} ${cells[4].padStart(13)} ${cells[5].padStart(13)} ${cells[6].padStart(20)} ${cells[7].padStart(18)}`;
  const lines = [
    f(['Node', 'Rebalanced-files', 'size', 'scanned', 'failures', 'skipped', 'status', 'run time in h:m:s']),
    f(['---------', '-----------', '-----------', '-----------', '-----------', '-----------', '------------', '--------------']),
  ];
  let maxTime = 0;
  let maxElapsed = 0;
  let estimates = false;
  for (const n of ordered) {
    const m = model.machines.get(n.host);
    const name = n.host === host ? 'localhost' : m ? storageName(m) : n.host;
    if (n.status === 'in progress') estimates = true;
    maxTime = Math.max(maxTime, n.timeLeftSeconds);
    maxElapsed = Math.max(maxElapsed, n.runSeconds);
    lines.push(
      `${name.padStart(40)} ${String(n.files).padStart(16)} ${humanSize(n.bytes).padStart(13)} ${String(n.scanned).padStart(13)} ${String(n.failures).padStart(13)} ${String(n.skipped).padStart(13)} ${n.status.padStart(20)} ${hms(n.runSeconds, 8)}`,
    );
  }
  if (maxTime) lines.push(`Estimated time left for rebalance to complete : ${hms(maxTime, 8)}`);
  else if (estimates) {
    lines.push(
      maxElapsed <= 600
        ? 'The estimated time for rebalance to complete will be unavailable for the first 10 minutes.'
        : 'Rebalance estimated time unavailable. Please try again later.',
    );
  }
  lines.push(`volume rebalance: ${v.name}: success`);
  return lines.join('\n') + '\n';
}

// ---- tier status (GlusterFS 3.x) -----------------------------------------------------------

/**
 * v3.12.15 cli-rpc-ops.c gf_cli_print_tier_status, then gf_cli_defrag_volume_cbk's "Tiering
 * Migration Functionality: VOL: success": one row per server of the volume whose glusterd answers
 * (the peers, then the local node as "localhost", as the lab's rebalance status orders them), a
 * warning when one does not. Reconstructed from the sources (3.x is not captured).
 */
export function tierStatus(model: LabModel, v: VolumeState, host: string): string {
  const col = (x: string) => x.padEnd(20);
  const servers = [...new Set([...(v.hotTier?.bricks ?? []), ...v.bricks].map((b) => b.host))];
  const ordered = [...servers.filter((h) => h !== host), ...servers.filter((h) => h === host)];
  const answering = ordered.filter((h) => model.machine(h).power && model.machine(h).glusterd);
  const lines = [
    ['Node', 'Promoted files', 'Demoted files', 'Status', 'run time in h:m:s'].map(col).join(' '),
    Array(5).fill(col('---------')).join(' '),
    ...answering.map((h) => `${col(h === host ? 'localhost' : storageName(model.machine(h)))} ${col('0')} ${col('0')} ${col(v.hotTier!.daemon)} 0:0:0`),
    ...(answering.length < ordered.length
      ? [
          "WARNING: glusterd might be down on one or more nodes. Please check the nodes that are down using 'gluster peer status' and start the glusterd on those nodes.",
        ]
      : []),
    `Tiering Migration Functionality: ${v.name}: success`,
  ];
  return lines.join('\n') + '\n';
}

// ---- the CLI -------------------------------------------------------------------------------

/** The command words the lab knows, as cli_cmd_process walks them (the rest is "unrecognized"). */
function unrecognized(model: LabModel, words: string[]): number | undefined {
  const volumeVerbs = ['info', 'status', 'heal', 'rebalance', 'start', 'stop', ...(major(model) < 6 ? ['tier'] : [])];
  const known: Record<string, string[] | null> = { peer: ['status'], volume: volumeVerbs, pool: null, help: null };
  if (!words.length) return undefined;
  if (!(words[0] in known)) return 0;
  const sub = known[words[0]];
  if (sub && words.length > 1 && !sub.includes(words[1])) return 1;
  return undefined;
}

export const gluster: Tool = async (ctx: ToolContext) => {
  // cli.c parse_cmdline: "--opt" words are options (--mode=script), wherever they are.
  const { flags, rest } = takeFlags(ctx.args, []);
  const script = flags.get('mode') === 'script';
  const model = ctx.model;
  const me = model.machine(ctx.host);

  const pos = unrecognized(model, rest);
  if (pos !== undefined) {
    ctx.out(`unrecognized word: ${rest[pos]} (position ${pos})\n\n${USAGE}`);
    return 1;
  }
  if (!me.glusterd) {
    // cli-cmd.c cli_cmd_process / cli.c cli_rpc_notify: cli_out, exit 1
    ctx.out('Connection failed. Please check if gluster daemon is operational.\n');
    return 1;
  }
  const [group, verb, ...args] = rest;

  if (group === 'peer' && verb === 'status') {
    if (!model.isGlusterServer(ctx.host) || ![...model.machines.keys()].some((h) => h !== ctx.host && model.isGlusterServer(h))) {
      ctx.err('peer status: No peers present\n');
      return 0;
    }
    ctx.out(peerStatus(model, ctx.host));
    return 0;
  }
  if (group !== 'volume') {
    ctx.err(`the lab simulates only \`gluster peer status\` and \`gluster volume ...\`\n`);
    return 1;
  }
  const volume = (name: string | undefined): VolumeState | undefined => (name ? model.volumes.get(name) : undefined);
  // glusterd-mgmt.c: a command whose transaction cannot take the volume's lock fails at once
  // (`heal VOL info` is glfsheal, a client: it takes no lock).
  if (model.glusterBusyCommands > 0 && ['start', 'stop', 'rebalance', 'set'].includes(verb ?? '')) {
    model.glusterBusyCommands--;
    ctx.err(`volume ${verb}: ${args[0] ?? ''}: failed: Another transaction is in progress for ${args[0] ?? ''}. Please try again after some time.\n`);
    return 1;
  }

  switch (verb) {
    case 'info': {
      if (args[0] && args[0] !== 'all') {
        const v = volume(args[0]);
        if (!v) {
          ctx.err(`Volume ${args[0]} does not exist\n`);
          return 1;
        }
        ctx.out(volumeInfo(model, v));
        return 0;
      }
      if (!model.volumes.size) {
        ctx.err('No volumes present\n');
        return 0;
      }
      ctx.out([...model.volumes.values()].map((v) => volumeInfo(model, v)).join(''));
      return 0;
    }

    case 'status': {
      if (args.length === 1 && args[0] !== 'all') {
        // glusterd-op-sm.c glusterd_op_stage_status_volume, then gf_cli_status_cbk
        const v = volume(args[0]);
        if (!v) ctx.err(`Volume ${args[0]} does not exist\n`);
        else if (v.status !== 'Started') ctx.err(`Volume ${v.name} is not started\n`);
        else ctx.out(volumeStatus(model, v, ctx.host));
        return v?.status === 'Started' ? 0 : 1;
      }
      if (!args.includes('clients')) {
        ctx.err('the lab simulates only `gluster volume status VOL` and `gluster volume status <VOL|all> clients`\n');
        return 1;
      }
      if (args[0] === 'all' || args[0] === 'clients') {
        // gf_cli_status_volume_all: one status per volume; a failing one prints cli_err(msg) + cli_out(" ")
        if (!model.volumes.size) {
          ctx.err('No volumes present\n');
          return 0;
        }
        for (const v of model.volumes.values()) {
          if (v.status !== 'Started') {
            ctx.err(`Volume ${v.name} is not started\n`);
            ctx.out(' \n');
          } else ctx.out(statusClients(model, v));
        }
        return 0;
      }
      const v = volume(args[0]);
      if (!v) {
        ctx.err(`Volume ${args[0]} does not exist\n`);
        return 1;
      }
      if (v.status !== 'Started') {
        ctx.err(`Volume ${v.name} is not started\n`);
        return 1;
      }
      ctx.out(statusClients(model, v));
      return 0;
    }

    case 'heal': {
      const name = args[0] ?? '';
      const v = volume(name);
      if (args[1] === 'info') {
        // glfsheal's stdout relayed by cli_launch_glfs_heal; on failure glfsh_end prints the error,
        // main returns -errno (exit status 256 - errno), the CLI adds "Volume heal failed." and exits
        // with that status (runner_end returns -status, cli_batch exit(-ret)). Real 10.3 captures
        // (test/fixtures/gluster-real): no such volume exits 254, a stopped one 251.
        if (!v) {
          ctx.out(`Volume ${name} does not exist\nVolume heal failed.\n`);
          return 256 - 2; // ENOENT
        }
        if (v.status !== 'Started') {
          // glusterd serves no volfile for a stopped volume: glfs_init fails
          ctx.out(`${v.name}: Not able to fetch volfile from glusterd\nVolume heal failed.\n`);
          return 256 - 5; // EIO
        }
        if (!v.bricks.some((b) => model.brickUp(v, b))) {
          ctx.out(`Volume ${v.name} is not started (Or) All the bricks are not running.\nVolume heal failed.\n`);
          return 256 - 107; // ENOTCONN
        }
        if (v.type === 'distribute') {
          // glfs-heal.c glfsh_validate_volume (real 10.3: heal-info-volscratch-distribute, exit 234)
          const types = 'replicate/disperse';
          ctx.out(`This command is supported for only volumes of ${types} type. Volume ${v.name} is not of type ${types}\nVolume heal failed.\n`);
          return 256 - 22; // EINVAL
        }
        ctx.out(healInfo(model, v.name, args[2] === 'summary'));
        return 0;
      }
      // gf_cli_heal_volume_cbk; messages glusterd-volume-ops.c glusterd_op_stage_heal_volume
      const op = 'Launching heal operation to perform index self heal';
      if (!v) {
        ctx.err(`${op} on volume ${name} has been unsuccessful:\nVolume ${name} does not exist\n`);
        return 1;
      }
      if (v.status !== 'Started') {
        ctx.err(`${op} on volume ${v.name} has been unsuccessful:\nVolume ${v.name} is not started.\n`);
        return 1;
      }
      if (v.type === 'distribute') {
        // gd_is_self_heal_enabled is false for a volume with no self-heal (real 10.3: heal-volscratch-distribute)
        ctx.err(`${op} on volume ${v.name} has been unsuccessful:\nSelf-heal-daemon is disabled. Heal will not be triggered on volume ${v.name}\n`);
        return 1;
      }
      ctx.mutating();
      ctx.out(`${op} on volume ${v.name} has been successful \nUse heal info commands to check status.\n`);
      return 0;
    }

    case 'rebalance': {
      // glusterd-rebalance.c glusterd_rebalance_cmd_validate, then the status stage; failures through
      // gf_cli_defrag_volume_cbk "volume rebalance: %s: failed: %s" (stderr)
      const name = args[0] ?? '';
      const v = volume(name);
      const fail = (msg: string) => {
        ctx.err(`volume rebalance: ${name}: failed: ${msg}\n`);
        return 1;
      };
      if (args[1] !== 'status') {
        ctx.err('the lab simulates only `gluster volume rebalance VOL status`\n');
        return 1;
      }
      if (!v) return fail(`Volume ${name} does not exist`);
      if (v.bricks.length <= v.replica) return fail(`Volume ${name} is not a distribute volume or contains only 1 brick.\nNot performing rebalance`);
      if (v.status !== 'Started') return fail(`Volume ${name} needs to be started to perform rebalance`);
      if (v.rebalance === 'not started') return fail(`Rebalance not started for volume ${name}.`);
      ctx.out(rebalanceStatus(model, v, ctx.host));
      return 0;
    }

    case 'tier': {
      // GlusterFS 3.x (v3.12.15 gf_cli_defrag_volume_cbk cli_err, then cli-cmd-volume.c cli_out).
      const name = args[0] ?? '';
      const v = volume(name);
      if (v?.hotTier && args[1] === 'status') {
        ctx.out(tierStatus(model, v, ctx.host));
        return 0;
      }
      ctx.err(`Tiering Migration Functionality: ${name}: failed: ${v ? `volume ${name} is not a tier volume` : `Volume ${name} does not exist`}\n`);
      ctx.out('Tier command failed\n');
      return 1;
    }

    case 'start':
    case 'stop': {
      const name = args[0] ?? '';
      if (verb === 'stop' && !script) {
        // cli_cmd_get_confirmation: no answer on stdin (the lab forwards none): read error, "no", exit 0
        ctx.out('Stopping volume will make its data inaccessible. Do you want to continue? (y/n) gluster cli read error\nInvalid input, please enter y/n\n');
        return 0;
      }
      ctx.mutating();
      const v = volume(name);
      const fail = (msg: string) => {
        ctx.err(`volume ${verb}: ${name}: failed: ${msg}\n`);
        return 1;
      };
      if (!v) return fail(`Volume ${name} does not exist`);
      if (verb === 'stop' && v.status === 'Started' && v.rebalance === 'in progress') {
        return fail(`rebalance session is in progress for the volume '${name}'`);
      }
      try {
        if (verb === 'start') model.volumeStart(v.name);
        else model.volumeStop(v.name);
      } catch (e) {
        if (!(e instanceof LabError)) throw e;
        return fail(e.message);
      }
      ctx.out(`volume ${verb}: ${v.name}: success\n`);
      return 0;
    }

    default:
      ctx.err(`the lab does not simulate \`gluster volume ${verb ?? ''}\`\n`);
      return 1;
  }
};
