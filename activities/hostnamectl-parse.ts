// Pure parser for `hostnamectl` / `hostnamectl status` (systemd 252, Debian 12; test/fixtures/SOURCES.md
// "hostnamectl/").
//
// - src/hostname/hostnamectl.c print_status_info prints a two-column table
//   (src/shared/format-table.c, no header): "<label>: <value>", the labels
//   right-aligned to the widest one, one space between the columns. Rows whose
//   value is empty are left out, so only the order is fixed, not the set.
// - "Machine ID:" and "Boot ID:" are TABLE_ID128: 32 lowercase hex digits. The
//   boot id is the kernel's /proc/sys/kernel/random/boot_id, new at each boot:
//   what tells a rebooted host from one that did not reboot.
// - Without systemd or D-Bus it prints nothing on stdout and, on stderr, e.g.
//   "System has not been booted with systemd as init system (PID 1). Can't
//   operate." then "Failed to connect to bus: Host is down".

import { ParseError, ToolError, outputLines } from './parse-error';

const TOOL = 'hostnamectl';

const ROW = /^ *([A-Za-z][A-Za-z ]*): (.*)$/;
const ID128 = /^[0-9a-f]{32}$/;

export interface HostnamectlStatus {
  staticHostname: string;
  machineId?: string;
  bootId: string;
  /** Every row, label (without its colon) -> value. */
  fields: Record<string, string>;
}

/** `hostnamectl status`: the static hostname and boot id (required), the machine id, every row. */
export function parseHostnamectlStatus(stdout: string, stderr = ''): HostnamectlStatus {
  const errors = outputLines(stderr).filter((l) => l !== '');
  if (
    errors.some(
      (l) => /^Failed to (connect to bus|query system properties|get description): /.test(l) || l.startsWith('System has not been booted with systemd'),
    )
  ) {
    throw new ToolError(TOOL, 'no-systemd', errors.join('\n'));
  }
  const fields: Record<string, string> = {};
  outputLines(stdout).forEach((line, i) => {
    if (line === '') return;
    const m = ROW.exec(line);
    if (!m) throw new ParseError(TOOL, `line ${i + 1}: not a "Label: value" row`, line);
    if (Object.hasOwn(fields, m[1]!)) throw new ParseError(TOOL, `line ${i + 1}: ${m[1]} twice`, line);
    fields[m[1]!] = m[2]!;
  });
  const staticHostname = fields['Static hostname'];
  const bootId = fields['Boot ID'];
  const machineId = fields['Machine ID'];
  if (staticHostname === undefined) throw new ParseError(TOOL, 'no "Static hostname:" row');
  if (bootId === undefined) throw new ParseError(TOOL, 'no "Boot ID:" row');
  if (!ID128.test(bootId)) throw new ParseError(TOOL, 'Boot ID is not 32 lowercase hex digits', bootId);
  if (machineId !== undefined && !ID128.test(machineId)) throw new ParseError(TOOL, 'Machine ID is not 32 lowercase hex digits', machineId);
  return { staticHostname, bootId, ...(machineId === undefined ? {} : { machineId }), fields };
}
