/**
 * failback runs the plan it showed at its gate (issue 11 item 2), in the seed lab on the real
 * Temporal server: each move lands where the plan said (the lab's fleet breaks ties by machine id,
 * as real fleet does, and the planner knows it), a landing the plan did not expect re-plans the rest
 * and says so, a retry repeats no move, infrastructure VMs stay unless named.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, waitForProgress, gateWaiting } from '../helpers/harness';
import { until } from '../helpers/until';
import { approveSignal, decideSignal, progressQuery } from '../../workflows/messages';
import type { FailbackResult } from '../../workflows/failback';

const t = useHarness();
const { start, lastSeq, mutatingSince } = t;

/** Where each unit runs in the lab now. */
const hostOf = (vm: string) => t.h.lab.model.unit(vm)?.host;

/** fleetctl unload / start commands per unit since `seq`. */
function moveCommands(seq: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of mutatingSince(seq)) {
    if (e.argv[0] !== 'fleetctl') continue;
    const [, verb, , unit] = e.argv;
    if (!unit) continue;
    out.set(unit, [...(out.get(unit) ?? []), verb!]);
  }
  return out;
}

describe('failback', () => {
  it('runs the approved plan: every VM lands where the gate said, unloaded and started once', async () => {
    const seq = lastSeq();
    const handle = await start('failback', { maxMoves: 2, parallelism: 2 });
    const p = await waitForProgress(handle, gateWaiting('approve-failback'));
    const planned = (p.gate!.evidence as unknown as FailbackResult['planned']).moves;
    expect(planned.length).toBe(2);
    await handle.signal(approveSignal, { by: 'bob', reason: 'rebalance' });
    const r: FailbackResult = await handle.result();
    expect(r.replans).toEqual([]);
    expect(r.moves.map((m) => [m.vm, m.from, m.plannedTo])).toEqual(planned.map((m) => [m.vm, m.from, m.plannedTo]));
    for (const m of r.moves) {
      expect(m.to, `${m.vm}: planned ${m.plannedTo}, ran on ${m.to}`).toBe(m.plannedTo);
      expect(hostOf(m.vm)).toBe(m.plannedTo);
    }
    expect(r.spreadAfter).toBe(r.planned.spreadAfter);
    const cmds = moveCommands(seq);
    expect([...cmds.keys()].sort()).toEqual(r.moves.map((m) => m.unit).sort());
    for (const m of r.moves) expect(cmds.get(m.unit)).toEqual(['unload', 'start']);
  });

  it('never moves DHCP and DNS VMs unless they are named', async () => {
    const r: FailbackResult = await (await start('failback', { dryRun: true })).result();
    const infra = ['infra1', 'infra2', 'ns1', 'ns2', 'ns3'];
    expect(r.planned.moves.filter((m) => infra.includes(m.vm))).toEqual([]);
    const held = r.planned.held.filter((h) => infra.includes(h.vm));
    expect(held.map((h) => h.vm).sort()).toEqual(infra.filter((vm) => hostOf(vm) !== undefined).sort());
    expect(held[0]!.reason).toMatch(/moved only when named in moveInfra/);
    const bad = await (await start('failback', { dryRun: true, moveInfra: ['batch1'] })).result().catch((e) => e);
    expect(String(bad.cause?.message)).toMatch(/moveInfra\[0\]: "batch1" is not an infrastructure VM/);
  });

  it('a retry at the move step goes on from the move in flight and repeats no move', async () => {
    const seq = lastSeq();
    const handle = await start('failback', { maxMoves: 2 });
    const p = await waitForProgress(handle, gateWaiting('approve-failback'));
    const planned = (p.gate!.evidence as unknown as FailbackResult['planned']).moves;
    expect(planned.length).toBe(2);
    await handle.signal(approveSignal, { by: 'bob', reason: 'rebalance' });
    // Once the first VM is started again, fleet's etcd is unreachable for one command: the move step parks.
    await until('the first move started', () => moveCommands(seq).get(planned[0]!.unit)?.includes('start'));
    t.h.lab.faults.fleetUnavailable(1);
    const parked = await waitForProgress(handle, gateWaiting('move-vms-failed'));
    expect(parked.gate!.message).toMatch(/fleet server unable to communicate with etcd/);
    await handle.signal(decideSignal, { decision: 'retry', by: 'bob', reason: 'etcd is back' });
    const r: FailbackResult = await handle.result();
    expect(r.moves.map((m) => m.vm)).toEqual(planned.map((m) => m.vm));
    const cmds = moveCommands(seq);
    for (const m of planned) expect(cmds.get(m.unit), m.unit).toEqual(['unload', 'start']);
  });

  it('a move that lands elsewhere re-plans the rest and says so', async () => {
    const seq = lastSeq();
    const handle = await start('failback', { maxMoves: 3 });
    const p = await waitForProgress(handle, gateWaiting('approve-failback'));
    const planned = (p.gate!.evidence as unknown as FailbackResult['planned']).moves;
    expect(planned.length).toBeGreaterThanOrEqual(2);
    // A later move's destination crashes while the first move runs: that move cannot land there.
    // (Not the control host: fleetctl runs there.)
    const later = planned.slice(1).find((m) => m.plannedTo !== t.h.lab.inventory.controlHost && m.plannedTo !== planned[0]!.plannedTo);
    expect(later, JSON.stringify(planned)).toBeDefined();
    const lost = later!.plannedTo;
    t.h.lab.faults.slowStart(planned[0]!.vm, 3000);
    await handle.signal(approveSignal, { by: 'bob', reason: 'rebalance' });
    try {
      await until('the first move started', () => moveCommands(seq).get(planned[0]!.unit)?.includes('start'));
      await t.h.lab.faults.crash(lost);
      // A worse result than approved is asked again; a result as good goes on by itself.
      const done = handle.result() as Promise<FailbackResult>;
      const gate = await Promise.race([done.then(() => undefined), waitForProgress(handle, gateWaiting('failback-replanned'), 60_000)]);
      if (gate) {
        expect(gate.gate!.message).toMatch(/worse than the \d+ approved/);
        await handle.signal(approveSignal, { by: 'bob', reason: 'go on' });
      }
      const r = await done;
      expect(r.replans.length).toBeGreaterThanOrEqual(1);
      const moved = r.moves.map((m) => m.vm);
      expect(new Set(moved).size).toBe(moved.length); // each VM moved once
      expect(r.moves.some((m) => m.to === lost)).toBe(false);
      for (const m of r.moves) expect(moveCommands(seq).get(m.unit), m.unit).toEqual(['unload', 'start']);
      const final = await handle.query(progressQuery);
      expect(final.steps.find((s) => s.id === 'move-vms')?.detail).toMatch(/planned/);
    } finally {
      await t.h.lab.model.powerOn(lost);
      await t.h.lab.model.startFleetd(lost);
    }
  });
});
