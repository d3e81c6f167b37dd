/**
 * Readable text for people: plans (hosts, units / VMs, moves, order, gates), live progress (steps
 * with state icons, the gate waiting with its message and options, elapsed time), lists and
 * schedules. Every function returns lines; `--json` output never goes through here.
 */
import YAML from 'yaml';
import { unpackFleet } from '../domain/fleet-wire';
import { GATE } from '../domain/contract';
import type { EvacuationResult, EvacuationPlanView } from '../workflows/evacuate-host';
import type { ReintegrationResult } from '../workflows/reintegrate-host';
import type { FailbackResult, FailbackMove } from '../workflows/failback';
import type { ClusterStatus } from '../workflows/cluster-status';
import type { XenPoolView } from '../domain/xen-pool';
import type { ShutdownResult } from '../workflows/cluster-shutdown';
import type { StartupResult } from '../workflows/cluster-startup';
import type { GateRecord, Progress, StepProgress } from '../workflows/messages';
import { failedChecksOf } from './failed-checks';
import type { ListRow, ProcedureView } from './views';

// ── styling ────────────────────────────────────────────────────────────────────────────────────

let colour = false;
/** ANSI colours on a terminal (never with NO_COLOR, never in --json). */
export function useColour(on: boolean) {
  colour = on;
}
const sgr = (code: string) => (s: string) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = sgr('1');
export const dim = sgr('2');
export const red = sgr('31');
export const green = sgr('32');
export const yellow = sgr('33');
export const cyan = sgr('36');

export const STEP_ICONS: Record<string, string> = { pending: '·', planned: '·', running: '▶', done: '✔', skipped: '↷', failed: '✖', parked: '⏸' };
const iconColour: Record<string, (s: string) => string> = { done: green, running: cyan, failed: red, parked: yellow, skipped: dim };

// ── small helpers ──────────────────────────────────────────────────────────────────────────────

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) return `${d}d ${String(h).padStart(2, '0')}h`;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour sequences left out of the width
const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Left-aligned columns; numbers may be right-aligned with `right`. */
export function table(headers: string[], rows: (string | number | undefined)[][], right: number[] = []): string[] {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => visible(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - visible(c)));
        return right.includes(i) ? pad + c : i === r.length - 1 ? c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [bold(line(headers)), ...cells.map(line)];
}

export const indent = (lines: string[], n = 2) => lines.map((l) => (l ? ' '.repeat(n) + l : l));

/** Any value as readable YAML, at most `max` lines. */
export function renderGeneric(value: unknown, max = Infinity): string[] {
  if (value === undefined) return [];
  const lines = YAML.stringify(value, { lineWidth: 0 }).trimEnd().split('\n');
  return lines.length > max ? [...lines.slice(0, max), dim(`… ${lines.length - max} more line(s) (--json shows everything)`)] : lines;
}

/** Weight per hypervisor; `only` limits the rows (the balanced hosts), `changedOnly` keeps those that change. */
/** A volume's heal entries; a distribute volume has no heal (older results have no `heals`). */
function healCell(v: { type?: string; heals?: boolean; healEntries: number | null }): string | number {
  if (v.heals === false) return `no heal (${v.type})`;
  return v.healEntries ?? 'unknown';
}

function loadLines(
  before: Record<string, number>,
  after?: Record<string, number>,
  highlight?: string,
  o: { only?: string[]; changedOnly?: boolean } = {},
): string[] {
  const hosts = [...new Set([...Object.keys(before), ...Object.keys(after ?? {})])]
    .filter((h) => !o.only || o.only.includes(h))
    .filter((h) => !o.changedOnly || h === highlight || (before[h] ?? 0) !== (after?.[h] ?? 0))
    .sort();
  const rows = hosts.map((h) => {
    const b = before[h] ?? 0;
    const a = after?.[h];
    return [h === highlight ? bold(h) : h, b, ...(after ? ['→', a ?? 0, a !== undefined && a !== b ? (a > b ? `+${a - b}` : `${a - b}`) : ''] : [])];
  });
  return table(after ? ['HOST', 'BEFORE', '', 'AFTER', 'CHANGE'] : ['HOST', 'WEIGHT'], rows, after ? [1, 3, 4] : [1]);
}

// ── plans ──────────────────────────────────────────────────────────────────────────────────────

function evacuationPlanLines(p: EvacuationPlanView): string[] {
  const roles = [p.roles.glusterServer && 'GlusterFS server', p.roles.glusterClient && 'GlusterFS client', p.roles.etcdMember && 'etcd member'].filter(Boolean);
  const xen = p.stack === 'xen';
  const out = [`${bold('Host')} ${p.host} — guards: ${roles.join(', ') || (xen ? 'none' : 'fleet hypervisor only')}`, ''];
  if (xen) {
    out.push(bold(`VMs to live-migrate off ${p.host}: ${p.units.length}, ${p.evacuatedWeight} MiB, ${p.threads} at a time (pool master ${p.master})`));
    if (p.units.length)
      out.push(
        ...indent(
          table(
            ['VM', 'MEMORY MiB', 'MIGRATES TO'],
            p.units.map((u) => [u.vm ?? u.unit, u.weight, u.to ?? red('nowhere')]),
            [1],
          ),
        ),
      );
  } else {
    out.push(bold(`Units / VMs to move off ${p.host}: ${p.units.length}, total weight ${p.evacuatedWeight}`));
    if (p.units.length)
      out.push(
        ...indent(
          table(
            ['VM', 'UNIT', 'WEIGHT', 'MOVES TO'],
            p.units.map((u) => [u.vm, u.unit, u.weight, u.to ?? red('no room')]),
            [2],
          ),
        ),
      );
  }
  if (p.stranded.length) {
    out.push('', red(bold(`Stranded (no hypervisor has room): ${p.stranded.length}`)));
    out.push(...indent(p.stranded.map((s) => `${s.vm}: ${s.reason}`)));
  }
  const drain = p.drain;
  if (drain?.stays.length) out.push('', bold(`Staying on ${p.host}: ${drain.stays.length}`), ...indent(drain.stays.map((e) => `- ${e.message}`)));
  if (drain?.skipped.length) out.push('', bold(`Not moved (not running): ${drain.skipped.length}`), ...indent(drain.skipped.map((e) => `- ${e.message}`)));
  if (drain?.warnings.length) out.push('', yellow(bold(`Warnings (${drain.warnings.length})`)), ...indent(drain.warnings.map((e) => `- ${e.message}`)));
  out.push(
    '',
    bold(xen ? 'Memory change per host (MiB used by VMs)' : 'Load change per hypervisor (sum of unit Weight)'),
    ...indent(loadLines(p.loadBefore, p.loadAfter, p.host, { changedOnly: true })),
  );
  if (p.etcd) {
    out.push(
      '',
      `${bold('etcd')}: ${p.etcd.healthy.length} healthy${p.etcd.unhealthy.length ? `, unhealthy: ${p.etcd.unhealthy.join(', ')}` : ''}; quorum ${p.etcd.quorum}; healthy without ${p.host}: ${p.etcd.healthyAfter.length}`,
    );
  }
  if (p.gluster) {
    out.push('', bold('GlusterFS volumes'));
    out.push(
      ...indent(
        table(
          ['VOLUME', 'HEAL ENTRIES', 'REBALANCE', 'TIER DAEMON'],
          p.gluster.map((g) => [g.volume, healCell(g), g.rebalanceRunning ? 'running' : 'no', g.tierDaemon ? 'active' : 'no']),
          [1],
        ),
      ),
    );
  }
  out.push('', bold('Execution order (after the approval gate)'), ...indent(p.steps.map((s, i) => `${i + 1}. ${s}`)));
  return out;
}

/** Evidence of the evacuation's approval gate: the plan itself. */
export function renderEvacuationEvidence(g: GateRecord): string[] | undefined {
  const p = g.evidence as unknown as EvacuationPlanView;
  return g.name === GATE.approveEvacuation && Array.isArray(p?.units) && Array.isArray(p?.steps) ? evacuationPlanLines(p) : undefined;
}

/** Evidence of a failback approval gate: the planned moves. */
export function renderFailbackEvidence(g: GateRecord): string[] | undefined {
  const planned = g.evidence as unknown as FailbackResult['planned'];
  if (g.name !== GATE.approveFailback || !Array.isArray(planned?.moves)) return undefined;
  const hosts = Object.keys(planned.loadBefore ?? {});
  return [
    bold(`${planned.moves.length} move(s); weight spread ${planned.spreadBefore} → ${planned.spreadAfter}`),
    ...indent(movesLines(planned.moves)),
    '',
    bold('Load per hypervisor'),
    ...indent(loadLines(planned.loadBefore, planned.loadAfter, undefined, { only: hosts.length ? hosts : undefined, changedOnly: true })),
  ];
}

export function header(kind: string, target: string, dryRun: boolean): string {
  return bold(`Plan: ${kind} ${target}`) + (dryRun ? dim(' (dry run: nothing was changed)') : '');
}

export function renderEvacuationPlan(result: unknown): string[] {
  const r = result as EvacuationResult;
  return [header('evacuate', r.host, r.dryRun), '', ...evacuationPlanLines(r.plan)];
}

export function renderEvacuationResult(result: unknown): string[] {
  const r = result as EvacuationResult;
  const out = [bold(`${r.host} evacuated`)];
  if (r.migrations?.length)
    out.push(
      ...indent(
        table(
          ['VM', 'PLANNED', 'NOW ON', 'RESULT', 'SECONDS'],
          r.migrations.map((m) => [m.vm, m.to, m.landed ?? red('?'), m.result === 'migrated' ? m.result : yellow(m.result), m.seconds ?? '']),
          [4],
        ),
      ),
    );
  else if (r.moved.length)
    out.push(
      ...indent(
        table(
          ['UNIT', 'NOW ON'],
          r.moved.map((m) => [m.unit, m.host ?? red('not running')]),
        ),
      ),
    );
  return [...out, ...gatesLines(r.gates), ...skippedLines(r.skipped)];
}

function movesLines(moves: FailbackMove[], done = false): string[] {
  if (!moves.length) return [dim('no move: none lowers the weight spread')];
  return table(
    ['#', 'VM', 'WEIGHT', 'FROM', 'TO', ...(done ? ['RAN ON'] : [])],
    moves.map((m, i) => [i + 1, m.vm, m.weight, m.from, m.plannedTo, ...(done ? [m.to] : [])]),
    [0, 2],
  );
}

function failbackPlanLines(f: NonNullable<ReintegrationResult['failback']>, prefer?: string): string[] {
  return [
    bold(
      `Failback: ${f.planned.moves.length} move(s) over ${f.hosts.length} hypervisors (${f.hosts.join(', ')}); weight spread ${f.planned.spreadBefore} → ${f.planned.spreadAfter}`,
    ),
    ...indent(movesLines(f.planned.moves)),
    '',
    bold('Load per hypervisor'),
    ...indent(loadLines(f.planned.loadBefore, f.planned.loadAfter, prefer, { only: f.hosts })),
    '',
    ...(f.planned.held?.length
      ? [
          '',
          bold('Left where they run'),
          ...indent(
            table(
              ['VM', 'WHY'],
              f.planned.held.map((h) => [h.vm, h.reason]),
            ),
          ),
        ]
      : []),
    '',
    dim('Each move restarts the VM: fleetctl unload, then fleetctl start, one at a time; each landing is checked and a'),
    dim('landing the plan did not expect re-plans the rest (asked again if the result is worse than approved).'),
  ];
}

function replanLines(replans: FailbackResult['replans'] | undefined): string[] {
  if (!replans?.length) return [];
  return [
    '',
    bold('Re-planned while moving'),
    ...indent(
      replans.map(
        (r) =>
          `${r.after}: then ${r.moves.map((m) => `${m.vm} ${m.from}→${m.plannedTo}`).join(', ') || 'no more move'} (spread ${r.spreadAfter}${r.asked ? ', asked again' : ''})`,
      ),
    ),
  ];
}

export function renderReintegrationPlan(result: unknown): string[] {
  const r = result as ReintegrationResult;
  const out = [header('reintegrate', r.host, r.dryRun), ''];
  out.push(
    bold('Order'),
    ...indent([
      '1. wait until GlusterFS heal entries are 0 (bounded), GlusterFS healthy',
      '2. wait until every etcd member is healthy',
      `3. systemctl start fleet on ${r.host}`,
      '4. measure the load of each hypervisor',
      `5. failback: plan, approval gate ${GATE.approveFailback}, moves`,
    ]),
    '',
  );
  out.push(bold(`Load per hypervisor once fleet runs on ${r.host}`), ...indent(loadLines(r.loadByHost, undefined, r.host, { only: r.failback?.hosts })), '');
  if (r.failback) out.push(...failbackPlanLines(r.failback, r.host));
  else out.push(dim('failback not asked (--skip-failback)'));
  return out;
}

export function renderReintegrationResult(result: unknown): string[] {
  const r = result as ReintegrationResult;
  const out = [
    bold(`${r.host} reintegrated`),
    '',
    bold('Load per hypervisor'),
    ...indent(loadLines(r.loadByHost, r.failback?.loadAfter, r.host, { only: r.failback?.hosts })),
  ];
  if (r.failback)
    out.push(
      '',
      bold(`Moves (${r.failback.moves.length} done)`),
      ...indent(movesLines(r.failback.moves, true)),
      ...replanLines(r.failback.replans),
      `weight spread now ${r.failback.spreadAfter}`,
    );
  return [...out, ...gatesLines(r.gates), ...skippedLines(r.skipped)];
}

export function renderFailbackPlan(result: unknown): string[] {
  const r = result as FailbackResult;
  return [
    header('failback', `over ${r.hosts.join(', ')}`, r.dryRun),
    '',
    ...failbackPlanLines({ hosts: r.hosts, planned: r.planned, moves: r.moves, replans: r.replans ?? [], spreadAfter: r.spreadAfter, loadAfter: r.loadAfter }),
  ];
}

export function renderFailbackResult(result: unknown): string[] {
  const r = result as FailbackResult;
  return [
    bold(`Failback: ${r.moves.length} move(s) done; weight spread ${r.planned.spreadBefore} → ${r.spreadAfter}`),
    ...indent(movesLines(r.moves, true)),
    ...replanLines(r.replans),
    '',
    bold('Load per hypervisor'),
    ...indent(loadLines(r.planned.loadBefore, r.loadAfter, undefined, { only: r.hosts })),
    ...gatesLines(r.gates),
    ...skippedLines(r.skipped),
  ];
}

export function renderClusterStatus(result: unknown): string[] {
  const s = result as ClusterStatus;
  if (s.xen) return [...xenPoolLines(s, s.xen), ...guardAndProblemLines(s)];
  const units = unpackFleet(s.fleet!).units;
  const activeOn = new Map<string, number>();
  for (const u of units) if (u.host && u.active === 'active') activeOn.set(u.host, (activeOn.get(u.host) ?? 0) + 1);
  const unitsOn = (h: string) => activeOn.get(h) ?? 0;
  const out = [bold(`Cluster ${s.cluster}`), ''];
  out.push(
    ...table(
      ['HOST', 'ROLE', 'FLEET', 'UNITS', 'WEIGHT'],
      s.machines.map((m) => [m.host, m.role, m.fleet ? green('up') : red('down'), unitsOn(m.host), s.loadByHost[m.host] ?? 0]),
      [3, 4],
    ),
  );
  out.push('', `weight spread (top and worker hypervisors): ${s.weightSpread}`);
  const notRunning = units.filter((u) => u.active !== 'active');
  out.push(`units: ${units.length}, not active: ${notRunning.length ? notRunning.map((u) => u.vm ?? u.unit).join(', ') : 'none'}`);
  return [...out, ...guardAndProblemLines(s)];
}

function xenPoolLines(s: ClusterStatus, pool: XenPoolView): string[] {
  const vmsOn = new Map<string, number>();
  for (const vm of pool.vms) if (vm.host) vmsOn.set(vm.host, (vmsOn.get(vm.host) ?? 0) + 1);
  const hosts = new Map(pool.hosts.map((h) => [h.name, h]));
  const out = [bold(`Pool ${pool.pool} (cluster ${s.cluster}), master ${pool.master}, HA ${pool.haEnabled ? 'on' : 'off'}`), ''];
  out.push(
    ...table(
      ['HOST', 'STATE', 'VMS', 'USED MiB', 'FREE MiB', 'TOTAL MiB'],
      s.machines.map((m) => {
        const h = hosts.get(m.host);
        const state = !h ? red('not in pool') : !h.live ? red('not live') : h.enabled ? green('enabled') : yellow('disabled');
        return [
          m.host + (m.host === pool.master ? ' (master)' : ''),
          state,
          vmsOn.get(m.host) ?? 0,
          s.loadByHost[m.host] ?? 0,
          h?.memoryFreeMiB ?? '',
          h?.memoryTotalMiB ?? '',
        ];
      }),
      [2, 3, 4, 5],
    ),
  );
  const halted = pool.vms.filter((v) => v.powerState !== 'running');
  out.push('', `memory spread (MiB used): ${s.weightSpread}`);
  out.push(`VMs: ${pool.vms.length}, not running: ${halted.length ? halted.map((v) => `${v.name} (${v.powerState})`).join(', ') : 'none'}`);
  return out;
}

function guardAndProblemLines(s: ClusterStatus): string[] {
  const out: string[] = [];
  if (s.gluster) {
    out.push('', bold(`GlusterFS (asked on ${s.gluster.ranOn})`));
    out.push(
      ...indent(
        table(
          ['VOLUME', 'HEAL ENTRIES', 'REBALANCE', 'TIER DAEMON', 'BRICKS DOWN'],
          s.gluster.volumes.map((v) => [
            v.volume,
            healCell(v),
            v.rebalanceRunning ? 'running' : 'no',
            v.tierDaemon ? 'active' : 'no',
            v.bricks.filter((b) => !b.connected).length,
          ]),
          [1, 4],
        ),
      ),
    );
  }
  if (s.etcd)
    out.push(
      '',
      `${bold('etcd')}: healthy ${s.etcd.healthyMembers.join(', ') || 'none'}${s.etcd.unhealthyMembers.length ? red(`; unhealthy ${s.etcd.unhealthyMembers.join(', ')}`) : ''}`,
    );
  out.push('', s.problems.length ? red(bold(`Problems (${s.problems.length})`)) : green('No problem found.'));
  out.push(...indent(s.problems.map((p) => `- ${p}`)));
  return out;
}

// ── cluster shutdown and start-up (seed 001) ───────────────────────────────────────────────────

const list = (xs: string[] | undefined, none = 'none') => (xs?.length ? xs.join(', ') : dim(none));
const numbered = (xs: string[] | undefined) => (xs ?? []).map((x, i) => `${i + 1}. ${x}`);

/** VMs grouped by the hypervisor they run on: "top1: a, b". */
function vmsByHost(vms: { vm: string; host?: string }[]): string[] {
  const by = new Map<string, string[]>();
  for (const v of vms) by.set(v.host ?? '?', [...(by.get(v.host ?? '?') ?? []), v.vm]);
  return table(
    ['HOST', 'VMS', 'RUNNING'],
    [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([h, xs]) => [h, xs.length, xs.join(', ')]),
    [1],
  );
}

export function renderShutdownPlan(result: unknown): string[] {
  const r = result as ShutdownResult;
  const p = r.plan;
  const out = [header('shutdown of cluster', r.cluster, r.dryRun), ''];
  out.push(
    bold(`Running VMs: ${r.vms?.length ?? 0}`) + dim(' (the saved list the start-up uses: hvflow startup --from-shutdown <this workflow id>)'),
    ...indent(vmsByHost(r.vms ?? [])),
    '',
  );
  out.push(bold('Order'), ...indent(numbered(p?.order)), '');
  out.push(
    `${bold('VM batches')}: ${p?.stopBatches?.length ?? 0} (${(p?.stopBatches ?? []).map((b) => b.length).join(' + ') || '0'} VMs), then DNS VMs last: ${list(p?.dns)}`,
    `${bold('Never touched')}: ${list(p?.untouched)}`,
    `${bold('Islet workers powered off')}: ${list(p?.islets)}`,
    `${bold('GlusterFS')}: unmounted on ${list(p?.managed)}; volumes stopped: ${list(p?.volumes)}`,
    `${bold('Power off')}: ${list(p?.poweroffFirst)}, then ${p?.poweroffLast ?? '?'} last`,
  );
  if (p?.warnings?.length) out.push('', yellow(bold(`Warnings (${p.warnings.length})`)), ...indent(p.warnings.map((w) => `- ${w}`)));
  return out;
}

export function renderShutdownResult(result: unknown): string[] {
  const r = result as ShutdownResult;
  const out = [bold(`Cluster ${r.cluster} shut down`), `VMs that were running (saved for the start-up): ${r.vms?.length ?? 0}`];
  if (r.hung?.length) out.push('', yellow(bold('Hung VMs (seed remedy applied)')), ...indent(r.hung.map((h) => `${h.vm} on ${h.host ?? '?'}: ${h.remedy}`)));
  out.push(`Powered off: ${list(r.poweredOff)}`);
  return [...out, ...gatesLines(r.gates), ...skippedLines(r.skipped)];
}

export function renderStartupPlan(result: unknown): string[] {
  const r = result as StartupResult;
  const p = r.plan;
  const src = r.source?.explicit ? 'given with --vms' : `of shutdown ${r.source?.shutdownWorkflowId ?? '?'}`;
  const out = [header('start-up of cluster', r.cluster, r.dryRun), '', `${bold('VM list')}: ${r.source?.vms ?? 0} VM(s) ${src}`, ''];
  out.push(bold('Order'), ...indent(numbered(p?.order)), '');
  out.push(
    `${bold('Power on')}: ${list(p?.powerOn)} (${p?.controlHost ?? '?'} first); islet workers: ${list(p?.islets)}`,
    `${bold('fleet started on')}: ${list(p?.fleetHosts)}`,
    `${bold('DHCP VMs')}: ${list(p?.dhcp)}`,
    `${bold('DNS VMs')}: ${list(p?.dns)}`,
    `${bold('Then')}: ${(p?.restBatches ?? []).map((b, i) => `batch ${i + 1}: ${b.join(', ')}`).join('; ') || dim('no other VM')}`,
  );
  if (p?.excluded?.length) out.push('', bold('Not started'), ...indent(p.excluded.map((e) => `${e.vm}: ${e.why}`)));
  if (p?.notInList?.length) out.push('', yellow(`DHCP / DNS VMs not in the list (were not running): ${p.notInList.join(', ')}`));
  return out;
}

export function renderStartupResult(result: unknown): string[] {
  const r = result as StartupResult;
  const out = [bold(`Cluster ${r.cluster} started`), `VMs started: ${r.started?.length ?? 0}`, ...indent(vmsByHost(r.started ?? []))];
  if (r.hostsNotBack?.length) out.push(red(`Hosts not back (skipped by an operator): ${r.hostsNotBack.join(', ')}`));
  if (r.problems?.length) out.push('', red(bold(`Problems (${r.problems.length})`)), ...indent(r.problems.map((x) => `- ${x}`)));
  if (r.warnings?.length) out.push('', yellow(bold('Warnings')), ...indent(r.warnings.map((x) => `- ${x}`)));
  if (r.loadByHost && Object.keys(r.loadByHost).length) out.push('', bold('Load per hypervisor'), ...indent(loadLines(r.loadByHost)));
  return [...out, ...gatesLines(r.gates), ...skippedLines(r.skipped)];
}

/** Evidence of the shutdown's approval gates: the VM list and the order. */
export function renderShutdownEvidence(g: GateRecord): string[] | undefined {
  const e = g.evidence as { vms?: string[]; order?: string[]; warnings?: string[]; untouched?: string[] };
  if (g.name !== GATE.approveShutdown || !Array.isArray(e?.order)) return undefined;
  return [
    `${bold(`VMs (${e.vms?.length ?? 0})`)}: ${list(e.vms)}`,
    `${bold('Never touched')}: ${list(e.untouched)}`,
    bold('Order'),
    ...indent(numbered(e.order)),
    ...(e.warnings?.length ? [yellow(bold('Warnings')), ...indent(e.warnings.map((w) => `- ${w}`))] : []),
  ];
}

// ── progress ───────────────────────────────────────────────────────────────────────────────────

function stepLine(s: StepProgress, now: number): string {
  const icon = (iconColour[s.state] ?? ((x: string) => x))(STEP_ICONS[s.state] ?? s.state);
  let time = '';
  if (s.startedAt && s.endedAt) time = duration(Date.parse(s.endedAt) - Date.parse(s.startedAt));
  else if (s.startedAt && (s.state === 'running' || s.state === 'parked')) time = `${duration(now - Date.parse(s.startedAt))}…`;
  const detail = s.detail ? dim(` — ${s.detail}`) : '';
  return `${icon} ${s.title}${detail}${time ? dim(`  (${time})`) : ''}`;
}

export function gatesLines(gates: GateRecord[]): string[] {
  if (!gates?.length) return [];
  return [
    '',
    bold('Gates passed'),
    ...indent(
      gates.map(
        (g) =>
          `${g.name}: ${g.decision ?? 'no decision'}${g.by ? ` by ${g.by}` : ''}${g.decidedAt ? ` at ${g.decidedAt}` : ''}${g.reason ? ` — ${g.reason}` : ''}${g.timedOut ? ' (timed out)' : ''}`,
      ),
    ),
  ];
}

export function skippedLines(skipped: string[]): string[] {
  return skipped?.length ? ['', bold('Skipped'), ...indent(skipped.map((s) => `↷ ${s}`))] : [];
}

const q = (s: string) => (/^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The gate waiting now: message, options, evidence (short), and the commands that answer it. */
export interface ProgressOptions {
  now?: number;
  /** Lines of generic evidence shown (default 12). */
  evidenceLines?: number;
  /** The procedure's own rendering of a gate's evidence (undefined: generic). */
  evidence?: (g: GateRecord) => string[] | undefined;
  /** Show the commands that answer the gate (default true). */
  answers?: boolean;
}

export function gateLines(id: string, g: GateRecord, now: number, o: ProgressOptions = {}): string[] {
  const out = [
    yellow(bold(`⏸ Waiting at gate ${g.name}`)) + ` (${g.kind}, for ${duration(now - Date.parse(g.openedAt))})`,
    ...indent([g.message, `Options: ${g.options.join(', ')}`]),
  ];
  const own = o.evidence?.(g);
  const evidence = own ?? renderGeneric(g.evidence, o.evidenceLines ?? 12);
  if (evidence.length && Object.keys(g.evidence ?? {}).length) out.push(...indent(['Evidence:', ...indent(evidence)]));
  const answers: string[] = [];
  if (g.options.includes('approve') || g.options.includes('retry')) answers.push(`hvflow approve ${q(id)} --by <you> --reason <why>`);
  if (g.options.includes('reject') || g.options.includes('abort')) answers.push(`hvflow reject ${q(id)} --by <you> --reason <why>`);
  answers.push(`hvflow decide ${q(id)} <${g.options.join('|')}> --by <you> --reason <why>`);
  if (o.answers !== false) out.push(...indent(['Answer with:', ...indent(answers)]));
  return out;
}

/** Every safety check a dry run found failing, with its reason and (short) evidence: why the plan is unsafe. */
export function failedChecksLines(v: { result?: unknown; progress?: unknown }, evidenceLines = 12): string[] {
  const checks = failedChecksOf(v);
  if (!checks.length) return [];
  const n = checks.length === 1 ? '1 safety check' : `${checks.length} safety checks`;
  return [
    red(bold(`Unsafe: ${n} failed; a real run would stop at their gates (retry / override with a reason / abort)`)),
    ...indent(
      checks.flatMap((c) => [
        `${red('✖')} ${c.title} (${c.id}): ${c.reason}`,
        ...indent(c.evidence && Object.keys(c.evidence).length ? renderGeneric(c.evidence, evidenceLines) : []),
      ]),
    ),
  ];
}

export function renderProgress(v: ProcedureView, o: ProgressOptions = {}): string[] {
  const now = o.now ?? Date.now();
  const p: Progress | undefined = v.progress;
  const statusColour = v.status === 'COMPLETED' ? green : v.closed ? red : cyan;
  const title = `${v.workflowType}${v.procedure && v.procedure !== v.workflowType ? ` (${v.procedure})` : ''} ${v.target && v.target !== v.cluster ? `${v.target} ` : ''}on cluster ${v.cluster ?? '?'}${v.dryRun ? ' — dry run' : ''}`;
  const elapsed = v.closed ? `took ${duration(v.elapsedMs)}` : `elapsed ${duration(now - Date.parse(v.startTime))}`;
  const out = [
    bold(title),
    `  id       ${v.workflowId}`,
    `  status   ${statusColour(v.status)} · phase: ${v.phase ?? '-'} · started by ${v.requestedBy ?? '?'} at ${v.startTime} · ${elapsed}`,
  ];
  if (v.summary) out.push(`  summary  ${v.summary}`);
  if (p?.paused) out.push(yellow(`  PAUSED by ${p.pausedBy ?? '?'}: the step in flight finishes, then it waits (hvflow resume ${q(v.workflowId)} --by <you>)`));
  if (p?.abortRequested) out.push(red(`  ABORT requested by ${p.abortRequested.by}${p.abortRequested.reason ? `: ${p.abortRequested.reason}` : ''}`));
  if (!p) out.push(dim(`  progress unavailable: ${v.progressError ?? 'not queried'}`));
  if (p?.steps.length) out.push('', bold('Steps'), ...indent(p.steps.map((s) => stepLine(s, now))));
  if (p?.gate) out.push('', ...gateLines(v.workflowId, p.gate, now, o));
  const unsafe = failedChecksLines(v, o.evidenceLines);
  if (unsafe.length) out.push('', ...unsafe);
  if (p?.gates.length) out.push(...gatesLines(p.gates));
  if (p?.ignored.length) out.push('', yellow(bold('Ignored messages')), ...indent(p.ignored.map((i) => `${i.at}  ${i.message}`)));
  if (v.closed) {
    out.push('');
    if (v.status === 'COMPLETED') out.push(green(bold('Completed.')));
    else out.push(red(bold(`${v.status}: ${v.failure?.message ?? ''}`)));
  }
  return out;
}

/** The plan of a dry run: the procedure's own renderer, then the steps in order and the gates. */
export function renderPlanOutput(
  v: ProcedureView,
  spec: { name: string; renderPlan?: (r: unknown) => string[]; gates: { name: string; options: string; when: string }[] },
): string[] {
  const out: string[] = [];
  const result = v.result;
  if (result !== undefined && spec.renderPlan) out.push(...spec.renderPlan(result));
  else if (result !== undefined || v.progress?.plan !== undefined)
    out.push(bold(`Plan: ${spec.name}`) + dim(' (dry run)'), ...renderGeneric((result as { plan?: unknown })?.plan ?? v.progress?.plan ?? result));
  if (v.progress?.steps.length) {
    out.push('', bold('Steps, in order'), ...indent(v.progress.steps.map((s) => stepLine(s, Date.now()))));
  }
  if (spec.gates.length) out.push('', bold('Gates a real run stops at'), ...indent(spec.gates.map((g) => `${g.name} (${g.options}): ${g.when}`)));
  const unsafe = failedChecksLines(v);
  if (unsafe.length) out.push('', ...unsafe);
  out.push('', dim(`workflow ${v.workflowId}`));
  return out;
}

export function renderList(rows: ListRow[], now = Date.now()): string[] {
  if (!rows.length) return ['No procedure is running.'];
  return table(
    ['ID', 'PROCEDURE', 'TARGET', 'PHASE', 'WAITING GATE', 'STARTED BY', 'AGE'],
    rows.map((r) => [
      r.workflowId,
      r.procedure + (r.dryRun ? ' (plan)' : ''),
      r.target,
      r.phase,
      r.gate ? yellow(r.gate) : r.awaitingApproval ? yellow('(yes)') : '',
      r.requestedBy,
      duration(now - Date.parse(r.startTime)),
    ]),
  );
}
