/**
 * Builds the hvflow worker: registers every workflow and the activities of its clusters (one
 * inventory each) over one SSH pool. Used by worker/main.ts, `npm run dev` and the tests (same code path).
 */
import { type NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleOption, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';
import { createActivities } from '../activities';
import type { Inventory } from '../domain/inventory';
import { SshPool } from '../activities/ssh';

export interface HvflowWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** The clusters this worker serves, one inventory each. */
  inventories: Inventory[];
  sshKeyPath: string;
  knownHostsPath: string;
  /** BMC credentials and the worker's own ipmitool (HVFLOW_IPMITOOL). */
  ipmi?: { user: string; password: () => string; ipmitool?: string };
  webhookUrl?: string;
  /** SSH connect / exec-request answer timeout (default 10 s). */
  sshConnectTimeoutMs?: number;
  /** A prebuilt bundle, in memory or as a file (the test suite builds one per run); otherwise bundled from workflows/. */
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
}

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/**
 * The workflow bundle of workflows/ (or of another copy of it: the upgrade test builds one), with
 * the cluster scope of its activities (workflows/cluster-scope.ts, from the same copy);
 * `workflowInterceptorModules`: extra interceptors compiled into the bundle (the tests' timing one).
 */
export function bundleWorkflows(o: { workflowsPath?: string; workflowInterceptorModules?: string[] } = {}): Promise<WorkflowBundleWithSourceMap> {
  const workflowsPath = o.workflowsPath ?? WORKFLOWS_PATH;
  return bundleWorkflowCode({
    workflowsPath,
    logger: quietBundlerLogger,
    workflowInterceptorModules: [path.join(path.dirname(workflowsPath), 'cluster-scope.ts'), ...(o.workflowInterceptorModules ?? [])],
  });
}

const noop = () => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };

export async function createHvflowWorker(o: HvflowWorkerOptions): Promise<{ worker: Worker; pool: SshPool }> {
  const pool = new SshPool({ privateKeyPath: o.sshKeyPath, knownHostsPath: o.knownHostsPath, connectTimeoutMs: o.sshConnectTimeoutMs });
  const activities = createActivities({ inventories: o.inventories, pool, ipmi: o.ipmi, webhookUrl: o.webhookUrl });
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    taskQueue: o.taskQueue,
    activities,
    ...(o.identity ? { identity: o.identity } : {}),
    workflowBundle: o.workflowBundle ?? (await bundleWorkflows()),
  });
  return { worker, pool };
}
