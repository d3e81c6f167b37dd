/**
 * Power: IPMI from where the inventory says (`ipmiFrom`: a hypervisor that answers SSH, a BMC
 * relay, the worker itself), an orderly `poweroff` that lets the procedure record it, waits for
 * hosts to go down or answer SSH again, and `fping` of the hypervisors with timings (seed 001).
 *
 * - The BMC password never enters argv, a shell history or the workflow: it is read at use from
 *   the worker's configuration. Over SSH it is written to stdin, which the remote shell exports as
 *   IPMI_PASSWORD for `ipmitool -E`; on the worker it is in the environment of the ipmitool child
 *   only (given whole: nothing else of the worker's environment).
 * - `poweroff` is scheduled with `systemd-run --on-active=N`: the command returns at once (the SSH
 *   session ends cleanly and the activity completes), systemd — not the session — owns the timer,
 *   and a second call finds the same named unit (idempotent under activity retries).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { hypervisor } from '../domain/inventory';
import { routeName, type IpmiRoute } from '../domain/ipmi-routes';
import { parseIpmiPowerControl, parseIpmiPowerStatus, type PowerState } from './power-parse';
import { parseFping, type FpingHost } from './fping-parse';
import { ToolError } from './parse-error';
import { expectSuccess, runFromActivity, type RunResult } from './ssh';
import { runLocal } from './local';
import { ipmiTargetOf, parsed, runOn, sleepOrCancel, targetOf, type ToolContext } from './remote';
import { FAILURE } from '../domain/contract';
import { eachHostOfActivity, hostsFailure } from './each-host';

/** Reads the password from stdin and exports it for `-E`: it is in no argv and no history. */
const IPMI_SCRIPT = 'IPMI_PASSWORD=$(cat); export IPMI_PASSWORD; exec ipmitool -I lanplus -H "$1" -U "$2" -E power "$3"';
const POWEROFF_UNIT = 'hvflow-poweroff';
const IPMI_USER = /^[A-Za-z0-9._@-]{1,32}$/;
/** BMCs the route finder asks for a power status: one dead BMC does not make a route look broken. */
const PROBED_BMCS = 3;

export type IpmiAction = 'status' | 'on' | 'off' | 'soft';

export interface HostsWait {
  /** Hosts in the wanted state. */
  done: string[];
  /** Hosts still not in it when the bound passed. */
  pending: string[];
  elapsedMs: number;
}

export interface FpingReport {
  ranOn: string;
  /** Wall time of the whole fping command (name resolution included), as `time fping` shows. */
  elapsedMs: number;
  hosts: FpingHost[];
}

function isConnectionFailure(e: unknown): boolean {
  return e instanceof ApplicationFailure && (e.type === 'SshConnectionError' || e.type === 'CommandTimeout');
}

export function powerActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  function bmcOf(host: string): string {
    targetOf(inv, host); // a hypervisor of the inventory, or InvalidInput
    const bmc = hypervisor(inv, host).bmc;
    if (!bmc) throw ApplicationFailure.nonRetryable(`${host} has no bmc address in the inventory: it cannot be powered through IPMI`, FAILURE.invalidInput);
    return bmc;
  }

  function credentials(): { user: string; password: string } {
    if (!ctx.ipmi)
      throw ApplicationFailure.nonRetryable(
        'the worker has no IPMI credentials configured (HVFLOW_IPMI_USER / HVFLOW_IPMI_PASSWORD_FILE)',
        FAILURE.sshConfigError,
      );
    if (!IPMI_USER.test(ctx.ipmi.user)) throw ApplicationFailure.nonRetryable('the configured IPMI user is not a plain user name', FAILURE.sshConfigError);
    return { user: ctx.ipmi.user, password: ctx.ipmi.password() };
  }

  async function ipmi(route: IpmiRoute, host: string, action: IpmiAction): Promise<{ state?: PowerState; control?: string }> {
    const bmc = bmcOf(host);
    const { user, password } = credentials();
    let res: { stdout: string; stderr: string };
    if (route.via === 'worker') {
      const ipmitool = ctx.ipmi?.ipmitool ?? 'ipmitool';
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: password };
      res = await runLocal(ipmitool, ['-I', 'lanplus', '-H', bmc, '-U', user, '-E', 'power', action], { env, timeoutMs: 60_000 });
    } else {
      const target = ipmiTargetOf(inv, route.host);
      res = await runFromActivity(ctx.pool, target, ['sh', '-c', IPMI_SCRIPT, 'sh', bmc, user, action], {
        stdin: `${password}\n`,
        okExitCodes: [0, 1],
        timeoutMs: 60_000,
      });
    }
    try {
      if (action === 'status') return { state: parseIpmiPowerStatus(res.stdout, res.stderr) };
      return { control: parseIpmiPowerControl(res.stdout, res.stderr) };
    } catch (e) {
      // No session / no answer from the BMC: a network problem, worth retrying.
      if (e instanceof ToolError && (e.code === 'session' || e.code === 'no-response')) {
        throw ApplicationFailure.create({
          type: 'IpmiUnavailable',
          message: `BMC of ${host} (${bmc}) from ${routeName(route)}: ${e.toolMessage.split('\n').pop()}`,
        });
      }
      return parsed(() => {
        throw e;
      });
    }
  }

  /** Why `route` cannot power hosts on (undefined: it can): it must get a power status from one of the probed BMCs. */
  async function routeProblem(route: IpmiRoute, probe: string[]): Promise<string | undefined> {
    const problems = await Promise.all(
      probe.map((h) =>
        ipmi(route, h, 'status').then(
          () => undefined,
          (e: unknown) => {
            if (isConnectionFailure(e)) return 'does not answer SSH';
            if (e instanceof ApplicationFailure && e.type === 'IpmiUnavailable') return `reaches no BMC (${e.message.replace(/^.*: /, '')})`;
            return e instanceof Error ? e.message : String(e);
          },
        ),
      ),
    );
    return problems.includes(undefined) ? undefined : problems[0];
  }

  /** Does the host answer SSH (a trivial command)? Connection failures and timeouts mean no. */
  async function answers(host: string, timeoutMs = 10_000): Promise<boolean> {
    try {
      await runOn(ctx, host, ['true'], { timeoutMs });
      return true;
    } catch (e) {
      if (isConnectionFailure(e)) return false;
      throw e;
    }
  }

  async function waitHosts(hosts: string[], timeoutMs: number, want: 'up' | 'down', isDone: (h: string) => Promise<boolean>): Promise<HostsWait> {
    const started = Date.now();
    const done = new Set<string>();
    for (;;) {
      const pending = hosts.filter((h) => !done.has(h));
      const results = await Promise.all(pending.map(async (h) => [h, await isDone(h)] as const));
      for (const [h, ok] of results) if (ok) done.add(h);
      const still = hosts.filter((h) => !done.has(h));
      Context.current().heartbeat({ want, pending: still });
      if (!still.length || Date.now() - started > timeoutMs) return { done: hosts.filter((h) => done.has(h)), pending: still, elapsedMs: Date.now() - started };
      await sleepOrCancel(1000); // each round asks only the hosts still pending
    }
  }

  /**
   * Schedules an orderly poweroff in `delaySeconds` (systemd-run timer owned by systemd, not by the
   * SSH session) and returns at once. A retry that finds the timer already there is success; a host
   * that no longer answers is success when its BMC (through `via`) says it is off.
   */
  async function powerOffOne(host: string, delaySeconds: number | undefined, via: string | undefined) {
    const delay = Math.max(1, Math.min(300, Math.floor(delaySeconds ?? 5)));
    let res: RunResult;
    try {
      res = await runOn(ctx, host, ['systemd-run', `--on-active=${delay}`, `--unit=${POWEROFF_UNIT}`, 'poweroff'], {
        okExitCodes: [0, 1],
        timeoutMs: 60_000,
      });
    } catch (e) {
      if (isConnectionFailure(e) && via && hypervisor(inv, host).bmc) {
        const { state } = await ipmi({ via: 'ssh', host: via }, host, 'status');
        if (state === 'off') return { host, scheduled: false, alreadyOff: true };
      }
      throw e;
    }
    if (res.exitCode !== 0 && !/already exists|already loaded/.test(res.stderr)) expectSuccess(res, 'systemd-run poweroff');
    return { host, scheduled: true };
  }

  return {
    /** `ipmitool -I lanplus -H BMC -U USER -E power ACTION` from `via` (a host over SSH, or the worker itself). */
    async ipmiPower(input: { host: string; action: IpmiAction; via: IpmiRoute }): Promise<{ host: string; state?: PowerState; control?: string }> {
      return { host: input.host, ...(await ipmi(input.via, input.host, input.action)) };
    },

    /**
     * ipmiPower on every host, in one activity (activities/each-host.ts): each host's transient
     * failures retried; returns the hosts done and, as data (the procedure decides), the ones that failed.
     */
    async ipmiPowerHosts(input: {
      hosts: string[];
      action: IpmiAction;
      via: IpmiRoute;
    }): Promise<{ done: string[]; failed: { host: string; error: string }[] }> {
      const r = await eachHostOfActivity(input.hosts, (host) => ipmi(input.via, host, input.action));
      return { done: r.done, failed: r.failed.map(({ host, error }) => ({ host, error })) };
    },

    /**
     * The first of `routes` (in the inventory's order) from which ipmitool gets an answer from the
     * BMC of one of the first hosts of `probe`: where ipmitool runs to power `probe` on.
     */
    async pickIpmiRoute(input: { routes: IpmiRoute[]; probe: string[] }): Promise<IpmiRoute> {
      const probe = input.probe.slice(0, PROBED_BMCS);
      probe.forEach((h) => bmcOf(h));
      credentials();
      const problems: { route: IpmiRoute; problem: string }[] = [];
      // Probed 16 at a time (a powered-off host costs a connect timeout); the first in order wins.
      for (let i = 0; i < input.routes.length; i += 16) {
        const chunk = input.routes.slice(i, i + 16);
        Context.current().heartbeat({ probing: chunk.map(routeName) });
        const found = await Promise.all(chunk.map((r) => routeProblem(r, probe)));
        const k = found.indexOf(undefined);
        if (k >= 0) return chunk[k]!;
        chunk.forEach((route, j) => problems.push({ route, problem: found[j]! }));
      }
      throw ApplicationFailure.nonRetryable(
        `nothing reaches the BMCs of ${probe.join(', ')}: ${summarize(problems)}. Power ${inv.controlHost} on by hand, or give a BMC relay of the inventory (bmcRelays) or the worker (HVFLOW_IPMITOOL) access to the BMCs, then retry`,
        'NoIpmiRoute',
      );
    },

    /** Schedules an orderly poweroff of one host (powerOffOne). */
    async powerOffHost(input: { host: string; delaySeconds?: number; via?: string }): Promise<{ host: string; scheduled: boolean; alreadyOff?: boolean }> {
      return powerOffOne(input.host, input.delaySeconds, input.via);
    },

    /** powerOffHost on every host, in one activity (activities/each-host.ts); fails naming each host it could not power off. */
    async powerOffHosts(input: { hosts: string[]; delaySeconds?: number; via?: string }): Promise<{ done: string[] }> {
      const r = await eachHostOfActivity(input.hosts, (host) => powerOffOne(host, input.delaySeconds, input.via));
      if (r.failed.length) throw hostsFailure('systemd-run poweroff', r.failed);
      return { done: r.done };
    },

    /** Waits until each host is off: its BMC says so (through `via`), or, with no relay, it stops answering SSH. */
    async waitHostsDown(input: { hosts: string[]; via?: string; timeoutMs: number }): Promise<HostsWait> {
      return waitHosts(input.hosts, input.timeoutMs, 'down', async (h) => {
        if (input.via && input.via !== h && hypervisor(inv, h).bmc && ctx.ipmi) {
          try {
            return (await ipmi({ via: 'ssh', host: input.via }, h, 'status')).state === 'off';
          } catch (e) {
            if (e instanceof ApplicationFailure && e.type === 'IpmiUnavailable') return false;
            throw e;
          }
        }
        return !(await answers(h, 5_000));
      });
    },

    /** Waits until each host answers SSH again (after a power on), heartbeating the ones still missing. */
    async waitHostsUp(input: { hosts: string[]; timeoutMs: number }): Promise<HostsWait> {
      return waitHosts(input.hosts, input.timeoutMs, 'up', (h) => answers(h, 10_000));
    },

    /** `fping -e HOST...` on the control host (names, so name resolution is part of the measure). */
    async fpingHosts(input: { hosts: string[]; from?: string }): Promise<FpingReport> {
      input.hosts.forEach((h) => targetOf(inv, h, 'hosts'));
      const from = input.from ?? inv.controlHost;
      // exit 1: some host unreachable, 2: some name did not resolve — both are answers.
      const res = await runOn(ctx, from, ['fping', '-e', ...input.hosts], { okExitCodes: [0, 1, 2], timeoutMs: 120_000 });
      const hosts = parsed(() => parseFping(res.stdout, res.stderr, input.hosts));
      return { ranOn: from, elapsedMs: res.durationMs, hosts };
    },
  };
}

/** `top1, top2: does not answer SSH; the worker: cannot run ipmitool ...`: routes grouped by what they said. */
function summarize(problems: { route: IpmiRoute; problem: string }[]): string {
  const byProblem = new Map<string, string[]>();
  for (const p of problems) byProblem.set(p.problem, [...(byProblem.get(p.problem) ?? []), routeName(p.route)]);
  return [...byProblem]
    .map(([problem, names]) => `${names.length > 8 ? `${names.slice(0, 8).join(', ')} and ${names.length - 8} more` : names.join(', ')}: ${problem}`)
    .join('; ');
}
