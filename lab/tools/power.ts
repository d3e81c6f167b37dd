/**
 * poweroff (this host, orderly), systemd-run --on-active=N [--unit=NAME] poweroff (a poweroff
 * scheduled by systemd, so the command returns first) and nodectrl poweron/poweroff NODESET
 * (through the hosts' BMCs).
 */
import { expandNodeset, type GroupResolver } from '../../domain/nodeset';
import type { LabModel } from '../model';
import { takeFlags, type Tool } from './types';

function resolver(model: LabModel): GroupResolver {
  return (group) => {
    const name = group.includes(':') ? group.slice(group.indexOf(':') + 1) : group;
    const roles = [...model.machines.values()].filter((m) => m.role === name).map((m) => m.name);
    if (roles.length) return roles;
    if (name === 'all') return [...model.machines.keys()];
    const expr = model.topology.groups[name];
    return expr === undefined ? undefined : expandNodeset(expr);
  };
}

export const poweroff: Tool = async (ctx) => {
  ctx.mutating();
  // Answer first: the real poweroff returns and the session dies with the host.
  setTimeout(() => void ctx.model.shutdown(ctx.host).catch(() => undefined), 100);
  return 0;
};

export const nodectrl: Tool = async (ctx) => {
  const [cmd, expr] = ctx.args;
  if ((cmd !== 'poweron' && cmd !== 'poweroff') || !expr) {
    ctx.err('usage: nodectrl poweron|poweroff NODESET\n');
    return 2;
  }
  ctx.mutating();
  let hosts: string[];
  try {
    hosts = expandNodeset(expr, resolver(ctx.model));
  } catch (e) {
    ctx.err(`nodectrl: ${(e as Error).message}\n`);
    return 2;
  }
  const unknown = hosts.filter((h) => !ctx.model.machines.has(h));
  if (unknown.length) {
    ctx.err(`nodectrl: unknown nodes: ${unknown.join(',')}\n`);
    return 1;
  }
  await Promise.all(hosts.map((h) => (cmd === 'poweron' ? ctx.model.powerOn(h) : ctx.model.shutdown(h))));
  for (const h of hosts) ctx.out(`${h}: ${cmd} OK\n`);
  return 0;
};

/** Transient timers of `systemd-run`, per lab and host: a second one with the same unit name is refused. */
const timers = new WeakMap<LabModel, Map<string, string>>();

/**
 * systemd-run --on-active=N [--unit=NAME] poweroff|systemctl poweroff: the only transient job the lab
 * runs. Prints what systemd-run prints and shuts the host down N (simulated) seconds later.
 */
export const systemdRun: Tool = async (ctx) => {
  const { flags, rest } = takeFlags(ctx.args, ['unit', 'u', 'on-active', 'description', 'p', 'property', 'timer-property']);
  const command = rest[0] === 'systemctl' ? rest.slice(1) : rest;
  const delay = /^(\d+)s?$/.exec(flags.get('on-active') ?? '');
  if (command.join(' ') !== 'poweroff' || !delay) {
    ctx.err('systemd-run: the lab simulates only `systemd-run --on-active=N [--unit=NAME] poweroff`\n');
    return 1;
  }
  const unit = (flags.get('unit') ?? flags.get('u') ?? `run-u${ctx.model.log.length}`).replace(/\.(service|timer)$/, '');
  let pending = timers.get(ctx.model);
  if (!pending) timers.set(ctx.model, (pending = new Map()));
  if (pending.has(ctx.host)) {
    ctx.err(`Failed to start transient timer unit: Unit ${pending.get(ctx.host)}.timer was already loaded or has a fragment file.\n`);
    return 1;
  }
  ctx.mutating();
  pending.set(ctx.host, unit);
  const host = ctx.host;
  ctx.model.clock.after(Number(delay[1]) * 1000, () => {
    void ctx.model
      .shutdown(host)
      .catch(() => undefined)
      .finally(() => pending.delete(host));
  });
  ctx.err(`Running timer as unit: ${unit}.timer\nWill run service as unit: ${unit}.service\n`);
  return 0;
};
