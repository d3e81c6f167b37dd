// Pure parsers for fping 5.1 (Debian 12), src/fping.c v5.1:
//
// - default / -e output (verbose_flag): on the first reply
//     printf("%s", host); printf(" is alive"); [-e] printf(" (%s ms)", sprint_tm(rtt))
//   and at the end, for each host without reply: "%s is unreachable".
//   sprint_tm prints 3 significant digits ("0.040", "1.30", "12.3", "123");
//   older fping (3.x) printed e.g. "0.04": any decimal is accepted.
//   A reply from another address adds " [<- ADDR]" on stderr.
// - -C N (report_all_rtts_flag): per reply/timeout on stdout (unless -q)
//     "%-*s : [%d], %d bytes, %s ms (%s avg, %d%% loss)"
//     "%-*s : [%d], timed out (NaN avg, 100% loss)" (or "(%s avg, ..." once a reply came)
//   then on stderr, after a blank line, the summary "%-*s :" + " %s" / " -" per ping.
// - stderr diagnostics: "%s: %s" for a name that does not resolve
//   (getaddrinfo error, e.g. "nosuchhost: Name or service not known"),
//   "ICMP ... from ADDR for ICMP Echo sent to HOST", "%s: error while sending
//   ping: %s" (ignored: the host still ends up alive or unreachable).
// - fping's own failures start with argv[0] + ": " (e.g. "fping: can't create socket
//   (must run as root?)"): ToolError 'failed'.
// Exit status: 0 all alive, 1 some unreachable, 2 some address not found.

import { ParseError, ToolError, outputLines } from './parse-error';

const TOOL = 'fping';

export interface FpingHost {
  host: string;
  alive: boolean;
  /** -e: round-trip time of the first reply, in ms. */
  rttMs?: number;
  /** Reply came from another address (" [<- ADDR]"). */
  replyFrom?: string;
  /** The name did not resolve (getaddrinfo message); such a host is not alive. */
  error?: string;
}

const NUM = '(?:\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)';
const ALIVE = new RegExp(`^(\\S+) is alive(?: \\((${NUM}) ms\\))?(?: \\[<- (\\S+)\\])?$`);
const UNREACHABLE = /^(\S+) is unreachable$/;
const ICMP_DIAG = /^(?:ICMP .+|.+) from \S+ for ICMP Echo sent to \S+$|^\S+: error while sending ping: |^\S+: can't forward-lookup address \(/;
const RESOLVE_ERROR = /^(\S+): (.+)$/;
const PER_PING = new RegExp(
  `^(\\S+)\\s+: \\[(\\d+)\\], (?:\\d+ bytes, ${NUM} ms \\((?:${NUM}|NaN) avg, \\d+% (?:loss|return)\\)|timed out \\((?:${NUM}|NaN) avg, \\d+% (?:loss|return)\\))$`,
);

/**
 * `fping HOST...` or `fping -e HOST...`: one result per host, in order of
 * first appearance. Pass stderr to see name-resolution failures. With
 * `hosts`, every host must be accounted for exactly once.
 */
export function parseFping(stdout: string, stderr = '', hosts?: readonly string[]): FpingHost[] {
  const results = new Map<string, FpingHost>();
  const add = (r: FpingHost, line: string): void => {
    if (results.has(r.host)) throw new ParseError(TOOL, `host ${r.host} reported twice`, line);
    results.set(r.host, r);
  };
  for (const line of outputLines(stdout, stderr)) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = ALIVE.exec(line))) {
      const r: FpingHost = { host: m[1]!, alive: true };
      if (m[2] !== undefined) r.rttMs = Number(m[2]);
      if (m[3] !== undefined) r.replyFrom = m[3];
      add(r, line);
    } else if ((m = UNREACHABLE.exec(line))) {
      add({ host: m[1]!, alive: false }, line);
    } else if (ICMP_DIAG.test(line)) {
      // diagnostic only
    } else if (/^(?:\S*\/)?fping6?: /.test(line)) {
      // fping's own failures, prefixed with argv[0]: usage, socket (not root), ...
      throw new ToolError(TOOL, 'failed', line);
    } else if ((m = RESOLVE_ERROR.exec(line))) {
      add({ host: m[1]!, alive: false, error: m[2]! }, line);
    } else {
      throw new ParseError(TOOL, 'unrecognized line (expected "HOST is alive" / "HOST is unreachable")', line);
    }
  }
  const list = [...results.values()];
  if (hosts !== undefined) {
    const missing = hosts.filter((h) => !results.has(h));
    const unexpected = list.filter((r) => !hosts.includes(r.host)).map((r) => r.host);
    if (missing.length > 0 || unexpected.length > 0) {
      throw new ParseError(TOOL, `hosts mismatch: missing [${missing.join(' ')}], unexpected [${unexpected.join(' ')}]`);
    }
    return hosts.map((h) => results.get(h)!);
  }
  if (list.length === 0) throw new ParseError(TOOL, 'empty output');
  return list;
}

export interface FpingCountHost {
  host: string;
  /** One entry per ping: RTT in ms, or null for a timeout ("-"). */
  rtts: Array<number | null>;
  alive: boolean;
}

/**
 * `fping -C N [-q] HOST...`: the per-host summary (stderr). Per-ping lines
 * (stdout, without -q) are checked and otherwise ignored.
 */
export function parseFpingCount(stdout: string, stderr = ''): FpingCountHost[] {
  const out: FpingCountHost[] = [];
  for (const line of outputLines(stdout, stderr)) {
    if (line === '' || PER_PING.test(line) || ICMP_DIAG.test(line)) continue;
    const m = /^(\S+)\s+:((?: \S+)*)$/.exec(line);
    if (!m) throw new ParseError(TOOL, 'unrecognized -C line', line);
    const rtts = m[2]!
      .trim()
      .split(' ')
      .filter((t) => t !== '')
      .map((t) => {
        if (t === '-') return null;
        if (!new RegExp(`^${NUM}$`).test(t)) throw new ParseError(TOOL, `bad RTT ${JSON.stringify(t)}`, line);
        return Number(t);
      });
    if (out.some((h) => h.host === m[1])) throw new ParseError(TOOL, `host ${m[1]} reported twice`, line);
    out.push({ host: m[1]!, rtts, alive: rtts.some((r) => r !== null) });
  }
  if (out.length === 0) throw new ParseError(TOOL, '-C: no summary line (was stderr passed?)');
  return out;
}
