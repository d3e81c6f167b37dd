/**
 * The GlusterFS parsers on real GlusterFS 10.3 output (test/fixtures/gluster-real, captured from three
 * glusterd in network namespaces; see its README). Every capture is run through the parser the
 * activity uses for that command, and the result or the error code is what an operator would expect.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  glusterVolumeHeals,
  parseGlusterHealInfo,
  parseGlusterPeerStatus,
  parseGlusterRebalanceStatus,
  parseGlusterTierStatus,
  parseGlusterVolumeInfo,
  parseGlusterVolumeStartStop,
  parseGlusterVolumeStatus,
  parseGlusterVolumeStatusClients,
} from '../../activities/gluster-parse';
import { ParseError, ToolError } from '../../activities/parse-error';

const DIR = join(__dirname, '..', 'fixtures', 'gluster-real');
const capture = (name: string): [string, string] => [
  readFileSync(join(DIR, `${name}.stdout.txt`), 'utf8'),
  readFileSync(join(DIR, `${name}.stderr.txt`), 'utf8'),
];

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The parser each capture's command goes through in activities/gluster.ts. */
function parserFor(name: string): ((stdout: string, stderr: string) => unknown) | undefined {
  if (name.startsWith('volume-info') || name === 'glusterd-down') return parseGlusterVolumeInfo;
  if (name.startsWith('heal-info')) return parseGlusterHealInfo;
  if (name.startsWith('rebalance-status')) return parseGlusterRebalanceStatus;
  if (name.startsWith('tier-status')) return parseGlusterTierStatus;
  if (name.startsWith('status-') && name.includes('clients')) return parseGlusterVolumeStatusClients;
  if (name.startsWith('status-')) return parseGlusterVolumeStatus;
  if (name.startsWith('peer-status') || name === 'glusterd-down-peer-status') return parseGlusterPeerStatus;
  if (name.startsWith('volume-start') || name.startsWith('volume-stop')) return parseGlusterVolumeStartStop;
  return undefined; // pool list, heal launch, rebalance start: not read by hvflow
}

/** Captures whose right answer is a tool error, and its code. */
const TOOL_ERRORS: Record<string, string> = {
  'glusterd-down': 'glusterd-unreachable',
  'glusterd-down-peer-status': 'glusterd-unreachable',
  // glusterd answers, but serves no volfile for a stopped volume: not an unreachable daemon
  'heal-info-volspoms1-not-started': 'volume-not-started',
  'heal-info-volspoms9-does-not-exist': 'no-such-volume',
  'rebalance-status-volspoms9-does-not-exist': 'no-such-volume',
  'status-volspoms9-clients-does-not-exist': 'no-such-volume',
  'volume-info-volspoms9-does-not-exist': 'no-such-volume',
  'volume-stop-volspoms9-does-not-exist': 'no-such-volume',
  // a distribute volume has no heal: glfsheal refuses it (exit 234), whatever its bricks
  'heal-info-volscratch-distribute': 'not-replicated',
  'heal-info-summary-volscratch-distribute': 'not-replicated',
  'heal-info-volscratch-brick-down': 'not-replicated',
  'heal-info-volscratch-stopped': 'volume-not-started',
  'status-volscratch-stopped': 'volume-not-started',
};

/** Captures the parser must refuse as unreadable rather than guess at. */
const REFUSED: Record<string, RegExp> = {
  // without --mode=script and no tty, real gluster prints the prompt, exits 0 and stops nothing
  'volume-stop-volspoms1-interactive-no-tty': /./,
};

describe('GlusterFS parsers on real GlusterFS 10.3 captures', () => {
  const names = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();

  it('the capture set is the one the README indexes', () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
    for (const n of [...Object.keys(TOOL_ERRORS), ...Object.keys(REFUSED)]) expect(names).toContain(n);
  });

  for (const name of names) {
    const parse = parserFor(name);
    if (!parse) continue;
    it(`${name}: ${TOOL_ERRORS[name] ? `ToolError ${TOOL_ERRORS[name]}` : REFUSED[name] ? 'refused' : 'parses'}`, () => {
      const e = errorOf(() => parse(...capture(name)));
      if (TOOL_ERRORS[name]) {
        expect(e).toBeInstanceOf(ToolError);
        expect((e as ToolError).code).toBe(TOOL_ERRORS[name]);
      } else if (REFUSED[name]) {
        expect(e).toBeInstanceOf(ParseError);
        expect((e as Error).message).toMatch(REFUSED[name]!);
      } else {
        expect(e).toBeUndefined();
      }
    });
  }

  it('heal info: pending entries sum per brick; a down brick makes the total unknown, never 0', () => {
    const pending = parseGlusterHealInfo(...capture('heal-info-volspoms1-pending'));
    expect(pending.bricks.map((b) => [b.host, b.entries])).toEqual([
      ['host1', 24],
      ['host2', 0],
      ['host3', 24],
    ]);
    expect(pending.total).toBe(48);
    for (const n of ['heal-info-volspoms1-brick-down', 'heal-info-summary-volspoms1-brick-down']) {
      const down = parseGlusterHealInfo(...capture(n));
      expect(down.bricks.find((b) => b.host === 'host2')!.entries).toBeNull();
      expect(down.total).toBeNull();
      expect(down.knownSum).toBe(48); // what the seed's awk sum would have called "48", hiding the brick
    }
    expect(parseGlusterHealInfo(...capture('heal-info-volspoms1-clean')).total).toBe(0);
  });

  it('rebalance status: a replicate volume is not applicable, a never-started one not running, early and completed runs read per node', () => {
    expect(parseGlusterRebalanceStatus(...capture('rebalance-status-volspoms1-replicate'))).toMatchObject({ kind: 'not-applicable', running: false });
    expect(parseGlusterRebalanceStatus(...capture('rebalance-status-volspoms2-never-started'))).toMatchObject({ kind: 'not-started', running: false });
    const early = parseGlusterRebalanceStatus(...capture('rebalance-status-volspoms2-early'));
    expect(early).toMatchObject({ kind: 'status', running: true });
    const done = parseGlusterRebalanceStatus(...capture('rebalance-status-volspoms2-completed'));
    expect(done).toMatchObject({ kind: 'status', running: false });
    if (done.kind !== 'status') throw new Error('unreachable');
    expect(done.nodes.map((n) => n.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('status clients: a stopped volume is listed as not started; an offline brick has no clients', () => {
    expect(parseGlusterVolumeStatusClients(...capture('status-all-clients-volspoms1-stopped')).map((v) => [v.volume, v.started])).toEqual([
      ['volspoms1', false],
    ]);
    const [v] = parseGlusterVolumeStatusClients(...capture('status-all-clients-brick-down'));
    expect(v!.bricks.map((b) => [b.host, b.online, b.clients.length])).toEqual([
      ['host1', true, 4],
      ['host2', false, 0],
      ['host3', true, 4],
    ]);
  });

  it('peer status, tier status and start/stop answers', () => {
    expect(parseGlusterPeerStatus(...capture('peer-status-host2-down')).map((p) => [p.hostname, p.connected])).toEqual([
      ['host2', false],
      ['host3', true],
    ]);
    expect(parseGlusterTierStatus(...capture('tier-status-volspoms1'))).toEqual({ kind: 'unsupported', tierDaemon: false });
    expect(parseGlusterVolumeStartStop(...capture('volume-start-volspoms1-already-started'))).toMatchObject({ op: 'start', changed: false });
    expect(parseGlusterVolumeStartStop(...capture('volume-stop-volspoms1-not-started'))).toMatchObject({ op: 'stop', changed: false });
    expect(parseGlusterVolumeStartStop(...capture('volume-stop-volspoms1-success'))).toMatchObject({ op: 'stop', changed: true });
  });

  it('volume info gives the type: the seed volumes heal, the distribute volume does not', () => {
    expect(parseGlusterVolumeInfo(...capture('volume-info-two-volumes')).map((v) => [v.name, v.type, glusterVolumeHeals(v)])).toEqual([
      ['volspoms1', 'Replicate', true],
      ['volspoms2', 'Distributed-Replicate', true],
    ]);
    const [scratch] = parseGlusterVolumeInfo(...capture('volume-info-volscratch'));
    expect([scratch!.type, scratch!.brickCount, scratch!.distributeCount, scratch!.replicaCount, glusterVolumeHeals(scratch!)]).toEqual([
      'Distribute',
      3,
      3,
      undefined,
      false,
    ]);
    for (const type of ['Disperse', 'Distributed-Disperse', 'Replicate']) expect(glusterVolumeHeals({ type }), type).toBe(true);
  });

  it('volume status: each brick online or not (a name cut at 43 columns read whole), the self-heal daemons, the tasks', () => {
    const bricks = (name: string) => parseGlusterVolumeStatus(...capture(name))[0]!.processes.map((p) => [p.kind, p.host, p.path, p.online, p.port === null]);
    expect(bricks('status-volscratch')).toEqual(['top1', 'top2', 'top3'].map((h) => ['Brick', `${h}-data`, '/srv/gluster/volscratch/brick', true, false]));
    expect(bricks('status-volscratch-brick-down').map((b) => b[3])).toEqual([true, false, true]);
    expect(bricks('status-volscratch-brick-down')[1]![4]).toBe(true); // N/A
    expect(bricks('status-volspoms1-lab').map((b) => `${b[0]} ${b[1]}`)).toEqual([
      'Brick top1-data',
      'Brick top2-data',
      'Brick top3-data',
      'Self-heal Daemon localhost',
      'Self-heal Daemon top2-data',
      'Self-heal Daemon top3-data',
    ]);
    expect(bricks('status-volspoms1-brick-down').map((b) => [b[1], b[3]])).toEqual([
      ['host1', true],
      ['host2', false],
      ['host3', true],
    ]);
    expect(parseGlusterVolumeStatus(...capture('status-volscratch'))[0]!.tasks).toEqual([]);
    expect(parseGlusterVolumeStatus(...capture('status-volscratch-rebalance-completed'))[0]!.tasks).toEqual([
      { task: 'Rebalance', id: /^ID: (\S+)$/m.exec(capture('rebalance-start-volscratch')[0])![1], status: 'completed' },
    ]);
  });
});
