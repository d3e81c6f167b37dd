/**
 * Polls until `f` gives a value (anything but undefined or false) and returns it; past the timeout it
 * throws, naming what it waited for and, when `where` is given, where things stood.
 */
export async function until<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  o: { timeoutMs?: number; pollMs?: number; where?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${o.where ? ` (${await o.where().catch((e: Error) => e.message)})` : ''}`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
  }
}
