/**
 * ipmitool run by the worker itself (HVFLOW_IPMITOOL), and the route finder that picks it when no
 * host reaches the BMCs. A fake ipmitool records its argv and environment and prints what ipmitool
 * 1.8.19 prints (test/fixtures/ipmitool).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseInventory } from '../../domain/inventory';
import { WORKER_ROUTE } from '../../domain/ipmi-routes';
import { powerActivities } from '../../activities/power';
import { SshPool } from '../../activities/ssh';
import { generateKeyPair } from '../../lab/sshd';

const fixture = (name: string) => readFileSync(path.join('test/fixtures/ipmitool', name), 'utf8');
let dir: string;
let pool: SshPool;

/** A fake ipmitool: records `$@` and its environment, then prints `stdout` / `stderr` and exits `code`. */
async function fakeIpmitool(name: string, o: { stdout: string; stderr?: string; code?: number }): Promise<string> {
  const file = path.join(dir, name);
  await fsp.writeFile(path.join(dir, `${name}.out`), o.stdout);
  await fsp.writeFile(path.join(dir, `${name}.err`), o.stderr ?? '');
  await fsp.writeFile(
    file,
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${file}.argv'\n/usr/bin/env > '${file}.env'\ncat '${file}.out'\ncat '${file}.err' >&2\nexit ${o.code ?? 0}\n`,
    { mode: 0o755 },
  );
  return file;
}

function activities(ipmitool: string) {
  const doc = parseYaml(readFileSync('config/ocean.example.yaml', 'utf8')) as any;
  doc.hypervisors[0].address = '127.0.0.1';
  doc.hypervisors[0].sshPort = 9; // nothing listens: top1 does not answer SSH
  return powerActivities({ inventory: parseInventory(doc), pool, ipmi: { user: 'ADMIN', password: () => 's3cret', ipmitool } });
}

const run = <T>(fn: () => Promise<T>) => new MockActivityEnvironment().run(fn);
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ApplicationFailure,
  );

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hvflow-ipmitool-'));
  const key = await generateKeyPair(path.join(dir, 'id_ed25519'));
  await fsp.writeFile(path.join(dir, 'known_hosts'), '');
  pool = new SshPool({ privateKeyPath: key.privateKeyPath, knownHostsPath: path.join(dir, 'known_hosts'), connectTimeoutMs: 2000 });
});
afterAll(async () => {
  await pool?.closeAll();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe("the worker's own ipmitool", () => {
  it('runs ipmitool -I lanplus -E with the password in its environment only, nothing else of the worker environment', async () => {
    const tool = await fakeIpmitool('ok', { stdout: fixture('power-status-on.stdout.txt') });
    const r = await run(() => activities(tool).ipmiPower({ host: 'top2', action: 'status', via: WORKER_ROUTE }));
    expect(r).toEqual({ host: 'top2', state: 'on' });
    const argv = readFileSync(`${tool}.argv`, 'utf8').trim().split('\n');
    expect(argv).toEqual(['-I', 'lanplus', '-H', '10.2.0.2', '-U', 'ADMIN', '-E', 'power', 'status']);
    const env = readFileSync(`${tool}.env`, 'utf8');
    expect(env).toMatch(/^IPMI_PASSWORD=s3cret$/m);
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toMatch(/^(HOME|USER|HVFLOW_[A-Z_]*)=/m);
  });

  it('a BMC that does not answer is retryable (IpmiUnavailable); a program that is not there is a configuration error', async () => {
    const tool = await fakeIpmitool('nobmc', { stdout: '', stderr: fixture('captured-power-status-no-bmc.stderr.txt'), code: 1 });
    const e = await failureOf(run(() => activities(tool).ipmiPower({ host: 'top2', action: 'on', via: WORKER_ROUTE })));
    expect(e).toMatchObject({ type: 'IpmiUnavailable', nonRetryable: false });
    expect(e!.message).toBe('BMC of top2 (10.2.0.2) from the worker: Error: Unable to establish IPMI v2 / RMCP+ session');
    const missing = await failureOf(run(() => activities(path.join(dir, 'no-such-ipmitool')).ipmiPower({ host: 'top2', action: 'on', via: WORKER_ROUTE })));
    expect(missing).toMatchObject({ type: 'WorkerConfigError', nonRetryable: true });
    expect(missing!.message).toMatch(/cannot run .*no-such-ipmitool on the worker: .*ENOENT/);
  });
});

describe('pickIpmiRoute', () => {
  it('passes over a host that does not answer SSH and picks the worker', async () => {
    const tool = await fakeIpmitool('route', { stdout: fixture('power-status-off.stdout.txt') });
    const route = await run(() => activities(tool).pickIpmiRoute({ routes: [{ via: 'ssh', host: 'top1' }, WORKER_ROUTE], probe: ['top2', 'top3'] }));
    expect(route).toEqual(WORKER_ROUTE);
  });

  it('nothing reaches the BMCs: a non-retryable failure saying what each place answered, and what to do', async () => {
    const tool = await fakeIpmitool('none', { stdout: '', stderr: fixture('captured-power-status-no-bmc.stderr.txt'), code: 1 });
    const e = await failureOf(run(() => activities(tool).pickIpmiRoute({ routes: [{ via: 'ssh', host: 'top1' }, WORKER_ROUTE], probe: ['top2'] })));
    expect(e).toMatchObject({ type: 'NoIpmiRoute', nonRetryable: true });
    expect(e!.message).toBe(
      'nothing reaches the BMCs of top2: top1: does not answer SSH; the worker: reaches no BMC (Unable to establish IPMI v2 / RMCP+ session). ' +
        'Power top1 on by hand, or give a BMC relay of the inventory (bmcRelays) or the worker (HVFLOW_IPMITOOL) access to the BMCs, then retry',
    );
  });
});
