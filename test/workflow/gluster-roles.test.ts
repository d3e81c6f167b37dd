/**
 * GlusterFS roles come from the inventory: on a generated cluster where some hypervisors are
 * neither GlusterFS server nor client, a whole-cluster shutdown and the start-up that follows run
 * their GlusterFS commands only on the hosts the inventory gives that role (clients and servers
 * unmount, servers stop their daemons), and nowhere else. One of its volumes is a distribute volume:
 * it has no heal, so the start-up sends it none and waits for its bricks instead.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting, resultUnparked } from '../helpers/harness';
import { approveSignal } from '../../workflows/messages';
import type { ShutdownResult } from '../../workflows/cluster-shutdown';
import type { StartupResult } from '../../workflows/cluster-startup';
import { generateTopology, type TopoVolume } from '../../lab/topology';
import type { CommandLogEntry } from '../../lab/model';

const SERVERS = ['top1', 'top2', 'top3'];
const CLIENTS_ONLY = ['hv1', 'hv2'];
const NEITHER = ['hv3', 'hv4'];
const VOLUMES: TopoVolume[] = [
  { name: 'vmimages', type: 'replicate', servers: SERVERS, replica: 3, shardBlockSize: '64MB' },
  { name: 'scratch', type: 'distribute', servers: SERVERS, replica: 1, shardBlockSize: '' },
];
const topology = generateTopology({ hypervisors: 7, vms: 24, seed: 3, glusterClients: 5, volumes: VOLUMES });

const t = useHarness({ topology });
const start = (workflow: string, input: Record<string, unknown>) => t.start(workflow, { cluster: 'generated', ...input });
const line = (e: { host: string; argv: string[] }) => `${e.host}: ${e.argv.join(' ')}`;

/** A command that touches GlusterFS on the host it runs on (the CLI, its mounts, its daemons and processes). */
function touchesGluster(e: CommandLogEntry): boolean {
  const [tool, ...args] = e.argv;
  if (tool === 'gluster' || tool === 'stop-all-gluster-processes.sh') return true;
  if (tool === 'umount') return args.includes('fuse.glusterfs');
  if (tool === 'pkill') return args.some((a) => a.startsWith('gluster'));
  if (tool === 'systemctl') return args.some((a) => a.startsWith('gluster'));
  return false;
}

describe('GlusterFS commands reach only the hosts the inventory gives each role', () => {
  it('the lab inventory names the roles: servers top1-3, clients top1-3 and hv1-2, hv3-4 neither', () => {
    expect(t.h.lab.inventory.gluster?.clients).toBe('hv[1-2],top[1-3]');
    expect(t.h.lab.inventory.gluster?.volumes.map((v) => v.servers)).toEqual(['top[1-3]', 'top[1-3]']);
  });

  it('a shutdown then a start-up: unmount on clients and servers, daemons stopped on servers, nothing on the others', async () => {
    const seq = t.lastSeq();
    const shutdown = await start('clusterShutdown', { poweroffDelaySeconds: 1, hostDownTimeoutSeconds: 60, stopTimeoutSeconds: 30 });
    await waitForProgress(shutdown, gateWaiting('approve-shutdown'));
    await shutdown.signal(approveSignal, { by: 'bob', reason: 'power work' });
    await waitForProgress(shutdown, gateWaiting('approve-poweroff'), 120_000);
    await shutdown.signal(approveSignal, { by: 'bob', reason: 'go' });
    const down = await resultUnparked<ShutdownResult>(shutdown);
    expect(down.plan.glusterUnmount).toEqual([...SERVERS, ...CLIENTS_ONLY]);
    expect(down.plan.glusterServers).toEqual(SERVERS);

    const mutating = t.mutatingSince(seq).filter(touchesGluster).map(line);
    for (const host of [...SERVERS, ...CLIENTS_ONLY]) expect(mutating, host).toContain(`${host}: umount -t fuse.glusterfs -a`);
    for (const host of SERVERS) expect(mutating, host).toContain(`${host}: systemctl stop glusterd`);
    for (const host of CLIENTS_ONLY)
      expect(
        mutating.filter((l) => l.startsWith(`${host}: `)),
        host,
      ).toEqual([`${host}: umount -t fuse.glusterfs -a`]);

    // Every hypervisor is off and none stays up to run ipmitool from: top1 is powered on by hand (seed 001).
    await t.h.lab.model.powerOn('top1');
    const startup = await start('clusterStartup', {
      shutdownWorkflowId: shutdown.workflowId,
      hostUpTimeoutSeconds: 60,
      startTimeoutSeconds: 120,
      maxRttMs: 1000,
    });
    const up = await resultUnparked<StartupResult>(startup);
    expect(up.problems).toEqual([]);
    expect(new Set(up.started.map((s) => s.vm))).toEqual(new Set(down.vms.map((v) => v.vm)));

    // The whole run, read-only commands included: no GlusterFS command on a host that has no GlusterFS role.
    const all = t.h.lab.commandLog().filter((e) => e.seq > seq && touchesGluster(e));
    for (const host of NEITHER) expect(all.filter((e) => e.host === host).map(line), host).toEqual([]);
    // The gluster CLI itself runs on servers only.
    expect([...new Set(all.filter((e) => e.argv[0] === 'gluster').map((e) => e.host))].every((h) => SERVERS.includes(h))).toBe(true);
    // Both volumes stopped and started again; heal sent to the replicated one only (the distribute one has none).
    const volumeOps = all.filter((e) => e.mutating && e.argv[0] === 'gluster').map((e) => e.argv.slice(2).join(' '));
    expect(volumeOps).toEqual(['volume stop vmimages', 'volume stop scratch', 'volume start vmimages', 'volume start scratch', 'volume heal vmimages']);
    expect(all.filter((e) => e.argv.includes('heal') && e.argv.includes('scratch')).map(line)).toEqual([]);
    expect([...t.h.lab.model.volumes.values()].map((v) => v.status)).toEqual(['Started', 'Started']);
  });
});
