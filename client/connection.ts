/**
 * Connection settings of the hvflow CLI, from flags or the environment, like the `temporal` CLI:
 *
 *   --address         TEMPORAL_ADDRESS      host:port of the frontend (default 127.0.0.1:7233)
 *   --namespace       TEMPORAL_NAMESPACE    (default "default")
 *   --task-queue      HVFLOW_TASK_QUEUE     the hvflow worker's task queue (default "hvflow")
 *   --cluster         HVFLOW_CLUSTER        the cluster procedures act on (default: the cluster of the
 *                                           inventory HVFLOW_INVENTORY names; none: a command that acts
 *                                           on a cluster says so, `list` lists every cluster)
 *   --tls             TEMPORAL_TLS          use TLS (implied by any of the three files below)
 *   --tls-cert-path   TEMPORAL_TLS_CERT     client certificate (mTLS)
 *   --tls-key-path    TEMPORAL_TLS_KEY      its private key
 *   --tls-ca-path     TEMPORAL_TLS_CA       CA bundle the server certificate is checked against
 *   --tls-server-name TEMPORAL_TLS_SERVER_NAME
 *   --api-key         TEMPORAL_API_KEY      (Temporal Cloud API key; read from the environment preferably)
 *
 * Flags win over the environment. Everything is checked before any connection is attempted; a bad
 * value is a usage error (exit 2) naming the flag and its variable.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, Connection, TLSConfig } from '@temporalio/client';
import YAML from 'yaml';
import { DEFAULT_TASK_QUEUE } from '../domain/contract';
import { validateField } from '../domain/procedure-inputs';
import { isInventoryFile } from '../domain/inventory';
import { CliError, ExitCode, usage } from './errors';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  cluster?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKey?: string;
  connectTimeout?: string;
}

export interface ConnectionSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Undefined when none is given: there is no default cluster (see clusterOf). */
  cluster?: string;
  /** Where the cluster name came from, or why there is none, for messages. */
  clusterFrom: string;
  tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
  apiKey?: string;
  connectTimeoutMs: number;
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/**
 * The cluster named by the inventory the worker also reads (HVFLOW_INVENTORY), or why none. A
 * directory of inventories (a worker serving several clusters) names one only if it holds one.
 */
function clusterOfInventory(path: string): { cluster?: string; problem?: string } {
  try {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path).filter(isInventoryFile);
      if (files.length !== 1) return { problem: `HVFLOW_INVENTORY (${path}) is a directory of ${files.length} inventories` };
      return clusterOfInventory(join(path, files[0]));
    }
    const doc = YAML.parse(readFileSync(path, 'utf8')) as { cluster?: unknown } | null;
    return typeof doc?.cluster === 'string' ? { cluster: doc.cluster } : { problem: `HVFLOW_INVENTORY (${path}) names no cluster` };
  } catch (e) {
    return { problem: `HVFLOW_INVENTORY (${path}) cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

export function connectionSettings(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const address = flags.address ?? env.TEMPORAL_ADDRESS ?? DEFAULT_ADDRESS;
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) {
    throw usage(`--address (TEMPORAL_ADDRESS): ${JSON.stringify(address)} must be host:port, e.g. 127.0.0.1:7233`);
  }
  const namespace = flags.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default';
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(namespace)) throw usage(`--namespace (TEMPORAL_NAMESPACE): ${JSON.stringify(namespace)} is not a namespace name`);
  const taskQueue = flags.taskQueue ?? env.HVFLOW_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a task queue name with a control character is refused
  if (!/^[^\s\x00-\x1f]{1,255}$/.test(taskQueue)) throw usage(`--task-queue (HVFLOW_TASK_QUEUE): ${JSON.stringify(taskQueue)} is not a task queue name`);

  let cluster: string | undefined;
  let clusterFrom: string;
  if (flags.cluster !== undefined) [cluster, clusterFrom] = [flags.cluster, '--cluster'];
  else if (env.HVFLOW_CLUSTER) [cluster, clusterFrom] = [env.HVFLOW_CLUSTER, 'HVFLOW_CLUSTER'];
  else if (env.HVFLOW_INVENTORY) {
    const found = clusterOfInventory(env.HVFLOW_INVENTORY);
    [cluster, clusterFrom] = [found.cluster, found.problem ?? `HVFLOW_INVENTORY (${env.HVFLOW_INVENTORY})`];
  } else [cluster, clusterFrom] = [undefined, 'none given'];
  if (cluster !== undefined) validateField('cluster', `cluster (${clusterFrom})`, cluster);

  const certPath = flags.tlsCertPath ?? env.TEMPORAL_TLS_CERT;
  const keyPath = flags.tlsKeyPath ?? env.TEMPORAL_TLS_KEY;
  const caPath = flags.tlsCaPath ?? env.TEMPORAL_TLS_CA;
  const serverName = flags.tlsServerName ?? env.TEMPORAL_TLS_SERVER_NAME;
  const tlsOn = flags.tls || truthy(env.TEMPORAL_TLS) || !!certPath || !!keyPath || !!caPath || !!serverName;
  if (!!certPath !== !!keyPath) {
    throw usage(
      `--tls-cert-path (TEMPORAL_TLS_CERT) and --tls-key-path (TEMPORAL_TLS_KEY) go together: ${certPath ? 'the key' : 'the certificate'} is missing`,
    );
  }
  const apiKey = flags.apiKey ?? env.TEMPORAL_API_KEY;

  const timeout = flags.connectTimeout ?? env.HVFLOW_CONNECT_TIMEOUT ?? '5';
  const seconds = Number(timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
    throw usage(`--connect-timeout: ${JSON.stringify(timeout)} must be a number of seconds (0 < s <= 600)`);

  return {
    address,
    namespace,
    taskQueue,
    cluster,
    clusterFrom,
    tls: tlsOn ? { certPath, keyPath, caPath, serverName } : undefined,
    apiKey: apiKey || undefined,
    connectTimeoutMs: Math.round(seconds * 1000),
  };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw usage(`${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function tlsConfig(s: ConnectionSettings): TLSConfig | undefined {
  if (!s.tls) return undefined;
  const t = s.tls;
  return {
    serverNameOverride: t.serverName,
    serverRootCACertificate: t.caPath ? readPem(t.caPath, '--tls-ca-path (TEMPORAL_TLS_CA)') : undefined,
    clientCertPair:
      t.certPath && t.keyPath
        ? { crt: readPem(t.certPath, '--tls-cert-path (TEMPORAL_TLS_CERT)'), key: readPem(t.keyPath, '--tls-key-path (TEMPORAL_TLS_KEY)') }
        : undefined,
  };
}

/** The cluster a command acts on: one must be given, there is no default (a seed's name would be a guess). */
export function clusterOf(s: ConnectionSettings): string {
  if (s.cluster !== undefined) return s.cluster;
  throw usage(`cluster: a cluster is needed (${s.clusterFrom}): give --cluster <name>, or set HVFLOW_CLUSTER, or HVFLOW_INVENTORY to the worker's inventory`);
}

export interface Connected {
  client: Client;
  connection: Connection;
  settings: ConnectionSettings;
  close(): Promise<void>;
}

/** Connects, or fails with exit code 4 and a message saying where it tried. */
export async function connect(settings: ConnectionSettings): Promise<Connected> {
  const tls = tlsConfig(settings); // file errors are usage errors, before any network
  // Loaded here, not at the top: `--help` and usage errors never load the SDK.
  const { Client, Connection } = await import('@temporalio/client');
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: settings.address,
      tls,
      apiKey: settings.apiKey,
      connectTimeout: settings.connectTimeoutMs,
    });
  } catch (e) {
    throw new CliError(
      ExitCode.CONNECT,
      `cannot connect to the Temporal server at ${settings.address}${tls ? ' (TLS)' : ''}: ${(e as Error).message}. ` +
        'Is it running? Set --address or TEMPORAL_ADDRESS.',
    );
  }
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, connection, settings, close: () => connection.close() };
}
