/** Random but reproducible clusters for the planners' property tests. */
import type { ClusterSnapshot, HostState, VmState } from '../../domain/cluster';
import { rng } from '../../lab/random';

export { rng };

export interface RandomClusterShape {
  hosts: [min: number, max: number];
  vms: number;
  capacity: { chance: number; min: number; spread: number };
  hostUp: number;
  maxWeight: number;
  /** Labels a zone-constrained VM may also require (`role: top|islet`, or none). */
  zoneWithRole: boolean;
}

export function randomCluster(seedValue: number, shape: RandomClusterShape): ClusterSnapshot {
  const r = rng(seedValue);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const nHosts = shape.hosts[0] + Math.floor(r() * (shape.hosts[1] - shape.hosts[0] + 1));
  const hosts: HostState[] = Array.from({ length: nHosts }, (_, i) => ({
    name: `h${i}`,
    labels: { zone: pick(['a', 'b']), role: r() < 0.8 ? 'top' : 'islet' },
    ...(r() < shape.capacity.chance ? { capacity: shape.capacity.min + Math.floor(r() * shape.capacity.spread) } : {}),
    schedulable: r() < 0.9,
    up: r() < shape.hostUp,
  }));
  const nVms = Math.floor(r() * shape.vms);
  const vms: VmState[] = Array.from({ length: nVms }, (_, i) => {
    const constraints: VmState['constraints'] = {};
    const c = r();
    if (c < 0.4) constraints.labels = { role: ['top'] };
    else if (c < 0.55) constraints.labels = shape.zoneWithRole ? { zone: [pick(['a', 'b'])], role: ['top', 'islet'] } : { zone: [pick(['a', 'b'])] };
    else if (c < 0.62) constraints.pinnedHost = pick(hosts).name;
    if (r() < 0.15) constraints.conflicts = [`vm${Math.floor(r() * nVms)}`];
    return { name: `vm${i}`, host: r() < 0.95 ? pick(hosts).name : undefined, weight: 1 + Math.floor(r() * shape.maxWeight), running: r() < 0.9, constraints };
  });
  return { hosts, vms };
}
