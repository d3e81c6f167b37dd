// Pure parser for `findmnt -rn -t fuse.glusterfs -o TARGET,SOURCE` (util-linux 2.38, Debian 12).
//
// Raw output (-r): one line per mount, columns separated by one space, with spaces, tabs,
// backslashes and other unsafe characters of a value written as \xHH (util-linux
// lib/mbsalign.c mbs_safe_encode via libsmartcols' scols raw format); no heading (-n). Exit 1 and
// no output when nothing matches. A GlusterFS FUSE mount's SOURCE is `server:/volume[/subdir]`.

import { ParseError, outputLines } from './parse-error';

const TOOL = 'findmnt';

export interface GlusterMount {
  /** Mount point. */
  target: string;
  /** `server:/volume` as mounted. */
  source: string;
  server: string;
  volume: string;
}

/** \xHH escapes of findmnt's raw output, decoded. */
function unescapeRaw(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** `findmnt -rn -t fuse.glusterfs -o TARGET,SOURCE`: the GlusterFS mounts of a host (exit 1: none). */
export function parseFindmntGlusterMounts(stdout: string): GlusterMount[] {
  return outputLines(stdout).map((line, i) => {
    const f = line.split(' ');
    if (f.length !== 2 || !f[0] || !f[1]) throw new ParseError(TOOL, `line ${i + 1}: not "TARGET SOURCE"`, line);
    const target = unescapeRaw(f[0]);
    const source = unescapeRaw(f[1]);
    const m = /^([^:\s]+):\/([^/\s]+)(?:\/.*)?$/.exec(source);
    if (!m) throw new ParseError(TOOL, `line ${i + 1}: the source is not server:/volume`, line);
    return { target, source, server: m[1]!, volume: m[2]! };
  });
}
