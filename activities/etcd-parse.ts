/**
 * Pure parsers of etcdctl's health output (no Node APIs: safe to import anywhere).
 *
 * Formats, as printed by Debian 12's etcdctl 3.4.23 (fixtures in test/fixtures/etcd):
 *
 * v2 (`ETCDCTL_API=2 etcdctl -C <url> cluster-health`), everything on stdout:
 *   member 21ba43a3db03bf64 is healthy: got healthy result from https://top1.example:2379
 *   member 33a780d2016e5606 is unhealthy: got unhealthy result from http://127.0.3.11:2379
 *   failed to check the health of member 791eb83500a2aeaa on http://127.0.3.14:2379: Get "...": dial tcp ...: connect: connection refused
 *   member 791eb83500a2aeaa is unreachable: [http://127.0.3.14:2379] are all unreachable
 *   member 791eb83500a2aeaa is unreachable: no available published client urls
 *   cluster is healthy | cluster is degraded | cluster is unavailable   (older etcdctl: cluster is unhealthy)
 *   cluster may be unhealthy: failed to list members        (then "Error: ..." on stderr, exit 4)
 * Exit codes: 0 healthy, 5 degraded / unavailable, 4 member list failed.
 *
 * v3 (`ETCDCTL_API=3 etcdctl --endpoints <url> endpoint health --cluster`); 3.4 prints every result
 * line on STDERR (3.5+ prints the healthy ones on stdout), in no particular order:
 *   http://127.0.3.11:2379 is healthy: successfully committed proposal: took = 5.292877ms
 *   http://127.0.3.14:2379 is unhealthy: failed to commit proposal: context deadline exceeded
 *   Error: unhealthy cluster
 *   Error: failed to fetch endpoints from etcd cluster member list: context deadline exceeded
 *   {"level":"warn",...,"msg":"retrying of unary invoker failed",...}     (client log noise, ignored)
 * Exit codes: 0 all healthy, 1 otherwise.
 */

export interface EtcdMemberHealth {
  /** Member ID (hex) for v2; v3 output carries no ID, so there it is the endpoint URL. */
  id: string;
  /** First DNS label of the URL's host when it is a host name (top1.mg1.hpc.domain.fr -> top1), or set by withMemberNames. */
  name?: string;
  /** Client URL checked (the first one listed when a member advertises several). */
  url: string;
  healthy: boolean;
  /** Why the member is not healthy (the tool's own words). */
  reason?: string;
}

export interface EtcdHealthReport {
  members: EtcdMemberHealth[];
  /** True only if at least one member was reported, every member is healthy and the tool reported no error. */
  clusterHealthy: boolean;
  /** The tool's own verdict line, when it printed one (v2: healthy / degraded / unavailable / unhealthy). */
  verdict?: 'healthy' | 'degraded' | 'unavailable' | 'unhealthy';
  /** A tool-level failure (member list unavailable, "Error: ..." line). */
  error?: string;
}

const V2_MEMBER = /^member ([0-9a-f]+) is (healthy|unhealthy): got (?:healthy|unhealthy) result from (\S+)\s*$/;
const V2_UNREACHABLE = /^member ([0-9a-f]+) is unreachable: (?:\[([^\]]*)\] are all unreachable|(.+))$/;
const V2_FAILED = /^failed to check the health of member ([0-9a-f]+) on (\S+?): (.*)$/;
const V2_VERDICT = /^cluster is (healthy|degraded|unavailable|unhealthy)\s*$/;
const V2_LIST_FAILED = /^cluster may be unhealthy: (.*)$/;

const V3_HEALTHY = /^(\S+) is healthy: (.*)$/;
const V3_UNHEALTHY = /^(\S+) is unhealthy: (.*)$/;
const TOOL_ERROR = /^Error:\s*(.*)$/;

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** top1.mg1.hpc.domain.fr -> top1; IP literals and unparsable URLs -> undefined. */
export function nameFromUrl(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]*\]|[^/:]+)/i.exec(url);
  if (!m) return undefined;
  const host = m[1];
  if (host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return undefined;
  const label = host.split('.')[0];
  return label || undefined;
}

function member(id: string, url: string, healthy: boolean, reason?: string): EtcdMemberHealth {
  const m: EtcdMemberHealth = { id, url, healthy };
  const name = nameFromUrl(url);
  if (name !== undefined) m.name = name;
  if (reason !== undefined) m.reason = reason;
  return m;
}

function finish(members: EtcdMemberHealth[], verdict: EtcdHealthReport['verdict'], error: string | undefined): EtcdHealthReport {
  const r: EtcdHealthReport = {
    members,
    clusterHealthy: members.length > 0 && members.every((m) => m.healthy) && error === undefined && (verdict === undefined || verdict === 'healthy'),
  };
  if (verdict !== undefined) r.verdict = verdict;
  if (error !== undefined) r.error = error;
  return r;
}

/**
 * Parses `etcdctl cluster-health` (v2 API). Pass stderr too to get the error detail when the member
 * list could not be fetched. With `--forever`, only the last complete round is kept.
 */
export function parseClusterHealthV2(stdout: string, stderr = ''): EtcdHealthReport {
  let members: EtcdMemberHealth[] = [];
  let failures = new Map<string, string[]>();
  let verdict: EtcdHealthReport['verdict'];
  let error: string | undefined;
  let roundDone = false;

  for (const line of lines(stdout)) {
    let m: RegExpExecArray | null;
    if (roundDone && (V2_MEMBER.test(line) || V2_UNREACHABLE.test(line) || V2_FAILED.test(line))) {
      // --forever: a new round starts.
      members = [];
      failures = new Map();
      verdict = undefined;
      roundDone = false;
    }
    if ((m = V2_MEMBER.exec(line))) {
      const healthy = m[2] === 'healthy';
      members.push(member(m[1], m[3], healthy, healthy ? undefined : 'got unhealthy result'));
    } else if ((m = V2_FAILED.exec(line))) {
      const list = failures.get(m[1]) ?? [];
      list.push(`${m[2]}: ${m[3]}`);
      failures.set(m[1], list);
    } else if ((m = V2_UNREACHABLE.exec(line))) {
      const urls = (m[2] ?? '').split(/\s+/).filter(Boolean);
      const detail = failures.get(m[1]);
      const reason = detail?.length ? `unreachable: ${detail.join('; ')}` : `unreachable: ${m[3] ?? 'all client URLs unreachable'}`;
      members.push(member(m[1], urls[0] ?? '', false, reason));
    } else if ((m = V2_VERDICT.exec(line))) {
      verdict = m[1] as EtcdHealthReport['verdict'];
      roundDone = true;
    } else if ((m = V2_LIST_FAILED.exec(line))) {
      error = m[1];
    }
  }
  const detail = lines(stderr).find((l) => TOOL_ERROR.test(l));
  if (detail !== undefined) {
    const d = TOOL_ERROR.exec(detail)![1].trim();
    error = error !== undefined ? `${error}: ${d}` : d;
  }
  return finish(members, verdict, error);
}

/**
 * Parses `etcdctl endpoint health [--cluster]` (v3 API, simple output). Result lines are accepted on
 * either stream (3.4 prints all of them on stderr); client log lines (JSON) are ignored.
 */
export function parseEndpointHealthV3(stdout: string, stderr: string): EtcdHealthReport {
  const byUrl = new Map<string, EtcdMemberHealth>();
  let error: string | undefined;
  for (const line of [...lines(stdout), ...lines(stderr)]) {
    if (line.startsWith('{')) continue;
    let m: RegExpExecArray | null;
    if ((m = TOOL_ERROR.exec(line))) {
      error = error === undefined ? m[1].trim() : `${error}; ${m[1].trim()}`;
    } else if ((m = V3_UNHEALTHY.exec(line))) {
      byUrl.set(m[1], member(m[1], m[1], false, m[2]));
    } else if ((m = V3_HEALTHY.exec(line))) {
      byUrl.set(m[1], member(m[1], m[1], true));
    }
  }
  const members = [...byUrl.values()].sort((a, b) => a.url.localeCompare(b.url, 'en', { numeric: true }));
  return finish(members, undefined, error);
}

/** Fills `name` from a name -> client URL map (e.g. the lab's endpoints or the inventory). */
export function withMemberNames(report: EtcdHealthReport, endpoints: Record<string, string>): EtcdHealthReport {
  const norm = (u: string) => u.replace(/\/+$/, '');
  const byUrl = new Map(Object.entries(endpoints).map(([name, url]) => [norm(url), name]));
  return {
    ...report,
    members: report.members.map((m) => {
      const name = byUrl.get(norm(m.url));
      return name === undefined ? m : { ...m, name };
    }),
  };
}
