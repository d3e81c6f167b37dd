import { describe, expect, it } from 'vitest';
import { checkMemberStop, quorumSize } from '../../domain/quorum';

// seed 000: etcd members on top1-3 and worker1-3
const ETCD = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
const without = (...down: string[]) => ETCD.filter((m) => !down.includes(m));

describe('quorumSize', () => {
  it('is floor(n/2)+1', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
    expect(quorumSize(0)).toBe(1);
  });

  it('refuses what is not a number of members', () => {
    expect(() => quorumSize(-1)).toThrow(RangeError);
    expect(() => quorumSize(2.5)).toThrow(/not a number of members/);
  });
});

describe('checkMemberStop on the seed etcd cluster (6 members, quorum 4)', () => {
  it('allows stopping a member of a healthy cluster', () => {
    const r = checkMemberStop({ members: ETCD, healthy: ETCD, stopping: 'worker1', service: 'etcd' });
    expect(r).toEqual({ ok: true, quorum: 4, healthyAfter: without('worker1'), alreadyDown: [] });
  });

  it('allows stopping worker1 while worker2 is down: 4 healthy left, quorum 4', () => {
    const r = checkMemberStop({ members: ETCD, healthy: without('worker2'), stopping: 'worker1', service: 'etcd' });
    expect(r.ok).toBe(true);
    expect(r.quorum).toBe(4);
    expect(r.healthyAfter).toEqual(['top1', 'top2', 'top3', 'worker3']);
    expect(r.alreadyDown).toEqual(['worker2']);
    expect(r.reason).toBeUndefined();
  });

  it('refuses stopping worker1 while worker2 and worker3 are down, naming them', () => {
    const r = checkMemberStop({ members: ETCD, healthy: without('worker2', 'worker3'), stopping: 'worker1', service: 'etcd' });
    expect(r.ok).toBe(false);
    expect(r.healthyAfter).toEqual(['top1', 'top2', 'top3']);
    expect(r.reason).toBe('stopping etcd on worker1 would leave 3 healthy members of 6 (worker2 and worker3 already down); quorum is 4');
  });

  it('words the message without a service name too', () => {
    const r = checkMemberStop({ members: ETCD, healthy: without('top1', 'top2'), stopping: 'top3' });
    expect(r.reason).toBe('stopping top3 would leave 3 healthy members of 6 (top1 and top2 already down); quorum is 4');
  });

  it('does not count an already unhealthy member as a loss', () => {
    const r = checkMemberStop({ members: ETCD, healthy: without('worker2', 'worker3'), stopping: 'worker2', service: 'etcd' });
    expect(r.ok).toBe(true);
    expect(r.healthyAfter).toHaveLength(4);
    expect(r.alreadyDown).toEqual(['worker3']);
    expect(r.reason).toMatch(/^worker2 is already unhealthy, stopping etcd on worker2 loses nothing: 4 healthy members of 6 stay/);
  });

  it('refuses any stop once the cluster is already below quorum', () => {
    const r = checkMemberStop({ members: ETCD, healthy: without('worker1', 'worker2', 'worker3'), stopping: 'worker3', service: 'etcd' });
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('the cluster is already below quorum: 3 healthy members of 6 (worker1, worker2 and worker3 down); quorum is 4');
  });

  it('ignores healthy names that are not members, and duplicates', () => {
    const r = checkMemberStop({ members: [...ETCD, 'top1'], healthy: ['top1', 'top1', 'top2', 'top3', 'islet12', 'admin1'], stopping: 'top3' });
    expect(r.quorum).toBe(4);
    expect(r.ok).toBe(false);
    expect(r.healthyAfter).toEqual(['top1', 'top2']);
  });

  it('lets a non-member stop while the cluster keeps quorum, and says so', () => {
    const r = checkMemberStop({ members: ETCD, healthy: ETCD, stopping: 'islet12' });
    expect(r.ok).toBe(true);
    expect(r.healthyAfter).toEqual(ETCD);
    expect(r.reason).toMatch(/islet12 is not a member/);
  });

  it('a 3-member cluster tolerates one loss only', () => {
    const members = ['a', 'b', 'c'];
    expect(checkMemberStop({ members, healthy: members, stopping: 'a' }).ok).toBe(true);
    expect(checkMemberStop({ members, healthy: ['a', 'b'], stopping: 'a' }).ok).toBe(false);
    expect(checkMemberStop({ members, healthy: ['a', 'b'], stopping: 'c' }).ok).toBe(true);
  });
});

describe('checkMemberStop, exhaustively for 1 to 7 members', () => {
  it('allows a stop exactly when the healthy members left reach floor(n/2)+1', () => {
    for (let n = 1; n <= 7; n++) {
      const members = Array.from({ length: n }, (_, i) => `m${i}`);
      for (let mask = 0; mask < 1 << n; mask++) {
        const healthy = members.filter((_, i) => mask & (1 << i));
        for (const stopping of members) {
          const r = checkMemberStop({ members, healthy, stopping });
          const left = healthy.filter((m) => m !== stopping).length;
          expect(r.ok).toBe(left >= Math.floor(n / 2) + 1);
          expect(r.healthyAfter).toHaveLength(left);
          expect(r.healthyAfter).not.toContain(stopping);
          if (!r.ok) expect(r.reason).toContain(`quorum is ${Math.floor(n / 2) + 1}`);
        }
      }
    }
  });
});
