/**
 * How evacuateHost empties a host of a fleet cluster (seed 000):
 *
 *   Service inventory        fleetctl list-unit-files | grep HYPERVISOR (from another hypervisor)
 *   N+1                      room for the host's Weight, as fleet's scheduler will place it
 *   Fleet shutdown           systemctl stop fleet → fleet cordons and drains the host at once: its
 *                            units fail over elsewhere, and the procedure waits until they run there
 *
 * The skeleton (checks, gate, re-check, hooks, guards) is workflows/evacuate-host.ts.
 */
import { planEvacuation, type EvacuationPlan } from '../domain/capacity';
import { vmSet, type Inventory } from '../domain/inventory';
import { act, waits } from './activities';
import { readFleet, type FleetView } from './fleet-state';
import { hookPlanLine, hookStep, runHook } from './hooks';
import { evacuationPlanView, type EvacuationDriver } from './evacuation-driver';

function unitsOn(fleet: FleetView, host: string) {
  return fleet.units.filter((u) => u.host === host && u.active === 'active');
}

const plan = (inv: Inventory, fleet: FleetView, host: string): EvacuationPlan => planEvacuation(fleet.snapshot, host, { neverTouch: vmSet(inv, 'neverTouch') });

export const fleetEvacuation: EvacuationDriver<FleetView> = {
  steps: {
    read: { id: 'service-inventory', title: 'Service inventory: units on the hypervisor' },
    checks: [],
    capacity: { id: 'check-capacity', title: 'Safety: N+1, the other hypervisors have room for its weight' },
    recheck: { id: 'recheck-fleet', title: 'Re-check before stopping fleet: same units, still room' },
    // fleet drains as it cordons: the hook that comes before emptying comes before fleet stops.
    empty: [hookStep('preEmpty'), { id: 'stop-fleet', title: 'Fleet shutdown: systemctl stop fleet, units fail over' }],
  },
  readTitle: (host) => `Service inventory: units on ${host}`,
  // fleetctl runs from another hypervisor: this one is going away.
  read: (inv, host) => readFleet(inv, { avoid: [host] }),
  describe(fleet, host) {
    const on = unitsOn(fleet, host);
    return `${on.length} unit(s) on ${host}: ${on.map((u) => u.vm ?? u.unit).join(', ') || 'none'}`;
  },
  checks: () => [],
  plan,
  planView: (inv, fleet, host, guards, evacuation, evidence) =>
    evacuationPlanView(inv, host, guards, evacuation, evidence, {
      units: unitsOn(fleet, host).map((u) => ({ unit: u.unit, vm: u.vm, weight: u.weight, to: evacuation.moves.find((m) => m.vm === (u.vm ?? u.unit))?.to })),
      emptying: [...hookPlanLine(inv, 'preEmpty', host), `systemctl stop fleet on ${host}`],
    }),
  gateMessage: (fleet, host, evacuation, guards) =>
    `Evacuate ${host}: stop fleet (${unitsOn(fleet, host).length} unit(s), weight ${evacuation.evacuatedWeight}, move elsewhere)${guards.glusterServer ? ', stop GlusterFS' : ''}${guards.glusterClient ? ', unmount GlusterFS' : ''}${guards.etcdMember ? ', stop etcd' : ''}.`,
  recheck(approved, now, host) {
    const before = unitsOn(approved.view, host)
      .map((u) => u.unit)
      .sort();
    const after = unitsOn(now.view, host)
      .map((u) => u.unit)
      .sort();
    if (before.join() !== after.join()) {
      return {
        ok: false,
        reason: `the units on ${host} changed since the plan was approved (was: ${before.join(', ') || 'none'}; now: ${after.join(', ') || 'none'})`,
        evidence: { before, after },
      };
    }
    return undefined;
  },
  async empty(proc, inv, host, { approved, evacuation }, input) {
    const onHost = unitsOn(approved, host);
    const units = onHost.map((u) => u.unit);
    const stranded = evacuation.stranded.map((s) => onHost.find((u) => (u.vm ?? u.unit) === s.vm)?.unit).filter((u): u is string => !!u);
    await runHook(proc, inv, 'preEmpty', host);
    const moved = (await proc.step(
      'stop-fleet',
      `Fleet shutdown on ${host}: systemctl stop fleet, units fail over`,
      async () => {
        await act.stopFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl stop fleet on ${host}` }, [{ host }]);
        return waits.waitUnitsLeft.executeWithOptions(
          { startToCloseTimeout: `${(input.moveTimeoutMinutes ?? 10) + 1}m`, summary: `wait until the ${units.length} unit(s) of ${host} run elsewhere` },
          [{ host, units, stranded, timeoutMs: (input.moveTimeoutMinutes ?? 10) * 60_000 }],
        );
      },
      { skippable: false, changes: true },
    ))!;
    proc.note('stop-fleet', moved.map((m) => `${m.unit.replace(/\.service$/, '')} → ${m.host ?? 'stopped'}`).join(', ') || 'no unit to move');
    return { moved };
  },
};
