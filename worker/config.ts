/**
 * The worker's configuration, from the environment (like the `temporal` CLI's TEMPORAL_* variables).
 * Secrets live only here: the SSH private key path, the known_hosts path and the BMC password
 * file never enter workflow input, history, memo or search attributes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLevel } from '@temporalio/common';
import { DEFAULT_TASK_QUEUE } from '../domain/contract';
import { isInventoryFile, parseInventoryYaml, type Inventory } from '../domain/inventory';

export interface WorkerConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** An inventory YAML, or a directory whose every *.yaml / *.yml is one (a worker serving a farm of clusters). */
  inventoryPath: string;
  sshKeyPath: string;
  knownHostsPath: string;
  /** BMC user for `ipmitool -U`; its password is read from ipmiPasswordFile at use, never logged. */
  ipmiUser: string;
  ipmiPasswordFile?: string;
  /** The worker's own ipmitool (HVFLOW_IPMITOOL: a path, or a name looked up on PATH), used where the inventory's ipmiFrom says `worker`. */
  ipmitool: string;
  /** A gate that starts waiting POSTs a JSON message here (best effort). */
  webhookUrl?: string;
  /** Prometheus metrics on this port (0 = off). */
  metricsPort: number;
  /** Address the metrics endpoint binds (HVFLOW_METRICS_HOST, default 127.0.0.1; 0.0.0.0 in a container). */
  metricsHost: string;
  /** Lowest level of the JSON logs on stdout (HVFLOW_LOG_LEVEL: TRACE, DEBUG, INFO, WARN, ERROR; default INFO). */
  logLevel: LogLevel;
  /** How long an SSH connection or an exec request may go unanswered before the host counts as unreachable. */
  sshConnectTimeoutMs: number;
  /** HVFLOW_WORKFLOW_BUNDLE: a workflow bundle built beforehand (`bundleWorkflowCode`'s code, as a file); unset, the worker bundles workflows/ at start. */
  workflowBundlePath?: string;
}

export class ConfigError extends Error {}

function required(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const v = env[name];
  if (!v) throw new ConfigError(`${name} is not set: ${what}`);
  return v;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const metricsPort = Number(env.HVFLOW_METRICS_PORT ?? 0);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
    throw new ConfigError(`HVFLOW_METRICS_PORT: ${JSON.stringify(env.HVFLOW_METRICS_PORT)} must be a port number (0 = off)`);
  }
  const logLevel = (env.HVFLOW_LOG_LEVEL ?? 'INFO').toUpperCase();
  if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) {
    throw new ConfigError(`HVFLOW_LOG_LEVEL: ${JSON.stringify(env.HVFLOW_LOG_LEVEL)} must be one of TRACE, DEBUG, INFO, WARN, ERROR`);
  }
  const sshConnectTimeout = Number(env.HVFLOW_SSH_CONNECT_TIMEOUT ?? 10);
  if (!Number.isFinite(sshConnectTimeout) || sshConnectTimeout < 1 || sshConnectTimeout > 300) {
    throw new ConfigError(`HVFLOW_SSH_CONNECT_TIMEOUT: ${JSON.stringify(env.HVFLOW_SSH_CONNECT_TIMEOUT)} must be a number of seconds from 1 to 300`);
  }
  const ipmitool = env.HVFLOW_IPMITOOL ?? 'ipmitool';
  if (!/^[A-Za-z0-9_./+-]+$/.test(ipmitool) || ipmitool.startsWith('-')) {
    throw new ConfigError(
      `HVFLOW_IPMITOOL: ${JSON.stringify(env.HVFLOW_IPMITOOL)} must be a program name or path (letters, digits, _ . / + -, not starting with -)`,
    );
  }
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.HVFLOW_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    inventoryPath: required(env, 'HVFLOW_INVENTORY', 'path of the inventory YAML, or of a directory of them (see config/)'),
    sshKeyPath: required(env, 'HVFLOW_SSH_KEY', 'path of the SSH private key the worker logs in with'),
    knownHostsPath: required(env, 'HVFLOW_KNOWN_HOSTS', 'path of the known_hosts file host keys are verified against'),
    ipmiUser: env.HVFLOW_IPMI_USER ?? 'ADMIN',
    ipmiPasswordFile: env.HVFLOW_IPMI_PASSWORD_FILE,
    ipmitool,
    webhookUrl: env.HVFLOW_WEBHOOK_URL,
    metricsPort,
    metricsHost: env.HVFLOW_METRICS_HOST || '127.0.0.1',
    logLevel: logLevel as LogLevel,
    sshConnectTimeoutMs: Math.round(sshConnectTimeout * 1000),
    workflowBundlePath: env.HVFLOW_WORKFLOW_BUNDLE || undefined,
  };
}

/**
 * The inventories of HVFLOW_INVENTORY: the file, or every *.yaml / *.yml of the directory (by name).
 * Two files of one cluster are refused: which one the worker acted on would be a guess.
 */
export function loadInventories(path: string): Inventory[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter(isInventoryFile)
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (e) {
    throw new ConfigError(`cannot read inventory ${path}: ${(e as Error).message}`);
  }
  if (!files.length) throw new ConfigError(`HVFLOW_INVENTORY: ${path} is a directory with no inventory in it (*.yaml, *.yml)`);
  const byCluster = new Map<string, string>();
  return files.map((file) => {
    const inv = loadInventoryFile(file);
    const other = byCluster.get(inv.cluster);
    if (other) throw new ConfigError(`HVFLOW_INVENTORY: ${file} and ${other} are both inventories of cluster ${inv.cluster}`);
    byCluster.set(inv.cluster, file);
    return inv;
  });
}

export function loadInventoryFile(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read inventory ${path}: ${(e as Error).message}`);
  }
  return parseInventoryYaml(text, path);
}
