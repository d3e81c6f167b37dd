// Pure parsers for the GlusterFS CLI (`gluster`), GlusterFS 10 formats.
//
// Every format below is taken from the glusterfs sources (tag v10.5 unless
// said otherwise); cli_out(fmt) is printf(fmt) + "\n" to stdout and cli_err
// the same to stderr (cli/src/cli.c _cli_out / _cli_err). Parsers accept
// stdout and stderr (or one combined capture) and classify lines.
//
// - volume info      cli/src/cli-rpc-ops.c gf_cli_get_volume_cbk,
//                    gf_cli_print_number_of_bricks, print_brick_details,
//                    cli_out_options; type names libglusterfs/src/common-utils.c
//                    vol_type_str; "No volumes present" gf_cli_get_next_volume
// - heal VOL info    heal/src/glfs-heal.c glfsh_print_brick_from_xl,
//                    glfsh_print_hr_heal_status, glfsh_print_hr_heal_op_status,
//                    glfsh_print_hr_heal_op_summary, main() errors;
//                    "Volume heal failed." cli/src/cli-cmd-volume.c cli_cmd_volume_heal_cbk
// - rebalance status cli/src/cli-rpc-ops.c gf_cli_print_rebalance_status,
//                    gf_cli_defrag_volume_cbk; "Rebalance not started for volume %s."
//                    and "... is not a distribute volume ..." from
//                    xlators/mgmt/glusterd/src/glusterd-rebalance.c
// - tier status      removed in GlusterFS 6: v10 prints cli/src/cli-cmd.c
//                    cli_cmd_process "unrecognized word: %s (position %d)" + usage()
//                    (cli/src/cli.h). The seeds' 3.x form comes from v3.12.15
//                    cli/src/cli-rpc-ops.c gf_cli_defrag_volume_cbk /
//                    gf_cli_print_tier_status and cli/src/cli-cmd-volume.c
//                    ("Tier command failed"), message from
//                    xlators/mgmt/glusterd/src/glusterd-tier.c.
// - status VOL       cli/src/cli-rpc-ops.c gf_cli_status_cbk, cli_print_volume_status_tasks;
//                    cli/src/cli-cmd-volume.c cli_print_brick_status (the 43-column name
//                    field, CLI_VOL_STATUS_BRICK_LEN of cli/src/cli.h, cut onto lines of its own)
// - status clients   cli/src/cli-rpc-ops.c cli_print_volume_status_clients,
//                    gf_cli_status_cbk (a stopped volume under "all": cli_err(msg)
//                    then cli_out(" ")); message from glusterd-op-sm.c
//                    glusterd_op_stage_status_volume
// - peer status      cli/src/cli-rpc-ops.c gf_cli_output_peer_status,
//                    gf_cli_output_peer_hostnames, gf_cli_list_friends_cbk;
//                    states xlators/mgmt/glusterd/src/glusterd-sm.c
// - volume start/stop cli/src/cli-rpc-ops.c gf_cli_start_volume_cbk /
//                    gf_cli_stop_volume_cbk; messages
//                    xlators/mgmt/glusterd/src/glusterd-volume-ops.c;
//                    "Volume stop on '%s' failed" cli/src/cli-cmd-volume.c
// - glusterd down    cli/src/cli-cmd.c cli_cmd_process

import { ParseError, ToolError, outputLines, parseCount } from './parse-error';

const TOOL = 'gluster';
const GLUSTERD_DOWN = 'Connection failed. Please check if gluster daemon is operational.';

function lines(stdout: string, stderr: string): string[] {
  const ls = outputLines(stdout, stderr);
  for (const l of ls) if (l === GLUSTERD_DOWN) throw new ToolError(TOOL, 'glusterd-unreachable', l);
  return ls;
}

/** True when the CLI could not reach its local glusterd (cli-cmd.c cli_cmd_process): ask another server. */
export function glusterdUnreachable(stdout: string, stderr = ''): boolean {
  return outputLines(stdout, stderr).includes(GLUSTERD_DOWN);
}

/** Split "host:/path" (host may be an IPv6 address). */
function splitBrick(text: string, line: string): { host: string; path: string } {
  const m = /^([^/\s]+):(\/\S*)$/.exec(text);
  if (!m) throw new ParseError(TOOL, 'not a brick "host:/path"', line);
  return { host: m[1]!, path: m[2]! };
}

/**
 * glusterd's lock is held by another transaction (glusterd-locks.c / glusterd-mgmt.c op_errstr:
 * "Another transaction is in progress[ for VOL]. Please try again after some time.", and "Locking
 * failed on PEER. Please check log file for details." when a peer refused it).
 */
const BUSY = /Another transaction (?:is|could be) in progress\b|^Locking failed on \S+\./m;

/** True when glusterd refused the command because another transaction holds its lock. */
export function glusterBusy(stdout: string, stderr = ''): boolean {
  return BUSY.test(stdout) || BUSY.test(stderr);
}

function toolFailureCode(message: string): string {
  if (BUSY.test(message)) return 'busy';
  if (/^Volume \S+ does not exist$/.test(message)) return 'no-such-volume';
  if (/^Volume \S+ is not started\b|needs to be started|is not in the started state/.test(message)) return 'volume-not-started';
  return 'failed';
}

// ---------------------------------------------------------------------------
// gluster volume info [VOL]

export type GlusterVolumeStatus = 'Created' | 'Started' | 'Stopped';

export interface GlusterBrick {
  /** N of "BrickN:". */
  index: number;
  host: string;
  path: string;
  arbiter: boolean;
  /** The tier the brick belongs to, on a 3.x tier volume. */
  tier?: 'hot' | 'cold';
}

export interface GlusterTierInfo {
  /** vol_type_str of the tier ("Hot Tier Type : Distribute"). */
  type: string;
  brickCount: number;
}

export interface GlusterVolumeInfo {
  name: string;
  /** vol_type_str, e.g. "Replicate", "Distributed-Replicate", "Disperse". */
  type: string;
  volumeId: string;
  status: GlusterVolumeStatus;
  snapshotCount?: number;
  brickCount: number;
  /** Number of distribute subvolumes (the N of "N x ..."), brickCount for a plain distribute. */
  distributeCount: number;
  /** Bricks per replica set, arbiter included. */
  replicaCount?: number;
  arbiterCount?: number;
  /** Bricks per disperse set (data + redundancy). */
  disperseCount?: number;
  redundancyCount?: number;
  transport: string;
  bricks: GlusterBrick[];
  thinArbiterPath?: string;
  /** The hot and cold tiers of a 3.x tier volume (Type: Tier); GlusterFS 6 removed tiering. */
  tiers?: { hot: GlusterTierInfo; cold: GlusterTierInfo };
  /** "Options Reconfigured:" (only options set on the volume). */
  options: Record<string, string>;
  /** features.shard is on. */
  sharded: boolean;
  shardBlockSize?: string;
}

const VOL_STATUS: readonly string[] = ['Created', 'Started', 'Stopped'];

/** `gluster volume info` (all volumes) or `gluster volume info VOL`. */
export function parseGlusterVolumeInfo(stdout: string, stderr = ''): GlusterVolumeInfo[] {
  const ls = lines(stdout, stderr);
  if (ls.length === 1 && ls[0] === 'No volumes present') return [];
  const volumes: GlusterVolumeInfo[] = [];
  let i = 0;
  const fail = (msg: string, line?: string): never => {
    throw new ParseError(TOOL, `volume info: line ${i + 1}: ${msg}`, line ?? ls[i]);
  };
  const field = (label: string): string => {
    const line = ls[i];
    if (line === undefined) fail(`expected "${label}: ...", got end of output`, '');
    const prefix = `${label}: `;
    if (!line!.startsWith(prefix)) fail(`expected "${label}: ..."`);
    i++;
    return line!.slice(prefix.length);
  };
  if (ls.length >= 1 && /^Volume \S+ does not exist$/.test(ls[0]!)) throw new ToolError(TOOL, 'no-such-volume', ls[0]!);
  while (i < ls.length) {
    if (ls[i] !== ' ') fail('expected the " " line that starts each volume');
    i++;
    const name = field('Volume Name');
    const type = field('Type');
    const volumeId = field('Volume ID');
    const status = field('Status');
    if (!VOL_STATUS.includes(status)) fail(`unknown volume status ${JSON.stringify(status)}`, ls[i - 1]);
    let snapshotCount: number | undefined;
    if (ls[i]?.startsWith('Snapshot Count: ')) snapshotCount = parseCount(TOOL, 'Snapshot Count', field('Snapshot Count'), ls[i - 1]);
    const nbLine = ls[i];
    const nb = field('Number of Bricks');
    const vol: GlusterVolumeInfo = {
      name,
      type,
      volumeId,
      status: status as GlusterVolumeStatus,
      brickCount: 0,
      distributeCount: 0,
      transport: '',
      bricks: [],
      options: {},
      sharded: false,
    };
    if (snapshotCount !== undefined) vol.snapshotCount = snapshotCount;
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)$/.exec(nb))) {
      vol.brickCount = Number(m[1]);
      vol.distributeCount = vol.brickCount;
    } else if ((m = /^(\d+) x (\d+) = (\d+)$/.exec(nb))) {
      const [a, b, t] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (a * b !== t) fail('inconsistent "Number of Bricks"', nbLine);
      vol.brickCount = t;
      vol.distributeCount = a;
      if (type.includes('Replicate')) vol.replicaCount = b;
    } else if ((m = /^(\d+) x \((\d+) \+ (\d+)\) = (\d+)$/.exec(nb))) {
      const [a, b, c, t] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
      if (a * (b + c) !== t) fail('inconsistent "Number of Bricks"', nbLine);
      vol.brickCount = t;
      vol.distributeCount = a;
      if (type.includes('Disperse')) {
        vol.disperseCount = b + c;
        vol.redundancyCount = c;
      } else {
        vol.replicaCount = b + c;
        vol.arbiterCount = c;
      }
    } else {
      fail('unrecognized "Number of Bricks"', nbLine);
    }
    vol.transport = field('Transport-type');
    const readBricks = (tier?: 'hot' | 'cold') => {
      while (i < ls.length && /^Brick\d+: /.test(ls[i]!)) {
        const line = ls[i]!;
        const bm = /^Brick(\d+): (\S+)( \(arbiter\))?$/.exec(line);
        if (!bm) fail('bad brick line');
        const { host, path } = splitBrick(bm![2]!, line);
        const index = Number(bm![1]);
        if (index !== vol.bricks.length + 1) fail(`brick numbered ${index}, expected ${vol.bricks.length + 1}`);
        vol.bricks.push({ index, host, path, arbiter: bm![3] !== undefined, ...(tier ? { tier } : {}) });
        i++;
      }
    };
    if (type === 'Tier') {
      // 3.x (v3.12.15 gf_cli_print_tier_info): "Hot Tier :" and its bricks, then "Cold Tier:" and its bricks
      const tiers: Partial<Record<'hot' | 'cold', GlusterTierInfo>> = {};
      for (const [key, label, typeLabel] of [
        ['hot', 'Hot Tier :', 'Hot Tier Type '],
        ['cold', 'Cold Tier:', 'Cold Tier Type '],
      ] as const) {
        if (ls[i] !== label) fail(`expected "${label}"`);
        i++;
        const tierType = field(typeLabel);
        const tnbLine = ls[i];
        const tm = /^(?:\d+ x (?:\d+|\(\d+ \+ \d+\)) = )?(\d+)$/.exec(field('Number of Bricks'));
        if (!tm) fail('unrecognized "Number of Bricks" of a tier', tnbLine);
        const before = vol.bricks.length;
        readBricks(key);
        if (vol.bricks.length - before !== Number(tm![1]))
          fail(`volume ${name}: ${vol.bricks.length - before} ${key} tier brick lines for ${Number(tm![1])}`, ls[i] ?? '');
        tiers[key] = { type: tierType, brickCount: Number(tm![1]) };
      }
      vol.tiers = { hot: tiers.hot!, cold: tiers.cold! };
    } else {
      if (ls[i] !== 'Bricks:') fail('expected "Bricks:"');
      i++;
      readBricks();
    }
    if (vol.bricks.length !== vol.brickCount) {
      fail(`volume ${name}: ${vol.bricks.length} brick lines for "Number of Bricks: ${nb}"`, ls[i] ?? '');
    }
    if (ls[i]?.startsWith('Thin-arbiter-path: ')) vol.thinArbiterPath = field('Thin-arbiter-path');
    if (ls[i] === 'Options Reconfigured:') {
      i++;
      while (i < ls.length && ls[i] !== ' ') {
        const om = /^([^\s:]+): (.*)$/.exec(ls[i]!);
        if (!om) fail('expected "option: value"');
        vol.options[om![1]!] = om![2]!;
        i++;
      }
    }
    if (i < ls.length && ls[i] !== ' ') fail('unexpected line');
    vol.sharded = vol.options['features.shard'] === 'on';
    const bs = vol.options['features.shard-block-size'];
    if (bs !== undefined) vol.shardBlockSize = bs;
    volumes.push(vol);
  }
  if (volumes.length === 0) throw new ParseError(TOOL, 'volume info: empty output');
  return volumes;
}

// ---------------------------------------------------------------------------
// gluster volume heal VOL info  (and `info summary`)

export interface GlusterHealBrick {
  /** null for "Brick - Not able to get brick information". */
  host: string | null;
  path: string | null;
  /** "Connected", or the strerror text ("Transport endpoint is not connected"), or the failure text. */
  status: string;
  connected: boolean;
  /** null when glfsheal printed "-" (brick not reachable): unknown, NOT zero. */
  entries: number | null;
  /** False for "Status: Failed to process entries completely. (...)": `entries` is then a lower bound. */
  complete: boolean;
  /** The entry lines printed before "Status:" (path or gfid, with the heal status suffix). */
  entryLines: string[];
  /** `info summary` only. */
  pending?: number | null;
  splitBrain?: number | null;
  possiblyHealing?: number | null;
}

export interface GlusterHealInfo {
  bricks: GlusterHealBrick[];
  /** Sum of entries, or null if any brick is unknown or incomplete. */
  total: number | null;
  /** Sum of the known numbers only: what the seed's `grep | awk '{sum+=$4}'` prints. Unsafe as a gate. */
  knownSum: number;
}

const HEAL_VOLUME_ERRORS: Array<[RegExp, string]> = [
  [/^Volume \S+ is not started \(Or\) All the bricks are not running\.$/, 'volume-not-started'],
  [/^Volume \S+ does not exist$/, 'no-such-volume'],
  [/^This command is supported for only volumes of .* type\. Volume \S+ is not of type /, 'not-replicated'],
  // glfsheal got no volfile from a glusterd that answered the CLI: the volume is stopped (real 10.3,
  // exit 251: test/fixtures/gluster-real/heal-info-volspoms1-not-started); glusterd down is GLUSTERD_DOWN
  [/^\S+: Not able to fetch volfile from glusterd$/, 'volume-not-started'],
  [/^\S+: Not able to mount the volume, /, 'failed'],
  [/^Not able to initialize volume '/, 'failed'],
  [/^Volume heal failed\.$/, 'failed'],
];

function entriesValue(text: string, line: string): number | null {
  return text === '-' ? null : parseCount(TOOL, 'number of entries', text, line);
}

/** `gluster volume heal VOL info` (or `info summary`). */
export function parseGlusterHealInfo(stdout: string, stderr = ''): GlusterHealInfo {
  const ls = lines(stdout, stderr);
  const first = ls[0];
  if (first !== undefined && !first.startsWith('Brick ')) {
    for (const [re, code] of HEAL_VOLUME_ERRORS) {
      if (re.test(first)) {
        for (const l of ls.slice(1)) {
          if (!HEAL_VOLUME_ERRORS.some(([r]) => r.test(l))) throw new ParseError(TOOL, 'heal info: unexpected line after error', l);
        }
        throw new ToolError(TOOL, code, ls.join('\n'));
      }
    }
  }
  const bricks: GlusterHealBrick[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new ParseError(TOOL, `heal info: line ${i + 1}: ${msg}`, ls[i] ?? '');
  };
  while (i < ls.length) {
    const bline = ls[i]!;
    let host: string | null = null;
    let path: string | null = null;
    if (bline === 'Brick - Not able to get brick information') {
      // glfsh_print_brick_from_xl failed: glfsheal stops for this brick, then prints the status
    } else if (bline.startsWith('Brick ')) {
      ({ host, path } = splitBrick(bline.slice('Brick '.length), bline));
    } else {
      fail('expected "Brick host:/path"');
    }
    i++;
    const entryLines: string[] = [];
    while (i < ls.length && !ls[i]!.startsWith('Status: ')) {
      const e = ls[i]!;
      if (!/^(\/|<gfid:|[0-9a-f]{8}-[0-9a-f]{4}-)/.test(e)) fail('expected a heal entry (path or gfid) or "Status: ..."');
      entryLines.push(e);
      i++;
    }
    if (i >= ls.length) fail('missing "Status: ..." line');
    const status = ls[i]!.slice('Status: '.length);
    i++;
    const brick: GlusterHealBrick = { host, path, status, connected: status === 'Connected', entries: null, complete: true, entryLines };
    if (status.startsWith('Failed to process entries completely.')) brick.complete = false;
    const nline = ls[i] ?? '';
    let m: RegExpExecArray | null;
    if ((m = /^Number of entries: (\S+)$/.exec(nline))) {
      brick.entries = entriesValue(m[1]!, nline);
      i++;
    } else if ((m = /^Total Number of entries: (\S+)$/.exec(nline))) {
      brick.entries = entriesValue(m[1]!, nline);
      i++;
      const summary: Array<[string, 'pending' | 'splitBrain' | 'possiblyHealing']> = [
        ['Number of entries in heal pending: ', 'pending'],
        ['Number of entries in split-brain: ', 'splitBrain'],
        ['Number of entries possibly healing: ', 'possiblyHealing'],
      ];
      if (brick.complete) {
        for (const [label, key] of summary) {
          const l = ls[i] ?? '';
          if (!l.startsWith(label)) fail(`expected "${label}N"`);
          brick[key] = entriesValue(l.slice(label.length), l);
          i++;
        }
      }
    } else {
      fail('expected "Number of entries: N"');
    }
    if (brick.connected && brick.entries === null) fail('connected brick with unknown number of entries');
    if (!brick.connected && brick.complete && brick.entries !== null) fail(`brick status ${JSON.stringify(status)} with a number of entries`);
    if (brick.connected && brick.pending === undefined && brick.entries !== entryLines.length) {
      throw new ParseError(TOOL, `heal info: brick ${host}:${path}: ${entryLines.length} entry lines but "Number of entries: ${brick.entries}"`);
    }
    if (ls[i] !== '') fail('expected the blank line that ends a brick');
    i++;
    bricks.push(brick);
  }
  if (bricks.length === 0) throw new ParseError(TOOL, 'heal info: no brick in output');
  let knownSum = 0;
  let unknown = false;
  for (const b of bricks) {
    if (b.entries === null || !b.complete || !b.connected) unknown = true;
    if (b.entries !== null) knownSum += b.entries;
  }
  return { bricks, total: unknown ? null : knownSum, knownSum };
}

// ---------------------------------------------------------------------------
// gluster volume rebalance VOL status

/** cli_vol_task_status_str */
const TASK_STATUS: readonly string[] = [
  'not started',
  'in progress',
  'stopped',
  'completed',
  'failed',
  'fix-layout in progress',
  'fix-layout stopped',
  'fix-layout completed',
  'fix-layout failed',
  'reset due to replace-brick',
  'reset due to reset-brick',
  'unknown',
];

export interface GlusterRebalanceNode {
  /** "localhost" for the node the command ran on, else the peer's hostname. */
  node: string;
  status: string;
  runTimeSeconds: number;
  /** Absent in the fix-layout table. */
  rebalancedFiles?: number;
  /** As printed (gf_uint64_2human_readable, e.g. "1.2GB", "0Bytes"). */
  size?: string;
  scanned?: number;
  failures?: number;
  skipped?: number;
}

export type GlusterRebalanceStatus =
  | { kind: 'not-started'; volume: string; running: false }
  | { kind: 'not-applicable'; volume: string; message: string; running: false }
  | {
      kind: 'status';
      volume: string;
      fixLayout: boolean;
      nodes: GlusterRebalanceNode[];
      /** A node reports "in progress" or "fix-layout in progress". */
      running: boolean;
      /** "Estimated time left ... : h:mm:ss"; Infinity for "> 2 months". */
      estimatedSecondsLeft?: number;
      /** The estimate line verbatim, when printed. */
      estimate?: string;
    };

function runTime(h: string, m: string, s: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

function volumeFailure(ls: string[], prefixRe: RegExp): { volume: string; message: string } | undefined {
  const m = prefixRe.exec(ls[0] ?? '');
  if (!m) return undefined;
  return { volume: m[1]!, message: [m[2] ?? '', ...ls.slice(1)].join('\n') };
}

/** `gluster volume rebalance VOL status`. */
export function parseGlusterRebalanceStatus(stdout: string, stderr = ''): GlusterRebalanceStatus {
  const ls = lines(stdout, stderr);
  const failure = volumeFailure(ls, /^volume rebalance: (\S+): failed(?:: (.*))?$/);
  if (failure) {
    const { volume, message } = failure;
    if (message === `Rebalance not started for volume ${volume}.`) return { kind: 'not-started', volume, running: false };
    if (/^Volume \S+ is not a distribute volume or contains only 1 brick\.\nNot performing rebalance$/.test(message)) {
      return { kind: 'not-applicable', volume, message, running: false };
    }
    throw new ToolError(TOOL, toolFailureCode(message), ls.join('\n'));
  }
  let i = 0;
  const fail = (msg: string): never => {
    throw new ParseError(TOOL, `rebalance status: line ${i + 1}: ${msg}`, ls[i] ?? '');
  };
  const header = (ls[0] ?? '').trim().split(/\s+/).join(' ');
  let fixLayout: boolean;
  if (header === 'Node Rebalanced-files size scanned failures skipped status run time in h:m:s') fixLayout = false;
  else if (header === 'Node status run time in h:m:s') fixLayout = true;
  else return fail('expected the rebalance status table header');
  i = 1;
  if (!/^\s*-{9}\s+-{11}/.test(ls[1] ?? '')) fail('expected the dashes under the header');
  i = 2;
  const nodes: GlusterRebalanceNode[] = [];
  let m: RegExpExecArray | null;
  for (; i < ls.length; i++) {
    const line = ls[i]!;
    if (!fixLayout && (m = /^\s*(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S.*?)\s+(-?\d+):(\d{2}):(\d{2})$/.exec(line))) {
      nodes.push({
        node: m[1]!,
        rebalancedFiles: parseCount(TOOL, 'Rebalanced-files', m[2]!, line),
        size: m[3]!,
        scanned: parseCount(TOOL, 'scanned', m[4]!, line),
        failures: parseCount(TOOL, 'failures', m[5]!, line),
        skipped: parseCount(TOOL, 'skipped', m[6]!, line),
        status: m[7]!,
        runTimeSeconds: runTime(m[8]!, m[9]!, m[10]!),
      });
    } else if (fixLayout && (m = /^\s*(\S+)\s+(\S.*?)\s+(-?\d+):(\d{2}):(\d{2})$/.exec(line))) {
      nodes.push({ node: m[1]!, status: m[2]!, runTimeSeconds: runTime(m[3]!, m[4]!, m[5]!) });
    } else {
      break;
    }
    if (!TASK_STATUS.includes(nodes[nodes.length - 1]!.status)) fail('unknown rebalance status');
  }
  const result: Extract<GlusterRebalanceStatus, { kind: 'status' }> = {
    kind: 'status',
    volume: '',
    fixLayout,
    nodes,
    running: nodes.some((n) => n.status === 'in progress' || n.status === 'fix-layout in progress'),
  };
  const est = ls[i];
  if (est !== undefined) {
    if ((m = /^Estimated time left for rebalance to complete :\s+(\d+):(\d{2}):(\d{2})$/.exec(est))) {
      result.estimatedSecondsLeft = runTime(m[1]!, m[2]!, m[3]!);
      result.estimate = est;
      i++;
    } else if (est === 'Estimated time left for rebalance to complete : > 2 months. Please try again later.') {
      result.estimatedSecondsLeft = Infinity;
      result.estimate = est;
      i++;
    } else if (
      est === 'The estimated time for rebalance to complete will be unavailable for the first 10 minutes.' ||
      est === 'Rebalance estimated time unavailable. Please try again later.'
    ) {
      result.estimate = est;
      i++;
    }
  }
  const done = /^volume rebalance: (\S+): success(?:: .*)?$/.exec(ls[i] ?? '');
  if (!done) fail('expected "volume rebalance: VOL: success"');
  result.volume = done![1]!;
  if (i + 1 !== ls.length) {
    i++;
    fail('unexpected line after the status');
  }
  return result;
}

// ---------------------------------------------------------------------------
// gluster volume tier VOL status

export interface GlusterTierNode {
  node: string;
  promotedFiles: number;
  demotedFiles: number;
  status: string;
  runTimeSeconds: number;
}

export type GlusterTierStatus =
  /** 3.x: "Tiering Migration Functionality: VOL: failed: volume VOL is not a tier volume" */
  | { kind: 'not-tier'; volume: string; tierDaemon: false }
  /** GlusterFS >= 6 has no tiering at all ("unrecognized word: tier"). */
  | { kind: 'unsupported'; tierDaemon: false }
  /** 3.x tier volume: per-node tier daemon status. */
  | { kind: 'status'; volume: string; nodes: GlusterTierNode[]; tierDaemon: boolean; warning?: string };

const USAGE_LINES = new Set([
  ' Usage: gluster [options] <help> <peer> <pool> <volume>',
  ' Options:',
  ' --help  Shows the help information',
  ' --version  Shows the version',
  ' --print-logdir  Shows the log directory',
  ' --print-statedumpdir Shows the state dump directory',
  '',
]);

/** `gluster volume tier VOL status`: tells whether a tier daemon runs. */
export function parseGlusterTierStatus(stdout: string, stderr = ''): GlusterTierStatus {
  const ls = lines(stdout, stderr);
  if (ls[0] === 'unrecognized word: tier (position 1)') {
    for (const l of ls.slice(1)) if (!USAGE_LINES.has(l)) throw new ParseError(TOOL, 'tier status: unexpected line after "unrecognized word"', l);
    return { kind: 'unsupported', tierDaemon: false };
  }
  // failure: cli_err("Tiering Migration Functionality: %s: failed%s%s") (stderr) and
  // cli_out("Tier command failed") (stdout): accept them in either order.
  const failLine = ls.find((l) => l.startsWith('Tiering Migration Functionality: ') && / failed(: |$)/.test(l));
  if (failLine !== undefined) {
    const m = /^Tiering Migration Functionality: (\S+): failed(?:: (.*))?$/.exec(failLine);
    if (!m) throw new ParseError(TOOL, 'tier status: bad failure line', failLine);
    for (const l of ls) if (l !== failLine && l !== 'Tier command failed') throw new ParseError(TOOL, 'tier status: unexpected line', l);
    const volume = m[1]!;
    if (m[2] === `volume ${volume} is not a tier volume`) return { kind: 'not-tier', volume, tierDaemon: false };
    throw new ToolError(TOOL, toolFailureCode(m[2] ?? ''), ls.join('\n'));
  }
  // 3.x table: "%-20s %-20s %-20s %-20s %-20s" header, rows "%-20s %-20lu %-20lu %-20s %d:%d:%d"
  const header = (ls[0] ?? '').trim().split(/\s+/).join(' ');
  if (header !== 'Node Promoted files Demoted files Status run time in h:m:s') {
    throw new ParseError(TOOL, 'tier status: line 1: unrecognized output', ls[0] ?? '');
  }
  if ((ls[1] ?? '').trim().split(/\s+/).join(' ') !== '--------- --------- --------- --------- ---------') {
    throw new ParseError(TOOL, 'tier status: line 2: expected dashes', ls[1] ?? '');
  }
  const nodes: GlusterTierNode[] = [];
  let warning: string | undefined;
  let volume: string | undefined;
  for (let i = 2; i < ls.length; i++) {
    const line = ls[i]!;
    let m: RegExpExecArray | null;
    if (volume === undefined && (m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\S.*?)\s+(\d+):(\d+):(\d+)$/.exec(line))) {
      nodes.push({
        node: m[1]!,
        promotedFiles: parseCount(TOOL, 'Promoted files', m[2]!, line),
        demotedFiles: parseCount(TOOL, 'Demoted files', m[3]!, line),
        status: m[4]!,
        runTimeSeconds: runTime(m[5]!, m[6]!, m[7]!),
      });
    } else if (line.startsWith('WARNING: glusterd might be down on one or more nodes.')) {
      warning = line;
    } else if ((m = /^Tiering Migration Functionality: (\S+): success(?:: .*)?$/.exec(line))) {
      volume = m[1]!;
    } else {
      throw new ParseError(TOOL, `tier status: line ${i + 1}: unexpected line`, line);
    }
  }
  if (volume === undefined) throw new ParseError(TOOL, 'tier status: missing "Tiering Migration Functionality: VOL: success"');
  const result: GlusterTierStatus = { kind: 'status', volume, nodes, tierDaemon: nodes.some((n) => n.status === 'in progress') };
  if (warning !== undefined) result.warning = warning;
  return result;
}

/**
 * The volume has self-heal (replicate, disperse and their distributed forms: `heal info` answers,
 * heal entries apply; a 3.x tier volume when one of its tiers does); a plain distribute volume has
 * none, and glusterd refuses heal commands on it.
 */
export function glusterVolumeHeals(v: Pick<GlusterVolumeInfo, 'type' | 'tiers'>): boolean {
  const heals = (type: string) => /Replicate|Disperse/.test(type);
  return v.tiers ? heals(v.tiers.hot.type) || heals(v.tiers.cold.type) : heals(v.type);
}

// ---------------------------------------------------------------------------
// gluster volume status VOL  (or: gluster volume status all)

export interface GlusterStatusProcess {
  /** "Brick" for a brick, else the daemon ("Self-heal Daemon", "NFS Server", ...). */
  kind: string;
  /** The brick's server, or the node the daemon runs on ("localhost" for the local one). */
  host: string;
  /** The brick's path; absent for a daemon. */
  path?: string;
  online: boolean;
  /** null for "N/A" (offline, or a daemon without a port). */
  port: number | null;
  pid: number | null;
}

export interface GlusterVolumeProcesses {
  volume: string;
  processes: GlusterStatusProcess[];
  /** "Task Status of Volume": one entry per task (rebalance, remove brick). */
  tasks: { task: string; id: string; status: string }[];
}

const STATUS_NAME_LEN = 43;
const DASHES78 = '-'.repeat(78);
const STATUS_DAEMONS = ['Self-heal Daemon', 'NFS Server', 'Quota Daemon', 'Snapshot Daemon', 'Scrubber Daemon', 'Bitrot Daemon'];

function statusNumber(text: string, what: string, line: string): number | null {
  return text === 'N/A' ? null : parseCount(TOOL, what, text, line);
}

/** `gluster volume status VOL`: every brick and daemon with its port, whether it is online, and the volume's tasks. */
export function parseGlusterVolumeStatus(stdout: string, stderr = ''): GlusterVolumeProcesses[] {
  const ls = lines(stdout, stderr);
  if (ls.length === 1 && ls[0] === 'No volumes present') return [];
  if (ls.length === 1) {
    if (/^Volume \S+ does not exist$/.test(ls[0]!)) throw new ToolError(TOOL, 'no-such-volume', ls[0]!);
    if (/^Volume \S+ is not started$/.test(ls[0]!)) throw new ToolError(TOOL, 'volume-not-started', ls[0]!);
  }
  const volumes: GlusterVolumeProcesses[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new ParseError(TOOL, `volume status: line ${i + 1}: ${msg}`, ls[i] ?? '');
  };
  const expectLine = (text: string) => {
    if (ls[i] !== text) fail(`expected ${JSON.stringify(text)}`);
    i++;
  };
  while (i < ls.length) {
    const head = /^Status of volume: (\S+)$/.exec(ls[i] ?? '');
    if (!head) fail('expected "Status of volume: VOL"');
    i++;
    const vol: GlusterVolumeProcesses = { volume: head![1]!, processes: [], tasks: [] };
    if ((ls[i] ?? '').trim().split(/\s+/).join(' ') !== 'Gluster process TCP Port RDMA Port Online Pid') fail('expected the status table header');
    i++;
    expectLine(DASHES78);
    while (i < ls.length && ls[i] !== ' ') {
      // 3.x tier volume: the hot tier's bricks, then the cold tier's
      if (ls[i] === 'Hot Bricks:' || ls[i] === 'Cold Bricks:') {
        i++;
        continue;
      }
      // a name longer than the field comes first in 43-character pieces, each on a line of its own
      let name = '';
      while ((ls[i] ?? '').length === STATUS_NAME_LEN && i + 1 < ls.length) name += ls[i++]!;
      // the name's field is 43 characters and a space, then "%-10s%-11s%-8c%-5s"
      const line = ls[i] ?? '';
      const m = /^(\d+|N\/A) +(\d+|N\/A) +([YN]) +(\d+|N\/A) *$/.exec(line.slice(STATUS_NAME_LEN + 1));
      if (!m || line[STATUS_NAME_LEN] !== ' ') fail('expected "NAME  PORT  RDMA-PORT  Y|N  PID"');
      name += line.slice(0, STATUS_NAME_LEN).trimEnd();
      const proc: GlusterStatusProcess = {
        kind: '',
        host: '',
        online: m![3] === 'Y',
        port: statusNumber(m![1]!, 'TCP Port', line),
        pid: statusNumber(m![4]!, 'Pid', line),
      };
      if (name.startsWith('Brick ')) {
        const { host, path } = splitBrick(name.slice('Brick '.length), line);
        Object.assign(proc, { kind: 'Brick', host, path });
      } else {
        const daemon = STATUS_DAEMONS.find((d) => name.startsWith(`${d} on `));
        if (!daemon) fail(`unknown process ${JSON.stringify(name)}`);
        Object.assign(proc, { kind: daemon, host: name.slice(daemon!.length + ' on '.length) });
      }
      vol.processes.push(proc);
      i++;
    }
    expectLine(' ');
    expectLine(`Task Status of Volume ${vol.volume}`);
    expectLine(DASHES78);
    if (ls[i] === 'There are no active volume tasks') {
      i++;
      expectLine(' ');
    } else {
      while (i < ls.length && ls[i]!.startsWith('Task ')) {
        const field = (label: string): string => {
          const fm = new RegExp(`^${label} +: (.*?) *$`).exec(ls[i] ?? '');
          if (!fm) fail(`expected "${label} : ..."`);
          i++;
          return fm![1]!;
        };
        const task = field('Task');
        const id = field('ID');
        if (ls[i] === 'Removed bricks:') for (i++; i < ls.length && !ls[i]!.startsWith('Status '); i++);
        vol.tasks.push({ task, id, status: field('Status') });
        expectLine(' ');
      }
    }
    volumes.push(vol);
  }
  if (volumes.length === 0) throw new ParseError(TOOL, 'volume status: empty output');
  return volumes;
}

// ---------------------------------------------------------------------------
// gluster volume status all clients  (or: gluster volume status VOL clients)

export interface GlusterClient {
  /** As printed: the brick's view of the peer, "ip:port". */
  address: string;
  host: string;
  port: number;
  bytesRead: number;
  bytesWritten: number;
  opVersion: number;
}

export interface GlusterBrickClients {
  host: string;
  path: string;
  /** False for "Brick is offline". */
  online: boolean;
  clients: GlusterClient[];
}

export interface GlusterVolumeClients {
  volume: string;
  /** False when glusterd answered "Volume VOL is not started" (no client list). */
  started: boolean;
  bricks: GlusterBrickClients[];
}

const DASHES46 = '----------------------------------------------';

function splitAddress(address: string, line: string): { host: string; port: number } {
  const m = /^\[?([^\s\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new ParseError(TOOL, 'status clients: client is not "host:port"', line);
  return { host: m[1]!, port: Number(m[2]) };
}

/** `gluster volume status all clients`: per volume, per brick, the connected clients. */
export function parseGlusterVolumeStatusClients(stdout: string, stderr = ''): GlusterVolumeClients[] {
  const ls = lines(stdout, stderr);
  if (ls.length === 1 && ls[0] === 'No volumes present') return [];
  const volumes: GlusterVolumeClients[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new ParseError(TOOL, `status clients: line ${i + 1}: ${msg}`, ls[i] ?? '');
  };
  // A volume whose status fails (e.g. not started) prints cli_err(msg) on stderr
  // and cli_out(" ") on stdout, so in a combined capture the two are apart.
  // Each " " is a placeholder filled, in order, by the error messages.
  const notStarted: string[] = [];
  const placeholders: number[] = [];
  // `volume status VOL clients` for a volume that does not exist: one stderr line, exit 1
  if (ls.length === 1 && /^Volume \S+ does not exist$/.test(ls[0]!)) throw new ToolError(TOOL, 'no-such-volume', ls[0]!);
  while (i < ls.length) {
    const line = ls[i]!;
    let m: RegExpExecArray | null;
    if ((m = /^Volume (\S+) is not started$/.exec(line))) {
      notStarted.push(m[1]!);
      i++;
      continue;
    }
    if (line === ' ') {
      placeholders.push(volumes.length);
      volumes.push({ volume: '', started: false, bricks: [] });
      i++;
      continue;
    }
    if (!(m = /^Client connections for volume (\S+)$/.exec(line))) fail('expected "Client connections for volume VOL"');
    const vol: GlusterVolumeClients = { volume: m![1]!, started: true, bricks: [] };
    i++;
    for (;;) {
      if (ls[i] !== DASHES46) fail('expected a dashes line');
      i++;
      const next = ls[i];
      if (next === undefined || next === '') {
        // closing "----...\n" (the format ends with "\n": a blank line follows)
        if (next === '') i++;
        break;
      }
      const bm = /^Brick : (\S+)$/.exec(next);
      if (!bm) fail('expected "Brick : host:/path"');
      const { host, path } = splitBrick(bm![1]!, next);
      i++;
      const brick: GlusterBrickClients = { host, path, online: true, clients: [] };
      vol.bricks.push(brick);
      if (ls[i] === 'Brick is offline') {
        brick.online = false;
        i++;
        continue;
      }
      const cm = /^Clients connected : (\d+)$/.exec(ls[i] ?? '');
      if (!cm) fail('expected "Clients connected : N"');
      const n = Number(cm![1]);
      i++;
      if (n === 0) continue;
      if ((ls[i] ?? '').trim().split(/\s+/).join(' ') !== 'Hostname BytesRead BytesWritten OpVersion') fail('expected the clients header');
      i++;
      if ((ls[i] ?? '').trim().split(/\s+/).join(' ') !== '-------- --------- ------------ ---------') fail('expected the clients dashes');
      i++;
      for (let k = 0; k < n; k++) {
        const row = ls[i] ?? '';
        const rm = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(row);
        if (!rm) fail(`expected client ${k + 1} of ${n}`);
        const { host: chost, port } = splitAddress(rm![1]!, row);
        brick.clients.push({
          address: rm![1]!,
          host: chost,
          port,
          bytesRead: parseCount(TOOL, 'BytesRead', rm![2]!, row),
          bytesWritten: parseCount(TOOL, 'BytesWritten', rm![3]!, row),
          opVersion: parseCount(TOOL, 'OpVersion', rm![4]!, row),
        });
        i++;
      }
    }
    volumes.push(vol);
  }
  if (placeholders.length !== notStarted.length) {
    throw new ParseError(
      TOOL,
      `status clients: ${placeholders.length} failed volume(s) (" " lines) but ${notStarted.length} "Volume VOL is not started" message(s); pass stderr too`,
    );
  }
  placeholders.forEach((idx, k) => {
    volumes[idx]!.volume = notStarted[k]!;
  });
  if (volumes.length === 0) throw new ParseError(TOOL, 'status clients: empty output');
  return volumes;
}

export interface ForeignGlusterClient {
  volume: string;
  brick: string;
  client: GlusterClient;
}

/**
 * The clients that are NOT a hypervisor's self-heal daemon.
 *
 * Rule: a client is taken for a GlusterFS server's own process (its
 * glustershd self-heal daemon, seed 001's "hypervisors themselves may appear
 * as clients") when its address is one of `serverAddresses`, the IP
 * addresses the trusted pool's servers use on the storage network (the brick
 * sees IPs, not names). Every other client is foreign and blocks a shutdown.
 * Caveat: a FUSE mount left on a server is indistinguishable from its
 * self-heal daemon in this output; the procedures unmount every server's
 * GlusterFS mounts first (seed 001: `umount -a -t fuse.glusterfs`).
 */
export function foreignGlusterClients(volumes: readonly GlusterVolumeClients[], serverAddresses: Iterable<string>): ForeignGlusterClient[] {
  const servers = new Set(serverAddresses);
  const out: ForeignGlusterClient[] = [];
  for (const v of volumes) {
    for (const b of v.bricks) {
      for (const c of b.clients) {
        if (!servers.has(c.host)) out.push({ volume: v.volume, brick: `${b.host}:${b.path}`, client: c });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// gluster peer status

export interface GlusterPeer {
  hostname: string;
  uuid: string;
  /** glusterd_friend_sm_state_names, e.g. "Peer in Cluster". */
  state: string;
  connected: boolean;
  /** "Other names:" (more addresses of the same peer). */
  otherNames: string[];
}

const PEER_STATES: readonly string[] = [
  'Establishing Connection',
  'Probe Sent to Peer',
  'Probe Received from Peer',
  'Peer in Cluster',
  'Accepted peer request',
  'Sent and Received peer request',
  'Peer Rejected',
  'Peer detach in progress',
  'Probe Received from peer',
  'Connected to Peer',
  'Peer is connected and Accepted',
  'Invalid State',
];

/** `gluster peer status` (the peers other than the node it runs on). */
export function parseGlusterPeerStatus(stdout: string, stderr = ''): GlusterPeer[] {
  const ls = lines(stdout, stderr);
  if (ls.length === 1 && ls[0] === 'peer status: No peers present') return [];
  if (ls.includes('peer status: failed')) throw new ToolError(TOOL, 'failed', ls.join('\n'));
  let i = 0;
  const fail = (msg: string): never => {
    throw new ParseError(TOOL, `peer status: line ${i + 1}: ${msg}`, ls[i] ?? '');
  };
  const nm = /^Number of Peers: (\d+)$/.exec(ls[0] ?? '');
  if (!nm) fail('expected "Number of Peers: N"');
  const count = Number(nm![1]);
  i = 1;
  const peers: GlusterPeer[] = [];
  while (i < ls.length) {
    if (ls[i] !== '') fail('expected the blank line before a peer');
    i++;
    const h = /^Hostname: (\S+)$/.exec(ls[i] ?? '');
    if (!h) fail('expected "Hostname: ..."');
    i++;
    const u = /^Uuid: ([0-9a-fA-F-]{36})$/.exec(ls[i] ?? '');
    if (!u) fail('expected "Uuid: ..."');
    i++;
    const s = /^State: (.+) \((Connected|Disconnected)\)$/.exec(ls[i] ?? '');
    if (!s) fail('expected "State: ... (Connected|Disconnected)"');
    if (!PEER_STATES.includes(s![1]!)) fail('unknown peer state');
    i++;
    const peer: GlusterPeer = { hostname: h![1]!, uuid: u![1]!, state: s![1]!, connected: s![2] === 'Connected', otherNames: [] };
    if (ls[i] === 'Other names:') {
      i++;
      while (i < ls.length && ls[i] !== '') {
        if (!/^\S+$/.test(ls[i]!)) fail('expected a host name');
        peer.otherNames.push(ls[i]!);
        i++;
      }
    }
    peers.push(peer);
  }
  if (peers.length !== count) throw new ParseError(TOOL, `peer status: "Number of Peers: ${count}" but ${peers.length} peers listed`);
  return peers;
}

// ---------------------------------------------------------------------------
// gluster --mode=script volume start|stop VOL

export interface GlusterVolumeOpResult {
  op: 'start' | 'stop';
  volume: string;
  /** False when the volume already was in the requested state (idempotent success). */
  changed: boolean;
  /** The tool's message when not changed. */
  message?: string;
}

/**
 * `gluster --mode=script volume start VOL` / `volume stop VOL`.
 * "already started" / "is not in the started state" are returned as
 * changed=false; any other failure is a ToolError (code 'no-such-volume',
 * 'rebalance-in-progress', 'failed').
 */
export function parseGlusterVolumeStartStop(stdout: string, stderr = ''): GlusterVolumeOpResult {
  const ls = lines(stdout, stderr).filter((l) => l !== '');
  if (ls.some((l) => l.includes('Do you want to continue? (y/n)'))) {
    throw new ParseError(
      TOOL,
      'volume start/stop: interactive confirmation prompt; run gluster with --mode=script',
      ls.find((l) => l.includes('(y/n)')),
    );
  }
  const first = ls[0];
  if (first === undefined) throw new ParseError(TOOL, 'volume start/stop: empty output');
  let m: RegExpExecArray | null;
  if ((m = /^volume (start|stop): (\S+): success$/.exec(first))) {
    if (ls.length !== 1) throw new ParseError(TOOL, 'volume start/stop: unexpected line after success', ls[1]);
    return { op: m[1] as 'start' | 'stop', volume: m[2]!, changed: true };
  }
  if ((m = /^volume (start|stop): (\S+): failed(?:: (.*))?$/.exec(first))) {
    const op = m[1] as 'start' | 'stop';
    const volume = m[2]!;
    const message = [m[3] ?? '', ...ls.slice(1)].join('\n');
    if (op === 'start' && message === `Volume ${volume} already started`) return { op, volume, changed: false, message };
    if (op === 'stop' && message === `Volume ${volume} is not in the started state`) return { op, volume, changed: false, message };
    let code = toolFailureCode(message);
    if (/^rebalance session is in progress for the volume /.test(message)) code = 'rebalance-in-progress';
    throw new ToolError(TOOL, code, ls.join('\n'));
  }
  if ((m = /^Volume (start|stop) on '(\S+)' failed$/.exec(first))) {
    throw new ToolError(TOOL, 'failed', ls.join('\n'));
  }
  throw new ParseError(TOOL, 'volume start/stop: line 1: unrecognized output', first);
}
