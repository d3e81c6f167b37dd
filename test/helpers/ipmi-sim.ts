/**
 * One real BMC for tests: OpenIPMI's `ipmi_sim` (Debian's openipmi) serving IPMI-over-LAN (RMCP+,
 * what `ipmitool -I lanplus` speaks) on ADDRESS:623, with one admin user. Its chassis is a file:
 * ipmi_sim runs `chassis_control` to get and set the power, and the script here keeps it in
 * `<dir>/power` (0 off, 1 on).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const IPMI_SIM = '/usr/bin/ipmi_sim';

export interface IpmiSimBmc {
  address: string;
  /** The chassis power as the BMC's chassis_control last set it. */
  power(): 'on' | 'off';
  /** The chassis control program's calls (`0x20 get power`, `0x20 set power 1`). */
  calls(): string[];
  stop(): Promise<void>;
}

/** `<mc> get power` prints `power:<0|1>`; `<mc> set power <0|1>` stores it (OpenIPMI lanserv chassis_control). */
const CHASSIS_CONTROL = `#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls"
case "$2" in
  get) shift 2; for p in "$@"; do [ "$p" = power ] && echo "power:$(cat "$dir/power")"; done ;;
  set) [ "$3" = power ] && echo "$4" > "$dir/power" ;;
esac
exit 0
`;

export async function startIpmiSim(o: { dir: string; address: string; user: string; password: string; power?: 'on' | 'off' }): Promise<IpmiSimBmc> {
  await fsp.mkdir(path.join(o.dir, 'state'), { recursive: true });
  const chassis = path.join(o.dir, 'chassis-control');
  await fsp.writeFile(chassis, CHASSIS_CONTROL, { mode: 0o755 });
  await fsp.writeFile(path.join(o.dir, 'power'), o.power === 'on' ? '1\n' : '0\n');
  await fsp.writeFile(path.join(o.dir, 'calls'), '');
  const q = (s: string) => JSON.stringify(s);
  await fsp.writeFile(
    path.join(o.dir, 'lan.conf'),
    [
      'name "hvflowtest"',
      'set_working_mc 0x20',
      '  startlan 1',
      `    addr ${o.address} 623`,
      '    priv_limit admin',
      ...['callback', 'user', 'operator', 'admin'].map((p) => `    allowed_auths_${p} none md2 md5 straight`),
      '    guid a123456789abcdefa123456789abcdef',
      '  endlan',
      `  chassis_control "${chassis} 0x20"`,
      `  user 2 true ${q(o.user)} ${q(o.password)} admin 10 none md2 md5 straight`,
      '',
    ].join('\n'),
  );
  // A BMC with no SDRs (mc_add IPMB device-id has-device-sdrs device-rev fw-major fw-minor support mfg product).
  await fsp.writeFile(path.join(o.dir, 'sim.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n');
  const log = await fsp.open(path.join(o.dir, 'ipmi_sim.log'), 'w');
  // -n: no console on stdin (it would need a terminal).
  const child: ChildProcess = spawn(IPMI_SIM, ['-c', 'lan.conf', '-f', 'sim.emu', '-s', path.join(o.dir, 'state'), '-n'], {
    cwd: o.dir,
    stdio: ['ignore', log.fd, log.fd],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await log.close();
  await waitListening(o.address, child, o.dir);
  return {
    address: o.address,
    power: () => (readFileSync(path.join(o.dir, 'power'), 'utf8').trim() === '1' ? 'on' : 'off'),
    calls: () => readFileSync(path.join(o.dir, 'calls'), 'utf8').split('\n').filter(Boolean),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Until ipmi_sim listens on ADDRESS:623 (ss; a probe bind could take the port from it), or exits. */
async function waitListening(address: string, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`ipmi_sim exited at start: ${existsSync(path.join(dir, 'ipmi_sim.log')) ? readFileSync(path.join(dir, 'ipmi_sim.log'), 'utf8') : ''}`);
    if (execFileSync('ss', ['-Huln', 'src', `${address}:623`], { encoding: 'utf8' }).trim()) return;
    if (Date.now() > deadline) throw new Error(`ipmi_sim does not listen on ${address}:623`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
