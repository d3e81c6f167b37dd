/**
 * Before a host takes VMs again: the daemons the inventory puts on it run (etcd on a member,
 * glusterd on a GlusterFS server) and its GlusterFS volumes are mounted (VM images live there).
 * Seed 000: "GlusterFS and etcd daemon starts at boot time" — a host brought back without a reboot
 * has neither, and would wait minutes for a health that cannot come, or start VMs without images.
 * So hvflow says so at once and offers to start them.
 */
import { listNames } from '../domain/cluster';
import type { HostReadiness } from '../activities/host-services';
import { act } from './activities';
import type { CheckRemedy, CheckResult, Procedure } from './procedure';

/** Which hosts lack what, in one sentence; `mountsOnly` for hosts that only need their mounts. */
export function readinessCheck(rs: HostReadiness[], o: { mountsOnly?: boolean; why?: string } = {}): CheckResult {
  const problems: string[] = [];
  for (const r of rs) {
    const down = o.mountsOnly ? [] : r.servicesDown;
    const parts = [
      ...(down.length ? [`${listNames(down)} not running`] : []),
      ...(r.mountsMissing.length ? [`GlusterFS volume${r.mountsMissing.length > 1 ? 's' : ''} ${listNames(r.mountsMissing)} not mounted`] : []),
    ];
    if (parts.length) problems.push(`${r.host}: ${parts.join(', ')}`);
  }
  return {
    ok: problems.length === 0,
    reason: problems.length ? `${problems.join('; ')}${o.why ? `: ${o.why}` : ''}` : undefined,
    evidence: { hosts: rs },
  };
}

/**
 * Parks until `host` runs its daemons and mounts its volumes, offering `start` (systemctl start the
 * daemons, then mount -a -t glusterfs from its fstab) as the remedy.
 */
export async function ensureHostReady(proc: Procedure, id: string, host: string): Promise<void> {
  let last: HostReadiness | undefined;
  await proc.ensure(
    id,
    `${host} runs its daemons and mounts its GlusterFS volumes`,
    async () => {
      [last] = await act.hostReadiness({ hosts: [host] });
      return readinessCheck([last!], { why: 'they start at boot (seed 000); was the host rebooted since it was evacuated?' });
    },
    (): CheckRemedy => ({
      decision: 'start',
      title: `Start on ${host}: ${[...(last?.servicesDown.length ? [`systemctl start ${last.servicesDown.join(' ')}`] : []), ...(last?.mountsMissing.length ? ['mount -a -t glusterfs'] : [])].join('; ')}`,
      run: () => act.startHostServices.executeWithOptions({ startToCloseTimeout: '5m', summary: `start the daemons and mounts of ${host}` }, [{ host }]),
      override: false,
    }),
  );
}
