/**
 * Names shared by the workflows, the activities and the clients (CLI, tests): one definition each,
 * so that a client and a worker cannot disagree. Pure: constants, types and id schemes, no imports.
 * Nobody else spells them (test/unit/contract.test.ts); the messages themselves (signals, queries,
 * updates) are defined with the SDK in workflows/messages.ts.
 */

/** The task queue the worker polls and the clients start procedures on, unless configured. */
export const DEFAULT_TASK_QUEUE = 'hvflow';

/**
 * What an operator may answer at a gate. Which ones a gate accepts is listed in its `options`;
 * `start` is the remedy a check offers when what it found missing can be started (a host's daemons).
 */
export const GATE_DECISIONS = ['approve', 'reject', 'retry', 'skip', 'abort', 'override', 'start'] as const;
export type GateDecisionKind = (typeof GATE_DECISIONS)[number];

/** Gates with a fixed name: the procedures open them, the CLI documents them and renders their evidence. */
export const GATE = {
  approveEvacuation: 'approve-evacuation',
  approveFailback: 'approve-failback',
  failbackReplanned: 'failback-replanned',
  approveShutdown: 'approve-shutdown',
  approvePoweroff: 'approve-poweroff',
  hostNotBack: 'host-not-back',
  approveRollingReboot: 'approve-rolling-reboot',
  /** A rolling reboot whose approval policy is `each-host`: before each host is emptied. */
  approveHostReboot: 'approve-host-reboot',
  /** The pool changed during a rolling reboot and the re-plan of the rest moves more VMs than the approved one. */
  rebootReplanned: 'reboot-replanned',
} as const;

/** The gate a safety check that does not hold parks on. */
export const unsafeGate = (checkId: string) => `${checkId}-unsafe`;
/** The gate a step that keeps failing after its retries parks on. */
export const failedGate = (stepId: string) => `${stepId}-failed`;

/** Custom search attributes every procedure keeps up to date (their SDK keys: workflows/search-attributes.ts). */
export const SEARCH_ATTRIBUTE = {
  procedure: 'HvflowProcedure',
  cluster: 'HvflowCluster',
  target: 'HvflowTarget',
  phase: 'HvflowPhase',
  awaitingApproval: 'HvflowAwaitingApproval',
} as const;

/** Memo keys: who started a procedure (the CLI), a shutdown's VM list (the workflow), a lock's holder. */
export const MEMO = {
  procedure: 'hvflow',
  shutdown: 'hvflowShutdown',
  lockHolder: 'holder',
} as const;

/** A clusterShutdown's memo `hvflowShutdown`, upserted before it stops anything; read by the start-up and the CLI. */
export interface ShutdownMemo {
  dryRun: boolean;
  vms: { vm: string; host?: string }[];
}

/**
 * Failure types (ApplicationFailure `type`): the activities throw them, the workflows decide from
 * them what to retry, the CLI maps them to exit codes.
 */
export const FAILURE = {
  /** Bad input or inventory: retrying cannot help. */
  invalidInput: 'InvalidInput',
  /** A tool answered with a known error. */
  toolError: 'ToolError',
  /** A tool's output could not be read. */
  parseError: 'ParseError',
  hostKeyVerificationFailed: 'HostKeyVerificationFailed',
  sshAuthenticationFailed: 'SshAuthenticationFailed',
  /** The worker's own SSH or IPMI configuration is missing or wrong. */
  sshConfigError: 'SshConfigError',
  /** Another procedure holds the cluster's lock. */
  clusterBusy: 'ClusterBusy',
  /** A dry run cannot read what its plan needs: it fails with the reason instead of parking. */
  dryRunFailed: 'DryRunFailed',
  /** An operator aborted the procedure (its details: the progress at that moment). */
  procedureAborted: 'ProcedureAborted',
  /** A host did not come back (live, or answering with a new boot) within the wait's bound after its reboot. */
  hostNotBack: 'HostNotBack',
} as const;

/** Hosts one per-host step works on at once inside its activity (activities/each-host.ts). */
export const HOSTS_AT_ONCE = 64;

/**
 * Failure types no retry can help (the cluster or the worker's configuration must change first): the
 * activities' retry policy (workflows/activities.ts) and the per-host retries inside one activity
 * (activities/each-host.ts) both stop at them.
 */
export const NON_RETRYABLE_FAILURES: readonly string[] = [
  FAILURE.invalidInput,
  FAILURE.toolError,
  FAILURE.parseError,
  FAILURE.hostKeyVerificationFailed,
  FAILURE.sshAuthenticationFailed,
  FAILURE.sshConfigError,
];

/**
 * The cluster lock (workflows/cluster-lock.ts): a child workflow with this fixed id per cluster;
 * the server refuses a second running one, and its memo `holder` says who holds it.
 */
export function lockWorkflowId(cluster: string): string {
  return `hvflow-lock-${cluster}`;
}

/** Who holds a cluster's lock: the lock workflow's memo `holder`. */
export interface LockHolder {
  workflowId: string;
  procedure: string;
  target?: string;
  startedBy?: string;
}

/** `evacuateHypervisor worker3 (workflow …, started by alice)`. */
function holderDescription(h: LockHolder): string {
  return `${h.procedure}${h.target ? ` ${h.target}` : ''} (workflow ${h.workflowId}${h.startedBy ? `, started by ${h.startedBy}` : ''})`;
}

/** Why a procedure that changes the cluster cannot start now. */
export function clusterBusyMessage(cluster: string, holder: LockHolder | undefined): string {
  return `cluster ${cluster} is busy: ${holder ? holderDescription(holder) : 'another procedure'} is running; one procedure per cluster at a time`;
}
