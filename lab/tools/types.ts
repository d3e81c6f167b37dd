/** What every stand-in tool receives: the host it runs on, its arguments, the model and its output streams. */
import type { LabModel } from '../model';
import type { RealGluster } from '../gluster-real';

export interface ToolContext {
  host: string;
  /** Tool name as invoked (basename of the symlink). */
  tool: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  model: LabModel;
  out(text: string): void;
  err(text: string): void;
  /** Aborted when the client goes away (SSH session cancelled). */
  signal: AbortSignal;
  /** Marks the command as one that changes (or asks to change) the cluster's state. */
  mutating(): void;
  /** Real-time sleep, cut short by the signal. */
  sleep(ms: number): Promise<void>;
  /** Lab facilities outside the model. */
  lab: {
    etcdctl: string;
    etcdEndpoints: Record<string, string>;
    /** Real glusterd, bricks and FUSE mounts, when the lab runs them (`startLab({ gluster: 'real' })`). */
    gluster?: RealGluster;
  };
}

/** Returns the exit code. */
export type Tool = (ctx: ToolContext) => Promise<number>;

/** Space-aligned columns: each column as wide as its widest cell plus one space; the last one unpadded. */
export function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 1))).join('') + '\n').join('');
}

/**
 * Go's text/tabwriter as fleetctl initialises it (minwidth 0, tabwidth 8, padding 1, padchar '\t'):
 * each column is padded with TABS up to (widest cell + 1) rounded up to a multiple of 8.
 */
export function tabTable(rows: string[][]): string {
  if (!rows.length) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => i < r.length - 1 && (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map(
      (r) =>
        r
          .map((c, i) => {
            if (i === r.length - 1) return c;
            const cellw = Math.ceil((widths[i] + 1) / 8) * 8;
            return c + '\t'.repeat(Math.ceil((cellw - c.length) / 8));
          })
          .join('') + '\n',
    )
    .join('');
}

/** Splits `--flag=value` / `--flag value` / bare flags out of the arguments, wherever they are. */
export function takeFlags(args: string[], withValue: string[]): { flags: Map<string, string>; rest: string[] } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (withValue.includes(name)) flags.set(name, args[++i] ?? '');
      else flags.set(name, 'true');
    } else rest.push(a);
  }
  return { flags, rest };
}
