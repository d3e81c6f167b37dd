/**
 * The gate between activities and remote shells: a host must be a hypervisor of the inventory
 * and match the strict host-name rule before anything is sent; the command is built from an argv
 * by the one quoting helper (inside SshPool). Tool modules call only `runOn` — but for ipmitool,
 * which may also run on a BMC relay of the inventory (`ipmiTargetOf`, used by activities/power.ts only).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ParseError, ToolError } from './parse-error';
import type { Inventory } from '../domain/inventory';
import { bmcRelay, hookHost, hypervisor, type BmcRelay } from '../domain/inventory';
import { assertHostName } from '../domain/names';
import { runFromActivity, type RunOptions, type RunResult, type SshPool, type SshTarget } from './ssh';
import { FAILURE } from '../domain/contract';

export interface ToolContext {
  inventory: Inventory;
  pool: SshPool;
  /**
   * BMC credentials (the password read at use from the worker configuration, never stored in
   * history) and the worker's own ipmitool (HVFLOW_IPMITOOL, default `ipmitool` on PATH).
   */
  ipmi?: { user: string; password: () => string; ipmitool?: string };
}

/** Refuses a host that is not in the inventory with a non-retryable failure naming the field. */
export function targetOf(inv: Inventory, host: unknown, field = 'host'): SshTarget {
  try {
    assertHostName(host, field);
    const h = hypervisor(inv, host, field);
    return { host: h.name, address: h.address, port: h.sshPort ?? inv.ssh.port, user: h.sshUser ?? inv.ssh.user };
  } catch (e) {
    throw ApplicationFailure.nonRetryable((e as Error).message, FAILURE.invalidInput);
  }
}

/**
 * A hypervisor, or a host of the inventory that hvflow logs in to for one tool only (a BMC relay for
 * ipmitool, a hook host for hooks), found by `lookup`: its SSH target, or a non-retryable failure
 * naming the field.
 */
function hypervisorOr(inv: Inventory, host: unknown, field: string, lookup: (inv: Inventory, name: string, field: string) => BmcRelay): SshTarget {
  try {
    assertHostName(host, field);
    if (inv.hypervisors.some((h) => h.name === host)) return targetOf(inv, host, field);
    const r = lookup(inv, host, field);
    return { host: r.name, address: r.address, port: r.sshPort ?? inv.ssh.port, user: r.sshUser ?? inv.ssh.user };
  } catch (e) {
    if (e instanceof ApplicationFailure) throw e;
    throw ApplicationFailure.nonRetryable((e as Error).message, FAILURE.invalidInput);
  }
}

/**
 * Where ipmitool may run over SSH: a hypervisor, or a BMC relay of the inventory (`bmcRelays`). A
 * relay is no managed host: activities/power.ts runs ipmitool there and nothing else.
 */
export function ipmiTargetOf(inv: Inventory, host: unknown, field = 'via'): SshTarget {
  return hypervisorOr(inv, host, field, bmcRelay);
}

/** Where a hook may run: a hypervisor, or a hook host of the inventory (`hookHosts`), where hvflow runs hooks only. */
export function hookTargetOf(inv: Inventory, host: unknown, field = 'on'): SshTarget {
  return hypervisorOr(inv, host, field, hookHost);
}

export async function runOn(ctx: ToolContext, host: string, argv: string[], opts?: RunOptions): Promise<RunResult> {
  return runFromActivity(ctx.pool, targetOf(ctx.inventory, host), argv, opts);
}

/**
 * Runs a parser on a tool's output. Output the parser does not understand, or a failure the tool
 * reports, becomes a non-retryable failure quoting the tool: retrying would read the same text.
 */
export function parsed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ParseError) throw ApplicationFailure.nonRetryable(e.message, FAILURE.parseError);
    if (e instanceof ToolError)
      throw ApplicationFailure.create({ message: e.message, type: FAILURE.toolError, nonRetryable: true, details: [{ code: e.code }] });
    throw e;
  }
}

/** Sleeps between polls; an activity cancellation ends the wait at once. */
export function sleepOrCancel(ms: number): Promise<void> {
  return Context.current().sleep(ms);
}
