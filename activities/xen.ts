/**
 * The XenServer stack driver: hvflow's neutral operations on a pool, in `xe` commands run over SSH on
 * a pool host (a member forwards xe to the pool master: xapi_cli.ml `forward`), the control host
 * first, another when it does not answer.
 *
 *   read the pool       xe pool-list / host-list / vm-list params=...; host-compute-free-memory per
 *                       host (xapi's own count of the room left, which a list prints as
 *                       "<expensive field>"); sr-list / vdi-list / vbd-list for the VMs on local storage
 *   cordon / uncordon   xe host-disable / host-enable (idempotent)
 *   move VMs            xe vm-migrate vm=<uuid> host=<uuid> live=true, a bounded work queue
 *                       (domain/migration-queue.ts), each VM's resident-on read before and after
 *   agent state         host-metrics-live as the master sees it
 *   reboot              xe host-reboot host=<uuid>, once per boot: the host's other-config boot_time
 *                       (xapi writes it at each start, dbsync_slave.ml) read before, compared by the
 *                       reboot (a retry finds it changed, or the host going down) and by the wait
 *
 * Formats: activities/xe-parse.ts (test/fixtures/xe, SOURCES.md).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../domain/contract';
import { migrationsPerHost } from '../domain/inventory';
import { startable } from '../domain/migration-queue';
import type { MigrationOutcome, MigrationRequest, PoolHaSettings, XenPoolView, XenVmView } from '../domain/xen-pool';
import { checkpoint } from './heartbeat';
import { parsed, runOn, sleepOrCancel, targetOf, type ToolContext } from './remote';
import { isNonRetryable } from './each-host';
import {
  parseXeBootTime,
  parseXeComputeFreeMemory,
  parseXeHosts,
  parseXePools,
  parseXeRecords,
  parseXeSilent,
  parseXeVms,
  XE_NULL_REF,
  XeError,
  type XeHost,
  type XeVm,
} from './xe-parse';

const MiB = 1024 * 1024;

const POOL_PARAMS = 'uuid,name-label,master,ha-enabled';
const HOST_PARAMS = 'uuid,name-label,enabled,host-metrics-live,memory-total,current-operations';
const VM_PARAMS = 'uuid,name-label,power-state,resident-on,is-control-domain,memory-dynamic-min,memory-overhead,current-operations';

/** A host's boot as the pool master sees it. */
interface HostBoot {
  uuid: string;
  /** other-config boot_time as printed; undefined when the record has none. */
  bootTime?: string;
  live: boolean;
  enabled: boolean;
  operations: string[];
}

/** What xapi puts in a host's current-operations while it goes down (xapi_host.ml shutdown_and_reboot_common: `shutdown`, also for a reboot). */
const GOING_DOWN_OPS = ['shutdown', 'reboot'];
/** boot_time as OCaml's string_of_float prints Unix seconds. */
const BOOT_TIME = /^\d{1,15}\.\d{0,12}$/;
/** Polls of waitXenHostRebooted. */
const REBOOT_POLL_MS = 2000;

/** A VM's uuid and name as the migrations need them. */
interface VmWhere {
  uuid: string;
  name: string;
  host?: string;
  migrating: boolean;
}

export function xenActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  /** xe on `host`; an xapi error becomes a non-retryable failure quoting it, an SSH problem stays retryable. */
  async function xe<T>(host: string, args: string[], parse: (stdout: string, stderr: string) => T, timeoutMs = 60_000): Promise<T> {
    const r = await runOn(ctx, host, ['xe', ...args], { timeoutMs, okExitCodes: [0, 1] });
    return parsed(() => parse(r.stdout, r.stderr));
  }

  /** The hosts xe may run on, the control host first, those in `avoid` last. */
  function candidates(avoid: string[] = []): string[] {
    const names = inv.hypervisors.map((h) => h.name);
    const order = [inv.controlHost, ...names.filter((n) => n !== inv.controlHost)];
    return [...order.filter((h) => !avoid.includes(h)), ...order.filter((h) => avoid.includes(h))];
  }

  /**
   * Runs `fn` on the first pool host that answers (xe on a member is the master's answer). A host that
   * cannot be reached, or whose xe cannot reach xapi, is passed over; an xapi error is the pool's answer.
   */
  async function onAPoolHost<T>(fn: (host: string) => Promise<T>, avoid: string[] = []): Promise<T> {
    const tried: string[] = [];
    for (const host of candidates(avoid)) {
      try {
        return await fn(host);
      } catch (e) {
        if (isNonRetryable(e) && !isConnectFailure(e)) throw e;
        tried.push(`${host}: ${e instanceof Error ? e.message : String(e)}`);
        Context.current().heartbeat({ tried });
      }
    }
    throw ApplicationFailure.retryable(`no host of ${inv.cluster} answered xe (${tried.join('; ')})`, 'HostUnreachable');
  }

  async function readPool(host: string): Promise<XenPoolView> {
    const [pool] = await xe(host, ['pool-list', `params=${POOL_PARAMS}`], parseXePools);
    const hosts = await xe(host, ['host-list', `params=${HOST_PARAMS}`], parseXeHosts);
    const vms = await xe(host, ['vm-list', `params=${VM_PARAMS}`], parseXeVms);
    const local = await localStorageVms(host);
    const free = new Map<string, number>();
    for (const h of hosts) free.set(h.uuid!, await xe(host, ['host-compute-free-memory', `host=${h.uuid}`], parseXeComputeFreeMemory));
    const nameOf = new Map(hosts.map((h) => [h.uuid!, h.nameLabel!]));
    if (!pool?.uuid || !pool.master) throw ApplicationFailure.nonRetryable(`xe pool-list on ${host} printed no pool`, FAILURE.parseError);
    return {
      pool: pool.nameLabel || pool.uuid,
      master: nameOf.get(pool.master) ?? pool.master,
      haEnabled: !!pool.haEnabled,
      hosts: hosts.map((h) => hostView(h, free.get(h.uuid!) ?? 0)),
      vms: vms.filter((v) => !v.isControlDomain).map((v) => vmView(v, nameOf, local)),
      ranOn: host,
    };
  }

  /** VMs with a disk on an SR that is not shared (a host's local storage): they cannot live-migrate. */
  async function localStorageVms(host: string): Promise<Set<string>> {
    const srs = await xe(host, ['sr-list', 'params=uuid,shared'], parseXeRecords);
    const localSrs = new Set(srs.filter((s) => s['shared'] === 'false').map((s) => s['uuid']!));
    if (!localSrs.size) return new Set();
    const vdis = await xe(host, ['vdi-list', 'params=uuid,sr-uuid'], parseXeRecords);
    const localVdis = new Set(vdis.filter((v) => localSrs.has(v['sr-uuid']!)).map((v) => v['uuid']!));
    const vbds = await xe(host, ['vbd-list', 'params=vm-uuid,vdi-uuid'], parseXeRecords);
    return new Set(vbds.filter((b) => localVdis.has(b['vdi-uuid']!)).map((b) => b['vm-uuid']!));
  }

  /** The pool's hosts, both ways: name-label -> uuid, uuid -> name-label. */
  async function poolHosts(on: string): Promise<{ uuidOf: Map<string, string>; nameOf: Map<string, string> }> {
    const hosts = await xe(on, ['host-list', 'params=uuid,name-label'], parseXeHosts);
    return { uuidOf: new Map(hosts.map((h) => [h.nameLabel!, h.uuid!])), nameOf: new Map(hosts.map((h) => [h.uuid!, h.nameLabel!])) };
  }

  /** Where each VM is now (uuid, name, resident host, a migration under way). */
  async function whereVms(on: string, nameOf: Map<string, string>): Promise<Map<string, VmWhere>> {
    const vms = await xe(on, ['vm-list', 'is-control-domain=false', 'params=uuid,name-label,resident-on,current-operations'], parseXeVms);
    return new Map(
      vms.map((v) => [
        v.nameLabel!,
        {
          uuid: v.uuid!,
          name: v.nameLabel!,
          host: v.residentOn ? nameOf.get(v.residentOn) : undefined,
          migrating: (v.currentOperations ?? []).some((op) => /migrate/.test(op)),
        },
      ]),
    );
  }

  async function hostUuid(on: string, name: string): Promise<string> {
    const hosts = await xe(on, ['host-list', `name-label=${name}`, 'params=uuid,name-label'], parseXeHosts);
    if (hosts.length !== 1) {
      throw ApplicationFailure.nonRetryable(
        `host ${name}: xe host-list on ${on} finds ${hosts.length} host(s) of that name-label in pool ${inv.cluster}`,
        FAILURE.toolError,
      );
    }
    return hosts[0]!.uuid!;
  }

  /** The host's boot time, live and enabled flags and current operations (host-list, then other-config boot_time). */
  async function readBoot(on: string, name: string, timeoutMs = 60_000): Promise<HostBoot> {
    const hosts = await xe(
      on,
      ['host-list', `name-label=${name}`, 'params=uuid,name-label,enabled,host-metrics-live,current-operations'],
      parseXeHosts,
      timeoutMs,
    );
    if (hosts.length !== 1) {
      throw ApplicationFailure.nonRetryable(
        `host ${name}: xe host-list on ${on} finds ${hosts.length} host(s) of that name-label in pool ${inv.cluster}`,
        FAILURE.toolError,
      );
    }
    const h = hosts[0]!;
    const bootTime = await xe(on, ['host-param-get', `uuid=${h.uuid}`, 'param-name=other-config', 'param-key=boot_time'], parseXeBootTime, timeoutMs);
    return { uuid: h.uuid!, bootTime, live: !!h.live, enabled: !!h.enabled, operations: h.currentOperations ?? [] };
  }

  /** A host of the inventory, and a boot time as xe prints it (or none): refused otherwise, naming the field. */
  function checkBootInput(input: { host: string; bootedBefore?: string }): void {
    targetOf(inv, input.host);
    if (input.bootedBefore !== undefined && (typeof input.bootedBefore !== 'string' || !BOOT_TIME.test(input.bootedBefore))) {
      throw ApplicationFailure.nonRetryable(
        `bootedBefore: ${JSON.stringify(input.bootedBefore)} is not a boot_time as xe prints it (e.g. "1764892800.")`,
        FAILURE.invalidInput,
      );
    }
  }

  async function readHa(on: string): Promise<PoolHaSettings & { uuid: string }> {
    const [pool] = await xe(on, ['pool-list', 'params=uuid,ha-enabled,ha-host-failures-to-tolerate,ha-configuration'], parseXePools);
    if (!pool?.uuid) throw ApplicationFailure.nonRetryable(`xe pool-list on ${on} printed no pool`, FAILURE.parseError);
    return {
      uuid: pool.uuid,
      enabled: !!pool.haEnabled,
      hostFailuresToTolerate: pool.haHostFailuresToTolerate ?? 0,
      configuration: pool.haConfiguration ?? {},
    };
  }

  return {
    /** The pool's HA settings, to restore after maintenance (read before anything is changed). */
    async poolHa(_input: Record<string, never> = {}): Promise<PoolHaSettings> {
      const { uuid: _uuid, ...settings } = await onAPoolHost(readHa);
      return settings;
    },

    /** xe pool-ha-disable; HA already off is success (a retry after the first attempt turned it off). */
    async disablePoolHa(_input: Record<string, never> = {}): Promise<{ changed: boolean }> {
      return onAPoolHost(async (on) => {
        if (!(await readHa(on)).enabled) return { changed: false };
        await xe(on, ['pool-ha-disable'], parseXeSilent, 300_000);
        return { changed: true };
      });
    },

    /**
     * Puts HA back as `settings` says (pool-ha-enable with its ha-config, then its
     * ha-host-failures-to-tolerate), and reads it back. Settings with HA off restore nothing; HA
     * already on (a retry) only gets its failures-to-tolerate checked.
     */
    async restorePoolHa(input: { settings: PoolHaSettings }): Promise<{ changed: boolean }> {
      const want = input.settings;
      if (!want.enabled) return { changed: false };
      return onAPoolHost(async (on) => {
        const now = await readHa(on);
        let changed = false;
        if (!now.enabled) {
          const config = Object.entries(want.configuration).map(([k, v]) => `ha-config:${k}=${v}`);
          await xe(on, ['pool-ha-enable', ...config], parseXeSilent, 600_000);
          changed = true;
        }
        if ((await readHa(on)).hostFailuresToTolerate !== want.hostFailuresToTolerate) {
          await xe(on, ['pool-param-set', `uuid=${now.uuid}`, `ha-host-failures-to-tolerate=${want.hostFailuresToTolerate}`], parseXeSilent);
          changed = true;
        }
        const after = await readHa(on);
        if (!after.enabled || after.hostFailuresToTolerate !== want.hostFailuresToTolerate) {
          throw ApplicationFailure.nonRetryable(
            `pool HA of ${inv.cluster} is not back as it was: ha-enabled ${after.enabled}, ha-host-failures-to-tolerate ${after.hostFailuresToTolerate} (wanted ${want.hostFailuresToTolerate})`,
            FAILURE.toolError,
          );
        }
        return { changed };
      });
    },

    /** The pool: master, HA, hosts (enabled, live, memory and xapi's free memory), VMs (where, memory, local storage). */
    async xenPool(input: { avoid?: string[] } = {}): Promise<XenPoolView> {
      return onAPoolHost(readPool, input.avoid);
    },

    /** xe host-disable: the pool places nothing new on the host. Disabling a disabled host is success. */
    async disableHost(input: { host: string }): Promise<void> {
      await onAPoolHost(async (on) => xe(on, ['host-disable', `uuid=${await hostUuid(on, input.host)}`], parseXeSilent));
    },

    /** xe host-enable: the pool may place VMs on the host again. */
    async enableHost(input: { host: string }): Promise<void> {
      await onAPoolHost(async (on) => xe(on, ['host-enable', `uuid=${await hostUuid(on, input.host)}`], parseXeSilent));
    },

    /** Polls until the master sees the host live (its xapi answers), within `timeoutMs`. */
    async waitXenHostLive(input: { host: string; timeoutMs: number }): Promise<{ host: string; waitedMs: number }> {
      const t0 = Date.now();
      for (;;) {
        const live = await onAPoolHost(
          async (on) => (await xe(on, ['host-list', `name-label=${input.host}`, 'params=uuid,host-metrics-live'], parseXeHosts))[0]?.live,
          [input.host],
        ).catch((e) => {
          if (isNonRetryable(e)) throw e;
          return undefined; // no pool host answered yet: the pool master may be the one rebooting
        });
        if (live) return { host: input.host, waitedMs: Date.now() - t0 };
        if (Date.now() - t0 > input.timeoutMs) {
          throw ApplicationFailure.nonRetryable(
            `${input.host} is not live in pool ${inv.cluster} after ${Math.round(input.timeoutMs / 60_000)} min`,
            FAILURE.hostNotBack,
          );
        }
        Context.current().heartbeat({ waitingFor: input.host, elapsedMs: Date.now() - t0 });
        await sleepOrCancel(2000);
      }
    },

    /**
     * The host's boot as the pool master sees it: other-config boot_time exactly as xe prints it
     * (undefined when the record has none), host-metrics-live, enabled. Read before a reboot and
     * given to rebootXenHost and waitXenHostRebooted as `bootedBefore`.
     */
    async xenHostBoot(input: { host: string }): Promise<{ host: string; bootTime?: string; live: boolean; enabled: boolean }> {
      checkBootInput(input);
      const b = await onAPoolHost((on) => readBoot(on, input.host));
      return { host: input.host, ...(b.bootTime === undefined ? {} : { bootTime: b.bootTime }), live: b.live, enabled: b.enabled };
    },

    /**
     * xe host-reboot host=<uuid>, at most once per boot: the host is read first. A boot_time other
     * than `bootedBefore` means it rebooted already (a retry after the reboot: nothing is done); a host
     * not live, or with a shutdown / reboot in its current-operations, is already going down (a retry
     * after host-reboot was accepted: nothing is done). xapi refuses an enabled host (HOST_NOT_DISABLED):
     * a non-retryable failure quoting xe.
     */
    async rebootXenHost(input: {
      host: string;
      bootedBefore?: string;
    }): Promise<{ host: string; result: 'rebooting' | 'already-rebooted' | 'already-going-down' }> {
      checkBootInput(input);
      return onAPoolHost(async (on) => {
        const b = await readBoot(on, input.host);
        if (input.bootedBefore !== undefined && b.bootTime !== undefined && b.bootTime !== input.bootedBefore)
          return { host: input.host, result: 'already-rebooted' as const };
        if (!b.live || b.operations.some((op) => GOING_DOWN_OPS.includes(op))) return { host: input.host, result: 'already-going-down' as const };
        await xe(on, ['host-reboot', `host=${b.uuid}`], parseXeSilent);
        return { host: input.host, result: 'rebooting' as const };
      });
    },

    /**
     * Polls (every 2 s, heartbeating) until the pool master sees the host live again with a boot_time
     * other than `bootedBefore` (with none before: any, once it was seen down). No pool host answering
     * xe (the host is the pool master, still down) is "not back yet". downAfterMs: when it was first
     * seen not live or unanswered. Past `timeoutMs`: HostNotBack, saying what was seen last.
     */
    async waitXenHostRebooted(input: {
      host: string;
      bootedBefore?: string;
      timeoutMs: number;
    }): Promise<{ host: string; downAfterMs?: number; upAfterMs: number; bootTime?: string }> {
      checkBootInput(input);
      const actx = Context.current();
      const t0 = Date.now();
      let downAfterMs: number | undefined;
      let last = 'nothing read yet';
      for (;;) {
        const b = await onAPoolHost((on) => readBoot(on, input.host, 20_000), [input.host]).catch((e) => {
          if (isNonRetryable(e) || actx.cancellationSignal.aborted) throw e;
          return undefined; // no pool host answered yet: the pool master may be the one rebooting
        });
        const elapsedMs = Date.now() - t0;
        if (!b?.live) {
          downAfterMs ??= elapsedMs;
          last = b ? `host-metrics-live false, boot_time ${b.bootTime ?? 'none'}` : 'no pool host answered xe';
        } else {
          const rebooted =
            input.bootedBefore === undefined
              ? b.bootTime !== undefined || downAfterMs !== undefined
              : b.bootTime !== undefined && b.bootTime !== input.bootedBefore;
          if (rebooted)
            return {
              host: input.host,
              ...(downAfterMs === undefined ? {} : { downAfterMs }),
              upAfterMs: elapsedMs,
              ...(b.bootTime === undefined ? {} : { bootTime: b.bootTime }),
            };
          last = `live with boot_time ${b.bootTime ?? 'none'}, as before the reboot${downAfterMs === undefined ? ' (never seen down)' : ''}`;
        }
        if (elapsedMs > input.timeoutMs) {
          throw ApplicationFailure.nonRetryable(
            `${input.host} did not come back in pool ${inv.cluster} within ${Math.round(input.timeoutMs / 1000)} s: ${last}`,
            FAILURE.hostNotBack,
          );
        }
        actx.heartbeat({ waitingFor: input.host, phase: downAfterMs === undefined ? 'down' : 'up', elapsedMs });
        await sleepOrCancel(REBOOT_POLL_MS);
      }
    },

    /**
     * The planned live migrations, a bounded work queue: at most `threads` at once and
     * xen.migrationsPerHost on any host. Each VM's host is read first: a VM already on its planned
     * host is done (a retry after a crash: nothing migrates twice), one found elsewhere than planned
     * is left alone and reported, one whose migration is already under way (started by an attempt
     * that died) is waited for. After each migration the VM's resident-on is read back.
     */
    async migrateVms(input: { moves: MigrationRequest[]; threads: number; timeoutMs: number }): Promise<MigrationOutcome[]> {
      const actx = Context.current();
      const t0 = Date.now();
      const prior = (actx.info.heartbeatDetails as { done?: MigrationOutcome[] } | undefined)?.done ?? [];
      const done = new Map<string, MigrationOutcome>(prior.map((o) => [o.vm, o]));
      const beat = () => checkpoint({ done: [...done.values()] });
      const limits = { threads: input.threads, perHost: migrationsPerHost(inv) };
      // The host list is read once: it also finds the pool host that answers.
      const { host, uuidOf: uuidOfHost, nameOf } = await onAPoolHost(async (h) => ({ host: h, ...(await poolHosts(h)) }));
      let where = await whereVms(host, nameOf);

      // A migration an earlier attempt started and did not see end: wait for it before anything else.
      const pending: MigrationRequest[] = [];
      for (const m of input.moves) {
        if (done.has(m.vm) && done.get(m.vm)!.result !== 'failed') continue;
        const w = where.get(m.vm);
        if (w?.migrating) {
          while (where.get(m.vm)?.migrating) {
            if (Date.now() - t0 > input.timeoutMs) break;
            actx.heartbeat({ done: [...done.values()], waitingFor: m.vm });
            await sleepOrCancel(1000);
            where = await whereVms(host, nameOf);
          }
        }
        const now = where.get(m.vm);
        if (!now) done.set(m.vm, { ...m, result: 'elsewhere', error: `${m.vm} is no longer a VM of pool ${inv.cluster}` });
        else if (now.host === m.to) done.set(m.vm, { ...m, landed: m.to, result: 'already-there' });
        else if (now.host !== m.from)
          done.set(m.vm, { ...m, landed: now.host, result: 'elsewhere', error: `${m.vm} is on ${now.host ?? 'no host'}, not on ${m.from} as planned` });
        else pending.push(m);
      }
      beat();

      const inFlight = new Map<string, { move: MigrationRequest; run: Promise<void> }>();
      const migrate = async (m: MigrationRequest) => {
        const started = Date.now();
        const vm = where.get(m.vm)!;
        const to = uuidOfHost.get(m.to);
        try {
          if (!to) throw new XeError('HANDLE_INVALID', [m.to], {}, `host ${m.to} is not in pool ${inv.cluster}`);
          await xe(host, ['vm-migrate', `vm=${vm.uuid}`, `host=${to}`, 'live=true'], parseXeSilent, input.timeoutMs);
          const landed = await vmHost(host, vm.uuid, nameOf);
          done.set(m.vm, {
            ...m,
            landed,
            result: landed === m.to ? 'migrated' : 'failed',
            seconds: Math.round((Date.now() - started) / 100) / 10,
            ...(landed === m.to ? {} : { error: `xe vm-migrate succeeded but ${m.vm} is resident on ${landed ?? 'no host'}` }),
          });
        } catch (e) {
          if (!isNonRetryable(e)) throw e; // the connection: the activity retries, and reads where each VM is first
          done.set(m.vm, {
            ...m,
            landed: await vmHost(host, vm.uuid, nameOf).catch(() => undefined),
            result: 'failed',
            error: e instanceof Error ? e.message : String(e),
          });
        }
        beat();
      };
      const queue = [...pending];
      while (queue.length || inFlight.size) {
        if (Date.now() - t0 > input.timeoutMs) {
          throw ApplicationFailure.nonRetryable(
            `live migrations not done after ${Math.round(input.timeoutMs / 60_000)} min: ${[...inFlight.keys(), ...queue.map((m) => m.vm)].join(', ')} left`,
            'MigrationsNotDone',
          );
        }
        for (const m of startable(
          queue,
          [...inFlight.values()].map((f) => f.move),
          limits,
        )) {
          queue.splice(queue.indexOf(m), 1);
          const run = migrate(m).finally(() => inFlight.delete(m.vm));
          inFlight.set(m.vm, { move: m, run });
        }
        if (!inFlight.size) break; // nothing can start: only a host over its limit with nothing running, which startable never leaves
        await Promise.race([...inFlight.values()].map((f) => f.run));
      }

      const outcomes = input.moves.map((m) => done.get(m.vm)!);
      const failed = outcomes.filter((o) => o.result === 'failed' || o.result === 'elsewhere');
      if (failed.length) {
        throw ApplicationFailure.create({
          type: FAILURE.toolError,
          nonRetryable: true,
          message: `${failed.length} of ${outcomes.length} live migration(s) did not land as planned: ${failed.map((o) => `${o.vm} (${o.error})`).join('; ')}`,
          details: [{ outcomes }],
        });
      }
      return outcomes;
    },
  };

  /** Where a VM is resident now (a host's name), read back after its migration. */
  async function vmHost(on: string, vmUuid: string, nameOf: Map<string, string>): Promise<string | undefined> {
    const [vm] = await xe(on, ['vm-list', `uuid=${vmUuid}`, 'params=uuid,resident-on'], parseXeVms);
    return vm?.residentOn ? nameOf.get(vm.residentOn) : undefined;
  }
}

/** A failure of xe to reach xapi at all (not an answer of the pool): another host may do better. */
function isConnectFailure(e: unknown): boolean {
  const code = e instanceof ApplicationFailure ? (e.details?.[0] as { code?: string } | undefined)?.code : undefined;
  return code === 'CONNECT_FAILED' || code === 'COMMAND_NOT_FOUND';
}

function hostView(h: XeHost, freeBytes: number) {
  return {
    name: h.nameLabel!,
    uuid: h.uuid!,
    enabled: !!h.enabled,
    live: !!h.live,
    memoryTotalMiB: Math.floor((h.memoryTotal ?? 0) / MiB),
    memoryFreeMiB: Math.floor(freeBytes / MiB),
  };
}

/** What a host must have free to take the VM (xapi's vm_compute_start_memory: dynamic-min + overhead), in MiB. */
function vmView(v: XeVm, nameOf: Map<string, string>, local: Set<string>): XenVmView {
  return {
    name: v.nameLabel!,
    uuid: v.uuid!,
    ...(v.residentOn && v.residentOn !== XE_NULL_REF ? { host: nameOf.get(v.residentOn) } : {}),
    powerState: v.powerState ?? 'halted',
    memoryMiB: Math.ceil((v.memoryDynamicMin ?? 0) / MiB) + Math.ceil((v.memoryOverhead ?? 0) / MiB),
    localStorage: local.has(v.uuid!),
    operations: v.currentOperations ?? [],
  };
}
