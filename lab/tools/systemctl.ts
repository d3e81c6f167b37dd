/**
 * systemctl (systemd 252) for the units the procedures touch: fleet, glusterd, glusterfsd, etcd and
 * the pcocc-vm-* units fleet runs on this host. `stop etcd` / `start etcd` act on the REAL etcd member.
 *
 * is-active / is-failed (src/systemctl/systemctl-is-active.c): one state per unit, exit 0 when ANY
 * unit is in the state asked (active or reloading / failed), else 3 / 1 (systemd 252 has no exit 4 for
 * unknown units yet). show (systemctl-show.c): the properties in D-Bus GetAll order, the Service
 * interface's before the Unit interface's, units separated by a blank line. `reboot` answers at once
 * and reboots the host 100 ms later (LabModel.reboot), as `poweroff` (lab/tools/power.ts) does.
 */
import type { LabModel, UnitState } from '../model';
import type { RealGluster } from '../gluster-real';
import { realGlusterOf } from './gluster-real';
import { takeFlags, type Tool, type ToolContext } from './types';

type Svc = {
  name: string;
  active(): string;
  sub(): string;
  /** MainPID while it runs, 0 otherwise. */
  mainPid(): number;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  description: string;
};

function service(model: LabModel, host: string, arg: string, real?: RealGluster): Svc | undefined {
  const name = arg.includes('.') ? arg : `${arg}.service`;
  if (name === 'glusterd.service' || name === 'glusterfsd.service') {
    // glusterfs-server is installed on the GlusterFS servers only: elsewhere the units do not exist
    if (!model.isGlusterServer(host)) return undefined;
    if (real) return realGlusterService(model, host, name, real);
  }
  const m = model.machine(host);
  const index = [...model.machines.keys()].indexOf(host);
  const flag = (on: () => boolean, run = 'running', pid = 0) => ({
    active: () => (on() ? 'active' : 'inactive'),
    sub: () => (on() ? run : 'dead'),
    mainPid: () => (on() && pid ? pid + index : 0),
  });
  switch (name) {
    case 'fleet.service':
      return {
        name,
        description: 'fleet daemon',
        ...flag(() => m.fleetd, 'running', 1200),
        start: () => model.startFleetd(host),
        stop: () => model.stopFleetd(host),
      };
    case 'glusterd.service':
      return {
        name,
        description: 'GlusterFS, a clustered file-system server',
        ...flag(() => m.glusterd, 'running', 1300),
        start: () => model.startGlusterd(host),
        stop: () => model.stopGlusterd(host),
      };
    case 'glusterfsd.service':
      return {
        name,
        description: 'GlusterFS brick processes (stopping only).',
        ...flag(() => m.glusterfsd, 'exited'),
        start: () => undefined,
        stop: () => model.stopBricks(host),
      };
    case 'etcd.service':
      if (!m.etcdMember) return undefined;
      return { name, description: 'Etcd Server', ...flag(() => m.etcd, 'running', 1400), start: () => model.startEtcd(host), stop: () => model.stopEtcd(host) };
    default: {
      const u = model.units.get(name);
      if (!u || u.host !== host) return undefined;
      return {
        name,
        description: `Fleet service for pcocc VM ${u.vm}`,
        active: () => u.active,
        sub: () => u.sub,
        // the main process exists once ExecStart ran (not during ExecStartPre)
        mainPid: () => (u.active === 'active' || u.active === 'deactivating' ? vmMainPid(u) : 0),
        start: () => void model.fleetStart(u.name),
        stop: () => void model.fleetStop(u.name),
      };
    }
  }
}

/**
 * glusterd.service and glusterfsd.service of a host in the real pool: the state is the real
 * processes'; stop is SIGTERM to them (glusterd.service stops glusterd only, glusterfsd.service the
 * bricks, as their KillMode says); start runs glusterd, which starts the bricks of started volumes.
 */
function realGlusterService(model: LabModel, host: string, name: string, real: RealGluster): Svc {
  const daemon = name === 'glusterd.service' ? 'glusterd' : 'glusterfsd';
  const on = () => real.running(host, daemon);
  return {
    name,
    description: daemon === 'glusterd' ? 'GlusterFS, a clustered file-system server' : 'GlusterFS brick processes (stopping only).',
    active: () => (on() ? 'active' : 'inactive'),
    sub: () => (on() ? (daemon === 'glusterd' ? 'running' : 'exited') : 'dead'),
    mainPid: () => (daemon === 'glusterd' ? (real.pids(host, 'glusterd')[0] ?? 0) : 0),
    start: async () => {
      if (daemon !== 'glusterd') return;
      await real.startGlusterd(host);
      model.startGlusterd(host);
    },
    stop: async () => {
      await real.stopDaemon(host, daemon);
      if (daemon === 'glusterd') model.stopGlusterd(host);
      else model.stopBricks(host);
    },
  };
}

/** Seed 002's infra1 (job 529): ExecStartPre was PID 44874, the main PID 44912; the lab keeps those offsets. */
function vmMainPid(u: UnitState): number {
  return 44383 + u.jobId;
}

function vmUnit(model: LabModel, name: string): UnitState | undefined {
  return model.units.get(name.includes('.') ? name : `${name}.service`);
}

function since(ms: number): string {
  const d = new Date(ms);
  const days = Math.floor((Date.now() - ms) / 86400000);
  const ago = days >= 1 ? `${days} day${days > 1 ? 's' : ''} ago` : `${Math.max(1, Math.floor((Date.now() - ms) / 60000))}min ago`;
  const p = (n: number) => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  return `${day} ${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC; ${ago}`;
}

function status(ctx: ToolContext, svc: Svc): number {
  const u = vmUnit(ctx.model, svc.name);
  const active = svc.active();
  const loaded = u
    ? `loaded (/run/fleet/units/${svc.name}; linked-runtime; vendor preset: disabled)`
    : `loaded (/usr/lib/systemd/system/${svc.name}; enabled; vendor preset: disabled)`;
  const lines = [`  ${svc.name} - ${svc.description}`, `   Loaded: ${loaded}`];
  lines.push(`   Active: ${active} (${svc.sub()})${active === 'active' && u ? ` since ${since(u.startedAt)}` : ''}`);
  if (u && active === 'active') {
    lines.push(`  Process: ${vmMainPid(u) - 38} ExecStartPre=/usr/sbin/prepare-ocean-image.sh ${u.vm} (code=exited, status=0/SUCCESS)`);
    lines.push(` Main PID: ${vmMainPid(u)} (pcocc)`);
    lines.push(`   Status: "Watchdog successful at ${new Date().toISOString().replace('T', ' ').replace('Z', '')}"`);
    lines.push(`   CGroup: /system.slice/${svc.name}`);
  }
  ctx.out(lines.join('\n') + '\n');
  return active === 'active' ? 0 : 3;
}

export const systemctl: Tool = async (ctx) => {
  const { flags, rest } = takeFlags(ctx.args, ['p', 'property']);
  const [cmd, ...args] = rest;
  const model = ctx.model;
  if (cmd === 'is-system-running') {
    // src/systemctl/systemctl-is-system-running.c: exit 0 for "running" only; a queued or running
    // shutdown job (reboot.target, poweroff.target) is the manager's "stopping" (manager_state())
    const stopping = model.machine(ctx.host).stopping;
    ctx.out(stopping ? 'stopping\n' : 'running\n');
    return stopping ? 1 : 0;
  }
  if (cmd === 'reboot') {
    // Answers first, as the real one (its session dies with the host); the reboot job is queued at
    // once (is-system-running: stopping), a second one merges with it.
    ctx.mutating();
    const m = model.machine(ctx.host);
    if (!m.stopping) {
      m.stopping = true;
      const host = ctx.host;
      setTimeout(() => void model.reboot(host).catch(() => undefined), 100);
    }
    return 0;
  }
  const svcs = args.map((a) => ({ arg: a, svc: service(model, ctx.host, a, realGlusterOf(ctx)) }));
  const full = (a: string) => (a.includes('.') ? a : `${a}.service`);
  switch (cmd) {
    case 'start':
    case 'stop':
    case 'restart': {
      ctx.mutating();
      for (const { arg, svc } of svcs) {
        if (!svc) {
          ctx.err(`Failed to ${cmd} ${full(arg)}: Unit ${full(arg)} not ${cmd === 'stop' ? 'loaded' : 'found'}.\n`);
          return 5;
        }
      }
      for (const { svc } of svcs) {
        if (cmd !== 'start') await svc!.stop();
        if (cmd !== 'stop') await svc!.start();
      }
      return 0;
    }
    case 'is-active':
    case 'is-failed': {
      const good = cmd === 'is-active' ? ['active', 'reloading'] : ['failed'];
      let ok = false;
      for (const { svc } of svcs) {
        const s = svc ? svc.active() : 'inactive';
        if (!flags.has('quiet') && !flags.has('q')) ctx.out(`${s}\n`);
        if (good.includes(s)) ok = true;
      }
      return ok ? 0 : cmd === 'is-active' ? 3 : 1;
    }
    case 'status': {
      let code = 0;
      for (const { arg, svc } of svcs) {
        if (!svc) {
          ctx.err(`Unit ${full(arg)} could not be found.\n`);
          code = 4;
          continue;
        }
        code = Math.max(code, status(ctx, svc));
      }
      return code;
    }
    case 'show': {
      const asked = flags.get('p') ?? flags.get('property');
      const wanted = asked === undefined ? undefined : new Set(asked.split(','));
      svcs.forEach(({ arg, svc }, i) => {
        const values: [string, string][] = [
          // org.freedesktop.systemd1.Service
          ['MainPID', String(svc ? svc.mainPid() : 0)],
          // org.freedesktop.systemd1.Unit
          ['Id', full(arg)],
          ['Names', full(arg)],
          ['Description', svc?.description ?? full(arg)],
          ['LoadState', svc ? 'loaded' : 'not-found'],
          ['ActiveState', svc ? svc.active() : 'inactive'],
          ['SubState', svc ? svc.sub() : 'dead'],
        ];
        if (i > 0) ctx.out('\n');
        for (const [k, v] of values) if (!wanted || wanted.has(k)) ctx.out(flags.has('value') ? `${v}\n` : `${k}=${v}\n`);
      });
      return 0;
    }
    default:
      ctx.err(`Unknown command verb ${cmd}.\n`);
      return 1;
  }
};
