/**
 * (Re)captures the distribute-volume outputs of test/fixtures/gluster-real/ from real GlusterFS, as
 * the lab's real mode runs it (lab/gluster-real.ts): the seed lab's servers top1-3 (`topN-data`,
 * 10.5.0.N), the seed volumes volspoms1 and volspoms2 (replica 3, sharded) and a distribute volume
 * `volscratch` (one brick on each of top1-3), mounted on the six management hypervisors. Needs root
 * and glusterfs-server (see realGlusterUnavailable); only one real-GlusterFS lab may run at a time.
 *
 *   npx tsx scripts/capture-gluster-distribute.ts
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RealGluster, type CommandResult } from '../lab/gluster-real';
import { LabModel } from '../lab/model';
import { storageAddress, storageName } from '../lab/tools/gluster';
import { seedTopology, type TopoVolume } from '../lab/topology';

const FIXTURES = path.resolve(__dirname, '../test/fixtures/gluster-real');
const SERVERS = ['top1', 'top2', 'top3'];
const CLIENTS = [...SERVERS, 'worker1', 'worker2', 'worker3'];
const DISTRIBUTE: TopoVolume = { name: 'volscratch', type: 'distribute', servers: SERVERS, replica: 1, shardBlockSize: '' };

async function main() {
  const t = seedTopology();
  const topology = { ...t, volumes: [...t.volumes, DISTRIBUTE] };
  const model = new LabModel(topology);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hvflow-gluster-capture-'));
  const version = spawnSync('gluster', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format
  const pkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'glusterfs-server'], { encoding: 'utf8' }).stdout;
  const debian = fs.readFileSync('/etc/debian_version', 'utf8').trim().split('.')[0];
  const g = await RealGluster.start({
    dir,
    hosts: CLIENTS.map((name) => ({ name, storageName: storageName(model.machine(name)), storageAddress: storageAddress(model.machine(name)) })),
    volumes: topology.volumes.map((v) => ({ name: v.name, servers: v.servers, replica: v.replica, shardBlockSize: v.shardBlockSize })),
    clients: CLIENTS,
  });
  const save = async (name: string, args: string[], host = 'top1', description = ''): Promise<CommandResult> => {
    const argv = ['gluster', ...args];
    const t0 = Date.now();
    const r = await g.run(host, argv);
    fs.writeFileSync(path.join(FIXTURES, `${name}.stdout.txt`), r.stdout);
    fs.writeFileSync(path.join(FIXTURES, `${name}.stderr.txt`), r.stderr);
    const meta = {
      argv,
      exitCode: r.code,
      glusterVersion: version,
      package: `glusterfs-server ${pkg} (Debian ${debian})`,
      runOn: host,
      topology: 'seed lab, real mode (lab/gluster-real.ts): servers top1-3, volscratch distribute on top1-3',
      ...(description ? { description } : {}),
      seconds: (Date.now() - t0) / 1000,
      capturedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    fs.writeFileSync(path.join(FIXTURES, `${name}.json`), JSON.stringify(meta, null, 2) + '\n');
    console.log(`${name}: exit ${r.code}`);
    return r;
  };
  try {
    const v = DISTRIBUTE.name;
    await save('volume-info-volscratch', ['volume', 'info', v]);
    await save('heal-info-volscratch-distribute', ['volume', 'heal', v, 'info']);
    await save('heal-info-summary-volscratch-distribute', ['volume', 'heal', v, 'info', 'summary']);
    await save('heal-volscratch-distribute', ['volume', 'heal', v]);
    await save('status-volscratch', ['volume', 'status', v]);
    await save('status-volscratch-clients', ['volume', 'status', v, 'clients']);
    await save(
      'status-volspoms1-lab',
      ['volume', 'status', 'volspoms1'],
      'top1',
      'a replicated volume of the lab: self-heal daemons listed, brick names wrapped at 43 columns',
    );
    await save('rebalance-status-volscratch-never-started', ['volume', 'rebalance', v, 'status']);
    await save('tier-status-volscratch', ['volume', 'tier', v, 'status']);

    // top2's brick of volscratch killed (its glusterd keeps running)
    const pidFile = `/run/gluster/vols/${v}/top2-data-srv-gluster-${v}-brick.pid`;
    const pid = (await g.run('top2', ['cat', pidFile])).stdout.trim();
    if (!/^\d+$/.test(pid) || (await g.run('top2', ['kill', '-KILL', pid])).code !== 0) throw new Error(`cannot kill the brick of ${v} on top2 (${pid})`);
    await new Promise((r) => setTimeout(r, 1000));
    await save('status-volscratch-brick-down', ['volume', 'status', v], 'top1', "top2's brick killed");
    await save('heal-info-volscratch-brick-down', ['volume', 'heal', v, 'info'], 'top1', "top2's brick killed");
    await save('status-volscratch-clients-brick-down', ['volume', 'status', v, 'clients'], 'top1', "top2's brick killed");

    // the brick back (`volume start VOL force` restarts a dead brick), files written, a rebalance run to its end
    if ((await g.run('top1', ['gluster', '--mode=script', 'volume', 'start', v, 'force'])).code !== 0) throw new Error(`cannot restart the brick of ${v}`);
    // the FUSE client reconnects to the restarted brick within seconds
    for (let i = 0; ; i++) {
      try {
        await g.write('worker1', v, 40, 'r');
        break;
      } catch (e) {
        if (i > 30) throw e;
        await new Promise((res) => setTimeout(res, 1000));
      }
    }
    await save('rebalance-start-volscratch', ['volume', 'rebalance', v, 'start']);
    for (let i = 0; ; i++) {
      const r = await g.run('top1', ['gluster', 'volume', 'rebalance', v, 'status']);
      if (/ completed /.test(r.stdout) && !/in progress/.test(r.stdout)) break;
      if (i > 120) throw new Error(`the rebalance of ${v} did not complete: ${r.stdout}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    await save('rebalance-status-volscratch-completed', ['volume', 'rebalance', v, 'status'], 'top1', 'after a rebalance of 40 files');
    await save('status-volscratch-rebalance-completed', ['volume', 'status', v], 'top1', 'after a rebalance of 40 files');

    // the volume stopped (the FUSE mounts stay)
    if ((await g.run('top1', ['gluster', '--mode=script', 'volume', 'stop', v])).code !== 0) throw new Error(`cannot stop ${v}`);
    await save('status-volscratch-stopped', ['volume', 'status', v], 'top1', 'volume stopped');
    await save('heal-info-volscratch-stopped', ['volume', 'heal', v, 'info'], 'top1', 'volume stopped');
  } finally {
    await g.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
