/**
 * ipmitool -I lanplus -H BMC -U user -E chassis power on|off|status|cycle|soft (and "power ..."),
 * as ipmitool 1.8.19 prints it (lib/ipmi_main.c, lib/ipmi_chassis.c). Without a password (-E with
 * neither IPMITOOL_PASSWORD nor IPMI_PASSWORD set, no -P) ipmitool prompts "Password: " (getpass,
 * no newline, on stderr without a tty), reads nothing and fails to open the session; an address
 * that is no lab BMC, a BMC that is down (fault bmcDown) and a place cut off from the BMC network
 * (fault cutOffFromBmcs) fail the way a BMC that does not answer does
 * (test/fixtures/ipmitool/captured-power-status-no-bmc: exit 1; real ipmitool gives up after ~20 s).
 *
 * It runs in a lab host's SSH session, on a BMC relay's (lab/index.ts), or on the worker itself:
 * the lab writes the worker's ipmitool (HVFLOW_IPMITOOL) into its dir, logged as from WORKER_ORIGIN.
 */
import { takeFlags, type Tool } from './types';

/** The command log's host for ipmitool run by the hvflow worker itself (no lab host is named so). */
export const WORKER_ORIGIN = '@worker';
const NO_SESSION = 'Error: Unable to establish IPMI v2 / RMCP+ session\n';

export const ipmitool: Tool = async (ctx) => {
  const { flags, rest } = takeFlags(ctx.args, ['I', 'H', 'U', 'P', 'p', 'L']);
  const words = rest[0] === 'chassis' ? rest.slice(1) : rest;
  const bmc = flags.get('H');
  const fromEnv = ctx.env.IPMITOOL_PASSWORD ?? ctx.env.IPMI_PASSWORD;
  if (flags.has('E') && fromEnv === undefined) ctx.err('Unable to read password from environment\n');
  if (!(flags.has('E') && fromEnv !== undefined) && !flags.has('P')) {
    ctx.err('Password: Error: Unable to establish IPMI v2 / RMCP+ session\n');
    return 1;
  }
  const m = [...ctx.model.machines.values()].find((x) => x.bmc === bmc);
  if (!m || ctx.model.bmcsDown.has(m.name) || ctx.model.bmcCutOff.has(ctx.host)) {
    ctx.err(NO_SESSION);
    return 1;
  }
  if (words[0] !== 'power') {
    ctx.err(`Invalid command: ${words.join(' ')}\n`);
    return 1;
  }
  switch (words[1]) {
    case 'status':
      ctx.out(`Chassis Power is ${m.power ? 'on' : 'off'}\n`);
      return 0;
    case 'on':
      ctx.mutating();
      await ctx.model.powerOn(m.name);
      ctx.out('Chassis Power Control: Up/On\n');
      return 0;
    case 'off':
      ctx.mutating();
      await ctx.model.crash(m.name); // a hard power off: nothing is stopped cleanly
      ctx.out('Chassis Power Control: Down/Off\n');
      return 0;
    case 'soft':
      ctx.mutating();
      void ctx.model.shutdown(m.name);
      ctx.out('Chassis Power Control: Soft\n');
      return 0;
    case 'cycle':
    case 'reset':
      ctx.mutating();
      await ctx.model.crash(m.name);
      await ctx.model.powerOn(m.name);
      ctx.out(`Chassis Power Control: ${words[1] === 'cycle' ? 'Cycle' : 'Reset'}\n`);
      return 0;
    default:
      ctx.err('chassis power Commands: status, on, off, cycle, reset, diag, soft\n');
      return 1;
  }
};
