/**
 * (Re)captures test/fixtures/etcd/* from the installed etcdctl against a real 6-member cluster on
 * 127.0.3.11-16, standard ports 2379/2380 (these must be free). The parsers' tests read these files.
 *
 *   npx tsx scripts/capture-etcd-fixtures.ts
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clusterHealthV2, endpointHealthV3, etcdCleanEnv, etcdctlBinary, startEtcdCluster, type EtcdctlResult } from '../lab/etcd';

const NAMES = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
const FIXTURES = path.resolve(__dirname, '../test/fixtures/etcd');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hvflow-etcd-capture-'));
  const members = NAMES.map((name, i) => ({ name, address: `127.0.3.${11 + i}` }));
  const c = await startEtcdCluster({ members, dir });
  const version = spawnSync(etcdctlBinary(), ['version'], { encoding: 'utf8', env: etcdCleanEnv({ ETCDCTL_API: '3' }) })
    .stdout.split('\n')[0]!
    .replace(/^etcdctl version:\s*/, '');
  fs.mkdirSync(FIXTURES, { recursive: true });
  const save = (scenario: string, description: string, stopped: string[], r: EtcdctlResult) => {
    fs.writeFileSync(path.join(FIXTURES, `${scenario}.stdout.txt`), r.stdout);
    fs.writeFileSync(path.join(FIXTURES, `${scenario}.stderr.txt`), r.stderr);
    const meta = { scenario, description, command: r.command, exitCode: r.code, etcdctl: version, stopped, endpoints: c.endpoints };
    fs.writeFileSync(path.join(FIXTURES, `${scenario}.json`), JSON.stringify(meta, null, 2) + '\n');
    console.log(`${scenario}: exit ${r.code}`);
  };
  try {
    const top1 = c.endpoints.top1!;
    save('v2-healthy', 'all 6 members up', [], await clusterHealthV2(top1));
    save('v3-healthy', 'all 6 members up', [], await endpointHealthV3(top1));
    await c.stopMember('worker1');
    save('v2-one-stopped', 'worker1 stopped (SIGTERM), queried through top1', ['worker1'], await clusterHealthV2(top1));
    save('v3-one-stopped', 'worker1 stopped (SIGTERM), queried through top1', ['worker1'], await endpointHealthV3(top1));
    save('v2-endpoint-down', 'worker1 stopped and queried through worker1 itself', ['worker1'], await clusterHealthV2(c.endpoints.worker1!));
    save('v3-endpoint-down', 'worker1 stopped and queried through worker1 itself', ['worker1'], await endpointHealthV3(c.endpoints.worker1!));
    await c.startMember('worker1');
    const majority = ['top2', 'top3', 'worker2', 'worker3'];
    await Promise.all(majority.map((n) => c.stopMember(n)));
    save('v2-majority-stopped', '4 of 6 stopped (no quorum), queried through top1', majority, await clusterHealthV2(top1));
    save('v3-majority-stopped', '4 of 6 stopped (no quorum), queried through top1', majority, await endpointHealthV3(top1));
  } finally {
    await c.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
