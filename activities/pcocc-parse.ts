// Pure parsers for pcocc (cea-hpc/pcocc).
//
// - `pcocc ps`: lib/pcocc/scripts/cmd.py pcocc_ps builds
//   TextTable("%id %name %user %partition %nodes %duration %timelimit")
//   (lib/pcocc/scripts/Shine/TextTable.py): every placeholder becomes
//   "%-*s   " (left-aligned to the widest value or header, then 3 spaces) and
//   the format's own space makes 4; the header is upper-case, then a line
//   where every non-space header character is '-'; rows are rstrip()ed.
//   Columns are therefore located by the header's positions, which keeps
//   DURATION values with spaces ("4 days, 3:08:53") intact. In batch-local
//   (systemd) mode NODES is the host (lib/pcocc/Batch.py get_job_details)
//   and DURATION is str(datetime.timedelta(seconds=...)).
// - `pcocc agent ping`: cmd.py pcocc_ping: on success
//   click.secho("{} VMs answered in {:.2f}s", err=True); per failed VM
//   display_vmagent_error: "vm{index}: {error}" (stderr), exit status 255.

import { ParseError, outputLines } from './parse-error';

const TOOL = 'pcocc';

export interface PcoccJob {
  id: number;
  name: string;
  user: string;
  /** As printed ("N/A" in batch-local mode). */
  partition: string;
  /** NODES: the hypervisor in batch-local mode (seed 002), a node count otherwise. */
  nodes: string;
  /** As printed, e.g. "4 days, 3:08:53". */
  duration: string;
  durationSeconds: number;
  /** As printed ("N/A" in batch-local mode). */
  timelimit: string;
  /** Unknown columns by lower-case header name. */
  extra?: Record<string, string>;
}

/** Python str(datetime.timedelta): "H:MM:SS", "N day(s), H:MM:SS", optional ".ffffff". */
export function parsePythonTimedelta(text: string, line?: string): number {
  const m = /^(?:(-?\d+) days?, )?(\d+):(\d{2}):(\d{2})(?:\.(\d{6}))?$/.exec(text);
  if (!m) throw new ParseError(TOOL, `not a duration: ${JSON.stringify(text)}`, line ?? text);
  const days = m[1] !== undefined ? Number(m[1]) : 0;
  const frac = m[5] !== undefined ? Number(`0.${m[5]}`) : 0;
  return days * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]) + frac;
}

const REQUIRED = ['ID', 'NAME', 'USER', 'PARTITION', 'NODES', 'DURATION', 'TIMELIMIT'];

/** `pcocc ps` (also `-a`, `-u USER`). */
export function parsePcoccPs(stdout: string): PcoccJob[] {
  const ls = outputLines(stdout);
  const header = ls[0];
  const dashes = ls[1];
  if (header === undefined || dashes === undefined) throw new ParseError(TOOL, 'ps: missing header lines');
  const cols: Array<{ name: string; start: number }> = [];
  for (const m of header.matchAll(/\S+/g)) cols.push({ name: m[0], start: m.index });
  if (cols.length === 0 || !cols.every((c) => /^[A-Z][A-Z0-9_]*$/.test(c.name))) {
    throw new ParseError(TOOL, 'ps: line 1: expected the upper-case header', header);
  }
  if (dashes !== header.replace(/[^ ]/g, '-')) throw new ParseError(TOOL, 'ps: line 2: dashes do not underline the header', dashes);
  for (const r of REQUIRED) if (!cols.some((c) => c.name === r)) throw new ParseError(TOOL, `ps: no ${r} column`, header);
  const jobs: PcoccJob[] = [];
  for (let i = 2; i < ls.length; i++) {
    const line = ls[i]!;
    const lineNo = i + 1;
    const cell: Record<string, string> = {};
    cols.forEach((c, k) => {
      const end = k + 1 < cols.length ? cols[k + 1]!.start : line.length;
      if (c.start > 0 && line.length > c.start && line[c.start - 1] !== ' ') {
        throw new ParseError(TOOL, `ps: line ${lineNo}: ${c.name} value not aligned with its header`, line);
      }
      const v = line.slice(c.start, Math.max(c.start, end)).trim();
      if (v === '') throw new ParseError(TOOL, `ps: line ${lineNo}: empty ${c.name}`, line);
      cell[c.name] = v;
    });
    const idText = cell['ID']!;
    if (!/^\d+$/.test(idText)) throw new ParseError(TOOL, `ps: line ${lineNo}: ID is not a number`, line);
    for (const k of ['NAME', 'USER', 'PARTITION', 'NODES', 'TIMELIMIT']) {
      if (/\s/.test(cell[k]!)) throw new ParseError(TOOL, `ps: line ${lineNo}: ${k} contains a space (misaligned row?)`, line);
    }
    const job: PcoccJob = {
      id: Number(idText),
      name: cell['NAME']!,
      user: cell['USER']!,
      partition: cell['PARTITION']!,
      nodes: cell['NODES']!,
      duration: cell['DURATION']!,
      durationSeconds: parsePythonTimedelta(cell['DURATION']!, line),
      timelimit: cell['TIMELIMIT']!,
    };
    for (const c of cols) {
      if (!REQUIRED.includes(c.name)) (job.extra ??= {})[c.name.toLowerCase()] = cell[c.name]!;
    }
    jobs.push(job);
  }
  return jobs;
}

export type PcoccPingResult = { ok: true; vmCount: number; seconds: number } | { ok: false; errors: Array<{ vm: number; message: string }> };

// click.secho colours only on a tty; strip SGR sequences anyway.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the SGR sequence it strips
const SGR = /\x1b\[[0-9;]*m/g;

/** `pcocc agent ping -j ID` / `-J NAME` (pass stderr: that is where pcocc writes). */
export function parsePcoccAgentPing(stdout: string, stderr = ''): PcoccPingResult {
  const ls = outputLines(stdout, stderr)
    .map((l) => l.replace(SGR, ''))
    .filter((l) => l !== '');
  let answered: { vmCount: number; seconds: number } | undefined;
  const errors: Array<{ vm: number; message: string }> = [];
  ls.forEach((line) => {
    let m: RegExpExecArray | null;
    if ((m = /^(\d+) VMs answered in (\d+\.\d{2})s$/.exec(line))) {
      if (answered) throw new ParseError(TOOL, 'agent ping: two "VMs answered" lines', line);
      answered = { vmCount: Number(m[1]), seconds: Number(m[2]) };
    } else if ((m = /^vm(\d+): (.+)$/.exec(line))) {
      errors.push({ vm: Number(m[1]), message: m[2]! });
    } else {
      throw new ParseError(TOOL, 'agent ping: unrecognized line', line);
    }
  });
  if (errors.length > 0) {
    if (answered) throw new ParseError(TOOL, 'agent ping: both VM errors and "VMs answered"');
    return { ok: false, errors };
  }
  if (!answered) throw new ParseError(TOOL, 'agent ping: no "N VMs answered in Xs" line');
  return { ok: true, ...answered };
}
