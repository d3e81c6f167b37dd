/**
 * Simulated time for the lab model. Durations in the model are simulated milliseconds; the real
 * clock runs them `timeScale` times as long (0.1 = ten times faster), the manual clock runs them
 * only when a test advances it (pure, deterministic model tests).
 */
export interface Clock {
  /** Simulated milliseconds (monotonic). */
  now(): number;
  after(ms: number, fn: () => void): { cancel(): void };
  /**
   * Unix ms at simulated 0, for what the lab prints as a wall-clock date (a host's boot time):
   * absent or 0 when now() already is Unix ms (RealClock).
   */
  readonly epochMs?: number;
}

export class RealClock implements Clock {
  private readonly t0 = Date.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(private readonly timeScale = 1) {}
  now(): number {
    return this.t0 + (Date.now() - this.t0) / this.timeScale;
  }
  after(ms: number, fn: () => void) {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms * this.timeScale),
    );
    t.unref(); // a pending VM transition never keeps the process alive
    this.timers.add(t);
    return {
      cancel: () => {
        clearTimeout(t);
        this.timers.delete(t);
      },
    };
  }
  /** Cancels every pending transition (lab stop). */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** 2025-12-05T00:00:00Z: the manual clock's simulated 0, so that its dates look like dates (and stay the same). */
export const MANUAL_EPOCH_MS = 1_764_892_800_000;

export class ManualClock implements Clock {
  private t = 0;
  constructor(readonly epochMs = MANUAL_EPOCH_MS) {}
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void) {
    const item = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.queue.push(item);
    return { cancel: () => (this.queue = this.queue.filter((x) => x !== item)) };
  }
  /** Runs every timer due within `ms`, in time order (timers may schedule more timers). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.queue.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}
