/**
 * A rolling reboot on a fleet cluster (seed 000's evacuation and reintegration, host by host, with a
 * reboot in between):
 *
 *   order                   the inventory's order of the hosts hvflow manages (fleet.managed), or
 *                           the one given; the control host last (hvflow's tools run from it)
 *   empty a host            evacuateHost's fleet steps (evacuate-fleet.ts): the pre-empty hook,
 *                           systemctl stop fleet and the wait until its units run elsewhere; then
 *                           where they landed must leave every host within its capacity (N+1)
 *   guards                  stopped in the runbook's order by the per-host skeleton (reboot-host.ts)
 *   reboot                  systemctl reboot, unless the boot id already changed (a retry)
 *   back                    SSH answers with a new boot id; etcd and glusterd run and the GlusterFS
 *                           volumes are mounted (they start at boot); heal drained, etcd healthy;
 *                           systemctl start fleet (fleetd does not start at boot: seed 000)
 */
import { loadByHost } from '../domain/cluster';
import { fleetGroup, hostsOf } from '../domain/inventory';
import { act, waits } from './activities';
import { fleetEvacuation } from './evacuate-fleet';
import { readFleet, type FleetView } from './fleet-state';
import { GUARD_WAIT_STEPS, guardsOf, waitGuardsHealthy } from './guards';
import { ensureHostReady } from './host-ready';
import { hookPlanLine } from './hooks';
import { evacuationInput, stepAsEvacuation, type RebootDriver } from './reboot-driver';

/** fleet starts every unit of a stopped host at once: the host's "threads" are all its units. */
const ALL_AT_ONCE = 10_000;

export const fleetReboot: RebootDriver = {
  stack: 'fleet',
  prepareLines: () => [],
  restoreLines: () => [],
  async read(inv, avoid) {
    const fleet = await readFleet(inv, { avoid });
    const running = fleet.units.filter((u) => u.active === 'active').length;
    return { snapshot: fleet.snapshot, view: fleet, summary: `${fleet.machines.length} fleet machine(s), ${running} unit(s) running` };
  },
  order(inv, _read, input) {
    const managed = fleetGroup(inv, 'managed');
    const chosen = input.order ? input.order.map((h) => hostsOf(inv, h, 'order')[0]!) : input.hosts ? hostsOf(inv, input.hosts, 'hosts') : managed;
    const field = input.order ? 'order' : 'hosts';
    const outside = chosen.filter((h) => !managed.includes(h));
    if (outside.length) {
      throw new Error(
        `${field}: ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not in the group hvflow manages (fleet.managed): a rolling reboot empties and reboots managed hypervisors only`,
      );
    }
    if (input.order) return { order: chosen, chooseOrder: false };
    // hvflow's tools run from the control host: it goes last, when every other host is back.
    const order = chosen.includes(inv.controlHost) ? [...chosen.filter((h) => h !== inv.controlHost), inv.controlHost] : chosen;
    return { order, chooseOrder: false };
  },
  // A pcocc VM stops and starts again elsewhere in about a minute.
  migrationSeconds: () => 60,
  planTuning: () => ({}),
  threads: () => ALL_AT_ONCE,
  prepare: async () => undefined,
  restore: async () => [],

  emptySteps: [...fleetEvacuation.steps.empty, { id: 'check-landing', title: 'Safety: where the units landed leaves every host within its capacity' }],
  readySteps: [
    { id: 'host-ready', title: 'The host runs its daemons (etcd, glusterd) and mounts its GlusterFS volumes' },
    ...GUARD_WAIT_STEPS,
    { id: 'recheck-host-ready', title: 'Re-check before fleet starts: daemons running, volumes mounted' },
    { id: 'start-fleet', title: 'Fleet start-up: systemctl start fleet' },
  ],
  async empty(proc, inv, host, step, input, read) {
    const planned = new Map(step.migrations.map((m) => [m.vm, m.to]));
    const r = await fleetEvacuation.empty(proc, inv, host, { approved: read.view as FleetView, evacuation: stepAsEvacuation(step) }, evacuationInput(input));
    // fleet's scheduler chose where they went: N+1 is checked on where they are.
    await proc.ensure('check-landing', 'Safety: where the units landed leaves every host within its capacity', async () => {
      const now = await readFleet(inv, { avoid: [host] });
      const load = loadByHost(now.snapshot);
      const over = now.snapshot.hosts.filter((h) => h.capacity !== undefined && (load[h.name] ?? 0) > h.capacity);
      return {
        ok: over.length === 0,
        reason: over.length
          ? `over capacity after fleet moved the units of ${host}: ${over.map((h) => `${h.name} ${load[h.name]}/${h.capacity}`).join(', ')}`
          : undefined,
        evidence: { load },
      };
    });
    return r.moved.map((m) => {
      const vm = read.snapshot.vms.find((v) => v.name === m.unit || `pcocc-vm-${v.name}.service` === m.unit)?.name ?? m.unit;
      return {
        vm,
        from: host,
        to: planned.get(vm) ?? m.host ?? host,
        landed: m.host,
        result: m.host ? (m.host === planned.get(vm) ? 'migrated' : 'elsewhere') : 'failed',
      };
    });
  },
  async bootIdentity(host) {
    return (await act.hostBootId({ host })).bootId;
  },
  async reboot(host, before) {
    const r = await act.rebootLinuxHost.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl reboot on ${host}` }, [
      { host, bootIdBefore: before ?? '' },
    ]);
    return r.result;
  },
  async waitBack(host, before, timeoutMs) {
    const r = await waits.waitLinuxHostRebooted.executeWithOptions(
      {
        startToCloseTimeout: `${Math.ceil(timeoutMs / 60_000) + 5}m`,
        retry: { maximumAttempts: 3 },
        summary: `wait until ${host} answers SSH with a new boot id`,
      },
      [{ host, bootIdBefore: before ?? '', timeoutMs }],
    );
    return { downAfterMs: r.downAfterMs, upAfterMs: r.upAfterMs, boot: r.bootId };
  },
  async ready(proc, inv, host, input) {
    // The daemons and mounts first: without them the heal and etcd waits could never end.
    await ensureHostReady(proc, 'host-ready', host);
    await waitGuardsHealthy(proc, inv, host, guardsOf(inv, host), input);
    // fleet places VMs on the host as soon as fleetd runs: its images must be there.
    await ensureHostReady(proc, 'recheck-host-ready', host);
    await proc.step(
      'start-fleet',
      `Fleet start-up on ${host}: systemctl start fleet`,
      () => act.startFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl start fleet on ${host}` }, [{ host }]),
      { skippable: false, changes: true },
    );
  },
  async uncordon(host) {
    await act.startFleet.executeWithOptions({ startToCloseTimeout: '5m', summary: `systemctl start fleet on ${host}` }, [{ host }]);
  },
  commandLines: (inv, host) => [
    ...hookPlanLine(inv, 'preEmpty', host),
    `systemctl stop fleet on ${host} (its units fail over)`,
    ...hookPlanLine(inv, 'postEmpty', host),
    `systemctl reboot on ${host}; wait until it answers SSH with a new boot id`,
    `heal drained, etcd healthy; systemctl start fleet on ${host}`,
    ...hookPlanLine(inv, 'postReboot', host),
  ],
};
