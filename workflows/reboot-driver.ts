/**
 * What a rolling reboot asks of a stack (workflows/rolling-reboot.ts runs the run, reboot-host.ts
 * each host, in hosts and VMs): how to read the cluster into the planners' model, which hosts it
 * reboots and in what order, how the pool is prepared for the run and restored after, how a host is
 * emptied (the evacuation driver's own steps: evacuate-xen.ts, evacuate-fleet.ts), rebooted, waited
 * for, and made ready for VMs again. One per stack: reboot-xen.ts, reboot-fleet.ts.
 */
import type { EvacuationPlan } from '../domain/capacity';
import type { ClusterSnapshot } from '../domain/cluster';
import type { Inventory } from '../domain/inventory';
import type { RollingRebootOptions } from '../domain/migration';
import type { MigrationOutcome } from '../domain/xen-pool';
import type { Procedure } from './procedure';
import type { StepDef } from './evacuation-driver';
import type { EvacuateHostInput } from './evacuation-types';
import type { HostStep, RebootHostInput, RollingRebootInput } from './rolling-reboot-types';

export interface ClusterRead {
  snapshot: ClusterSnapshot;
  /** Xen: the pool master. */
  master?: string;
  /** One line for the read step's detail. */
  summary: string;
  /** The stack's own read (fleet: its units, which fleet's evacuation needs). */
  view: unknown;
}

export interface RebootDriver {
  stack: 'xen' | 'fleet';
  /** What the run changes on the whole pool before the first host, and puts back after the last. */
  prepareLines(inv: Inventory): string[];
  restoreLines(inv: Inventory): string[];
  read(inv: Inventory, avoid?: string[]): Promise<ClusterRead>;
  /**
   * The hosts to reboot, in order, from the input (a nodeset or an order) and the read; throws an
   * Error naming the field when the input cannot be run (it becomes InvalidInput).
   */
  order(inv: Inventory, read: ClusterRead, input: RollingRebootInput): { order: string[]; chooseOrder: boolean };
  /** The planner's per-VM migration time, seconds (expected durations for the plan and the windows). */
  migrationSeconds(weight: number): number;
  /** What the planner needs to order a step's migrations as they will run (Xen: a migration's setup, the per-host limit). */
  planTuning(inv: Inventory): Pick<RollingRebootOptions, 'migrationSetupWeight' | 'migrationsPerHost'>;
  /** Migrations at a time on one host (fleet: the scheduler moves every unit at once). */
  threads(inv: Inventory, input: { threads?: number }): number;
  /** Pool-level preparation (Xen: pool HA off); returns what `restore` needs, kept in history. */
  prepare(proc: Procedure, inv: Inventory): Promise<unknown>;
  /** Puts back what `prepare` changed; `stopping`: the run failed or was aborted (no step may park then). */
  restore(proc: Procedure, inv: Inventory, prepared: unknown, stopping: boolean): Promise<string[]>;

  /** The steps `empty` runs, in order, for the child's plan. */
  emptySteps: StepDef[];
  readySteps: StepDef[];
  /** Cordons the host and moves its VMs as the step says; what moved. */
  empty(proc: Procedure, inv: Inventory, host: string, step: HostStep, input: RebootHostInput, read: ClusterRead): Promise<MigrationOutcome[]>;
  /** The host's boot identity now (xapi boot_time, Linux boot id), read before the reboot. */
  bootIdentity(host: string): Promise<string | undefined>;
  /** Reboots the host unless its boot identity already differs from `before` (a retry never reboots twice). */
  reboot(host: string, before: string | undefined): Promise<string>;
  /** Until the host went down and came back with another boot identity; fails (HostNotBack) past the timeout. */
  waitBack(host: string, before: string | undefined, timeoutMs: number): Promise<{ downAfterMs?: number; upAfterMs: number; boot?: string }>;
  /** After it is back: its daemons, its guards healthy, then it accepts VMs again. */
  ready(proc: Procedure, inv: Inventory, host: string, input: RebootHostInput): Promise<void>;
  /** Clean-up of an aborted host that never went down: it accepts VMs again. */
  uncordon(host: string): Promise<void>;
  /** The commands of a host's turn, for the plan. */
  commandLines(inv: Inventory, host: string, threads: number, migrations: number): string[];
}

/** A host's step as the evacuation drivers take it (their `empty` runs it). */
export function stepAsEvacuation(step: HostStep): EvacuationPlan {
  return {
    ok: true,
    host: step.host,
    moves: step.migrations.map((m) => ({ vm: m.vm, from: m.from, to: m.to, weight: m.weight })),
    stranded: step.stranded,
    untouchable: step.untouchable,
    evacuatedWeight: step.migrations.reduce((sum, m) => sum + m.weight, 0),
    loadBefore: {},
    loadAfter: {},
    problems: [],
  };
}

/** The evacuation drivers' input for one host of the run (default: 30 minutes to empty it). */
export function evacuationInput(input: RebootHostInput): EvacuateHostInput {
  return { cluster: input.cluster, host: input.host, threads: input.threads, moveTimeoutMinutes: input.moveTimeoutMinutes ?? 30 };
}
