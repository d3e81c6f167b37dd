/**
 * Lab CLI (run with tsx): start the seed lab in the foreground, inject faults into a running lab,
 * read its command log. `tsx lab/cli.ts --help` prints the commands (USAGE below).
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { startLab } from './index';
import type { ControlRequest } from './server';
import type { CommandLogEntry } from './model';

const DEFAULT_DIR = '/tmp/hvflow-lab';
const USAGE = `usage:
  tsx lab/cli.ts start [--dir DIR] [--time-scale X] [--gluster simulated|real]   run the seed lab in the foreground
  tsx lab/cli.ts fault KIND ARGS... [--dir DIR]                                   inject a fault into the running lab:
      crash HOST | unreachable HOST | restore HOST | power-on HOST
      hang-on-stop VM | slow-start VM MS | slow-heal VOLUME ENTRIES PER_SECOND
      gluster-busy COMMANDS   (the next COMMANDS gluster volume start/stop/set/rebalance answer "Another transaction is in progress")
      fleet-unavailable COMMANDS   (the next COMMANDS fleetctl commands answer "Error 503: fleet server unable to communicate with etcd")
      bmc-down HOST | bmc-up HOST                                (the host's BMC stops / starts answering ipmitool)
      cut-off-from-bmcs FROM | reconnect-to-bmcs FROM            (ipmitool run on FROM, a host, a BMC relay or @worker, reaches no BMC / does again)
  tsx lab/cli.ts log [HOST] [--dir DIR]                                           the commands the lab received
A running lab is reached through its socket, <dir>/lab.sock (default dir ${DEFAULT_DIR}).`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

function control(dir: string, op: ControlRequest['op'], args: (string | number)[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(path.join(dir, 'lab.sock'));
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify({ kind: 'control', op, args }) + '\n'));
    sock.on('data', (d: string) => (buf += d));
    sock.on('error', (e) => reject(new Error(`no lab running in ${dir}: ${e.message}`)));
    sock.on('close', () => {
      const r = JSON.parse(buf || '{"ok":false,"error":"no answer"}') as { ok: boolean; result?: unknown; error?: string };
      if (r.ok) resolve(r.result);
      else reject(new Error(r.error));
    });
  });
}

const FAULTS: Record<string, ControlRequest['op']> = {
  crash: 'crash',
  unreachable: 'unreachable',
  restore: 'restore',
  'power-on': 'powerOn',
  'hang-on-stop': 'hangOnStop',
  'slow-start': 'slowStart',
  'slow-heal': 'slowHeal',
  'gluster-busy': 'glusterBusy',
  'fleet-unavailable': 'fleetUnavailable',
  'bmc-down': 'bmcDown',
  'bmc-up': 'bmcUp',
  'cut-off-from-bmcs': 'cutOffFromBmcs',
  'reconnect-to-bmcs': 'reconnectToBmcs',
};

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  const dir = path.resolve(option(args, '--dir') ?? DEFAULT_DIR);
  const [cmd, ...rest] = args;
  if (cmd === 'start') {
    const timeScale = Number(option(rest, '--time-scale') ?? 1);
    const gluster = option(rest, '--gluster');
    if (gluster !== undefined && gluster !== 'simulated' && gluster !== 'real')
      throw new Error(`--gluster: ${JSON.stringify(gluster)} must be simulated or real`);
    const lab = await startLab({ dir, timeScale, gluster });
    const top = lab.inventory.hypervisors[0];
    console.log(`hvflow lab running in ${dir} (${Object.keys(lab.hosts).length} hosts, ${lab.gluster ? 'real' : 'simulated'} GlusterFS)`);
    console.log(`inventory:   ${lab.inventoryPath}`);
    console.log(`ssh key:     ${lab.privateKeyPath}`);
    console.log(`known_hosts: ${lab.knownHostsPath}`);
    console.log(
      `point the worker at it: HVFLOW_INVENTORY=${lab.inventoryPath} HVFLOW_SSH_KEY=${lab.privateKeyPath} HVFLOW_KNOWN_HOSTS=${lab.knownHostsPath} npm run worker`,
    );
    console.log(
      `try:         ssh -i ${lab.privateKeyPath} -o UserKnownHostsFile=${lab.knownHostsPath} -p ${top.sshPort ?? lab.inventory.ssh.port} ${lab.inventory.ssh.user}@${top.address} fleetctl list-machines`,
    );
    console.log('Ctrl-C stops the lab.');
    const stop = () => void lab.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    setInterval(() => undefined, 1 << 30);
    return;
  }
  if (cmd === 'fault') {
    const [kind, ...params] = rest;
    const op = FAULTS[kind];
    if (!op) throw new Error(`unknown fault ${kind}; one of ${Object.keys(FAULTS).join(', ')}`);
    await control(
      dir,
      op,
      params.map((p) => (/^\d+(\.\d+)?$/.test(p) ? Number(p) : p)),
    );
    console.log(`${kind} ${params.join(' ')}: done`);
    return;
  }
  if (cmd === 'log') {
    const entries = (await control(dir, 'log', rest.slice(0, 1))) as CommandLogEntry[];
    for (const e of entries) {
      const state = e.cancelled ? 'cancelled' : e.exitCode === undefined ? 'running' : `exit ${e.exitCode}`;
      console.log(`${new Date(e.time).toISOString()} ${e.host.padEnd(10)} ${state.padEnd(9)} ${e.mutating ? '*' : ' '} ${e.argv.join(' ')}`);
    }
    return;
  }
  const help = cmd === '--help' || cmd === 'help' || cmd === '-h';
  (help ? console.log : console.error)(USAGE); // asked for: stdout, exit 0; a wrong command: stderr, exit 2
  if (!help) process.exitCode = 2;
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
