/**
 * hostnamectl [status] (systemd 252, Debian 12), as src/hostname/hostnamectl.c print_status_info
 * prints it: a two-column table (src/shared/format-table.c), no header, the labels right-aligned to
 * the widest, one space between the columns, the last column's padding dropped. The machine's
 * identity is the model's: its name, its machine id (fleet's, /etc/machine-id), and the boot id of
 * its current boot (a new one at each power-on, LabModel.powerOn); the hardware lines are the lab's
 * (every host the same server). `hostnamectl hostname` prints the host name alone.
 * Fixture: test/fixtures/hostnamectl (SOURCES.md "hostnamectl/").
 */
import type { MachineState } from '../model';
import { takeFlags, type Tool } from './types';

/** What print_status_info prints for a lab host, in its order (the rows it leaves out are empty there). */
export function hostnamectlRows(m: MachineState): [string, string][] {
  return [
    ['Static hostname:', m.name],
    ['Icon name:', 'computer-server'],
    // chassis_string_to_glyph: "server" gets U+1F5B3 OLD PERSONAL COMPUTER
    ['Chassis:', 'server \u{1F5B3}'],
    ['Machine ID:', m.machineId],
    ['Boot ID:', m.bootId],
    ['Operating System:', 'Debian GNU/Linux 12 (bookworm)'],
    ['Kernel:', 'Linux 6.1.0-28-amd64'],
    ['Architecture:', 'x86-64'],
    ['Hardware Vendor:', 'Dell Inc.'],
    ['Hardware Model:', 'PowerEdge R640'],
  ];
}

export const hostnamectl: Tool = async (ctx) => {
  const { rest } = takeFlags(ctx.args, ['H', 'host', 'M', 'machine', 'json']);
  const verb = rest[0] ?? 'status';
  const m = ctx.model.machine(ctx.host);
  if (verb === 'hostname' && rest.length === 1) {
    ctx.out(`${m.name}\n`);
    return 0;
  }
  if (verb !== 'status' || rest.length > 1) {
    ctx.err('hostnamectl: the lab simulates only `hostnamectl [status]` and `hostnamectl hostname`\n');
    return 1;
  }
  const rows = hostnamectlRows(m);
  const width = Math.max(...rows.map(([k]) => k.length));
  ctx.out(rows.map(([k, v]) => `${k.padStart(width)} ${v}\n`).join(''));
  return 0;
};
