// Pure parsers for `ipmitool -I lanplus -H BMC -U USER -E power status|on|off|...`
// (ipmitool 1.8.19, Debian 12).
//
// - lib/ipmi_chassis.c ipmi_chassis_print_power_status:
//     printf("Chassis Power is %s\n", ps ? "on" : "off")
// - lib/ipmi_chassis.c ipmi_chassis_power_control:
//     printf("Chassis Power Control: %s\n", val2str(ctl, ipmi_chassis_power_control_vals))
//   with lib/ipmi_strings.c ipmi_chassis_power_control_vals:
//     Down/Off, Up/On, Cycle, Reset, Diag, Soft
// - failures (lprintf LOG_ERR -> stderr): ipmi_chassis.c "Unable to get Chassis
//   Power Status", "Get Chassis Power Status failed: %s", "Unable to set Chassis
//   Power Control to %s", "Set Chassis Power Control to %s failed: %s";
//   ipmi_chassis_power_main "Invalid chassis power command: %s";
//   src/plugins/lanplus/lanplus.c "Error: Unable to establish IPMI v2 / RMCP+
//   session" (after its own diagnostics); lib/ipmi_main.c "Unable to read
//   password from environment" (-E without IPMI_PASSWORD; ipmitool then asks
//   "Password: " without a newline).
// - lib/ipmi_channel.c ipmi_get_channel_cipher_suites: "Unable to Get Channel
//   Cipher Suites" / "Get Channel Cipher Suites failed: %s" (LOG_ERR, stderr)
//   when the BMC does not list its cipher suites; lanplus then opens the session
//   with suite 3 and the command goes on (captured against OpenIPMI's ipmi_sim):
//   a note, not a failure.

import { ParseError, ToolError, outputLines } from './parse-error';

const TOOL = 'ipmitool';

export type PowerState = 'on' | 'off';
export type IpmiPowerControl = 'Down/Off' | 'Up/On' | 'Cycle' | 'Reset' | 'Diag' | 'Soft';
const CONTROLS: readonly string[] = ['Down/Off', 'Up/On', 'Cycle', 'Reset', 'Diag', 'Soft'];

const SESSION_FAILED = 'Error: Unable to establish IPMI v2 / RMCP+ session';

/**
 * Classify ipmitool's failure messages. Codes:
 *  - 'no-password': -E given but IPMI_PASSWORD unset (configuration, not retryable)
 *  - 'session': no RMCP+ session (BMC unreachable, bad credentials): retryable
 *  - 'no-response': the BMC did not answer the command
 *  - 'command': the BMC answered with an error completion code
 *  - 'usage': ipmitool rejected the command line
 */
function checkFailures(ls: string[]): void {
  const text = ls.join('\n');
  if (ls.includes('Unable to read password from environment')) throw new ToolError(TOOL, 'no-password', text);
  if (ls.includes(SESSION_FAILED)) throw new ToolError(TOOL, 'session', text);
  for (const l of ls) {
    if (l === 'Unable to get Chassis Power Status' || /^Unable to set Chassis Power Control to /.test(l)) throw new ToolError(TOOL, 'no-response', text);
    if (/^Get Chassis Power Status failed: /.test(l) || /^Set Chassis Power Control to .* failed: /.test(l)) throw new ToolError(TOOL, 'command', text);
    if (/^Invalid chassis power command: /.test(l)) throw new ToolError(TOOL, 'usage', text);
  }
}

const CIPHER_SUITES_NOTE = /^(Unable to Get Channel Cipher Suites|Get Channel Cipher Suites failed: .*)$/;

function prepare(stdout: string, stderr: string): string[] {
  // "Password: " (no newline) glues itself to the next message.
  return outputLines(stdout, stderr)
    .map((l) => (l.startsWith('Password: ') ? l.slice('Password: '.length) : l))
    .filter((l) => !CIPHER_SUITES_NOTE.test(l));
}

/** `ipmitool ... power status` (alias of `chassis power status`). */
export function parseIpmiPowerStatus(stdout: string, stderr = ''): PowerState {
  const ls = prepare(stdout, stderr);
  checkFailures(ls);
  const content = ls.filter((l) => l !== '');
  if (content.length !== 1) {
    throw new ParseError(TOOL, `power status: expected one "Chassis Power is on|off" line, got ${content.length} line(s)`, content.join(' | '));
  }
  const m = /^Chassis Power is (on|off)$/.exec(content[0]!);
  if (!m) throw new ParseError(TOOL, 'power status: unrecognized line', content[0]);
  return m[1] as PowerState;
}

/** `ipmitool ... power on|off|cycle|reset|diag|soft`: the control the BMC accepted. */
export function parseIpmiPowerControl(stdout: string, stderr = ''): IpmiPowerControl {
  const ls = prepare(stdout, stderr);
  checkFailures(ls);
  const content = ls.filter((l) => l !== '');
  if (content.length !== 1) {
    throw new ParseError(TOOL, `power control: expected one "Chassis Power Control: ..." line, got ${content.length} line(s)`, content.join(' | '));
  }
  const m = /^Chassis Power Control: (.+)$/.exec(content[0]!);
  if (!m || !CONTROLS.includes(m[1]!)) throw new ParseError(TOOL, 'power control: unrecognized line', content[0]);
  return m[1] as IpmiPowerControl;
}
