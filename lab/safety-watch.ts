/**
 * Watches a lab model for what the safety rules forbid (DESIGN.md), on every change of the model:
 *
 *   etcd        fewer running members than its quorum (floor(n/2)+1)
 *   GlusterFS   a server's bricks stopping in order (glusterfsd stopped, or the host shut down)
 *               while a volume with a brick on it still has heal entries (LabModel 'bricks-stopping')
 *
 * Tests of procedures that take hosts down (rolling reboot, evacuation) assert it saw nothing.
 */
import type { LabModel } from './model';

export interface SafetyWatch {
  /** What was seen, in order, one sentence each. */
  readonly violations: string[];
  stop(): void;
}

export function watchSafety(model: LabModel): SafetyWatch {
  const violations: string[] = [];
  const members = [...model.machines.values()].filter((m) => m.etcdMember).map((m) => m.name);
  const quorum = Math.floor(members.length / 2) + 1;
  let quorumLost = false;
  const onChange = () => {
    if (!members.length) return;
    const running = members.filter((h) => model.machine(h).etcd && model.machine(h).power).length;
    if (running < quorum && !quorumLost) violations.push(`etcd quorum lost: ${running} of ${members.length} members running (quorum ${quorum})`);
    quorumLost = running < quorum;
  };
  const onBricksStopping = (host: string, pending: Record<string, number>) => {
    for (const [volume, n] of Object.entries(pending)) violations.push(`GlusterFS server ${host} stopped with ${n} heal entries pending on volume ${volume}`);
  };
  model.on('change', onChange);
  model.on('bricks-stopping', onBricksStopping);
  return {
    violations,
    stop: () => {
      model.off('change', onChange);
      model.off('bricks-stopping', onBricksStopping);
    },
  };
}
