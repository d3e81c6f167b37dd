/** Activities that read Temporal itself (through the worker's client), never the cluster. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE, lockWorkflowId, MEMO, type LockHolder, type ShutdownMemo } from '../domain/contract';

/** Who holds a cluster's lock now (from the lock workflow's memo), or undefined if nobody. */
export async function describeLockHolder(input: { cluster: string }): Promise<LockHolder | undefined> {
  const client = Context.current().client;
  try {
    const d = await client.workflow.getHandle(lockWorkflowId(input.cluster)).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    return (d.memo?.[MEMO.lockHolder] as LockHolder | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}

/** What a cluster shutdown recorded (its memo, upserted before it stopped anything). */
export interface ShutdownRecord {
  workflowId: string;
  workflowType: string;
  status: string;
  dryRun: boolean;
  vms: { vm: string; host?: string }[];
}

/**
 * The VMs a clusterShutdown found running (seed 001: "keep this service name list ... reused while
 * starting up"), from its memo; its result when the memo is missing.
 */
export async function shutdownVmList(input: { workflowId: string }): Promise<ShutdownRecord> {
  const client = Context.current().client;
  const handle = client.workflow.getHandle(input.workflowId);
  let d: Awaited<ReturnType<typeof handle.describe>>;
  try {
    d = await handle.describe();
  } catch (e) {
    throw ApplicationFailure.nonRetryable(
      `shutdownWorkflowId: no workflow ${JSON.stringify(input.workflowId)} (${(e as Error).message})`,
      FAILURE.invalidInput,
    );
  }
  if (d.type !== 'clusterShutdown') {
    throw ApplicationFailure.nonRetryable(`shutdownWorkflowId: ${input.workflowId} is a ${d.type}, not a clusterShutdown`, FAILURE.invalidInput);
  }
  type Recorded = Partial<ShutdownMemo>;
  let rec = d.memo?.[MEMO.shutdown] as Recorded | undefined;
  if (!rec?.vms && d.status.name === 'COMPLETED') rec = (await handle.result()) as Recorded;
  if (!rec?.vms)
    throw ApplicationFailure.nonRetryable(`shutdownWorkflowId: ${input.workflowId} recorded no VM list (status ${d.status.name})`, FAILURE.invalidInput);
  return {
    workflowId: input.workflowId,
    workflowType: d.type,
    status: d.status.name,
    dryRun: !!rec.dryRun,
    vms: rec.vms.map((v) => ({ vm: String(v.vm), host: v.host })),
  };
}
