import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lab/clock';
import { LabModel } from '../../lab/model';
import { nativeClient } from '../../lab/native-client';
import { startLabServer, type LabServer } from '../../lab/server';
import { seedTopology } from '../../lab/topology';

/** The native client (lab/bin/lab-tool.c) prints what lab-tool.js prints, byte for byte, exit code included. */
describe('lab native client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hvflow-native-test-'));
  const model = new LabModel(seedTopology(), { clock: new ManualClock() });
  let server: LabServer;
  let native: string | undefined;
  beforeAll(async () => {
    server = await startLabServer({ model, socketPath: join(dir, 'lab.sock'), lab: { etcdctl: '/usr/bin/etcdctl', etcdEndpoints: {} } });
    native = await nativeClient();
    // Each client under the tool's name, as in a lab host's bin dir.
    for (const [sub, target] of [
      ['node', join(__dirname, '..', '..', 'lab', 'bin', 'lab-tool.js')],
      ['native', native!],
    ]) {
      mkdirSync(join(dir, sub));
      symlinkSync(target, join(dir, sub, 'fleetctl'));
    }
  });
  afterAll(async () => {
    await server.close();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (client: string, args: string[], host = 'top1') => {
    const env = { PATH: '/usr/bin:/bin', HVFLOW_LAB_SOCKET: server.socketPath, HVFLOW_LAB_HOST: host, ETCDCTL_API: '3', OTHER: 'x' };
    const r = await promisify(execFile)(join(dir, client, 'fleetctl'), args, { env, encoding: 'buffer' } as never).then(
      (x) => ({ ...(x as unknown as { stdout: Buffer; stderr: Buffer }), code: 0 }),
      (e: { stdout: Buffer; stderr: Buffer; code: number }) => ({ stdout: e.stdout, stderr: e.stderr, code: e.code }),
    );
    return { stdout: r.stdout.toString('hex'), stderr: r.stderr.toString('hex'), code: r.code };
  };

  it('is built where the system has a compiler (the machines the lab runs on)', () => {
    expect(native).toMatch(/lab-tool$/);
  });

  const unit = 'pcocc-vm-infra1.service';
  const cases: [string, string[], string?][] = [
    ['cat', ['cat', unit]],
    ['cat of a unit fleet does not know', ['cat', 'nosuch']],
    ['cat with two units', ['cat', unit, unit]],
    ['list-unit-files', ['list-unit-files']],
    ['list-machines, fields', ['list-machines', '--no-legend', '--fields=machine,hostname']],
    ['an unknown command', ['frobnicate', '"quoted"\\ and\ttab']],
    ['an unknown host', ['list-units'], 'nohost'],
  ];
  it.each(cases)('%s', async (_name, args, host) => {
    expect(await run('native', args, host)).toEqual(await run('node', args, host));
  });

  it('a unit file with non-ASCII text, control characters and characters beyond the BMP', async () => {
    model.units.get(unit)!.text = '[Unit]\nDescription=caf\u00e9 \u{1F600} \u0001\u001f "q" \\ \t end\n[X-Fleet]\nWeight=1';
    const n = await run('native', ['cat', unit]);
    expect(n).toEqual(await run('node', ['cat', unit]));
    expect(Buffer.from(n.stdout, 'hex').toString('utf8')).toBe(model.units.get(unit)!.text);
  });
});
