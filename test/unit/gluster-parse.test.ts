import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  foreignGlusterClients,
  glusterBusy,
  parseGlusterHealInfo,
  parseGlusterPeerStatus,
  parseGlusterRebalanceStatus,
  parseGlusterTierStatus,
  parseGlusterVolumeInfo,
  parseGlusterVolumeStartStop,
  parseGlusterVolumeStatusClients,
} from '../../activities/gluster-parse';
import { ParseError, ToolError } from '../../activities/parse-error';

const DIR = join(__dirname, '..', 'fixtures', 'gluster');
const seed = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const run = (base: string): [string, string] => {
  const read = (s: string) => (existsSync(join(DIR, `${base}.${s}.txt`)) ? readFileSync(join(DIR, `${base}.${s}.txt`), 'utf8') : '');
  return [read('stdout'), read('stderr')];
};

const SERVER_IPS = ['10.5.0.1', '10.5.0.2', '10.5.0.3', '10.5.0.4', '10.5.0.5', '10.5.0.6'];

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

function expectParseError(fn: () => unknown, line?: string, message?: RegExp): void {
  const e = catchError(fn);
  expect(e).toBeInstanceOf(ParseError);
  expect((e as ParseError).tool).toBe('gluster');
  if (line !== undefined) expect((e as ParseError).line).toBe(line);
  if (message) expect((e as ParseError).message).toMatch(message);
}

function expectToolError(fn: () => unknown, code: string, text?: RegExp): void {
  const e = catchError(fn);
  expect(e).toBeInstanceOf(ToolError);
  expect((e as ToolError).tool).toBe('gluster');
  expect((e as ToolError).code).toBe(code);
  if (text) expect((e as ToolError).toolMessage).toMatch(text);
}

describe('gluster volume info', () => {
  it('parses all volumes (2 x 3 sharded distributed-replicate)', () => {
    const vols = parseGlusterVolumeInfo(...run('volume-info'));
    expect(vols.map((v) => v.name)).toEqual(['volspoms1', 'volspoms2']);
    const v = vols[0]!;
    expect(v).toMatchObject({
      type: 'Distributed-Replicate',
      volumeId: '6a2f8e1c-3b4d-4f5a-9e8d-7c6b5a4f3e21',
      status: 'Started',
      snapshotCount: 0,
      brickCount: 6,
      distributeCount: 2,
      replicaCount: 3,
      transport: 'tcp',
      sharded: true,
      shardBlockSize: '64MB',
    });
    expect(v.arbiterCount).toBeUndefined();
    expect(v.bricks.map((b) => `${b.host}:${b.path}`)).toEqual([
      'top1-data:/gluster/volspoms1/brick',
      'top2-data:/gluster/volspoms1/brick',
      'top3-data:/gluster/volspoms1/brick',
      'worker1-data:/gluster/volspoms1/brick',
      'worker2-data:/gluster/volspoms1/brick',
      'worker3-data:/gluster/volspoms1/brick',
    ]);
    expect(v.options['nfs.disable']).toBe('on');
    expect(Object.keys(v.options)).toHaveLength(7);
  });

  it('parses an arbiter volume that is stopped', () => {
    const [v] = parseGlusterVolumeInfo(...run('volume-info-arbiter-stopped'));
    expect(v).toMatchObject({ name: 'vmstore', type: 'Replicate', status: 'Stopped', replicaCount: 3, arbiterCount: 1, distributeCount: 1, sharded: false });
    expect(v!.bricks[2]).toEqual({ index: 3, host: 'top3-data', path: '/gluster/vmstore/arbiter', arbiter: true });
  });

  it('knows "No volumes present", a missing volume and glusterd down', () => {
    expect(parseGlusterVolumeInfo('', 'No volumes present\n')).toEqual([]);
    expectToolError(() => parseGlusterVolumeInfo('', 'Volume nosuch does not exist\n'), 'no-such-volume');
    expectToolError(() => parseGlusterVolumeInfo(...run('glusterd-down')), 'glusterd-unreachable');
  });

  it('rejects malformed output naming the line', () => {
    const [out] = run('volume-info');
    expectParseError(
      () => parseGlusterVolumeInfo(out.replace('Brick6: worker3-data:/gluster/volspoms1/brick\n', '')),
      'Options Reconfigured:',
      /5 brick lines/,
    );
    expectParseError(
      () => parseGlusterVolumeInfo(out.replace('Number of Bricks: 2 x 3 = 6', 'Number of Bricks: 2 x 3 = 7')),
      'Number of Bricks: 2 x 3 = 7',
      /inconsistent/,
    );
    expectParseError(() => parseGlusterVolumeInfo(out.replace('Status: Started', 'Status: Running')), 'Status: Running', /unknown volume status/);
    expectParseError(() => parseGlusterVolumeInfo(out.replace(/^ \n/, '')), 'Volume Name: volspoms1', /line 1: expected the " " line/);
    expectParseError(() => parseGlusterVolumeInfo(out.replace('nfs.disable: on', 'nfs.disable on')), 'nfs.disable on', /option: value/);
  });
});

describe('gluster volume heal VOL info', () => {
  it('sums a clean volume to 0', () => {
    const h = parseGlusterHealInfo(...run('heal-info-volspoms1-clean'));
    expect(h.bricks).toHaveLength(6);
    expect(h.total).toBe(0);
    expect(h.knownSum).toBe(0);
    expect(h.bricks.every((b) => b.connected && b.entries === 0)).toBe(true);
  });

  it('gives per-brick entries and an unknown total when a brick is not connected', () => {
    const h = parseGlusterHealInfo(...run('heal-info-volspoms1-top2-down'));
    expect(h.bricks.map((b) => [b.host, b.entries])).toEqual([
      ['top1-data', 3],
      ['top2-data', null],
      ['top3-data', 2],
      ['worker1-data', 0],
      ['worker2-data', 0],
      ['worker3-data', 0],
    ]);
    expect(h.bricks[1]).toMatchObject({ status: 'Transport endpoint is not connected', connected: false, entries: null });
    expect(h.bricks[0]!.entryLines[1]).toBe('/.shard/9c8b7a6f-5e4d-4c3b-a2a1-908f7e6d5c4b.1022 - Possibly undergoing heal');
    expect(h.total).toBeNull(); // unknown, not 0
    expect(h.knownSum).toBe(5); // what seed 000's grep | awk would print
  });

  it('reads `info summary` and partial counts', () => {
    const text =
      'Brick top1-data:/gluster/volspoms1/brick\nStatus: Connected\nTotal Number of entries: 4\nNumber of entries in heal pending: 3\nNumber of entries in split-brain: 0\nNumber of entries possibly healing: 1\n\n' +
      'Brick top2-data:/gluster/volspoms1/brick\nStatus: Failed to process entries completely. (Transport endpoint is not connected)\nNumber of entries: 7\n\n';
    const h = parseGlusterHealInfo(text);
    expect(h.bricks[0]).toMatchObject({ entries: 4, pending: 3, splitBrain: 0, possiblyHealing: 1, connected: true });
    expect(h.bricks[1]).toMatchObject({ entries: 7, complete: false, connected: false });
    expect(h.total).toBeNull();
    expect(h.knownSum).toBe(11);
  });

  it('turns a volume-level failure into a ToolError', () => {
    expectToolError(() => parseGlusterHealInfo(...run('heal-info-volspoms2-not-started')), 'volume-not-started', /Volume heal failed\./);
    expectToolError(() => parseGlusterHealInfo('Volume nosuch does not exist\nVolume heal failed.\n'), 'no-such-volume');
  });

  it('rejects truncated or inconsistent output', () => {
    const [out] = run('heal-info-volspoms1-top2-down');
    expectParseError(() => parseGlusterHealInfo(out.slice(0, out.indexOf('Number of entries: 3'))), '', /expected "Number of entries: N"/);
    expectParseError(
      () => parseGlusterHealInfo(out.replace('Number of entries: 3', 'Number of entries: 2')),
      undefined,
      /3 entry lines but "Number of entries: 2"/,
    );
    expectParseError(() => parseGlusterHealInfo(out.replace('Number of entries: 2', 'Number of entries: two')), 'Number of entries: two');
    expectParseError(() => parseGlusterHealInfo(out.replace(/\n\nBrick top3/, '\nBrick top3')), 'Brick top3-data:/gluster/volspoms1/brick', /blank line/);
    expectParseError(() => parseGlusterHealInfo(''), undefined, /no brick/);
    expectParseError(() => parseGlusterHealInfo('0\n'), '0', /line 1: expected "Brick host:\/path"/);
  });
});

describe('gluster volume rebalance VOL status', () => {
  it('reads seed 000\'s "not started"', () => {
    expect(parseGlusterRebalanceStatus(seed('seed000-rebalance-status-volspoms1.txt'))).toEqual({ kind: 'not-started', volume: 'volspoms1', running: false });
    expect(parseGlusterRebalanceStatus(seed('seed000-rebalance-status-volspoms2.txt'))).toEqual({ kind: 'not-started', volume: 'volspoms2', running: false });
  });

  it('reads a running rebalance', () => {
    const r = parseGlusterRebalanceStatus(...run('rebalance-status-volspoms1-in-progress'));
    expect(r.kind).toBe('status');
    if (r.kind !== 'status') return;
    expect(r).toMatchObject({ volume: 'volspoms1', fixLayout: false, running: true, estimatedSecondsLeft: 3600 + 12 * 60 + 40 });
    expect(r.nodes).toHaveLength(6);
    expect(r.nodes[0]).toEqual({
      node: 'localhost',
      rebalancedFiles: 1207,
      size: '78.1GB',
      scanned: 5120,
      failures: 0,
      skipped: 14,
      status: 'in progress',
      runTimeSeconds: 47 * 60 + 23,
    });
    expect(r.nodes[5]).toMatchObject({ node: 'worker3-data', status: 'completed', size: '0Bytes' });
  });

  it('reads a completed rebalance as not running', () => {
    const r = parseGlusterRebalanceStatus(...run('rebalance-status-volspoms1-completed'));
    expect(r).toMatchObject({ kind: 'status', running: false });
    if (r.kind === 'status') expect(r.estimate).toBeUndefined();
  });

  it('reads the fix-layout table', () => {
    const text =
      `${'Node'.padStart(35)} ${'status'.padStart(41)} ${'run time in h:m:s'.padStart(27)}\n` +
      `${'---------'.padStart(35)} ${'-----------'.padStart(41)} ${'------------'.padStart(27)}\n` +
      `${'localhost'.padStart(35)} ${'fix-layout in progress'.padStart(50)} ${'0'.padStart(8)}:03:12\n` +
      'volume rebalance: volspoms1: success\n';
    expect(parseGlusterRebalanceStatus(text)).toMatchObject({
      kind: 'status',
      fixLayout: true,
      running: true,
      nodes: [{ node: 'localhost', runTimeSeconds: 192 }],
    });
  });

  it('reads "not a distribute volume" as not applicable, other failures as ToolError', () => {
    expect(parseGlusterRebalanceStatus(...run('rebalance-status-vmstore-not-distribute'))).toMatchObject({
      kind: 'not-applicable',
      volume: 'vmstore',
      running: false,
    });
    expectToolError(() => parseGlusterRebalanceStatus('', 'volume rebalance: nosuch: failed: Volume nosuch does not exist\n'), 'no-such-volume');
  });

  it('rejects truncated output', () => {
    const [out] = run('rebalance-status-volspoms1-in-progress');
    expectParseError(
      () => parseGlusterRebalanceStatus(out.replace('volume rebalance: volspoms1: success\n', '')),
      '',
      /expected "volume rebalance: VOL: success"/,
    );
    expectParseError(
      () => parseGlusterRebalanceStatus(out.replace('in progress        0:47:22', 'exploded           0:47:22')),
      undefined,
      /unknown rebalance status/,
    );
    expectParseError(() => parseGlusterRebalanceStatus('Rebalance is fine\n'), 'Rebalance is fine', /table header/);
  });
});

describe('gluster volume tier VOL status', () => {
  it('reads seed 000\'s "is not a tier volume": no tier daemon', () => {
    expect(parseGlusterTierStatus(seed('seed000-tier-status-volspoms1.txt'))).toEqual({ kind: 'not-tier', volume: 'volspoms1', tierDaemon: false });
    // the two lines come from two streams: accept them in the other order too
    const [a, b] = seed('seed000-tier-status-volspoms2.txt').split('\n');
    expect(parseGlusterTierStatus(`${b}\n`, `${a}\n`)).toEqual({ kind: 'not-tier', volume: 'volspoms2', tierDaemon: false });
  });

  it('reads GlusterFS 10 (no tiering at all): no tier daemon', () => {
    expect(parseGlusterTierStatus(...run('tier-status-volspoms1-glusterfs10'))).toEqual({ kind: 'unsupported', tierDaemon: false });
  });

  it('reads a 3.x tier status table (gf_cli_print_tier_status formats)', () => {
    const row = (n: string, p: string, d: string, s: string, t: string) => `${n.padEnd(20)} ${p.padEnd(20)} ${d.padEnd(20)} ${s.padEnd(20)} ${t}`;
    const text = [
      `${'Node'.padEnd(20)} ${'Promoted files'.padEnd(20)} ${'Demoted files'.padEnd(20)} ${'Status'.padEnd(20)} ${'run time in h:m:s'.padEnd(20)}`,
      `${'---------'.padEnd(20)} ${'---------'.padEnd(20)} ${'---------'.padEnd(20)} ${'---------'.padEnd(20)} ${'---------'.padEnd(20)}`,
      row('localhost', '12', '3', 'in progress', '1:2:3'),
      row('top2-data', '0', '0', 'in progress', '1:2:3'),
      'Tiering Migration Functionality: hotvol: success',
      '',
    ].join('\n');
    expect(parseGlusterTierStatus(text)).toMatchObject({
      kind: 'status',
      volume: 'hotvol',
      tierDaemon: true,
      nodes: [{ node: 'localhost', promotedFiles: 12, runTimeSeconds: 3723 }, {}],
    });
  });

  it('rejects anything else', () => {
    expectParseError(() => parseGlusterTierStatus('Tier is great\n'), 'Tier is great');
    expectToolError(
      () => parseGlusterTierStatus('Tiering Migration Functionality: v: failed: Volume v needs to be started to perform rebalance\nTier command failed\n'),
      'volume-not-started',
    );
  });
});

describe('gluster volume status all clients', () => {
  it('finds only self-heal daemons after the hypervisors unmounted', () => {
    const vols = parseGlusterVolumeStatusClients(...run('status-all-clients-shd-only'));
    expect(vols.map((v) => v.volume)).toEqual(['volspoms1', 'volspoms2']);
    expect(vols[0]!.bricks).toHaveLength(6);
    expect(vols[0]!.bricks[0]!.clients[0]).toEqual({
      address: '10.5.0.1:49151',
      host: '10.5.0.1',
      port: 49151,
      bytesRead: 1235000,
      bytesWritten: 877000,
      opVersion: 100000,
    });
    expect(foreignGlusterClients(vols, SERVER_IPS)).toEqual([]);
    // without the server list every self-heal daemon counts as foreign
    expect(foreignGlusterClients(vols, [])).toHaveLength(2 * 6 * 6);
  });

  it('reports a foreign client and a stopped volume (stderr)', () => {
    const vols = parseGlusterVolumeStatusClients(...run('status-all-clients-foreign'));
    expect(vols.map((v) => [v.volume, v.started])).toEqual([
      ['volspoms1', true],
      ['volspoms2', false],
    ]);
    const foreign = foreignGlusterClients(vols, SERVER_IPS);
    expect(foreign.map((f) => [f.brick, f.client.address])).toEqual([
      ['top1-data:/gluster/volspoms1/brick', '10.5.0.55:49113'],
      ['worker1-data:/gluster/volspoms1/brick', '10.5.0.55:49112'],
    ]);
  });

  it('insists on stderr when a volume failed', () => {
    const [out] = run('status-all-clients-foreign');
    expectParseError(() => parseGlusterVolumeStatusClients(out), undefined, /pass stderr too/);
  });

  it('reads an offline brick and bricks without clients', () => {
    const [v] = parseGlusterVolumeStatusClients(...run('status-volspoms1-clients-none'));
    expect(v!.bricks.map((b) => [b.host, b.online, b.clients.length])).toEqual([
      ['top1-data', true, 0],
      ['top2-data', false, 0],
      ['top3-data', true, 0],
      ['worker1-data', true, 0],
      ['worker2-data', true, 0],
      ['worker3-data', true, 0],
    ]);
  });

  it('rejects a short client list', () => {
    const [out] = run('status-all-clients-shd-only');
    const broken = out.replace('10.5.0.6:49146                                           1235065          877035          100000\n', '');
    expectParseError(() => parseGlusterVolumeStatusClients(broken), '----------------------------------------------', /expected client 6 of 6/);
  });
});

describe('gluster peer status', () => {
  it('reads five connected peers with other names', () => {
    const peers = parseGlusterPeerStatus(...run('peer-status-from-top1'));
    expect(peers.map((p) => p.hostname)).toEqual(['top2-data', 'top3-data', 'worker1-data', 'worker2-data', 'worker3-data']);
    expect(peers.every((p) => p.state === 'Peer in Cluster' && p.connected)).toBe(true);
    expect(peers[1]).toEqual({
      hostname: 'top3-data',
      uuid: 'e4d3c2b1-a0f9-4e8d-b7c6-5a4f3e2d1c03',
      state: 'Peer in Cluster',
      connected: true,
      otherNames: ['10.5.0.3'],
    });
  });

  it('reads a disconnected peer and "No peers present"', () => {
    const peers = parseGlusterPeerStatus(...run('peer-status-top2-disconnected'));
    expect(peers.filter((p) => !p.connected).map((p) => p.hostname)).toEqual(['top2-data']);
    expect(parseGlusterPeerStatus(...run('peer-status-no-peers'))).toEqual([]);
  });

  it('rejects inconsistent output', () => {
    const [out] = run('peer-status-from-top1');
    expectParseError(() => parseGlusterPeerStatus(out.replace('Number of Peers: 5', 'Number of Peers: 6')), undefined, /"Number of Peers: 6" but 5 peers/);
    expectParseError(
      () => parseGlusterPeerStatus(out.replace('State: Peer in Cluster (Connected)', 'State: Happy (Connected)')),
      'State: Happy (Connected)',
      /unknown peer state/,
    );
  });
});

describe('gluster --mode=script volume start|stop', () => {
  it('reads success and the idempotent "already" answers', () => {
    expect(parseGlusterVolumeStartStop(...run('volume-stop-volspoms1-success'))).toEqual({ op: 'stop', volume: 'volspoms1', changed: true });
    expect(parseGlusterVolumeStartStop(...run('volume-start-volspoms1-success'))).toEqual({ op: 'start', volume: 'volspoms1', changed: true });
    expect(parseGlusterVolumeStartStop(...run('volume-stop-volspoms1-not-started'))).toEqual({
      op: 'stop',
      volume: 'volspoms1',
      changed: false,
      message: 'Volume volspoms1 is not in the started state',
    });
    expect(parseGlusterVolumeStartStop(...run('volume-start-volspoms1-already-started'))).toMatchObject({ op: 'start', changed: false });
  });

  it('raises ToolError for real failures', () => {
    expectToolError(() => parseGlusterVolumeStartStop(...run('volume-stop-volspoms1-rebalance')), 'rebalance-in-progress');
    expectToolError(() => parseGlusterVolumeStartStop(...run('volume-stop-volspoms9-does-not-exist')), 'no-such-volume');
    expectToolError(
      () => parseGlusterVolumeStartStop('', 'volume start: volspoms1: failed: Commit failed on worker2-data. Please check log file for details.\n'),
      'failed',
    );
    expectToolError(() => parseGlusterVolumeStartStop(...run('glusterd-down')), 'glusterd-unreachable');
  });

  it('classifies "another transaction is in progress" as busy (glusterd held its lock: nothing was done)', () => {
    // As real glusterd 10.3 printed it in the lab, while the lab's own `volume set` held the lock.
    const busy = 'volume rebalance: volspoms1: failed: Another transaction is in progress. Please try again after some time.\n';
    expect(glusterBusy('', busy)).toBe(true);
    expectToolError(() => parseGlusterRebalanceStatus('', busy), 'busy', /Another transaction/);
    expectToolError(
      () =>
        parseGlusterVolumeStartStop(
          '',
          'volume stop: volspoms1: failed: Another transaction is in progress for volspoms1. Please try again after some time.\n',
        ),
      'busy',
    );
    expectToolError(
      () => parseGlusterVolumeStartStop('', 'volume start: volspoms1: failed: Locking failed on top2-data. Please check log file for details.\n'),
      'busy',
    );
    // Not busy: a commit that failed, an ordinary answer.
    expect(glusterBusy('', 'volume start: volspoms1: failed: Commit failed on worker2-data. Please check log file for details.\n')).toBe(false);
    expect(glusterBusy(...run('volume-info'))).toBe(false);
  });

  it('rejects the interactive prompt and unknown text', () => {
    expectParseError(
      () => parseGlusterVolumeStartStop('Stopping volume will make its data inaccessible. Do you want to continue? (y/n) '),
      undefined,
      /--mode=script/,
    );
    expectParseError(() => parseGlusterVolumeStartStop('done\n'), 'done', /line 1/);
  });
});
