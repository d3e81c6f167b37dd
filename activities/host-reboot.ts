/**
 * Rebooting a Linux host (a fleet hypervisor, any systemd host of the inventory) over SSH, at most
 * once per boot, and waiting until it is back. The host's boot id (`hostnamectl`: the kernel's
 * /proc/sys/kernel/random/boot_id, new at each boot; activities/hostnamectl-parse.ts) is read by the
 * workflow before the reboot and given to both activities, so that neither a retried activity nor a
 * worker crash reboots a host twice:
 *
 *   hostBootId              hostnamectl
 *   rebootLinuxHost         hostnamectl first: another boot id = rebooted already; no answer =
 *                           probably on its way down (not a failure: the wait tells); systemd
 *                           already stopping (`systemctl is-system-running`: a reboot job queued
 *                           by an earlier attempt) = nothing to do; else `systemctl reboot`, which
 *                           answers and then loses its session with the host: a session dropped
 *                           while it runs is success (as poweroff in activities/power.ts)
 *   waitLinuxHostRebooted   polls hostnamectl until the host answers with another boot id
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../domain/contract';
import { parseHostnamectlStatus } from './hostnamectl-parse';
import { expectSuccess } from './ssh';
import { parsed, runOn, sleepOrCancel, targetOf, type ToolContext } from './remote';

const BOOT_ID = /^[0-9a-f]{32}$/;
const POLL_MS = 2000;

/** The host did not answer (or not in time): it may be going down, or be down. */
function isConnectionFailure(e: unknown): boolean {
  return e instanceof ApplicationFailure && (e.type === 'SshConnectionError' || e.type === 'CommandTimeout');
}

/** An SSH session that reached the host and was cut while the command ran (ssh.ts: "dropped while running"). */
function droppedWhileRunning(e: unknown): boolean {
  return e instanceof ApplicationFailure && e.type === 'SshConnectionError' && /dropped while running/.test(e.message);
}

export function hostRebootActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  function checkInput(input: { host: string; bootIdBefore?: string }, needsBootId: boolean): void {
    targetOf(inv, input.host);
    if (needsBootId && (typeof input.bootIdBefore !== 'string' || !BOOT_ID.test(input.bootIdBefore))) {
      throw ApplicationFailure.nonRetryable(
        `bootIdBefore: ${JSON.stringify(input.bootIdBefore)} is not a boot id (32 lowercase hex digits, as hostnamectl prints it)`,
        FAILURE.invalidInput,
      );
    }
  }

  async function bootId(host: string, timeoutMs = 30_000): Promise<string> {
    const r = await runOn(ctx, host, ['hostnamectl', 'status'], { timeoutMs, okExitCodes: [0, 1] });
    return parsed(() => parseHostnamectlStatus(r.stdout, r.stderr)).bootId;
  }

  /** The boot id, or undefined when the host does not answer SSH (in time). */
  async function bootIdIfAnswers(host: string, timeoutMs?: number): Promise<string | undefined> {
    try {
      return await bootId(host, timeoutMs);
    } catch (e) {
      if (isConnectionFailure(e)) return undefined;
      throw e;
    }
  }

  return {
    /** The host's current boot id (hostnamectl over SSH): read before a reboot, given to rebootLinuxHost and waitLinuxHostRebooted. */
    async hostBootId(input: { host: string }): Promise<{ host: string; bootId: string }> {
      checkInput(input, false);
      return { host: input.host, bootId: await bootId(input.host) };
    },

    /**
     * `systemctl reboot`, at most once per boot (see the module's comment): 'already-rebooted' when
     * the host answers with another boot id, 'unreachable' when it does not answer (probably going
     * down already: waitLinuxHostRebooted decides), 'rebooting' when it was asked to (now or by an
     * earlier attempt whose reboot job is still queued).
     */
    async rebootLinuxHost(input: { host: string; bootIdBefore: string }): Promise<{ host: string; result: 'rebooting' | 'already-rebooted' | 'unreachable' }> {
      checkInput(input, true);
      const { host } = input;
      const now = await bootIdIfAnswers(host);
      if (now === undefined) return { host, result: 'unreachable' };
      if (now !== input.bootIdBefore) return { host, result: 'already-rebooted' };
      try {
        // "stopping": a shutdown job is queued or running (systemd's manager_state()), e.g. the reboot an earlier attempt asked for
        const state = await runOn(ctx, host, ['systemctl', 'is-system-running'], { timeoutMs: 30_000, okExitCodes: [0, 1, 2, 3, 4, 5, 6, 7, 8] });
        if (state.stdout.trim() === 'stopping') return { host, result: 'rebooting' };
        const r = await runOn(ctx, host, ['systemctl', 'reboot'], { timeoutMs: 60_000 });
        expectSuccess(r, 'systemctl reboot');
      } catch (e) {
        if (droppedWhileRunning(e)) return { host, result: 'rebooting' }; // the host went down under the session
        if (isConnectionFailure(e)) return { host, result: 'unreachable' };
        throw e;
      }
      return { host, result: 'rebooting' };
    },

    /**
     * Polls hostnamectl (every 2 s, heartbeating `{ waitingFor, phase, elapsedMs }`) until the host
     * answers SSH with a boot id other than `bootIdBefore`. downAfterMs: when it was first seen not
     * answering. Past `timeoutMs`: HostNotBack, naming the host and what was seen last.
     */
    async waitLinuxHostRebooted(input: {
      host: string;
      bootIdBefore: string;
      timeoutMs: number;
    }): Promise<{ host: string; downAfterMs?: number; upAfterMs: number; bootId: string }> {
      checkInput(input, true);
      const { host } = input;
      const actx = Context.current();
      const t0 = Date.now();
      let downAfterMs: number | undefined;
      let last = 'nothing read yet';
      for (;;) {
        const id = await bootIdIfAnswers(host, 10_000);
        const elapsedMs = Date.now() - t0;
        if (id === undefined) {
          downAfterMs ??= elapsedMs;
          last = 'it does not answer SSH';
        } else if (id !== input.bootIdBefore) {
          return { host, ...(downAfterMs === undefined ? {} : { downAfterMs }), upAfterMs: elapsedMs, bootId: id };
        } else last = `it answers with the boot id it had before (${id})${downAfterMs === undefined ? ', never seen down' : ''}`;
        if (elapsedMs > input.timeoutMs) {
          throw ApplicationFailure.nonRetryable(
            `${host} did not come back within ${Math.round(input.timeoutMs / 1000)} s of its reboot: ${last}`,
            FAILURE.hostNotBack,
          );
        }
        actx.heartbeat({ waitingFor: host, phase: downAfterMs === undefined ? 'down' : 'up', elapsedMs });
        await sleepOrCancel(POLL_MS);
      }
    },
  };
}
