/**
 * Start-ups where the hosts that usually run ipmitool are off (issue 11, items 9 and 10), in the
 * seed lab with a BMC relay (bmcgw1, inventory bmcRelays) on the real Temporal server:
 *  - every host off, the relay cut off from the BMC network: the worker's own ipmitool powers the
 *    first hypervisors on; a BMC that does not answer parks on `power-on-failed`, which offers
 *    `skip` only for a host the start-up can go on without;
 *  - a host skipped (at `power-on-failed` or `host-not-back`) is left out of the rest of the run:
 *    no second gate, and the result lists it with the steps it missed.
 * The tests run in order and share the lab.
 */
import { describe, expect, it } from 'vitest';
import { seedTopology } from '../../lab/topology';
import { WORKER_ORIGIN } from '../../lab/tools/ipmitool';
import { useHarness, resultUnparked, waitForProgress, gateWaiting } from '../helpers/harness';
import { decideSignal } from '../../workflows/messages';
import type { StartupResult } from '../../workflows/cluster-startup';

const t = useHarness({ topology: { ...seedTopology(), bmcRelays: ['bmcgw1'] } });

/** Steps a managed etcd member left out of the start-up would have been part of. */
const LEFT_OUT_OF = ['check-etcd', 'check-network', 'mount-gluster', 'start-fleet', 'check-fleet', 'final-health'];

/** Stops every VM the start-up will start (as a shutdown leaves them), then cuts the power of every host, routers included. */
async function everythingOff(): Promise<string[]> {
  const m = t.h.lab.model;
  const never = new Set(['irene271a', 'irene271b']);
  const vms = [...m.units.values()].filter((u) => u.active === 'active' && !never.has(u.vm)).map((u) => u.vm);
  for (const vm of vms) m.fleetStop(vm);
  await m.waitFor(() => vms.every((vm) => m.unit(vm)!.active === 'inactive'));
  await Promise.all([...m.machines.keys()].map((h) => m.shutdown(h)));
  return vms;
}

const ipmiPowerOns = (seq: number) => t.mutatingSince(seq).filter((e) => e.argv[0] === 'ipmitool' && e.argv.slice(-2).join(' ') === 'power on');
const hostOfBmc = (bmc: string) => [...t.h.lab.model.machines.values()].find((m) => m.bmc === bmc)!.name;

describe('cold start-up: nothing up to run ipmitool on', () => {
  it('the worker powers the first hypervisors on; skip is offered only for a host the start-up can go on without', async () => {
    const vms = await everythingOff();
    t.h.lab.faults.cutOffFromBmcs('bmcgw1'); // the relay answers SSH but reaches no BMC
    t.h.lab.faults.bmcDown('top1');
    t.h.lab.faults.bmcDown('worker3');
    const seq = t.lastSeq();
    const handle = await t.start('clusterStartup', { vms, hostUpTimeoutSeconds: 30, startTimeoutSeconds: 60 });

    // top1 (the control host) and worker3 cannot be powered: no skip, the start-up cannot go on without top1.
    const p = await waitForProgress(handle, gateWaiting('power-on-failed'), 120_000);
    expect(p.gate!.kind).toBe('host');
    expect(p.gate!.evidence.hosts).toEqual(['top1', 'worker3']);
    expect(p.gate!.options).toEqual(['retry', 'abort']);
    expect(p.gate!.message).toMatch(/top1 is the control host/);
    expect(p.gate!.message).toMatch(/Unable to establish IPMI v2 \/ RMCP\+ session/);
    // The others were powered on from the worker itself: no hypervisor was up, the relay reaches no BMC.
    const firstRound = ipmiPowerOns(seq);
    expect(new Set(firstRound.map((e) => e.host))).toEqual(new Set([WORKER_ORIGIN]));
    expect(t.h.lab.commandLog({ host: 'bmcgw1' }).length).toBeGreaterThan(0); // asked, and passed over
    for (const h of ['top2', 'top3', 'worker1', 'worker2']) expect(t.h.lab.model.machine(h).power, h).toBe(true);
    const retrySeq = t.lastSeq();

    t.h.lab.faults.bmcDown('top1', false);
    await handle.signal(decideSignal, { decision: 'retry', by: 'carol' });
    // worker3 alone: an etcd member whose loss leaves the quorum; skipping it is offered.
    const q = await waitForProgress(handle, (x) => x.gate?.name === 'power-on-failed' && x.gates.length === 1, 120_000);
    expect(q.gate!.evidence.hosts).toEqual(['worker3']);
    expect(q.gate!.options).toEqual(['retry', 'skip', 'abort']);
    await handle.signal(decideSignal, { decision: 'skip', by: 'carol', reason: 'BMC of worker3 replaced tomorrow' });

    // No second decision: worker3 is out of every later check.
    const r: StartupResult = await resultUnparked(handle);
    expect(r.gates.map((g) => [g.name, g.decision])).toEqual([
      ['power-on-failed', 'retry'],
      ['power-on-failed', 'skip'],
    ]);
    expect(r.hostsNotBack).toEqual(['worker3']);
    expect(r.leftOut).toEqual([expect.objectContaining({ host: 'worker3', by: 'carol', reason: 'BMC of worker3 replaced tomorrow', leftOutOf: LEFT_OUT_OF })]);
    expect(r.problems).toEqual([]);
    expect(new Set(r.started.map((s) => s.vm))).toEqual(new Set(vms));
    // Once hypervisors answer, they come first (inventory ipmiFrom: hypervisors, bmcRelays, worker):
    // top1 again from top2 (top1 itself was off), the islets from top1 (seed 001: IPMI from top1).
    const from = (host: string) =>
      ipmiPowerOns(retrySeq)
        .filter((e) => hostOfBmc(e.argv[e.argv.indexOf('-H') + 1]!) === host)
        .map((e) => e.host);
    expect(from('top1')).toEqual(['top2']);
    for (const islet of r.plan.islets) expect(from(islet), islet).toEqual(['top1']);
    // The relay ran ipmitool power status only; no command line holds the password.
    expect(t.h.lab.commandLog({ host: 'bmcgw1' }).every((e) => e.argv[0] === 'ipmitool' && e.argv.at(-1) === 'status')).toBe(true);
    expect(t.h.lab.commandLog().some((e) => e.argv.join(' ').includes('lab-bmc-password'))).toBe(false);
  });

  it('a host skipped at host-not-back is left out of the rest of the run; the relay powers the hosts on', async () => {
    t.h.lab.faults.bmcDown('worker3', false);
    t.h.lab.faults.cutOffFromBmcs('bmcgw1', false);
    const vms = await everythingOff();
    t.h.lab.faults.stayOff('top2');
    t.h.lab.faults.stayOff('worker2');
    const seq = t.lastSeq();
    const handle = await t.start('clusterStartup', { vms, hostUpTimeoutSeconds: 10, startTimeoutSeconds: 60 });

    // top2 serves GlusterFS bricks: the start-up cannot go on without it.
    const p = await waitForProgress(handle, gateWaiting('host-not-back'), 120_000);
    expect(p.gate!.evidence.hosts).toEqual(['top2', 'worker2']);
    expect(p.gate!.options).toEqual(['retry', 'abort']);
    expect(p.gate!.message).toMatch(/top2 serves GlusterFS bricks/);
    expect(new Set(ipmiPowerOns(seq).map((e) => e.host))).toEqual(new Set(['bmcgw1']));

    t.h.lab.faults.stayOff('top2', false);
    await handle.signal(decideSignal, { decision: 'retry', by: 'carol' });
    const q = await waitForProgress(handle, (x) => x.gate?.name === 'host-not-back' && x.gates.length === 1, 120_000);
    expect(q.gate!.evidence.hosts).toEqual(['worker2']);
    expect(q.gate!.options).toEqual(['retry', 'skip', 'abort']);
    await handle.signal(decideSignal, { decision: 'skip', by: 'carol', reason: 'PSU dead, ticket 81' });

    const r: StartupResult = await resultUnparked(handle);
    expect(r.gates.map((g) => [g.name, g.decision])).toEqual([
      ['host-not-back', 'retry'],
      ['host-not-back', 'skip'],
    ]);
    expect(r.leftOut).toEqual([expect.objectContaining({ host: 'worker2', reason: 'PSU dead, ticket 81', leftOutOf: LEFT_OUT_OF })]);
    expect(r.leftOut[0]!.why).toMatch(/worker2 did not answer SSH within \d+ s/);
    expect(r.problems).toEqual([]);
    expect(new Set(r.started.map((s) => s.vm))).toEqual(new Set(vms));
    // fping ran without worker2 (its check would have found it unreachable).
    const fpings = t.h.lab.commandLog({ tool: 'fping' }).filter((e) => e.seq > seq);
    expect(fpings.length).toBeGreaterThan(0);
    for (const e of fpings) expect(e.argv).not.toContain('worker2');
    t.h.lab.faults.stayOff('worker2', false);
  });
});
