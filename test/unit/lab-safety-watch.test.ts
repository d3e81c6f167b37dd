/**
 * lab/safety-watch.ts on the lab model alone (manual clock): it reports etcd losing its quorum and a
 * GlusterFS server stopped with heal entries pending, and nothing for a stop the rules allow.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lab/clock';
import { LabModel } from '../../lab/model';
import { seedTopology } from '../../lab/topology';
import { watchSafety } from '../../lab/safety-watch';

function lab(o: { downHealEntries?: number } = {}) {
  const model = new LabModel(seedTopology(), { clock: new ManualClock(), ...o });
  return { model, watch: watchSafety(model) };
}
const volumeOf = (model: LabModel, host: string) => [...model.volumes.values()].find((v) => v.bricks.some((b) => b.host === host))!.name;

describe('the lab safety watch', () => {
  it('a server stopped with no heal pending, and etcd members stopped within the quorum: nothing', async () => {
    const { model, watch } = lab();
    const server = model.volumes.values().next().value!.bricks[0]!.host;
    model.stopBricks(server);
    await model.stopEtcd('top1');
    await model.stopEtcd('top2');
    expect(watch.violations).toEqual([]);
  });

  it('a server stopped while a volume it serves has heal entries', () => {
    const { model, watch } = lab();
    const server = model.volumes.values().next().value!.bricks[0]!.host;
    const volume = volumeOf(model, server);
    model.slowHeal(volume, 5, 0.001);
    model.stopBricks(server);
    expect(watch.violations).toEqual([
      expect.stringMatching(new RegExp(`^GlusterFS server ${server} stopped with \\d+ heal entries pending on volume ${volume}$`)),
    ]);
  });

  it('heal entries collected while a server is down (downHealEntries) are pending for the next server', () => {
    const { model, watch } = lab({ downHealEntries: 7 });
    const v = model.volumes.values().next().value!;
    const [a, b] = [v.bricks[0]!.host, v.bricks[1]!.host];
    model.stopBricks(a);
    expect(model.pendingHeal(b)[v.name]).toBe(14); // 7 on each of the two bricks left up
    model.stopBricks(b);
    // Both volumes have a brick on each server: one finding per volume.
    expect(watch.violations).toEqual([...model.volumes.keys()].map((name) => `GlusterFS server ${b} stopped with 14 heal entries pending on volume ${name}`));
  });

  it('etcd below its quorum: once, when it happens', async () => {
    const { model, watch } = lab();
    for (const h of ['top1', 'top2', 'top3', 'worker1']) await model.stopEtcd(h);
    expect(watch.violations).toEqual(['etcd quorum lost: 3 of 6 members running (quorum 4)']);
    watch.stop();
  });
});
