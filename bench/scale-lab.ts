/**
 * The scale bench's lab, in a process of its own so that the bench's peak RSS is the worker's (with
 * the client), not the lab's model of 10,000 VMs and its 500 sshd. Prints one JSON line (what the
 * worker needs to reach the lab) once the lab serves, and stops the lab on SIGTERM or when stdin closes.
 *
 *   node --import tsx bench/scale-lab.ts HYPERVISORS VMS VM_STOP_MS VM_START_MS ADDRESS_BASE
 */
import { startLab } from '../lab';
import { generateTopology } from '../lab/topology';

async function main() {
  const [hypervisors, vms, vmStopMs, vmStartMs] = process.argv.slice(2, 6).map(Number);
  const addressBase = process.argv[6]!;
  const t0 = Date.now();
  const lab = await startLab({ topology: generateTopology({ hypervisors: hypervisors!, vms: vms! }), addressBase, vmStopMs, vmStartMs });
  const labStartSeconds = (Date.now() - t0) / 1000;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void lab.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  const { inventory, privateKeyPath, knownHostsPath, workerIpmitool } = lab;
  process.stdout.write(`${JSON.stringify({ inventory, privateKeyPath, knownHostsPath, workerIpmitool, labStartSeconds })}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
