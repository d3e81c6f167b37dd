/**
 * What rollingReboot and its per-host child rebootHost take and return, and the operator controls
 * only a rolling reboot has (skip a host, change the migrations at a time): shared by the workflows
 * and the client (workflows/rolling-reboot.ts, reboot-host.ts).
 */
import { defineSignal } from '@temporalio/workflow';
import type { WindowSpec } from '../domain/maintenance-windows';
import type { RebootStep, RollingRebootPlan } from '../domain/migration';
import type { MigrationOutcome } from '../domain/xen-pool';
import type { GateRecord, ProcedureInputBase } from './messages';

export const APPROVAL_POLICIES = ['plan', 'each-host'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

export interface RebootTimeouts {
  /** How long emptying one host may take (fleet moving its units, a Xen pool its migrations). Default 30. */
  moveTimeoutMinutes?: number;
  /** How long a host may take to go down and come back after its reboot. Default 20. */
  rebootTimeoutMinutes?: number;
  /** Bound of the wait for GlusterFS heal entries to drain after a host is back. Default 30. */
  healWaitMinutes?: number;
  /** Bound of the wait for every etcd member to be healthy after a host is back. Default 5. */
  etcdWaitMinutes?: number;
}

export interface RollingRebootInput extends ProcedureInputBase, RebootTimeouts {
  /** The hosts to reboot, a nodeset of the inventory's (default: every hypervisor hvflow manages). */
  hosts?: string;
  /** The order to reboot them in (instead of `hosts`). Xen: the pool master must come first. */
  order?: string[];
  /** Xen pools: live migrations at a time (seed 003's --threads, default 5); the inventory's xen.migrationsPerHost bounds each host. */
  threads?: number;
  /** `plan` (default): one approval of the whole plan; `each-host`: also one before each host is emptied. */
  approval?: ApprovalPolicy;
  /** Maintenance windows: a host starts only inside one, and only when its expected duration fits in what is left of it. */
  windows?: WindowSpec[];
}

/** The step of one host, as the child runs it: the approved (or re-planned) migrations. */
export type HostStep = Pick<RebootStep, 'host' | 'migrations' | 'stranded' | 'untouchable'>;

export interface RebootHostInput extends ProcedureInputBase, RebootTimeouts {
  host: string;
  step: HostStep;
  /** The hosts rebooted after this one, in order: a re-plan covers them. */
  rest: string[];
  threads?: number;
  approval?: ApprovalPolicy;
  /** Planned migrations of the rest as approved, to tell whether a re-plan is worse. */
  approvedRestMigrations: number;
}

/** One host's run: when each phase ended (ISO), what moved, and what it ended as. */
export interface HostRun {
  host: string;
  outcome: 'rebooted' | 'skipped' | 'not-back';
  /** Why it was skipped or left out. */
  detail?: string;
  startedAt?: string;
  emptyAt?: string;
  downAt?: string;
  upAt?: string;
  readyAt?: string;
  /** Xen: every live migration and where the VM landed; fleet: where each unit went. */
  migrations: MigrationOutcome[];
  /** The rest of the run re-planned from a fresh read, when the approved step no longer held. */
  replanned?: { reason: string; plan: RollingRebootPlan };
  /** The boot identity before and after (xapi boot_time, or the Linux boot id). */
  bootBefore?: string;
  bootAfter?: string;
}

export interface RebootHostResult extends HostRun {
  gates: GateRecord[];
  skipped: string[];
}

export interface RollingRebootPlanView {
  stack: 'fleet' | 'xen';
  capacityUnit: string;
  order: string[];
  /** Xen: the pool master (first). */
  master?: string;
  threads?: number;
  approval: ApprovalPolicy;
  hosts: {
    host: string;
    /** Each VM leaving the host and where it goes (`final`: it will not move again). */
    migrations: { vm: string; to: string; weight: number; final: boolean }[];
    /** VMs that cannot leave, and what happens to them. */
    staying: { vm: string; reason: string }[];
    expectedMinutes: number;
  }[];
  /** VMs that move twice, with why. */
  movedTwice: { vm: string; why: string }[];
  totalMigrations: number;
  expectedMinutes: number;
  /** Pool-level preparation and restoration (Xen pool HA, the run's hooks). */
  prepare: string[];
  restore: string[];
  windows?: { spec: string[]; next: { start: string; end: string }[] };
  strategy: RollingRebootPlan['strategy'];
}

export interface RollingRebootResult {
  dryRun: boolean;
  plan: RollingRebootPlanView;
  hosts: HostRun[];
  totals: { rebooted: number; skipped: number; notBack: number; migrations: number; movedTwice: number };
  /** What was put back at the end: pool HA, the run's hooks. */
  restored: string[];
  gates: GateRecord[];
  skipped: string[];
}

export interface SkipHostInput {
  host: string;
  by: string;
  reason?: string;
}

export interface SetThreadsInput {
  threads: number;
  by: string;
  reason?: string;
}

/** Leave a host out of the run (one not started yet): it is not rebooted, the rest is re-planned without it. */
export const skipHostSignal = defineSignal<[SkipHostInput]>('skipHost');
/** Xen: live migrations at a time from the next host on. */
export const setThreadsSignal = defineSignal<[SetThreadsInput]>('setThreads');
