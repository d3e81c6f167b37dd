/**
 * One 'abort' listener per AbortSignal, shared by every caller that waits on it.
 *
 * An activity that fans out runs hundreds of commands under its one cancellation signal. A listener
 * each would be legitimate (each is removed when its command ends) but trips Node's
 * MaxListenersExceededWarning at 11, a warning that exists to find real leaks: it stays armed.
 */
interface Subscribers {
  fns: Set<() => void>;
  dispatch: () => void;
}

const bySignal = new WeakMap<AbortSignal, Subscribers>();

/**
 * Calls `fn` once when `signal` aborts (at once when it already has). Returns the unsubscribe; the
 * signal's own listener goes away with its last subscriber.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  let subs = bySignal.get(signal);
  if (!subs) {
    const fns = new Set<() => void>();
    const dispatch = () => {
      bySignal.delete(signal);
      for (const f of [...fns]) f();
      fns.clear();
    };
    subs = { fns, dispatch };
    bySignal.set(signal, subs);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  const own = subs;
  // a wrapper per call: the same function subscribed twice is two subscriptions
  const entry = () => fn();
  own.fns.add(entry);
  return () => {
    if (!own.fns.delete(entry) || own.fns.size > 0) return;
    signal.removeEventListener('abort', own.dispatch);
    if (bySignal.get(signal) === own) bySignal.delete(signal);
  };
}
