import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseInventoryYaml } from '../../domain/inventory';
import { reasonsNotToGoOnWithout } from '../../domain/startup-without';

const inv = parseInventoryYaml(readFileSync('config/ocean.example.yaml', 'utf8'));

describe('can a start-up go on without some hosts (skip at power-on-failed / host-not-back)?', () => {
  it('yes without an islet, or a worker whose etcd member leaves the quorum', () => {
    expect(reasonsNotToGoOnWithout(inv, ['islet12', 'islet13'])).toEqual([]);
    expect(reasonsNotToGoOnWithout(inv, ['worker3'])).toEqual([]);
    expect(reasonsNotToGoOnWithout(inv, ['worker2'], ['worker3'])).toEqual([]); // 4 of 6 members: quorum 4
  });

  it('not without the control host: the cluster-wide commands run there', () => {
    expect(reasonsNotToGoOnWithout(inv, ['top1', 'worker3'])).toEqual([
      expect.stringMatching(/^top1 is the control host: .*name another controlHost/),
      expect.stringMatching(/top1 serves GlusterFS bricks/),
    ]);
  });

  it('not without a GlusterFS server: the volumes are started and healed with every server up', () => {
    expect(reasonsNotToGoOnWithout(inv, ['top2', 'top3'])).toEqual([expect.stringMatching(/^top2 and top3 serve GlusterFS bricks \(volspoms1, volspoms2\)/)]);
  });

  it('not when the etcd members left are below quorum (counting the hosts left out before)', () => {
    expect(reasonsNotToGoOnWithout(inv, ['worker1'], ['worker2', 'worker3'])).toEqual([
      'without worker1, worker2 and worker3, 3 of 6 etcd members are left, below the quorum of 4: fleet cannot run',
    ]);
  });
});
