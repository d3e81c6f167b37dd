/**
 * The hvflow worker process. Configuration comes from the environment (see worker/config.ts and
 * the README); it connects to Temporal, registers the procedures and runs until SIGINT/SIGTERM,
 * finishing in-flight activities first. Logs are JSON lines on stdout; Prometheus metrics are served
 * on HVFLOW_METRICS_PORT when set (worker/telemetry.ts).
 */
import { readFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { configFromEnv, loadInventories } from './config';
import { createHvflowWorker } from './create-worker';
import { formatLogLine, installTelemetry } from './telemetry';

async function main() {
  const config = configFromEnv();
  const { logger, metricsUrl } = installTelemetry({ metricsPort: config.metricsPort, metricsHost: config.metricsHost, logLevel: config.logLevel });
  const inventories = loadInventories(config.inventoryPath);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const passwordFile = config.ipmiPasswordFile;
  const { worker, pool } = await createHvflowWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    inventories,
    sshKeyPath: config.sshKeyPath,
    knownHostsPath: config.knownHostsPath,
    ipmi: { user: config.ipmiUser, password: () => (passwordFile ? readFileSync(passwordFile, 'utf8').trim() : ''), ipmitool: config.ipmitool },
    webhookUrl: config.webhookUrl,
    sshConnectTimeoutMs: config.sshConnectTimeoutMs,
    ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : {}),
  });
  logger.info('hvflow worker started', {
    clusters: inventories.map((i) => i.cluster).join(','),
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    temporal: config.temporalAddress,
    metrics: metricsUrl ?? 'off',
    // Whether gates notify, not where: the URL may carry a token.
    webhook: config.webhookUrl ? 'on' : 'off',
  });
  try {
    await worker.run();
  } finally {
    await pool.closeAll();
    await connection.close();
    logger.info('hvflow worker stopped', { taskQueue: config.taskQueue });
  }
}

main().catch((err) => {
  // Before (or without) the Runtime's logger: the same JSON line format, on stderr.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${formatLogLine({ level: 'ERROR', message: `hvflow worker failed: ${message}`, timestampNanos: BigInt(Date.now()) * 1_000_000n })}\n`);
  process.exit(1);
});
