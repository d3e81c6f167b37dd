/**
 * failback — the end of seed 000's reintegration and seed 002's manual rebalancing:
 *
 *   measure the load of each hypervisor (sum of unit Weights)
 *   choose the VMs to move back             (as few moves as possible, never-touch VMs and roles respected)
 *   ── gate: approve the moves ──
 *   fleetctl unload --no-block VM; fleetctl start --no-block VM     (bounded parallelism)
 *
 * fleet never rebalances by itself: this is the only way load comes back to a reintegrated host.
 * Also usable on its own to rebalance a cluster.
 */
import { planRebalance, type RebalancePlan } from '../domain/rebalance';
import { loadByHost, weightSpread, type ClusterSnapshot } from '../domain/cluster';
import { hostsOf, unitOfVm, vmSet, type Inventory } from '../domain/inventory';
import type { FleetState } from '../activities/fleet';
import { act, waits } from './activities';
import { acquireClusterLock } from './cluster-lock';
import { skippedSteps } from './evacuate-hypervisor';
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
  /** Moves run at the same time (default 2). */
  parallelism?: number;
  /** Weight a move must win back to be worth a VM restart (see domain/rebalance.ts). */
  moveCost?: number;
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

export interface FailbackResult {
  dryRun: boolean;
  hosts: string[];
  planned: { moves: FailbackMove[]; spreadBefore: number; spreadAfter: number; loadBefore: Record<string, number>; loadAfter: Record<string, number> };
  moves: FailbackMove[];
  /** Measured after the moves (dry run: the plan's figures). */
  spreadAfter: number;
  loadAfter: Record<string, number>;
  gates: GateRecord[];
  skipped: string[];
}

export function balancedHosts(inv: Inventory, expr: string | undefined): string[] {
  return hostsOf(inv, expr ?? '@top,@worker', 'hosts');
}

export function planFailback(inv: Inventory, snapshot: ClusterSnapshot, o: FailbackOptions): { hosts: string[]; plan: RebalancePlan; moves: FailbackMove[] } {
  const hosts = balancedHosts(inv, o.hosts);
  const plan = planRebalance(snapshot, {
    hosts,
    neverTouch: vmSet(inv, 'neverTouch'),
    prefer: o.prefer ? { host: o.prefer } : undefined,
    maxMoves: o.maxMoves,
    ...(o.moveCost !== undefined ? { moveCost: o.moveCost } : {}),
  });
  const moves = plan.moves.map((m) => ({ vm: m.vm, unit: unitOfVm(inv, m.vm), weight: m.weight, from: m.from, plannedTo: m.to }));
  return { hosts, plan, moves };
}

/**
 * The shared body of `failback` and of the end of `reintegrateHypervisor`: plan, gate, moves.
 * `gateOptions` lets the reintegration offer `skip` (the host is back either way).
 */
export async function runFailback(
  proc: Procedure,
  inv: Inventory,
  fleet: FleetState,
  o: FailbackOptions & { dryRun?: boolean; gateOptions: GateDecisionKind[] },
): Promise<Omit<FailbackResult, 'gates' | 'skipped' | 'dryRun'>> {
  const { hosts, plan, moves } = planFailback(inv, fleet.snapshot, o);
  const planned = { moves, spreadBefore: plan.spreadBefore, spreadAfter: plan.spreadAfter, loadBefore: plan.loadBefore, loadAfter: plan.loadAfter };
  proc.plan([], { ...(proc.progress.plan as object | undefined), failback: planned });
  const summary = `${moves.length} move(s): weight spread over ${hosts.length} hypervisors ${plan.spreadBefore} → ${plan.spreadAfter}`;
  proc.markDone('plan-failback', 'Plan the moves that bring the spread down', summary);
  const none = { hosts, planned, moves: [] as FailbackMove[], spreadAfter: plan.spreadBefore, loadAfter: plan.loadBefore };
  if (o.dryRun) {
    proc.markSkipped('approve-failback', 'Approval of the failback moves', 'dry run');
    proc.markSkipped('move-vms', 'Move VMs: fleetctl unload, fleetctl start', 'dry run');
    return { ...none, spreadAfter: plan.spreadAfter, loadAfter: plan.loadAfter };
  }
  if (moves.length === 0) {
    proc.markSkipped('approve-failback', 'Approval of the failback moves', 'nothing to move: no move lowers the spread');
    proc.markSkipped('move-vms', 'Move VMs: fleetctl unload, fleetctl start', 'nothing to move');
    return none;
  }
  const gate = (await proc.step('approve-failback', 'Approval of the failback moves', () =>
    proc.gate({
      name: 'approve-failback',
      kind: 'approval',
      message: `Failback: ${summary}. Each move restarts the VM (fleetctl unload, then start).`,
      evidence: planned as unknown as Record<string, unknown>,
      options: o.gateOptions,
    }),
  ))!;
  if (gate.decision === 'skip') {
    proc.markSkipped('move-vms', 'Move VMs: fleetctl unload, fleetctl start', `skipped by ${gate.by}: ${gate.reason}`);
    return none;
  }
  proc.setPhase('moving VMs');
  const parallelism = Math.max(1, Math.min(o.parallelism ?? 2, 8));
  const done: FailbackMove[] = [];
  await proc.step('move-vms', `Move ${moves.length} VM(s): fleetctl unload, fleetctl start`, async () => {
    for (let i = 0; i < moves.length; i += parallelism) {
      await proc.checkpoint();
      const batch = moves.slice(i, i + parallelism);
      const results = await Promise.all(
        batch.map((m) => waits.moveUnit.executeWithOptions({ startToCloseTimeout: '10m', summary: `move ${m.vm} from ${m.from} (planned: ${m.plannedTo})` }, [{ unit: m.unit, expectTo: m.plannedTo }])),
      );
      batch.forEach((m, j) => done.push({ ...m, to: results[j]!.to }));
      proc.note('move-vms', `${done.length}/${moves.length} moved: ${done.map((d) => `${d.vm} ${d.from}→${d.to}`).join(', ')}`);
    }
  }, { skippable: false, changes: true });
  const after = await act.fleetState({});
  const loadAfter = loadByHost(after.snapshot);
  return { hosts, planned, moves: done, spreadAfter: weightSpread(loadAfter, hosts), loadAfter };
}

export async function failback(input: FailbackInput): Promise<Finished<FailbackResult>> {
  input = validated('failback', input);
  const proc = new Procedure('failback', input, input.prefer);
  proc.plan([
    { id: 'inventory', title: 'Read the inventory' },
    { id: 'measure-load', title: 'Measure the load of each hypervisor (unit Weights)' },
    { id: 'plan-failback', title: 'Plan the moves that bring the spread down' },
    { id: 'approve-failback', title: 'Approval of the failback moves' },
    { id: 'move-vms', title: 'Move VMs: fleetctl unload, fleetctl start' },
  ]);
  proc.setPhase('measuring');
  const inv = (await proc.step('inventory', 'Read the inventory', () => act.loadInventory({ cluster: input.cluster }), { skippable: false }))!;
  checked(() => balancedHosts(inv, input.hosts)); // a bad nodeset fails here, before the lock
  if (input.prefer) checked(() => hostsOf(inv, input.prefer!, 'prefer'));
  if (!input.dryRun) await acquireClusterLock(inv.cluster, 'failback', input.prefer ?? inv.cluster, input.requestedBy);
  const fleet = (await proc.step('measure-load', 'Measure the load of each hypervisor (unit Weights)', () => act.fleetState({}), { skippable: false }))!;
  const r = await runFailback(proc, inv, fleet, { ...input, gateOptions: ['approve', 'reject'] });
  const result: FailbackResult = { dryRun: !!input.dryRun, ...r, gates: proc.progress.gates, skipped: skippedSteps(proc) };
  return proc.finish(result);
}
