/**
 * Prints figures, asserts nothing: how fast the SSH layer (activities/ssh.ts) gives up or runs in
 * parallel against real sshds. These were upper bounds in test/unit/ssh.test.ts (a timed assertion fails
 * on a loaded machine and proves nothing on an idle one); the tests keep the behaviour, this the timing.
 *
 *   npx tsx bench/ssh.ts [runs=3]
 *
 * Uses its own loopback block (127.0.13.x, HVFLOW_LAB_NET moves it).
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshPool, type SshTarget } from '../activities/ssh';
import { generateKeyPair, knownHostsLine, startSshd, type SshdHandle } from '../lab/sshd';

const BASE = process.env.HVFLOW_LAB_NET ?? '127.0.13';
const PORT = 2222;

async function elapsed(p: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await p().catch(() => undefined);
  return Math.round(performance.now() - t0);
}

async function main() {
  const runs = Number(process.argv[2] ?? 3);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hvflow-ssh-bench-'));
  const key = await generateKeyPair(path.join(dir, 'client', 'id_ed25519'));
  const sshds: SshdHandle[] = [];
  try {
    for (const [i, host] of ['bench1', 'bench2'].entries()) {
      sshds.push(await startSshd({ hostName: host, address: `${BASE}.${10 + i}`, port: PORT, dir: path.join(dir, host), authorizedKeys: [key.publicKey] }));
    }
    const knownHostsPath = path.join(dir, 'client', 'known_hosts');
    await fsp.writeFile(knownHostsPath, sshds.map((h) => knownHostsLine(h) + '\n').join(''));
    const target = (h: SshdHandle): SshTarget => ({ host: h.hostName, address: h.address, port: h.port, user: os.userInfo().username });
    const figures: Record<string, number[]> = { commandTimeoutKillMs: [], frozenHostFailMs: [], twelveRunsOf300msMs: [] };
    for (let r = 0; r < runs; r++) {
      const pool = new SshPool({ privateKeyPath: key.privateKeyPath, knownHostsPath, connectTimeoutMs: 500 });
      // A command over its 800 ms timeout, ignoring SIGTERM: until its tree is killed and the failure reported (was < 6 s).
      figures.commandTimeoutKillMs.push(await elapsed(() => pool.run(target(sshds[0]), ['bash', '-c', "trap '' TERM; sleep 300"], { timeoutMs: 800 })));
      // A frozen host with a 500 ms connect timeout: until the SshConnectionError (was < 3 s).
      await pool.run(target(sshds[1]), ['true']);
      sshds[1].pause();
      figures.frozenHostFailMs.push(await elapsed(() => pool.run(target(sshds[1]), ['true'])));
      sshds[1].resume();
      // 12 runs of 0.3 s on one connection, 8 channels at a time: 3.6 s if sequential (was < 2.5 s).
      figures.twelveRunsOf300msMs.push(await elapsed(() => Promise.all(Array.from({ length: 12 }, () => pool.run(target(sshds[0]), ['sleep', '0.3'])))));
      await pool.closeAll();
    }
    const summary = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, { min: Math.min(...v), max: Math.max(...v), runs: v }]));
    console.log(JSON.stringify({ runs, ...summary }));
  } finally {
    for (const h of sshds) await h.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
