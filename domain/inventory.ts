/**
 * The inventory: what hvflow knows about a cluster before it asks the cluster anything.
 *
 * It is validated by zod (a maintained schema library with precise issue paths, so an
 * error can name the field, the value and the rule without hand-written walkers). The
 * inventory never holds a secret: SSH keys, passwords and BMC credentials stay in the
 * worker's configuration, because the inventory is copied into workflow history.
 *
 * Pure module: no Node APIs, it is imported by workflows too.
 */
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { expandNodeset, type GroupResolver, NodeSetError } from './nodeset';
import { HOST_NAME_RULE, VM_NAME_RULE, VOLUME_NAME_RULE, UNIT_NAME_RULE, type NameRule } from './names';

/**
 * The stacks hvflow drives (DESIGN.md "stack driver"). An inventory without `stack:` is a fleet one:
 * every inventory written before hvflow knew another stack.
 */
export const STACKS = ['fleet', 'xen'] as const;
export type Stack = (typeof STACKS)[number];

/**
 * What a host's `capacity` and a VM's weight count: fleet `Weight=` units, or MiB of memory (what
 * XenServer reports). One unit per stack, because the stack's scheduler counts in it.
 */
export const CAPACITY_UNITS = { fleet: 'weight', xen: 'MiB' } as const satisfies Record<Stack, string>;
export type CapacityUnit = (typeof CAPACITY_UNITS)[Stack];

/**
 * A host's role is a group like any other (`role: islet` puts the host in `@islet`); the fleet
 * procedures learn what a group means from the `fleet:` section, whose defaults are the seeds'
 * roles (FLEET_GROUP_DEFAULTS).
 */
const GROUP_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** The seeds' roles: on a fleet cluster `@router` is a group (maybe empty) even with no router in it. */
const SEED_ROLES = ['top', 'worker', 'islet', 'router'];
export type HypervisorRole = string;

const named = (rule: NameRule) => z.string().regex(rule.pattern, { message: rule.description });

const address = z.string().regex(/^(?:\d{1,3}\.){3}\d{1,3}$|^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i, {
  message: 'must be an IPv4 address or a DNS name (letters, digits, dots, dashes)',
});
const port = z.number().int().min(1).max(65535);
const sshUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a POSIX user name' });
/** A nodeset expression as ClusterShell writes it: `top[1-3],worker1`, `@top`. */
const nodesetExpr = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[A-Za-z0-9_@:,[\]\-!&^/ .]+$/, { message: 'must be a nodeset expression (names, [ranges], @groups, , ! &)' });

const hypervisorSchema = z.strictObject({
  name: named(HOST_NAME_RULE),
  /** The host's group among the roles of the site (fleet: top, worker, islet, router); optional on a Xen pool. */
  role: z.string().regex(GROUP_NAME, { message: 'must be a group name (lower-case letters, digits, _ and -)' }).optional(),
  address,
  /** SSH port and user override the inventory-wide defaults. */
  sshPort: port.optional(),
  sshUser: sshUser.optional(),
  /** Baseboard management controller, for IPMI power on/off/status. */
  bmc: address.optional(),
  /**
   * Capacity in the cluster's capacity unit (fleet `Weight` units); N+1 checks compare the evacuated
   * weight against the room left. A Xen pool reports its hosts' memory: set it only to use less.
   */
  capacity: z.number().int().positive().max(1e9).optional(),
});

/**
 * A host that reaches the BMCs but is not a managed hypervisor (a bastion on the management
 * network): hvflow runs `ipmitool` there over SSH, and nothing else.
 */
const bmcRelaySchema = z.strictObject({
  name: named(HOST_NAME_RULE),
  address,
  sshPort: port.optional(),
  sshUser: sshUser.optional(),
});

/**
 * A host that runs hooks but is not a managed hypervisor (seed 003: CloudStack's management server,
 * where the cluster is unmanaged for the run): hvflow runs the hooks named here there, and nothing else.
 */
const hookHostSchema = bmcRelaySchema;

/** The placeholders a hook's arguments may hold: the host being emptied, the cluster. */
export const HOOK_PLACEHOLDERS = { '%h': 'the host being emptied', '%c': 'the cluster' } as const;
export const HOOKS = ['preRun', 'postRun', 'preEmpty', 'postEmpty', 'postReboot'] as const;
export type HookName = (typeof HOOKS)[number];

/**
 * A command run at a point of a procedure (seed 003's --pre-empty-script / --post-empty-script, and
 * CloudStack's unmanage / manage around a run). An argv, never a shell line: each word is checked
 * here and quoted by the one quoting helper when it is sent.
 */
const hookSchema = z.strictObject({
  /** Where it runs: a hypervisor or a hookHosts entry by name, or %h (the host being emptied; preEmpty / postEmpty / postReboot only). */
  on: z.union([named(HOST_NAME_RULE), z.literal('%h')]),
  command: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9_./:=@%+,-]{1,256}$/, { message: 'must be one word of letters, digits and _ . / : = @ % + , - (no blank, no shell character)' }),
    )
    .min(1)
    .max(32)
    .refine((c) => c.length === 0 || c[0]!.startsWith('/'), { message: 'must start with the absolute path of the program' }),
  /** How long it may run before it counts as failed (default 300 s). */
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(300),
});

/** Where ipmitool may run: a hypervisor that answers SSH, a BMC relay of the inventory, the worker itself. */
export const IPMI_SOURCES = ['hypervisors', 'bmcRelays', 'worker'] as const;
export type IpmiSource = (typeof IPMI_SOURCES)[number];

const etcdSchema = z.strictObject({
  /** Hosts that run an etcd member, nodeset syntax. */
  members: nodesetExpr,
  /**
   * Client URL of a member: `%h` is replaced by the host name, `%a` by its address
   * (seed: https://%h.mg1.hpc.domain.fr:2379).
   */
  endpointPattern: z
    .string()
    .regex(/^https?:\/\/[A-Za-z0-9%.:[\]-]+$/, { message: 'must be an http(s) URL where %h stands for the host name and %a for its address' })
    .default('https://%h:2379'),
  /** etcdctl dialect: 2 prints `cluster-health` as in the seeds, 3 `endpoint health --cluster`. */
  apiVersion: z.union([z.literal(2), z.literal(3)]).default(2),
});

const volumeSchema = z.strictObject({
  name: named(VOLUME_NAME_RULE),
  /** GlusterFS servers holding bricks of this volume, nodeset syntax. */
  servers: nodesetExpr,
});

const glusterSchema = z.strictObject({
  volumes: z.array(volumeSchema).min(1).max(64),
  /** Clients that mount the volumes and must be unmounted before the volumes stop, nodeset syntax. */
  clients: nodesetExpr.optional(),
  stopAllScript: z
    .string()
    .regex(/^\/[A-Za-z0-9_./-]+$/, { message: 'must be an absolute path' })
    .default('/usr/share/glusterfs/scripts/stop-all-gluster-processes.sh'),
});

const vmsSchema = z.strictObject({
  /** systemd/fleet unit of a VM; `%s` is the VM name (seed: pcocc-vm-%s.service). */
  unitPattern: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]*%s[A-Za-z0-9_.@-]*\.service$/, { message: 'must contain %s once and end in .service' })
    .default('pcocc-vm-%s.service'),
  /** Started first after a cluster start-up (seed 001: infra1, infra2). */
  dhcp: nodesetExpr.optional(),
  /** Stopped last and started second (seed 001: ns[1-3]). */
  dns: nodesetExpr.optional(),
  /** VMs hvflow never stops, moves or starts (routers, VMs owned by another team). */
  neverTouch: nodesetExpr.optional(),
  /**
   * Infrastructure VMs besides DHCP and DNS (directory, monitoring...): like them, a failback moves
   * them only when the operator names them.
   */
  critical: nodesetExpr.optional(),
});

/**
 * What the fleet procedures do with each host, by group. Every hypervisor of a fleet cluster is in
 * exactly one of them: a host in none would be silently left out of a shutdown.
 */
export const FLEET_GROUP_DEFAULTS = { managed: '@top,@worker', isletWorkers: '@islet', unmanaged: '@router' } as const;
const fleetSchema = z.strictObject({
  /** Hypervisors whose VMs fleet runs and the procedures move, stop and start; fleetctl runs there. */
  managed: nodesetExpr.default(FLEET_GROUP_DEFAULTS.managed),
  /** Islet workers (seed 001's @island_worker): powered off and on as a group by the shutdown / start-up. */
  isletWorkers: nodesetExpr.default(FLEET_GROUP_DEFAULTS.isletWorkers),
  /** Hosts the procedures leave alone (seed 001: the service router, out of the management scope). */
  unmanaged: nodesetExpr.default(FLEET_GROUP_DEFAULTS.unmanaged),
});

/** XenServer pools: what hvflow's live migrations respect. */
export const XEN_DEFAULTS = { migrationsPerHost: 5 } as const;
const xenSchema = z.strictObject({
  /**
   * Live migrations a host takes part in at once, as source or destination: hvflow never starts more
   * (seed 003 found no gain beyond 5; dom0 and the migration network are the limit).
   */
  migrationsPerHost: z.number().int().min(1).max(64).default(XEN_DEFAULTS.migrationsPerHost),
});

const inventoryShape = z.strictObject({
  cluster: named(HOST_NAME_RULE),
  /** The stack driver for this cluster (DESIGN.md): fleet/pcocc (seeds 000-002) or a XenServer pool (seed 003). */
  stack: z.enum(STACKS).default('fleet'),
  /** What capacities count; fixed by the stack (CAPACITY_UNITS), written here so the file says it. */
  capacityUnit: z.enum(['weight', 'MiB']).optional(),
  /** The host procedures run cluster-wide commands on (seed 001: top1); powered off last. */
  controlHost: named(HOST_NAME_RULE),
  ssh: z.strictObject({ user: sshUser.default('root'), port: port.default(22) }).default({ user: 'root', port: 22 }),
  hypervisors: z.array(hypervisorSchema).min(1).max(5000),
  /** Extra ClusterShell groups (`@island_worker`); each role is also a group (`@top`). */
  groups: z.record(z.string().regex(GROUP_NAME, { message: 'must be a group name' }), nodesetExpr).default({}),
  /** fleet clusters: what each group of hosts is to the procedures (FLEET_GROUP_DEFAULTS). */
  fleet: fleetSchema.optional(),
  /** Xen pools (XEN_DEFAULTS). */
  xen: xenSchema.optional(),
  etcd: etcdSchema.optional(),
  gluster: glusterSchema.optional(),
  vms: vmsSchema.default({ unitPattern: 'pcocc-vm-%s.service' }),
  bmcRelays: z.array(bmcRelaySchema).max(64).default([]),
  /** Hooks of the procedures that empty hosts (evacuation; rolling reboot): see hookSchema. */
  hooks: z.strictObject(Object.fromEntries(HOOKS.map((h) => [h, hookSchema.optional()])) as Record<HookName, z.ZodOptional<typeof hookSchema>>).default({}),
  hookHosts: z.array(hookHostSchema).max(64).default([]),
  /**
   * Where hvflow runs ipmitool, tried in this order until one reaches the BMCs (seed 001 runs it on
   * top1; a cold start-up has no hypervisor up, so a relay or the worker must power the first ones).
   */
  ipmiFrom: z.array(z.enum(IPMI_SOURCES)).min(1).max(IPMI_SOURCES.length).default(['hypervisors', 'bmcRelays', 'worker']),
});

export const inventorySchema = inventoryShape.superRefine((inv, ctx) => {
  const unit = CAPACITY_UNITS[inv.stack];
  if (inv.capacityUnit !== undefined && inv.capacityUnit !== unit) {
    ctx.addIssue({
      code: 'custom',
      path: ['capacityUnit'],
      input: inv.capacityUnit,
      message: `is not what a ${inv.stack} cluster counts in (${unit}); write capacityUnit: ${unit} or leave it out`,
    });
  }
  if (inv.fleet !== undefined && inv.stack !== 'fleet') {
    ctx.addIssue({ code: 'custom', path: ['fleet'], input: inv.fleet, message: `is for fleet clusters; this one is stack ${inv.stack}` });
  }
  if (inv.xen !== undefined && inv.stack !== 'xen') {
    ctx.addIssue({ code: 'custom', path: ['xen'], input: inv.xen, message: `is for Xen pools; this one is stack ${inv.stack} (write stack: xen)` });
  }
  if (inv.stack === 'fleet') {
    inv.hypervisors.forEach((h, i) => {
      if (h.role === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hypervisors', i, 'role'],
          input: h.name,
          message: 'is missing: every hypervisor of a fleet cluster has a role (top, worker, islet, router or a group the fleet section names)',
        });
      }
    });
  }
  const seen = { name: new Map<string, number>(), address: new Map<string, number>(), bmc: new Map<string, number>() };
  inv.hypervisors.forEach((h, i) => {
    for (const key of ['name', 'address', 'bmc'] as const) {
      const value = h[key];
      if (value === undefined) continue;
      const first = seen[key].get(value);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hypervisors', i, key],
          input: value,
          message: `duplicates hypervisors[${first}].${key} (each hypervisor needs its own ${key})`,
        });
      } else seen[key].set(value, i);
    }
  });
  const relayNames = new Map<string, number>();
  const relayAddresses = new Map<string, number>();
  inv.bmcRelays.forEach((r, i) => {
    if (seen.name.has(r.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bmcRelays', i, 'name'],
        input: r.name,
        message: 'is a hypervisor of this inventory (a relay is a host hvflow does not manage)',
      });
    } else if (relayNames.has(r.name)) {
      ctx.addIssue({ code: 'custom', path: ['bmcRelays', i, 'name'], input: r.name, message: `duplicates bmcRelays[${relayNames.get(r.name)}].name` });
    } else relayNames.set(r.name, i);
    if (seen.address.has(r.address)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bmcRelays', i, 'address'],
        input: r.address,
        message: `duplicates hypervisors[${seen.address.get(r.address)}].address`,
      });
    } else if (relayAddresses.has(r.address)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bmcRelays', i, 'address'],
        input: r.address,
        message: `duplicates bmcRelays[${relayAddresses.get(r.address)}].address`,
      });
    } else relayAddresses.set(r.address, i);
  });
  const hookHostNames = new Set<string>();
  inv.hookHosts.forEach((h, i) => {
    if (seen.name.has(h.name) || relayNames.has(h.name) || hookHostNames.has(h.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['hookHosts', i, 'name'],
        input: h.name,
        message: 'is already a hypervisor, BMC relay or hook host of this inventory',
      });
    }
    hookHostNames.add(h.name);
  });
  for (const name of HOOKS) {
    const hook = inv.hooks[name];
    if (!hook) continue;
    if (hook.on === '%h' && (name === 'preRun' || name === 'postRun')) {
      ctx.addIssue({
        code: 'custom',
        path: ['hooks', name, 'on'],
        input: hook.on,
        message: 'is the host being emptied, and a run-level hook has none: name a hypervisor or a hookHosts entry',
      });
    } else if (hook.on !== '%h' && !seen.name.has(hook.on) && !hookHostNames.has(hook.on)) {
      ctx.addIssue({ code: 'custom', path: ['hooks', name, 'on'], input: hook.on, message: 'is neither a hypervisor nor a hookHosts entry of this inventory' });
    }
    hook.command.forEach((word, i) => {
      for (const p of word.match(/%./g) ?? []) {
        if (!(p in HOOK_PLACEHOLDERS) || (p === '%h' && (name === 'preRun' || name === 'postRun'))) {
          ctx.addIssue({
            code: 'custom',
            path: ['hooks', name, 'command', i],
            input: word,
            message: `holds ${p}, which is not a placeholder of a ${name} hook (%c the cluster${name.endsWith('Empty') ? ', %h the host being emptied' : ''})`,
          });
        }
      }
    });
  }
  inv.ipmiFrom.forEach((source, i) => {
    if (inv.ipmiFrom.indexOf(source) !== i) ctx.addIssue({ code: 'custom', path: ['ipmiFrom', i], input: source, message: 'is listed twice' });
  });
  if (inv.bmcRelays.length && !inv.ipmiFrom.includes('bmcRelays')) {
    ctx.addIssue({ code: 'custom', path: ['ipmiFrom'], input: inv.ipmiFrom, message: 'does not name bmcRelays, so the relays listed would never be used' });
  }
  const roles = new Set(inv.hypervisors.map((h) => h.role).filter((r): r is string => r !== undefined));
  for (const g of Object.keys(inv.groups)) {
    if (roles.has(g) || g === 'all') {
      ctx.addIssue({ code: 'custom', path: ['groups', g], input: g, message: `is a role name; role groups are implicit` });
    }
  }
  if (!seen.name.has(inv.controlHost)) {
    ctx.addIssue({ code: 'custom', path: ['controlHost'], input: inv.controlHost, message: 'is not a hypervisor of this inventory' });
  }
  // Every nodeset in the inventory must resolve to known hypervisors (dangling references are errors).
  const resolver = rawGroupResolver(inv);
  const checkHosts = (path: (string | number)[], expr: string | undefined) => {
    if (expr === undefined) return;
    try {
      for (const host of expandNodeset(expr, resolver)) {
        if (!seen.name.has(host)) {
          ctx.addIssue({ code: 'custom', path, input: expr, message: `names ${host}, which is not a hypervisor of this inventory` });
          return;
        }
      }
    } catch (e) {
      ctx.addIssue({ code: 'custom', path, input: expr, message: e instanceof Error ? e.message : String(e) });
    }
  };
  for (const [g, expr] of Object.entries(inv.groups)) checkHosts(['groups', g], expr);
  if (inv.stack === 'fleet') checkFleetGroups(inv, resolver, ctx);
  checkHosts(['etcd', 'members'], inv.etcd?.members);
  inv.gluster?.volumes.forEach((v, i) => checkHosts(['gluster', 'volumes', i, 'servers'], v.servers));
  checkHosts(['gluster', 'clients'], inv.gluster?.clients);
  for (const key of ['dhcp', 'dns', 'neverTouch', 'critical'] as const) {
    const expr = inv.vms[key];
    if (expr === undefined) continue;
    try {
      for (const vm of expandNodeset(expr)) {
        if (!VM_NAME_RULE.pattern.test(vm)) {
          ctx.addIssue({ code: 'custom', path: ['vms', key], input: expr, message: `names ${JSON.stringify(vm)}, ${VM_NAME_RULE.description}` });
          break;
        }
      }
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['vms', key], input: expr, message: e instanceof Error ? e.message : String(e) });
    }
  }
  const unitOf = inv.vms.unitPattern.replace('%s', 'vm');
  if (!UNIT_NAME_RULE.pattern.test(unitOf)) {
    ctx.addIssue({ code: 'custom', path: ['vms', 'unitPattern'], input: inv.vms.unitPattern, message: UNIT_NAME_RULE.description });
  }
});

export type Inventory = z.output<typeof inventorySchema>;
export type Hypervisor = Inventory['hypervisors'][number];
export type BmcRelay = Inventory['bmcRelays'][number];
export type Hook = NonNullable<Inventory['hooks'][HookName]>;

/** The hooks an inventory recorded before hooks existed (an old history) has: none. */
export function hookOf(inv: Inventory, name: HookName): Hook | undefined {
  return inv.hooks?.[name];
}

/** A hook's command with its placeholders filled in (names are checked by the inventory and the procedure input). */
export function hookCommand(hook: Hook, values: { cluster: string; host?: string }): string[] {
  return hook.command.map((w) => w.replace(/%[hc]/g, (p) => (p === '%c' ? values.cluster : (values.host ?? p))));
}

export function hookHost(inv: Inventory, name: string, field = 'on'): BmcRelay {
  const h = inv.hookHosts?.find((x) => x.name === name);
  if (!h) throw new InventoryError(inv.cluster, [`${field}: ${describeValue(name)} is not a hook host of cluster ${inv.cluster} (hookHosts)`]);
  return h;
}

/** Raised for an inventory that does not validate; `issues` lists every problem, not only the first. */
export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid inventory ${source}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'InventoryError';
  }
}

function describeValue(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** Validates a parsed document. The error names the field, the value and the rule. */
export function parseInventory(doc: unknown, source = 'inventory'): Inventory {
  const result = inventorySchema.safeParse(doc, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = formatPath(issue.path) || '(document)';
    const value = 'input' in issue && issue.input !== undefined ? `${describeValue(issue.input)} ` : '';
    return `${field}: ${value}${issue.message}`;
  });
  throw new InventoryError(source, issues);
}

/** A file of an inventory directory (HVFLOW_INVENTORY) that is an inventory: `*.yaml`, `*.yml`. */
export function isInventoryFile(name: string): boolean {
  return /\.ya?ml$/.test(name);
}

/** Parses YAML text (the inventory file format) and validates it. */
export function parseInventoryYaml(text: string, source = 'inventory'): Inventory {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, maxAliasCount: 100 });
  } catch (e) {
    throw new InventoryError(source, [`(document): not valid YAML: ${e instanceof Error ? e.message : String(e)}`]);
  }
  return parseInventory(doc, source);
}

/**
 * Each fleet hypervisor in exactly one of fleet.managed / isletWorkers / unmanaged. The issue is put on
 * the host's role: that is the line an operator with a new role name has to explain.
 */
function checkFleetGroups(inv: z.output<typeof inventoryShape>, resolver: GroupResolver, ctx: z.RefinementCtx): void {
  const groups = { ...FLEET_GROUP_DEFAULTS, ...inv.fleet };
  const members = new Map<string, string[]>();
  for (const key of ['managed', 'isletWorkers', 'unmanaged'] as const) {
    let hosts: string[];
    try {
      hosts = expandNodeset(groups[key], resolver);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['fleet', key], input: groups[key], message: e instanceof Error ? e.message : String(e) });
      return;
    }
    for (const h of hosts) members.set(h, [...(members.get(h) ?? []), `fleet.${key}`]);
  }
  inv.hypervisors.forEach((h, i) => {
    const of = members.get(h.name) ?? [];
    if (of.length === 1 || h.role === undefined) return;
    const where = `fleet.managed (${groups.managed}), fleet.isletWorkers (${groups.isletWorkers}), fleet.unmanaged (${groups.unmanaged})`;
    ctx.addIssue({
      code: 'custom',
      path: ['hypervisors', i, 'role'],
      input: h.role,
      message: of.length
        ? `puts ${h.name} in ${of.join(' and ')}: a host is in one of them only`
        : `puts ${h.name} in none of ${where}: add @${h.role} to the one that says what the procedures do with it`,
    });
  });
}

/** The role groups of an inventory: the roles its hosts have, and on a fleet cluster the seeds' ones. */
function roleNames(inv: Pick<Inventory, 'hypervisors' | 'stack'>): Set<string> {
  const roles = new Set(inv.hypervisors.map((h) => h.role).filter((r): r is string => r !== undefined));
  if (stackOf(inv) === 'fleet') for (const r of SEED_ROLES) roles.add(r);
  return roles;
}

function rawGroupResolver(inv: Pick<Inventory, 'hypervisors' | 'groups' | 'stack'>): GroupResolver {
  const { hypervisors, groups } = inv;
  const resolving = new Set<string>();
  const roles = roleNames(inv);
  const resolver: GroupResolver = (group) => {
    const name = group.includes(':') ? group.slice(group.indexOf(':') + 1) : group;
    if (name === 'all') return hypervisors.map((h) => h.name);
    if (roles.has(name)) return hypervisors.filter((h) => h.role === name).map((h) => h.name);
    const expr = groups[name];
    if (expr === undefined) return undefined;
    if (resolving.has(name)) throw new NodeSetError(`group @${name} refers to itself`);
    resolving.add(name);
    try {
      return expandNodeset(expr, resolver);
    } finally {
      resolving.delete(name);
    }
  };
  return resolver;
}

/** Groups of an inventory: one per role (`@top`), `@all`, and the declared ones. */
export function groupResolver(inv: Inventory): GroupResolver {
  return rawGroupResolver(inv);
}

/** Expands a nodeset against the inventory; every name must be a known hypervisor. */
/**
 * The hosts of a fleet group (FLEET_GROUP_DEFAULTS), in inventory order. An inventory recorded
 * before the `fleet:` section existed (an old history) gets the defaults, which are what its roles meant.
 */
export function fleetGroup(inv: Inventory, key: keyof typeof FLEET_GROUP_DEFAULTS): string[] {
  const expr = inv.fleet?.[key];
  const members = new Set(expandNodeset(expr ?? FLEET_GROUP_DEFAULTS[key], groupResolver(inv)));
  return inv.hypervisors.filter((h) => members.has(h.name)).map((h) => h.name);
}

/** Live migrations a Xen host takes part in at once (xen.migrationsPerHost). */
export function migrationsPerHost(inv: Inventory): number {
  return inv.xen?.migrationsPerHost ?? XEN_DEFAULTS.migrationsPerHost;
}

/** The cluster's stack; an inventory recorded before `stack:` existed is a fleet one. */
export function stackOf(inv: Pick<Inventory, 'stack'>): Stack {
  return inv.stack ?? 'fleet';
}

export function hostsOf(inv: Inventory, expr: string, field = 'hosts'): string[] {
  const hosts = expandNodeset(expr, groupResolver(inv));
  for (const h of hosts) {
    if (!inv.hypervisors.some((x) => x.name === h)) {
      throw new InventoryError(inv.cluster, [`${field}: ${describeValue(h)} is not a hypervisor of cluster ${inv.cluster}`]);
    }
  }
  return hosts;
}

export function hypervisor(inv: Inventory, name: string, field = 'host'): Hypervisor {
  const h = inv.hypervisors.find((x) => x.name === name);
  if (!h) throw new InventoryError(inv.cluster, [`${field}: ${describeValue(name)} is not a hypervisor of cluster ${inv.cluster}`]);
  return h;
}

export function bmcRelay(inv: Inventory, name: string, field = 'relay'): BmcRelay {
  const r = inv.bmcRelays.find((x) => x.name === name);
  if (!r) throw new InventoryError(inv.cluster, [`${field}: ${describeValue(name)} is not a BMC relay of cluster ${inv.cluster} (bmcRelays)`]);
  return r;
}

export function etcdMembers(inv: Inventory): string[] {
  return inv.etcd ? hostsOf(inv, inv.etcd.members, 'etcd.members') : [];
}

export function etcdEndpoint(inv: Inventory, host: string): string {
  if (!inv.etcd) throw new InventoryError(inv.cluster, ['etcd: the inventory declares no etcd cluster']);
  return inv.etcd.endpointPattern
    .split('%h')
    .join(host)
    .split('%a')
    .join(hypervisor(inv, host, 'etcd.members').address);
}

/** Hosts serving a brick of any volume: stopping one of them touches replica safety. */
export function glusterServers(inv: Inventory): string[] {
  const all = new Set<string>();
  for (const v of inv.gluster?.volumes ?? []) for (const h of hostsOf(inv, v.servers, `gluster.volumes.${v.name}`)) all.add(h);
  return [...all].sort();
}

/** Hosts that mount every GlusterFS volume (`gluster.clients`): VM images live there. */
export function glusterClients(inv: Inventory): string[] {
  return inv.gluster?.clients ? hostsOf(inv, inv.gluster.clients, 'gluster.clients') : [];
}

export function vmSet(inv: Inventory, key: 'dhcp' | 'dns' | 'neverTouch' | 'critical'): string[] {
  const expr = inv.vms[key];
  return expr ? expandNodeset(expr) : [];
}

/** `admin1` -> `pcocc-vm-admin1.service` */
export function unitOfVm(inv: Inventory, vm: string): string {
  return inv.vms.unitPattern.replace('%s', vm);
}

/** `pcocc-vm-admin1.service` -> `admin1`; undefined for a unit that is not a VM. */
export function vmOfUnit(inv: Inventory, unit: string): string | undefined {
  const [prefix, suffix] = inv.vms.unitPattern.split('%s');
  if (!unit.startsWith(prefix) || !unit.endsWith(suffix) || unit.length <= prefix.length + suffix.length) return undefined;
  return unit.slice(prefix.length, unit.length - suffix.length);
}
