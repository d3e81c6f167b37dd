/**
 * Whether a per-host step (power off, power on, unmount, mount, start fleet) runs as one activity for
 * all its hosts (activities/each-host.ts) rather than one activity per host: 500 activities cost the
 * server and the workflow more than the commands. Procedures whose history already ran a step the old
 * way replay it the old way (README, "Upgrading hvflow").
 */
import { patched } from '@temporalio/workflow';
import { HOSTS_AT_ONCE } from '../domain/contract';

export function hostBatches(): boolean {
  return patched('hvflow-host-batches');
}

/** The start-to-close bound (ms) of one such activity: the 5 minutes one host had, per round of HOSTS_AT_ONCE hosts. */
export function hostsTimeout(hosts: readonly string[]): number {
  return 5 * 60_000 * Math.max(1, Math.ceil(hosts.length / HOSTS_AT_ONCE));
}
