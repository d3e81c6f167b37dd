/**
 * fping [-e] HOST...: "<host> is alive" (with -e: " (<rtt> ms)") / "<host> is unreachable"; exit 1
 * if any is unreachable, 2 if a name does not resolve. The round trip is 0.04 ms unless the
 * slowPing fault says otherwise (the command then takes that long, as fping waits for the reply).
 */
import type { Tool } from './types';

/** fping's sprint_tm: three significant digits ("0.040", "1.30", "12.3", "123"). */
function sprintTm(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

export const fping: Tool = async (ctx) => {
  const elapsed = ctx.args.includes('-e') || ctx.args.includes('--elapsed');
  const hosts = ctx.args.filter((a) => !a.startsWith('-'));
  let code = 0;
  let slowest = 0;
  // fping 5.1: names are resolved first; "is alive" is printed as each reply arrives (targets are
  // pinged 10 ms apart, so in order of index * 10 + rtt); "is unreachable" by finish(), at the end,
  // in argument order. Exit 2 if a name did not resolve, else 1 if a host did not answer.
  const alive: { at: number; line: string }[] = [];
  const unreachable: string[] = [];
  hosts.forEach((h, i) => {
    const m = ctx.model.machines.get(h) ?? [...ctx.model.machines.values()].find((x) => x.ip === h);
    if (!m) {
      ctx.err(`${h}: Name or service not known\n`);
      code = 2;
      return;
    }
    if (m.power) {
      const rtt = ctx.model.pingMs.get(m.name) ?? 0.04;
      slowest = Math.max(slowest, rtt);
      alive.push({ at: i * 10 + rtt, line: `${h} is alive${elapsed ? ` (${sprintTm(rtt)} ms)` : ''}\n` });
    } else {
      unreachable.push(`${h} is unreachable\n`);
      code = Math.max(code, 1);
    }
  });
  if (slowest >= 1) await ctx.sleep(slowest);
  for (const a of alive.sort((x, y) => x.at - y.at)) ctx.out(a.line);
  for (const l of unreachable) ctx.out(l);
  return code;
};
