/** What evacuateHost takes and returns, on every stack (workflows/evacuate-host.ts, evacuate-xen.ts). */
import type { MigrationOutcome } from '../domain/xen-pool';
import type { GateRecord, ProcedureInputBase } from './messages';

export interface EvacuateHostInput extends ProcedureInputBase {
  /** The hypervisor to evacuate (${HYPERVISOR} in the seed). */
  host: string;
  /** How long fleet may take to move every unit off the host, or a Xen pool its VMs. Default 10 minutes. */
  moveTimeoutMinutes?: number;
  /** Xen pools: live migrations at a time (seed 003's --threads, default 5). */
  threads?: number;
}

export interface EvacuationPlanView {
  host: string;
  /** Absent: a fleet cluster (plans recorded before hvflow knew other stacks say nothing). */
  stack?: 'xen';
  /** What `weight`, loads and capacities count (fleet: Weight units). */
  capacityUnit?: 'MiB';
  /** Xen: the pool master xe ran on, and the migrations at a time. */
  master?: string;
  threads?: number;
  /** What the drain filters found besides errors: VMs that stay, skipped ones, warnings. */
  drain?: { stays: { vm: string; message: string }[]; skipped: { vm: string; message: string }[]; warnings: { vm: string; message: string }[] };
  roles: { glusterServer: boolean; glusterClient: boolean; etcdMember: boolean };
  units: { unit: string; vm?: string; weight: number; to?: string }[];
  stranded: { vm: string; reason: string }[];
  evacuatedWeight: number;
  loadBefore: Record<string, number>;
  loadAfter: Record<string, number>;
  gluster?: { volume: string; type: string; heals: boolean; healEntries: number | null; rebalanceRunning: boolean; tierDaemon: boolean }[];
  etcd?: { healthy: string[]; unhealthy: string[]; quorum: number; healthyAfter: string[] };
  steps: string[];
}

export interface EvacuationResult {
  host: string;
  dryRun: boolean;
  plan: EvacuationPlanView;
  /** Where each unit of the host runs now (after the evacuation). */
  moved: { unit: string; host?: string }[];
  /** Xen: each planned live migration and what became of it. */
  migrations?: MigrationOutcome[];
  gates: GateRecord[];
  skipped: string[];
}
