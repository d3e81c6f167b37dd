/**
 * What evacuateHost asks of a stack (workflows/evacuate-host.ts runs the shared skeleton: guards,
 * checks, gate, re-check, hooks): how to read the cluster, which checks are the stack's own, how the
 * host's VMs are planned, and how the host is emptied. One per stack: evacuate-fleet.ts, evacuate-xen.ts.
 */
import type { EvacuationPlan } from '../domain/capacity';
import type { Inventory } from '../domain/inventory';
import type { EvacuateHostInput, EvacuationPlanView, EvacuationResult } from './evacuation-types';
import { guardStopCommands, guardsView, type GuardEvidence, type HostGuards } from './guards';
import { hookPlanLine } from './hooks';
import type { CheckResult, Procedure, StepDef } from './procedure';

export type { StepDef } from './procedure';

export interface EvacuationDriver<View extends object> {
  steps: {
    /** Reading the cluster (the plan's first evidence). */
    read: StepDef;
    /** The stack's own safety checks, after the guards'. */
    checks: StepDef[];
    capacity: StepDef;
    /** The fresh read after the approval, before anything changes. */
    recheck: StepDef;
    /** What `empty` runs, in order (its hooks included). */
    empty: StepDef[];
  };
  readTitle(host: string): string;
  read(inv: Inventory, host: string): Promise<View>;
  /** The read step's detail: what is on the host. */
  describe(view: View, host: string): string;
  /** One result per steps.checks. */
  checks(inv: Inventory, view: View, host: string): CheckResult[];
  plan(inv: Inventory, view: View, host: string): EvacuationPlan;
  planView(
    inv: Inventory,
    view: View,
    host: string,
    guards: HostGuards,
    evacuation: EvacuationPlan,
    evidence: GuardEvidence,
    input: EvacuateHostInput,
  ): EvacuationPlanView;
  gateMessage(view: View, host: string, evacuation: EvacuationPlan, guards: HostGuards, input: EvacuateHostInput, inv: Inventory): string;
  /**
   * What makes the fresh read differ from the approved one beyond the capacity check (other VMs on
   * the host, other destinations); undefined when it does not.
   */
  recheck(
    approved: { view: View; evacuation: EvacuationPlan },
    now: { view: View; evacuation: EvacuationPlan },
    host: string,
    inv: Inventory,
  ): CheckResult | undefined;
  /** Empties the host as approved (`approved`: the read the gate showed; `evacuation`: the re-check's plan). */
  empty(
    proc: Procedure,
    inv: Inventory,
    host: string,
    state: { approved: View; evacuation: EvacuationPlan },
    input: EvacuateHostInput,
  ): Promise<Pick<EvacuationResult, 'moved' | 'migrations'>>;
}

/**
 * The plan a gate shows, on any stack: the stack's part (its VMs with their destinations, the
 * commands that empty the host, their hooks in their place) inside what every evacuation shows
 * (what stays, the loads before and after, the guards, the run's hooks and the guards' stops).
 */
export function evacuationPlanView(
  inv: Inventory,
  host: string,
  guards: HostGuards,
  evacuation: EvacuationPlan,
  evidence: GuardEvidence,
  stackPart: Omit<EvacuationPlanView, 'host' | 'roles' | 'stranded' | 'evacuatedWeight' | 'loadBefore' | 'loadAfter' | 'gluster' | 'etcd' | 'steps'> & {
    emptying: string[];
  },
): EvacuationPlanView {
  const { emptying, ...part } = stackPart;
  return {
    host,
    ...part,
    roles: guards,
    stranded: evacuation.stranded.map((s) => ({ vm: s.vm, reason: s.reason })),
    evacuatedWeight: evacuation.evacuatedWeight,
    loadBefore: evacuation.loadBefore,
    loadAfter: evacuation.loadAfter,
    ...guardsView(inv, host, evidence),
    steps: [
      ...hookPlanLine(inv, 'preRun'),
      ...emptying,
      ...hookPlanLine(inv, 'postEmpty', host),
      ...guardStopCommands(inv, host, guards),
      ...hookPlanLine(inv, 'postRun'),
    ],
  };
}
