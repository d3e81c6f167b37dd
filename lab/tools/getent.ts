/**
 * getent hosts NAME...: glibc's "%-15s %s" (address, canonical name) per key found; exit 2 if a key
 * is not found. A lab host resolves to its fleet (admin) address; its storage-network name
 * `<host>-data`, the name GlusterFS shows for its bricks and peers, to its storage address.
 */
import { storageAddress, storageName } from './gluster';
import type { Tool } from './types';

export const getent: Tool = async (ctx) => {
  const [db, ...keys] = ctx.args;
  if (db !== 'hosts') {
    ctx.err(`Unknown database: ${db ?? ''}\n`);
    return 1;
  }
  let code = 0;
  const machines = [...ctx.model.machines.values()];
  for (const k of keys) {
    const m = ctx.model.machines.get(k) ?? machines.find((x) => x.ip === k);
    const s = m ? undefined : machines.find((x) => storageName(x) === k || storageAddress(x) === k);
    if (m) ctx.out(`${m.ip.padEnd(15)} ${m.name}\n`);
    else if (s) ctx.out(`${storageAddress(s).padEnd(15)} ${storageName(s)}\n`);
    else code = 2;
  }
  return code;
};
