/**
 * Loopback addresses of a lab's hosts and BMC relays. `127.0.K` (three octets): one /24, host i at
 * 127.0.K.(10+i), at most 240 of them (test workers each get their own /24). `127.N` (two octets): a
 * /16 of its own, 240 hosts per third octet (127.N.0.10 … 127.N.0.249, 127.N.1.10 …), for clusters of
 * hundreds of hypervisors.
 */
const PER_BLOCK = 240;
const FIRST = 10;

export function labAddresses(base: string, count: number): string[] {
  const octets = base.split('.');
  if (octets[0] !== '127' || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255) || (octets.length !== 2 && octets.length !== 3)) {
    throw new Error(`lab address base ${JSON.stringify(base)}: must be 127.N (a /16) or 127.N.K (a /24) of loopback`);
  }
  const blocks = octets.length === 3 ? 1 : 256;
  if (count > blocks * PER_BLOCK) {
    const most = `at most ${blocks * PER_BLOCK} (${PER_BLOCK} per /24)`;
    throw new Error(`lab address base ${base}: ${count} hosts and BMC relays do not fit, ${most}; use a /16 base (127.N)`);
  }
  return Array.from({ length: count }, (_, i) =>
    octets.length === 3 ? `${base}.${FIRST + i}` : `${base}.${Math.floor(i / PER_BLOCK)}.${FIRST + (i % PER_BLOCK)}`,
  );
}
