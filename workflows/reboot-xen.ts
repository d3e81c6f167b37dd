/**
 * A rolling reboot on a XenServer pool (seed 003):
 *
 *   prepare the pool        pool HA off (its settings read first and kept in history), restored at
 *                           the end, also when the run fails or is aborted
 *   order                   the pool master first ("we need to start with the pool master"), then
 *                           the host the planner empties best (fewest VMs moved twice)
 *   empty a host            evacuateHost's Xen steps (evacuate-xen.ts): xe host-disable, the
 *                           pre-empty hook, the planned live migrations N at a time, verify empty
 *   reboot                  xe host-reboot, unless xapi's boot_time already changed (a retry)
 *   back                    live in the pool with a new boot_time; its guards; xe host-enable
 */
import { DEFAULT_MIGRATION_THREADS } from '../domain/migration';
import { hostsOf, migrationsPerHost } from '../domain/inventory';
import { xenSnapshot, type PoolHaSettings } from '../domain/xen-pool';
import { act, waits } from './activities';
import { xenEvacuation } from './evacuate-xen';
import { GUARD_WAIT_STEPS, guardsOf, waitGuardsHealthy } from './guards';
import { hookPlanLine } from './hooks';
import { evacuationInput, stepAsEvacuation, type RebootDriver } from './reboot-driver';

const SETUP_SECONDS = 10;
const MIB_PER_SECOND = 1000;
const POOL_HA = { id: 'pool-ha-off', title: 'Pool HA off for the run (its settings kept to restore them)' };

export const xenReboot: RebootDriver = {
  stack: 'xen',
  prepareLines: () => ['read the pool HA settings', 'xe pool-ha-disable (when HA is on)'],
  restoreLines: () => ['xe pool-ha-enable with the settings read before, and its ha-host-failures-to-tolerate'],
  async read(inv, avoid) {
    const pool = await act.xenPool({ avoid });
    const snapshot = xenSnapshot(inv, pool);
    return {
      snapshot,
      master: pool.master,
      view: pool,
      summary: `pool ${pool.pool}: master ${pool.master}, HA ${pool.haEnabled ? 'on' : 'off'}, ${pool.hosts.length} host(s), ${pool.vms.length} VM(s)`,
    };
  },
  order(inv, read, input) {
    const master = read.master!;
    if (input.order) {
      const order = input.order.map((h) => hostsOf(inv, h, 'order')[0]!);
      if (order.includes(master) && order[0] !== master) {
        throw new Error(`order: ${master} is the pool master of ${inv.cluster}: it reboots first (seed 003), put it first or leave it out`);
      }
      return { order, chooseOrder: false };
    }
    const chosen = input.hosts ? hostsOf(inv, input.hosts, 'hosts') : inv.hypervisors.map((h) => h.name);
    const order = chosen.includes(master) ? [master, ...chosen.filter((h) => h !== master)] : chosen;
    return { order, chooseOrder: true };
  },
  // A 10 GbE link that one stream fills (1 GB/s) and about 10 s of setup (lab/xen.ts XEN_DEFAULTS).
  migrationSeconds: (mib) => SETUP_SECONDS + mib / MIB_PER_SECOND,
  // The setup as the memory it takes as long to copy: the planner orders a step's migrations by time.
  planTuning: (inv) => ({ migrationSetupWeight: SETUP_SECONDS * MIB_PER_SECOND, migrationsPerHost: migrationsPerHost(inv) }),
  threads: (inv, input) => Math.min(input.threads ?? DEFAULT_MIGRATION_THREADS, migrationsPerHost(inv)),
  async prepare(proc) {
    const settings = (await proc.step('pool-ha-read', 'Read the pool HA settings (to restore them after the run)', () => act.poolHa({}), {
      skippable: false,
    }))!;
    if (!settings.enabled) {
      proc.markSkipped(POOL_HA.id, POOL_HA.title, 'pool HA is off already: nothing to turn off or restore');
      return settings;
    }
    await proc.step(
      POOL_HA.id,
      'Pool HA off for the run (xe pool-ha-disable)',
      () => act.disablePoolHa.executeWithOptions({ startToCloseTimeout: '10m', summary: 'xe pool-ha-disable' }, [{}]),
      {
        skippable: false,
        changes: true,
      },
    );
    return settings;
  },
  async restore(proc, _inv, prepared, stopping) {
    const settings = prepared as PoolHaSettings | undefined;
    if (!settings?.enabled) return [];
    const title = `Pool HA back on (ha-host-failures-to-tolerate ${settings.hostFailuresToTolerate})`;
    const restore = () => act.restorePoolHa.executeWithOptions({ startToCloseTimeout: '15m', summary: 'xe pool-ha-enable, as before the run' }, [{ settings }]);
    if (stopping) {
      // The run is stopping (aborted, failed): no step may park now, the activity runs as it is.
      await restore();
      proc.markDone('pool-ha-restore', title, 'after the run stopped');
    } else await proc.step('pool-ha-restore', title, restore, { changes: true });
    return [`pool HA on again (ha-host-failures-to-tolerate ${settings.hostFailuresToTolerate})`];
  },

  emptySteps: xenEvacuation.steps.empty,
  readySteps: [...GUARD_WAIT_STEPS, { id: 'enable-host', title: 'Enable the host: the pool may place VMs on it again' }],
  async empty(proc, inv, host, step, input) {
    // Xen empties from the plan alone: the approved read is not needed.
    const r = await xenEvacuation.empty(proc, inv, host, { approved: undefined as never, evacuation: stepAsEvacuation(step) }, evacuationInput(input));
    return r.migrations ?? [];
  },
  async bootIdentity(host) {
    return (await act.xenHostBoot({ host })).bootTime;
  },
  async reboot(host, before) {
    const r = await act.rebootXenHost.executeWithOptions({ startToCloseTimeout: '10m', summary: `xe host-reboot ${host}` }, [{ host, bootedBefore: before }]);
    return r.result;
  },
  async waitBack(host, before, timeoutMs) {
    const r = await waits.waitXenHostRebooted.executeWithOptions(
      {
        startToCloseTimeout: `${Math.ceil(timeoutMs / 60_000) + 5}m`,
        retry: { maximumAttempts: 3 },
        summary: `wait until ${host} is back in the pool with a new boot time`,
      },
      [{ host, bootedBefore: before, timeoutMs }],
    );
    return { downAfterMs: r.downAfterMs, upAfterMs: r.upAfterMs, boot: r.bootTime };
  },
  async ready(proc, inv, host, input) {
    await waitGuardsHealthy(proc, inv, host, guardsOf(inv, host), input);
    await proc.step(
      'enable-host',
      `Enable ${host} (xe host-enable): the pool may place VMs on it again`,
      () => act.enableHost.executeWithOptions({ startToCloseTimeout: '5m', summary: `xe host-enable ${host}` }, [{ host }]),
      { skippable: false, changes: true },
    );
  },
  async uncordon(host) {
    await act.enableHost.executeWithOptions({ startToCloseTimeout: '5m', summary: `xe host-enable ${host}` }, [{ host }]);
  },
  commandLines: (inv, host, threads, migrations) => [
    `xe host-disable host=${host}`,
    ...hookPlanLine(inv, 'preEmpty', host),
    `xe vm-migrate live=true to the planned hosts, ${threads} at a time (${migrations} VM(s))`,
    `verify ${host} holds no VM`,
    ...hookPlanLine(inv, 'postEmpty', host),
    `xe host-reboot host=${host}; wait until it is live again with a new boot_time`,
    `xe host-enable host=${host}`,
    ...hookPlanLine(inv, 'postReboot', host),
  ],
};
