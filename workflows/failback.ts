/**
 * failback — the end of seed 000's reintegration and seed 002's manual rebalancing:
 *
 *   measure the load of each hypervisor (sum of unit Weights)
 *   choose the VMs to move back             (the lowest spread, then the fewest moves: domain/rebalance.ts;
 *                                            never-touch VMs and roles respected)
 *   ── gate: approve the moves ──
 *   fleetctl unload VM; fleetctl start VM    (one at a time, each landing checked)
 *
 * fleet never rebalances by itself: this is the only way load comes back to a reintegrated host.
 * Also usable on its own to rebalance a cluster.
 */
import { planRebalance, type RebalancePlan } from '../domain/rebalance';
import { loadByHost, weightSpread, type ClusterSnapshot } from '../domain/cluster';
import { hostsOf, unitOfVm, vmSet, type Inventory } from '../domain/inventory';
import { GATE } from '../domain/contract';
import { act, waits } from './activities';
import { readFleet, type FleetView } from './fleet-state';
import { acquireClusterLock } from './cluster-lock';
import { skippedSteps } from './procedure';
import { readinessCheck } from './host-ready';
import { checked, validated } from './validate';
import { Procedure } from './procedure';
import type { Finished, GateDecisionKind, GateRecord, ProcedureInputBase } from './messages';

export interface FailbackOptions {
  /** Hosts to balance between, nodeset syntax (default: the top and worker hypervisors, `@top,@worker`). */
  hosts?: string;
  /** Prefer moves to this host (the reintegrated one). */
  prefer?: string;
  /** At most this many moves. */
  maxMoves?: number;
  /**
   * Moves run at the same time, for moves steered to a named host. A move whose destination is the
   * scheduler's own pick (fleet: unload + start) runs alone: each pick depends on where the previous
   * move landed. Default 2.
   */
  parallelism?: number;
  /** Weight a move must win back to be worth a VM restart (see domain/rebalance.ts). */
  moveCost?: number;
  /** Infrastructure VMs (DHCP, DNS, vms.critical) this failback may move, by name: none otherwise. */
  moveInfra?: string[];
}

export interface FailbackInput extends ProcedureInputBase, FailbackOptions {}

export interface FailbackMove {
  vm: string;
  unit: string;
  weight: number;
  from: string;
  plannedTo: string;
  /** Where fleet really started it. */
  to?: string;
}

export interface FailbackPlanned {
  moves: FailbackMove[];
  spreadBefore: number;
  spreadAfter: number;
  loadBefore: Record<string, number>;
  loadAfter: Record<string, number>;
  /** Running VMs of the balanced hosts the failback leaves where they are, and why. */
  held: { vm: string; reason: string }[];
  /** The exact search proved no plan better (domain/rebalance.ts); false: the best it found. */
  optimal: boolean;
}

/** A re-plan of the moves still to do, after a move landed elsewhere or the cluster changed. */
export interface FailbackReplan {
  after: string;
  moves: FailbackMove[];
  spreadAfter: number;
  /** Asked again because the result was worse than approved. */
  asked: boolean;
}

export interface FailbackResult {
  dryRun: boolean;
  hosts: string[];
  /** The plan as approved at the gate. */
  planned: FailbackPlanned;
  /** Every move done, with its planned and its actual destination. */
  moves: FailbackMove[];
  /** Re-plans made while the moves ran (a landing the plan did not expect). */
  replans: FailbackReplan[];
  /** Measured after the moves (dry run: the plan's figures). */
  spreadAfter: number;
  loadAfter: Record<string, number>;
  gates: GateRecord[];
  skipped: string[];
}

export function balancedHosts(inv: Inventory, expr: string | undefined): string[] {
  return hostsOf(inv, expr ?? '@top,@worker', 'hosts');
}

/** DHCP, DNS and critical VMs: they serve the others, a failback moves them only when named. */
export function infraVms(inv: Inventory): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, what] of [
    ['dhcp', 'a DHCP VM'],
    ['dns', 'a DNS VM'],
    ['critical', 'a critical VM (vms.critical)'],
  ] as const) {
    for (const vm of vmSet(inv, key)) if (!out.has(vm)) out.set(vm, what);
  }
  return out;
}

/** `moveInfra` may only name infrastructure VMs of the inventory. */
export function checkMoveInfra(inv: Inventory, names: string[] | undefined): void {
  const infra = infraVms(inv);
  (names ?? []).forEach((vm, i) => {
    if (!infra.has(vm))
      throw new Error(`moveInfra[${i}]: ${JSON.stringify(vm)} is not an infrastructure VM (DHCP, DNS or vms.critical) of cluster ${inv.cluster}`);
  });
}

/**
 * The failback moves of a snapshot. `alreadyMoved`: VMs moved earlier in this run (each VM moves
 * at most once: a fleet move restarts it).
 */
export function planFailback(
  inv: Inventory,
  snapshot: ClusterSnapshot,
  o: FailbackOptions,
  alreadyMoved: string[] = [],
): { hosts: string[]; plan: RebalancePlan; moves: FailbackMove[]; held: FailbackPlanned['held'] } {
  const hosts = balancedHosts(inv, o.hosts);
  const allowed = new Set(o.moveInfra ?? []);
  const infra = [...infraVms(inv)].filter(([vm]) => !allowed.has(vm));
  const plan = planRebalance(snapshot, {
    hosts,
    neverTouch: [...vmSet(inv, 'neverTouch'), ...infra.map(([vm]) => vm), ...alreadyMoved],
    prefer: o.prefer ? { host: o.prefer } : undefined,
    maxMoves: o.maxMoves,
    ...(o.moveCost !== undefined ? { moveCost: o.moveCost } : {}),
  });
  const why = new Map<string, string>(infra.map(([vm, what]) => [vm, `${what}: moved only when named in moveInfra`]));
  for (const vm of alreadyMoved) why.set(vm, 'already moved by this failback');
  const held = plan.untouched.map((u) => ({ vm: u.vm, reason: why.get(u.vm) ?? u.reason }));
  const moves = plan.moves.map((m) => ({ vm: m.vm, unit: unitOfVm(inv, m.vm), weight: m.weight, from: m.from, plannedTo: m.to }));
  return { hosts, plan, moves, held };
}

const sameMoves = (a: FailbackMove[], b: FailbackMove[]) =>
  a.length === b.length && a.every((m, i) => m.vm === b[i]!.vm && m.from === b[i]!.from && m.plannedTo === b[i]!.plannedTo);

const movesText = (moves: FailbackMove[]) => moves.map((m) => `${m.vm} ${m.from}→${m.plannedTo}`).join(', ') || 'no move';

/**
 * The shared body of `failback` and of the end of `reintegrateHost`: plan, gate, moves.
 * `gateOptions` lets the reintegration offer `skip` (the host is back either way).
 *
 * The plan shown at the gate is what runs: after the approval the plan is made again on a fresh
 * snapshot and asked again if it changed; each move is checked where it landed; a landing the plan
 * did not expect re-plans the rest (asked again when the result is worse than approved); a retry
 * never repeats a move already done.
 */
export async function runFailback(
  proc: Procedure,
  inv: Inventory,
  fleet: FleetView,
  o: FailbackOptions & { dryRun?: boolean; gateOptions: GateDecisionKind[] },
): Promise<Omit<FailbackResult, 'gates' | 'skipped' | 'dryRun'>> {
  // fleet may start any moved VM on any host it schedules on: each must have the VM images (mounts).
  const destinations = (s: ClusterSnapshot) => balancedHosts(inv, o.hosts).filter((h) => s.hosts.some((x) => x.name === h && x.up && x.schedulable));
  const mountsCheck = async (s: ClusterSnapshot) =>
    readinessCheck(await act.hostReadiness({ hosts: destinations(s) }), {
      mountsOnly: true,
      why: 'fleet would start VMs there without their images; mount the volumes (or stop fleetd there) first',
    });
  await proc.ensure('check-destinations', 'Every host fleet may start a VM on mounts the GlusterFS volumes', () => mountsCheck(fleet.snapshot));
  let { hosts, plan, moves, held } = planFailback(inv, fleet.snapshot, o);
  const view = (): FailbackPlanned => ({
    moves,
    spreadBefore: plan.spreadBefore,
    spreadAfter: plan.spreadAfter,
    loadBefore: plan.loadBefore,
    loadAfter: plan.loadAfter,
    held,
    optimal: plan.optimal,
  });
  let planned = view();
  const summary = () =>
    `${moves.length} move(s): weight spread over ${hosts.length} hypervisors ${plan.spreadBefore} → ${plan.spreadAfter} (${plan.optimal ? 'optimal' : 'best found, not proven optimal'})`;
  proc.plan([], { ...(proc.progress.plan as object | undefined), failback: planned });
  proc.markDone('plan-failback', 'Plan the moves that bring the spread down', summary());
  const replans: FailbackReplan[] = [];
  const none = () => ({ hosts, planned, moves: [] as FailbackMove[], replans, spreadAfter: plan.spreadBefore, loadAfter: plan.loadBefore });
  if (o.dryRun) {
    proc.markSkipped(GATE.approveFailback, 'Approval of the failback moves', 'dry run');
    proc.markSkipped('move-vms', 'Move VMs: fleetctl unload, fleetctl start', 'dry run');
    return { ...none(), spreadAfter: plan.spreadAfter, loadAfter: plan.loadAfter };
  }
  if (moves.length === 0) {
    proc.markSkipped(GATE.approveFailback, 'Approval of the failback moves', 'nothing to move: no move lowers the spread');
    proc.markSkipped('move-vms', 'Move VMs: fleetctl unload, fleetctl start', 'nothing to move');
    return none();
  }

  // Approval, then the same plan made again on a fresh snapshot: the cluster may have changed while
  // the gate waited. A different plan is asked again; what runs is what was approved.
  let message = `Failback: ${summary()}. Each move restarts the VM (fleetctl unload, then start).`;
  for (;;) {
    const gate = (await proc.step(GATE.approveFailback, 'Approval of the failback moves', () =>
      proc.gate({ name: GATE.approveFailback, kind: 'approval', message, evidence: planned as unknown as Record<string, unknown>, options: o.gateOptions }),
    ))!;
    if (gate.decision === 'skip') {
      proc.markSkipped('move-vms', 'Move VMs: fleetctl unload, fleetctl start', `skipped by ${gate.by}: ${gate.reason}`);
      return none();
    }
    const approved = moves;
    const now = (await readFleet(inv)).snapshot;
    await proc.ensure('recheck-destinations', 'Re-check before the moves: every destination mounts the GlusterFS volumes', () => mountsCheck(now));
    ({ hosts, plan, moves, held } = planFailback(inv, now, o));
    planned = view();
    if (sameMoves(moves, approved)) break;
    proc.plan([], { ...(proc.progress.plan as object | undefined), failback: planned });
    if (moves.length === 0) {
      proc.markSkipped(
        'move-vms',
        'Move VMs: fleetctl unload, fleetctl start',
        `the cluster changed since the approval and no move lowers the spread now (approved: ${movesText(approved)})`,
      );
      return none();
    }
    message = `The cluster changed while the plan waited for approval (approved: ${movesText(approved)}). New plan: ${summary()}: ${movesText(moves)}.`;
  }

  proc.setPhase('moving VMs');
  const approvedSpread = plan.spreadAfter;
  const budget = o.maxMoves;
  const done: FailbackMove[] = [];
  let todo = [...moves];
  await proc.step(
    'move-vms',
    `Move ${moves.length} VM(s): fleetctl unload, fleetctl start, one at a time`,
    async () => {
      // A retry of this step goes on from the move in flight: `done` and `todo` are the workflow's record.
      while (todo.length) {
        await proc.checkpoint();
        const m = todo[0]!;
        const r = await waits.moveUnit.executeWithOptions({ startToCloseTimeout: '10m', summary: `move ${m.vm} from ${m.from} (planned: ${m.plannedTo})` }, [
          { unit: m.unit, from: m.from },
        ]);
        done.push({ ...m, to: r.to });
        todo.shift();
        proc.note(
          'move-vms',
          `${done.length} moved: ${done.map((d) => `${d.vm} ${d.from}→${d.to}${d.to === d.plannedTo ? '' : ` (planned ${d.plannedTo})`}`).join(', ')}`,
        );
        if (r.to === m.plannedTo) continue;
        // It landed elsewhere: the rest of the plan assumed another state. Plan it again from what is.
        const now = await readFleet(inv);
        const left = budget === undefined ? undefined : budget - done.length;
        const re =
          left === 0
            ? undefined
            : planFailback(
                inv,
                now.snapshot,
                { ...o, maxMoves: left },
                done.map((d) => d.vm),
              );
        const after = `${m.vm} landed on ${r.to ?? 'no host'}, not ${m.plannedTo}`;
        const rest = re?.moves ?? [];
        const spreadAfter = re ? re.plan.spreadAfter : weightSpread(loadByHost(now.snapshot), hosts);
        // Worse than approved: the operator decides whether the new rest runs (nothing left: the result says it).
        const worse = spreadAfter > approvedSpread && rest.length > 0;
        replans.push({ after, moves: rest, spreadAfter, asked: worse });
        if (worse) {
          await proc.gate({
            name: GATE.failbackReplanned,
            kind: 'approval',
            message: `${after}. The rest of the plan, made again: ${movesText(rest)}; weight spread ${spreadAfter}, worse than the ${approvedSpread} approved. Approve to go on with it, reject to stop here (the VMs already moved stay where they run).`,
            evidence: { after, approvedSpreadAfter: approvedSpread, spreadAfter, moves: rest, done },
            options: ['approve', 'reject'],
          });
        }
        todo = rest;
      }
    },
    { skippable: false, changes: true },
  );
  const after = await readFleet(inv);
  const loadAfter = loadByHost(after.snapshot);
  return { hosts, planned, moves: done, replans, spreadAfter: weightSpread(loadAfter, hosts), loadAfter };
}

export async function failback(input: FailbackInput): Promise<Finished<FailbackResult>> {
  input = validated('failback', input);
  const proc = new Procedure('failback', input, input.prefer);
  proc.plan([
    { id: 'inventory', title: 'Read the inventory' },
    { id: 'measure-load', title: 'Measure the load of each hypervisor (unit Weights)' },
    { id: 'check-destinations', title: 'Every host fleet may start a VM on mounts the GlusterFS volumes' },
    { id: 'plan-failback', title: 'Plan the moves that bring the spread down' },
    { id: GATE.approveFailback, title: 'Approval of the failback moves' },
    { id: 'move-vms', title: 'Move VMs: fleetctl unload, fleetctl start' },
  ]);
  proc.setPhase('measuring');
  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => balancedHosts(inv, input.hosts)); // a bad nodeset fails here, before the lock
  checked(() => checkMoveInfra(inv, input.moveInfra));
  if (input.prefer) checked(() => hostsOf(inv, input.prefer!, 'prefer'));
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'failback', input.prefer ?? inv.cluster, input.requestedBy);
  const fleet = (await proc.step('measure-load', 'Measure the load of each hypervisor (unit Weights)', () => readFleet(inv), { skippable: false }))!;
  const r = await runFailback(proc, inv, fleet, { ...input, gateOptions: ['approve', 'reject'] });
  const result: FailbackResult = { dryRun: !!input.dryRun, ...r, gates: proc.progress.gates, skipped: skippedSteps(proc) };
  return proc.finish(result);
}
