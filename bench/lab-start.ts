/**
 * Prints figures, asserts nothing: how long the seed lab takes to start and to stop (issue: "the seed
 * topology starts and stops in under 15 s"), with simulated and with real GlusterFS, over a few runs.
 *
 *   npx tsx bench/lab-start.ts [runs=3] [simulated|real|both=both]
 *
 * Uses its own loopback block (127.0.12.x, HVFLOW_LAB_NET moves it). Real GlusterFS needs root.
 */
import { startLab } from '../lab';
import { realGlusterUnavailable } from '../lab/gluster-real';

async function once(gluster: 'simulated' | 'real') {
  const t0 = performance.now();
  const lab = await startLab({ gluster, addressBase: process.env.HVFLOW_LAB_NET ?? '127.0.12' });
  const started = performance.now() - t0;
  const t1 = performance.now();
  await lab.stop();
  return { startMs: Math.round(started), stopMs: Math.round(performance.now() - t1) };
}

async function main() {
  const runs = Number(process.argv[2] ?? 3);
  const which = process.argv[3] ?? 'both';
  const modes = (which === 'both' ? ['simulated', 'real'] : [which]) as ('simulated' | 'real')[];
  const out: Record<string, unknown> = { hosts: 13, runs };
  for (const mode of modes) {
    if (mode === 'real' && realGlusterUnavailable()) {
      out[mode] = `not measured: ${realGlusterUnavailable()}`;
      continue;
    }
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await once(mode));
    const start = samples.map((s) => s.startMs).sort((a, b) => a - b);
    const stop = samples.map((s) => s.stopMs).sort((a, b) => a - b);
    out[mode] = {
      startMs: { min: start[0], median: start[Math.floor(runs / 2)], max: start[runs - 1] },
      stopMs: { min: stop[0], median: stop[Math.floor(runs / 2)], max: stop[runs - 1] },
    };
  }
  console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
