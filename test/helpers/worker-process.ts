/**
 * The hvflow worker as a real process (`tsx worker/main.ts`), configured by environment exactly as an
 * operator would run it, so tests can kill -9 it and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from '../../lab';
import { testNamespace } from './worker-slot';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no clean-up, no goodbye to the server, as a crash. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = path.join(__dirname, '..', '..');

/** `namespace`: the vitest worker's own on the suite's server; a test's own server has only `default`. */
export function workerEnv(lab: Lab, address: string, taskQueue: string, namespace = testNamespace()): NodeJS.ProcessEnv {
  const passwordFile = path.join(lab.dir, 'bmc-password');
  writeFileSync(passwordFile, 'lab-bmc-password\n', { mode: 0o600 });
  return {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    HVFLOW_TASK_QUEUE: taskQueue,
    HVFLOW_INVENTORY: lab.inventoryPath,
    HVFLOW_SSH_KEY: lab.privateKeyPath,
    HVFLOW_KNOWN_HOSTS: lab.knownHostsPath,
    HVFLOW_IPMI_PASSWORD_FILE: passwordFile,
    HVFLOW_IPMITOOL: lab.workerIpmitool,
  };
}

export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  // tsx as a loader inside the one node process (the tsx CLI would fork a child that a SIGKILL of
  // the parent leaves running: a crash test must kill the real worker).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready once it says so (the workflow bundle takes a few seconds to build).
  const deadline = Date.now() + 90_000;
  while (!/worker started/.test(out)) {
    if (child.exitCode !== null) throw new Error(`worker exited at start:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    output: () => out,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
