import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import {
  InventoryError,
  etcdEndpoint,
  etcdMembers,
  fleetGroup,
  hookCommand,
  hookOf,
  migrationsPerHost,
  stackOf,
  glusterServers,
  hostsOf,
  parseInventory,
  parseInventoryYaml,
  unitOfVm,
  vmOfUnit,
  vmSet,
} from '../../domain/inventory';

const exampleText = readFileSync('config/ocean.example.yaml', 'utf8');
const example = () => parseYaml(exampleText) as any;

function errorOf(doc: unknown): InventoryError {
  try {
    parseInventory(doc, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(InventoryError);
    return e as InventoryError;
  }
  throw new Error('expected the inventory to be rejected');
}

describe('the example inventory (seed cluster)', () => {
  const inv = parseInventoryYaml(exampleText, 'config/ocean.example.yaml');

  it('describes the seeds cluster', () => {
    expect(inv.cluster).toBe('ocean');
    expect(inv.controlHost).toBe('top1');
    expect(inv.hypervisors).toHaveLength(13);
    expect(hostsOf(inv, '@top')).toEqual(['top1', 'top2', 'top3']);
    expect(hostsOf(inv, '@island_worker')).toEqual(['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55']);
    expect(hostsOf(inv, '@top,@worker')).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(etcdMembers(inv)).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(etcdEndpoint(inv, 'worker2')).toBe('https://worker2.mg1.hpc.domain.fr:2379');
    expect(glusterServers(inv)).toEqual(['top1', 'top2', 'top3']);
    expect(vmSet(inv, 'dhcp')).toEqual(['infra1', 'infra2']);
    expect(vmSet(inv, 'dns')).toEqual(['ns1', 'ns2', 'ns3']);
  });

  it('maps VMs to units and back with the unit pattern', () => {
    expect(unitOfVm(inv, 'admin1')).toBe('pcocc-vm-admin1.service');
    expect(vmOfUnit(inv, 'pcocc-vm-admin1.service')).toBe('admin1');
    expect(vmOfUnit(inv, 'fleet.service')).toBeUndefined();
    expect(vmOfUnit(inv, 'pcocc-vm-.service')).toBeUndefined();
  });

  it('fills defaults', () => {
    const doc = example();
    delete doc.ssh;
    delete doc.vms;
    const inv2 = parseInventory(doc);
    expect(inv2.ssh).toEqual({ user: 'root', port: 22 });
    expect(inv2.vms.unitPattern).toBe('pcocc-vm-%s.service');
    expect(inv2.bmcRelays).toEqual([]);
    expect(inv2.ipmiFrom).toEqual(['hypervisors', 'bmcRelays', 'worker']);
  });

  it('accepts %a (address) in the etcd endpoint pattern', () => {
    const doc = example();
    doc.etcd.endpointPattern = 'http://%a:2379';
    expect(etcdEndpoint(parseInventory(doc), 'top2')).toBe('http://10.1.0.2:2379');
  });
});

describe('inventory errors name the field, the value and the rule', () => {
  const cases: [string, (d: any) => void, RegExp][] = [
    [
      'shell metacharacters in a host name',
      (d) => (d.hypervisors[0].name = 'top1;reboot'),
      /hypervisors\[0\]\.name: "top1;reboot" must be a lowercase DNS label/,
    ],
    [
      'duplicate addresses',
      (d) => (d.hypervisors[1].address = d.hypervisors[0].address),
      /hypervisors\[1\]\.address: "10\.1\.0\.1" duplicates hypervisors\[0\]\.address/,
    ],
    ['duplicate names', (d) => (d.hypervisors[2].name = 'top1'), /hypervisors\[2\]\.name: "top1" duplicates hypervisors\[0\]\.name/],
    ['an unknown role', (d) => (d.hypervisors[0].role = 'storage'), /hypervisors\[0\]\.role: "storage"/],
    ['a dangling group reference', (d) => (d.gluster.clients = '@top,@nosuch'), /gluster\.clients: "@top,@nosuch"/],
    ['an etcd member that is not a hypervisor', (d) => (d.etcd.members = 'top[1-4]'), /etcd\.members: "top\[1-4\]" names top4, which is not a hypervisor/],
    ['an unknown control host', (d) => (d.controlHost = 'admin9'), /controlHost: "admin9" is not a hypervisor/],
    ['a port out of range', (d) => (d.hypervisors[0].sshPort = 70000), /hypervisors\[0\]\.sshPort: 70000/],
    ['a wrong type', (d) => (d.hypervisors[0].capacity = 'lots'), /hypervisors\[0\]\.capacity: "lots"/],
    ['an unknown field', (d) => (d.hypervisors[0].password = 'hunter2'), /hypervisors\[0\]/],
    ['a unit pattern without %s', (d) => (d.vms.unitPattern = 'pcocc-vm.service'), /vms\.unitPattern: "pcocc-vm.service" must contain %s/],
    ['a VM name with a metacharacter', (d) => (d.vms.dns = 'ns1,ns$(id)'), /vms\.dns/],
    ['a role used as a group name', (d) => (d.groups.top = 'top1'), /groups\.top: "top" is a role name/],
    ['duplicate BMC addresses', (d) => (d.hypervisors[4].bmc = d.hypervisors[3].bmc), /hypervisors\[4\]\.bmc: "10\.2\.0\.4" duplicates hypervisors\[3\]\.bmc/],
    ['a group that includes itself', (d) => (d.groups.island_worker = '@island_worker'), /groups\.island_worker: "@island_worker"/],
    ['a malformed nodeset', (d) => (d.etcd.members = 'top[1-'), /etcd\.members: "top\[1-"/],
    ['a nodeset with $()', (d) => (d.etcd.members = 'top$(id)'), /etcd\.members: "top\$\(id\)" must be a nodeset expression/],
    ['an etcd endpoint that is not http(s)', (d) => (d.etcd.endpointPattern = 'ftp://%h:2379'), /etcd\.endpointPattern: "ftp:\/\/%h:2379"/],
    ['an etcd endpoint with a space', (d) => (d.etcd.endpointPattern = 'https://%h:2379 ; reboot'), /etcd\.endpointPattern/],
    ['an etcd API version 4', (d) => (d.etcd.apiVersion = 4), /etcd\.apiVersion: 4/],
    ['a volume name like an option', (d) => (d.gluster.volumes[0].name = '-force'), /gluster\.volumes\[0\]\.name: "-force"/],
    ['a volume with a metacharacter', (d) => (d.gluster.volumes[1].name = 'vol;rm'), /gluster\.volumes\[1\]\.name: "vol;rm"/],
    ['a relative stop-all script', (d) => (d.gluster.stopAllScript = 'stop-all.sh'), /gluster\.stopAllScript: "stop-all\.sh" must be an absolute path/],
    ['a stop-all script with a metacharacter', (d) => (d.gluster.stopAllScript = '/usr/bin/x;reboot'), /gluster\.stopAllScript/],
    ['a negative capacity', (d) => (d.hypervisors[0].capacity = -1), /hypervisors\[0\]\.capacity: -1/],
    ['a control host with a metacharacter', (d) => (d.controlHost = 'top1&'), /controlHost: "top1&"/],
    ['no hypervisor at all', (d) => (d.hypervisors = []), /hypervisors: \[\]/],
    ['an upper-case cluster name', (d) => (d.cluster = 'Ocean'), /cluster: "Ocean"/],
    ['an SSH user with a metacharacter', (d) => (d.ssh.user = 'root;id'), /ssh\.user: "root;id" must be a POSIX user name/],
    ['an address with a space', (d) => (d.hypervisors[2].address = '10.1.0.3 evil'), /hypervisors\[2\]\.address: "10\.1\.0\.3 evil"/],
    ['a group value with a metacharacter', (d) => (d.groups.island_worker = 'islet12`id`'), /groups\.island_worker/],
    [
      'an oversized hypervisor list',
      (d) => (d.hypervisors = Array.from({ length: 5001 }, (_, i) => ({ name: `h${i}`, role: 'top', address: `10.9.${i >> 8}.${i & 255}` }))),
      /hypervisors: .*5000/,
    ],
    ['a unit pattern with a space', (d) => (d.vms.unitPattern = 'pcocc vm %s.service'), /vms\.unitPattern/],
    [
      'a BMC relay named like a hypervisor',
      (d) => (d.bmcRelays = [{ name: 'top2', address: '10.1.0.250' }]),
      /bmcRelays\[0\]\.name: "top2" is a hypervisor of this inventory/,
    ],
    [
      'a BMC relay at a hypervisor address',
      (d) => (d.bmcRelays = [{ name: 'bmcgw1', address: '10.1.0.3' }]),
      /bmcRelays\[0\]\.address: "10\.1\.0\.3" duplicates hypervisors\[2\]\.address/,
    ],
    [
      'two BMC relays of one name',
      (d) =>
        (d.bmcRelays = [
          { name: 'gw', address: '10.1.0.250' },
          { name: 'gw', address: '10.1.0.251' },
        ]),
      /bmcRelays\[1\]\.name: "gw" duplicates bmcRelays\[0\]\.name/,
    ],
    [
      'a BMC relay name with a metacharacter',
      (d) => (d.bmcRelays = [{ name: 'gw;id', address: '10.1.0.250' }]),
      /bmcRelays\[0\]\.name: "gw;id" must be a lowercase DNS label/,
    ],
    ['a BMC relay with a password', (d) => (d.bmcRelays = [{ name: 'gw', address: '10.1.0.250', password: 'x' }]), /bmcRelays\[0\]/],
    ['an unknown ipmiFrom source', (d) => (d.ipmiFrom = ['hypervisors', 'laptop']), /ipmiFrom\[1\]: "laptop"/],
    ['an ipmiFrom source listed twice', (d) => (d.ipmiFrom = ['worker', 'worker']), /ipmiFrom\[1\]: "worker" is listed twice/],
    [
      'BMC relays that ipmiFrom never uses',
      (d) => Object.assign(d, { bmcRelays: [{ name: 'gw', address: '10.1.0.250' }], ipmiFrom: ['hypervisors', 'worker'] }),
      /ipmiFrom: .*does not name bmcRelays/,
    ],
  ];
  for (const [what, mutate, expected] of cases) {
    it(`rejects ${what}`, () => {
      const doc = example();
      mutate(doc);
      expect(errorOf(doc).message).toMatch(expected);
    });
  }

  it('lists every problem, not just the first', () => {
    const doc = example();
    doc.hypervisors[0].name = 'Top1';
    doc.hypervisors[3].address = 'not an address!';
    const err = errorOf(doc);
    expect(err.issues.length).toBeGreaterThanOrEqual(2);
  });

  it('reports invalid YAML as such', () => {
    expect(() => parseInventoryYaml('cluster: [unclosed', 'bad.yaml')).toThrow(/bad\.yaml[\s\S]*not valid YAML/);
  });

  it('round-trips through YAML', () => {
    const inv = parseInventoryYaml(exampleText);
    expect(parseInventoryYaml(stringify(inv))).toEqual(inv);
  });
});

describe('stacks, capacity units and fleet groups', () => {
  const xenDoc = () => ({
    cluster: 'pool-a',
    stack: 'xen',
    controlHost: 'xs1',
    hypervisors: [
      { name: 'xs1', address: '10.3.0.1' },
      { name: 'xs2', address: '10.3.0.2' },
    ],
  });

  it('reads an inventory without stack as a fleet one, its roles as the fleet groups', () => {
    const inv = parseInventoryYaml(exampleText);
    expect(inv.stack).toBe('fleet');
    expect(stackOf(inv)).toBe('fleet');
    expect(stackOf({ stack: undefined } as never)).toBe('fleet'); // an inventory recorded before `stack:` existed
    expect(fleetGroup(inv, 'managed')).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(fleetGroup(inv, 'isletWorkers')).toEqual(['islet12', 'islet13', 'islet38', 'islet39', 'islet54', 'islet55']);
    expect(fleetGroup(inv, 'unmanaged')).toEqual(['irene271']);
  });

  it('takes a Xen pool with no role, no capacity and no guard', () => {
    const inv = parseInventory(xenDoc());
    expect(stackOf(inv)).toBe('xen');
    expect(inv.etcd).toBeUndefined();
    expect(inv.gluster).toBeUndefined();
    expect(hostsOf(inv, '@all')).toEqual(['xs1', 'xs2']);
    expect(parseInventory({ ...xenDoc(), capacityUnit: 'MiB' }).capacityUnit).toBe('MiB');
  });

  it('refuses a capacity unit the stack does not count in, and a fleet section on a Xen pool', () => {
    expect(errorOf({ ...xenDoc(), capacityUnit: 'weight' }).issues).toEqual([
      'capacityUnit: "weight" is not what a xen cluster counts in (MiB); write capacityUnit: MiB or leave it out',
    ]);
    expect(errorOf({ ...example(), capacityUnit: 'MiB' }).issues[0]).toMatch(/^capacityUnit: "MiB" is not what a fleet cluster counts in \(weight\)/);
    expect(errorOf({ ...xenDoc(), fleet: { managed: '@all' } }).issues[0]).toMatch(/^fleet: .* is for fleet clusters; this one is stack xen/);
    expect(errorOf({ ...xenDoc(), stack: 'vmware' }).issues[0]).toMatch(/^stack: "vmware"/);
  });

  it('takes any role name on a fleet cluster once the fleet section says what it is', () => {
    const doc = example();
    for (const h of doc.hypervisors) if (h.role === 'top') h.role = 'mgmt';
    doc.gluster.clients = '@mgmt,@worker';
    expect(errorOf(doc).issues[0]).toMatch(/^hypervisors\[0\]\.role: "mgmt" puts top1 in none of fleet\.managed \(@top,@worker\).*add @mgmt/);
    doc.fleet = { managed: '@mgmt,@worker' };
    const inv = parseInventory(doc);
    expect(fleetGroup(inv, 'managed')).toEqual(['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3']);
    expect(hostsOf(inv, '@mgmt')).toEqual(['top1', 'top2', 'top3']);
  });

  it('refuses a fleet host in two groups, or with no role', () => {
    const doc = example();
    doc.fleet = { unmanaged: '@router,islet12' };
    expect(errorOf(doc).issues).toEqual(['hypervisors[6].role: "islet" puts islet12 in fleet.isletWorkers and fleet.unmanaged: a host is in one of them only']);
    const noRole = example();
    delete noRole.hypervisors[2].role;
    expect(errorOf(noRole).issues[0]).toMatch(/^hypervisors\[2\]\.role: "top3" is missing: every hypervisor of a fleet cluster has a role/);
  });

  it('refuses a declared group named like a role', () => {
    expect(errorOf({ ...xenDoc(), hypervisors: [{ name: 'xs1', address: '10.3.0.1', role: 'rack1' }], groups: { rack1: 'xs1' } }).issues[0]).toMatch(
      /^groups\.rack1: "rack1" is a role name/,
    );
  });
});

describe('hooks and the Xen section', () => {
  const pool = (extra: Record<string, unknown> = {}) => ({
    cluster: 'pool-a',
    stack: 'xen',
    controlHost: 'xs1',
    hypervisors: [
      { name: 'xs1', address: '10.3.0.1' },
      { name: 'xs2', address: '10.3.0.2' },
    ],
    hookHosts: [{ name: 'csmgmt1', address: '10.3.9.1', sshUser: 'cloud' }],
    ...extra,
  });

  it('takes hooks on a hook host, a hypervisor or the host being emptied, and fills the placeholders', () => {
    const inv = parseInventory(
      pool({
        hooks: {
          preRun: { on: 'csmgmt1', command: ['/usr/local/bin/cloudstack-cluster', 'unmanage', '--cluster=%c'] },
          postRun: { on: 'csmgmt1', command: ['/usr/local/bin/cloudstack-cluster', 'manage', '--cluster=%c'], timeoutSeconds: 60 },
          preEmpty: { on: '%h', command: ['/usr/local/sbin/pre-empty'] },
          postEmpty: { on: 'xs1', command: ['/opt/hooks/post-empty', '%h'] },
        },
        xen: { migrationsPerHost: 3 },
      }),
    );
    expect(hookCommand(inv.hooks.preRun!, { cluster: inv.cluster })).toEqual(['/usr/local/bin/cloudstack-cluster', 'unmanage', '--cluster=pool-a']);
    expect(hookCommand(inv.hooks.postEmpty!, { cluster: inv.cluster, host: 'xs2' })).toEqual(['/opt/hooks/post-empty', 'xs2']);
    expect(inv.hooks.preEmpty!.timeoutSeconds).toBe(300);
    expect(hookOf(inv, 'postRun')!.timeoutSeconds).toBe(60);
    expect(hookOf({ ...inv, hooks: undefined } as never, 'preRun')).toBeUndefined(); // an inventory recorded before hooks existed
    expect(migrationsPerHost(inv)).toBe(3);
    expect(migrationsPerHost(parseInventory(pool()))).toBe(5);
  });

  it('refuses a hook that is not a plain argv, runs nowhere known, or uses a placeholder it has no value for', () => {
    const hook = (h: Record<string, unknown>) => errorOf(pool({ hooks: { preEmpty: { on: 'csmgmt1', command: ['/bin/true'], ...h } } })).issues[0];
    expect(hook({ command: ['/bin/sh', '-c', 'reboot; true'] })).toMatch(/^hooks\.preEmpty\.command\[2\]: "reboot; true" must be one word/);
    expect(hook({ command: ['relative/script'] })).toMatch(/^hooks\.preEmpty\.command: .* must start with the absolute path of the program/);
    expect(hook({ command: [] })).toMatch(/^hooks\.preEmpty\.command/);
    expect(hook({ on: 'csmgmt9' })).toBe('hooks.preEmpty.on: "csmgmt9" is neither a hypervisor nor a hookHosts entry of this inventory');
    expect(hook({ command: ['/bin/echo', '%x'] })).toMatch(/^hooks\.preEmpty\.command\[1\]: "%x" holds %x, which is not a placeholder/);
    expect(hook({ shell: 'yes' })).toMatch(/^hooks\.preEmpty: .*shell/);
    expect(errorOf(pool({ hooks: { preRun: { on: '%h', command: ['/bin/true'] } } })).issues[0]).toMatch(
      /^hooks\.preRun\.on: "%h" is the host being emptied, and a run-level hook has none/,
    );
    expect(errorOf(pool({ hooks: { postRun: { on: 'csmgmt1', command: ['/bin/echo', '%h'] } } })).issues[0]).toMatch(
      /^hooks\.postRun\.command\[1\]: "%h" holds %h, which is not a placeholder of a postRun hook/,
    );
    expect(errorOf(pool({ hookHosts: [{ name: 'xs1', address: '10.3.9.1' }] })).issues[0]).toMatch(/^hookHosts\[0\]\.name: "xs1" is already a hypervisor/);
  });

  it('refuses a xen section on a fleet cluster, and bad migration limits', () => {
    expect(errorOf({ ...example(), xen: { migrationsPerHost: 5 } }).issues[0]).toMatch(
      /^xen: .* is for Xen pools; this one is stack fleet \(write stack: xen\)/,
    );
    expect(errorOf(pool({ xen: { migrationsPerHost: 0 } })).issues[0]).toMatch(/^xen\.migrationsPerHost: 0/);
    expect(errorOf(pool({ xen: { migrationsPerHost: 2.5 } })).issues[0]).toMatch(/^xen\.migrationsPerHost: 2\.5/);
  });
});

describe('the example inventory of a Xen pool', () => {
  it('validates, with its hooks and no guard', () => {
    const inv = parseInventoryYaml(readFileSync('config/pool1.example.yaml', 'utf8'), 'config/pool1.example.yaml');
    expect([inv.stack, inv.capacityUnit, inv.cluster]).toEqual(['xen', 'MiB', 'pool1']);
    expect(hostsOf(inv, '@rack2')).toEqual(['xs4', 'xs5', 'xs6']);
    expect(Object.keys(inv.hooks).sort()).toEqual(['postEmpty', 'postRun', 'preEmpty', 'preRun']);
    expect(inv.etcd).toBeUndefined();
    expect(inv.gluster).toBeUndefined();
  });
});
