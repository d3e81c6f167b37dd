/**
 * The native stand-in client (lab/bin/lab-tool.c), built once per source version with the system's
 * cc into the temp dir. Used for fleetctl, which a cold read runs once per unit: lab-tool.js's Node
 * start (50-200 ms) would be what the lab measures, where real fleetctl (Go) starts in milliseconds.
 * No compiler: undefined, and the lab uses lab-tool.js (the same protocol and output, slower).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const SOURCE = path.join(__dirname, 'bin', 'lab-tool.c');
let built: Promise<string | undefined> | undefined;

export function nativeClient(): Promise<string | undefined> {
  built ??= build().catch(() => undefined);
  return built;
}

async function build(): Promise<string | undefined> {
  const source = await fsp.readFile(SOURCE);
  const dir = path.join(os.tmpdir(), `hvflow-native-client-${createHash('sha1').update(source).digest('hex').slice(0, 12)}`);
  const binary = path.join(dir, 'lab-tool');
  if (
    await fsp.access(binary, 0o1).then(
      () => true,
      () => false,
    )
  )
    return binary;
  await fsp.mkdir(dir, { recursive: true });
  // Built beside its final name and renamed: two labs starting at once never run a half-written file.
  const tmp = `${binary}.${process.pid}.${Date.now()}`;
  await promisify(execFile)(process.env.CC ?? 'cc', ['-O2', '-o', tmp, SOURCE], { timeout: 60_000 });
  await fsp.rename(tmp, binary);
  return binary;
}
