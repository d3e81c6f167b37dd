/**
 * What `hvflow status-report`, `hvflow plan evacuate` and `hvflow evacuate` print for a Xen pool:
 * hosts with their state and memory, the VMs to live-migrate with their destinations, what the drain
 * filters found, each migration's outcome. (test/workflow/xen-pool.test.ts makes real results.)
 */
import { describe, expect, it } from 'vitest';
import { renderClusterStatus, renderEvacuationPlan, renderEvacuationResult } from '../../client/render';
import type { ClusterStatus } from '../../workflows/cluster-status';
import type { EvacuationResult } from '../../workflows/evacuate-host';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the colours' escape sequences are control characters
const plain = (lines: string[]) => lines.join('\n').replace(/\u001b\[[0-9;]*m/g, '');

const pool = {
  pool: 'pool1',
  master: 'xs1',
  haEnabled: false,
  ranOn: 'xs1',
  hosts: [
    { name: 'xs1', uuid: 'u1', enabled: true, live: true, memoryTotalMiB: 65536, memoryFreeMiB: 30000 },
    { name: 'xs2', uuid: 'u2', enabled: false, live: true, memoryTotalMiB: 65536, memoryFreeMiB: 60000 },
    { name: 'xs3', uuid: 'u3', enabled: true, live: false, memoryTotalMiB: 65536, memoryFreeMiB: 0 },
  ],
  vms: [
    { name: 'web1', uuid: 'v1', host: 'xs1', powerState: 'running' as const, memoryMiB: 8260, localStorage: false, operations: [] },
    { name: 'old1', uuid: 'v2', powerState: 'halted' as const, memoryMiB: 2000, localStorage: false, operations: [] },
  ],
};

describe('rendering a Xen pool', () => {
  it('status: the master, HA, each host state and memory, the VMs not running, the problems', () => {
    const s: ClusterStatus = {
      cluster: 'pool1',
      stack: 'xen',
      machines: pool.hosts.map((h) => ({ host: h.name, role: h.name === 'xs1' ? 'master' : 'member', fleet: h.enabled && h.live, metadata: {} })),
      xen: pool,
      loadByHost: { xs1: 8260, xs2: 0, xs3: 0 },
      weightSpread: 8260,
      problems: ['xs2: disabled (the pool places no VM on it)', 'pool pool1: HA is off'],
    };
    const out = plain(renderClusterStatus(s));
    expect(out).toMatch(/^Pool pool1 \(cluster pool1\), master xs1, HA off/);
    expect(out).toMatch(/xs1 \(master\)\s+enabled\s+1\s+8260\s+30000\s+65536/);
    expect(out).toMatch(/xs2\s+disabled\s+0\s+0\s+60000/);
    expect(out).toMatch(/xs3\s+not live/);
    expect(out).toMatch(/VMs: 2, not running: old1 \(halted\)/);
    expect(out).toMatch(/Problems \(2\)\n\s+- xs2: disabled/);
  });

  it('plan and result of an evacuation: VMs, memory, destinations, threads, warnings, outcomes', () => {
    const r: EvacuationResult = {
      host: 'xs2',
      dryRun: true,
      plan: {
        host: 'xs2',
        stack: 'xen',
        capacityUnit: 'MiB',
        master: 'xs1',
        threads: 5,
        roles: { glusterServer: false, glusterClient: false, etcdMember: false },
        units: [
          { unit: 'web2', vm: 'web2', weight: 4130, to: 'xs1' },
          { unit: 'db1', vm: 'db1', weight: 16400, to: 'xs3' },
        ],
        stranded: [],
        drain: { stays: [], skipped: [], warnings: [{ vm: 'db1', message: 'db1 can run on one host besides xs2 (xs3)' }] },
        evacuatedWeight: 20530,
        loadBefore: { xs1: 8260, xs2: 20530, xs3: 0 },
        loadAfter: { xs1: 12390, xs2: 0, xs3: 16400 },
        steps: ['xe host-disable host=xs2', 'xe vm-migrate live=true to the planned hosts, 5 at a time (2 VM(s))', 'verify xs2 holds no VM'],
      },
      moved: [],
      gates: [],
      skipped: [],
    };
    const plan = plain(renderEvacuationPlan(r));
    expect(plan).toMatch(/Host xs2 — guards: none/);
    expect(plan).toMatch(/VMs to live-migrate off xs2: 2, 20530 MiB, 5 at a time \(pool master xs1\)/);
    expect(plan).toMatch(/web2\s+4130\s+xs1/);
    expect(plan).toMatch(/Warnings \(1\)\n\s+- db1 can run on one host besides xs2/);
    expect(plan).toMatch(/Memory change per host \(MiB used by VMs\)/);
    expect(plan).toMatch(/1\. xe host-disable host=xs2/);

    const done = plain(
      renderEvacuationResult({
        ...r,
        dryRun: false,
        migrations: [
          { vm: 'web2', from: 'xs2', to: 'xs1', landed: 'xs1', result: 'migrated', seconds: 12.5 },
          { vm: 'db1', from: 'xs2', to: 'xs3', landed: 'xs3', result: 'already-there' },
        ],
      }),
    );
    expect(done).toMatch(/web2\s+xs1\s+xs1\s+migrated\s+12\.5/);
    expect(done).toMatch(/db1\s+xs3\s+xs3\s+already-there/);
  });
});
