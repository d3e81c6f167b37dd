/**
 * Quorum rules for replicated services (etcd members, and any other majority-based service).
 *
 * Rule (DESIGN.md, seed 000): never take a member down if the healthy members left would be below
 * quorum, floor(n/2)+1 of the n members. A member that is already unhealthy is not a loss when it is
 * stopped, but the rule is about what is left: if the cluster is already below quorum, stopping any
 * member is refused too (the operator must investigate first, seed 001).
 *
 * Pure module: no Node APIs, workflows import it.
 */
import { listNames } from './cluster';

/** Majority of n members: floor(n/2)+1. */
export function quorumSize(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`quorumSize: ${n} is not a number of members`);
  return Math.floor(n / 2) + 1;
}

export interface MemberStopInput {
  /** Every member of the cluster (its configured size counts, healthy or not). */
  members: string[];
  /** Members reported healthy right now (names that are not members are ignored). */
  healthy: string[];
  /** The member about to be taken down. */
  stopping: string;
  /** What runs on the members, for the message: "etcd". Default: "the member". */
  service?: string;
}

export interface MemberStopCheck {
  ok: boolean;
  quorum: number;
  /** Healthy members once `stopping` is down, in `members` order. */
  healthyAfter: string[];
  /** Members already unhealthy before the stop (`stopping` excluded), in `members` order. */
  alreadyDown: string[];
  /** Why it is refused; also set, as a note, when the stop is allowed for a particular reason. */
  reason?: string;
}

export function checkMemberStop(input: MemberStopInput): MemberStopCheck {
  const members = [...new Set(input.members)];
  const healthy = new Set(input.healthy.filter((m) => members.includes(m)));
  const n = members.length;
  const quorum = quorumSize(n);
  const healthyAfter = members.filter((m) => healthy.has(m) && m !== input.stopping);
  const alreadyDown = members.filter((m) => !healthy.has(m) && m !== input.stopping);
  const what = input.service ? `${input.service} on ${input.stopping}` : input.stopping;
  const downNote = alreadyDown.length ? ` (${listNames(alreadyDown)} already down)` : '';
  const left = `${healthyAfter.length} healthy member${healthyAfter.length === 1 ? '' : 's'} of ${n}`;

  if (!members.includes(input.stopping)) {
    const ok = healthyAfter.length >= quorum;
    return {
      ok,
      quorum,
      healthyAfter,
      alreadyDown,
      reason: ok
        ? `${input.stopping} is not a member; stopping it leaves ${left}${downNote}; quorum is ${quorum}`
        : `${input.stopping} is not a member, but the cluster is already below quorum: ${left}${downNote}; quorum is ${quorum}`,
    };
  }
  const wasHealthy = healthy.has(input.stopping);
  const ok = healthyAfter.length >= quorum;
  if (wasHealthy) {
    return ok
      ? { ok, quorum, healthyAfter, alreadyDown }
      : { ok, quorum, healthyAfter, alreadyDown, reason: `stopping ${what} would leave ${left}${downNote}; quorum is ${quorum}` };
  }
  // Already unhealthy: not a loss, but what is left decides.
  const down = members.filter((m) => !healthy.has(m));
  const reason = ok
    ? `${input.stopping} is already unhealthy, stopping ${what} loses nothing: ${left} stay (${listNames(down)} down); quorum is ${quorum}`
    : `the cluster is already below quorum: ${left} (${listNames(down)} down); quorum is ${quorum}`;
  return { ok, quorum, healthyAfter, alreadyDown, reason };
}
