/** activities/xe-parse.ts against test/fixtures/xe (SOURCES.md "xe/"), and the formats' edges. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../activities/parse-error';
import {
  parseXeComputeFreeMemory,
  parseXeError,
  parseXeHosts,
  parseXeMap,
  parseXeMinimal,
  parseXeParamGet,
  parseXePools,
  parseXeRecords,
  parseXeRecordsDetailed,
  parseXeRef,
  parseXeSet,
  parseXeSilent,
  parseXeVms,
  XE_EXPENSIVE,
  XeError,
} from '../../activities/xe-parse';

const DIR = join(__dirname, '..', 'fixtures', 'xe');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
const run = (base: string): [string, string] => [read(`${base}.stdout.txt`), read(`${base}.stderr.txt`)];
const POOL = JSON.parse(read('pool.json')) as {
  uuid: string;
  hosts: { name: string; uuid: string; address: string; memoryTotal: number; memoryOverhead: number; localSrUuid: string }[];
  vms: { name: string; uuid: string; host?: string; memory: number }[];
  sharedSr: { uuid: string };
};
const host = (name: string) => POOL.hosts.find((h) => h.name === name)!;
const vm = (name: string) => POOL.vms.find((v) => v.name === name)!;

function xeError(base: string): XeError {
  const [stdout, stderr] = run(base);
  const e = parseXeError(stderr, stdout);
  expect(e).toBeInstanceOf(XeError);
  expect(e!.tool).toBe('xe');
  expect(e!.toolMessage).toBe(stderr.replace(/\n$/, ''));
  return e!;
}

describe('records', () => {
  it('pool-list: default fields; ha fields typed, with HA on and off', () => {
    expect(parseXeRecords(...run('pool-list'))).toEqual([
      { uuid: POOL.uuid, 'name-label': 'xenlab', 'name-description': '', master: host('xs1').uuid, 'default-SR': POOL.sharedSr.uuid },
    ]);
    const [on] = parseXePools(...run('pool-list-ha'));
    expect(on).toMatchObject({ uuid: POOL.uuid, master: host('xs1').uuid, haEnabled: true, haHostFailuresToTolerate: 1, haPlanExistsFor: 1 });
    expect(on!.haStatefiles).toHaveLength(1);
    expect(parseXePools(...run('pool-list-ha-disabled'))[0]).toMatchObject({ haEnabled: false, haStatefiles: [], haPlanExistsFor: 0 });
  });

  it('the markers: RO, RW, SRO; a first field padded on the right, the others on the left', () => {
    const [r] = parseXeRecordsDetailed(...run('vm-list-snapshot'));
    expect(r!['uuid']).toEqual({ value: vm('web1').uuid, access: 'RO', deprecated: false });
    expect(r!['name-label']!.access).toBe('RW');
    expect(r!['current-operations']).toEqual({ value: '', access: 'SRO', deprecated: false });
    expect(parseXeRecordsDetailed('uuid ( RO)      : x\n    patches (SRO) [DEPRECATED]: \n\n\n')).toEqual([
      { uuid: { value: 'x', access: 'RO', deprecated: false }, patches: { value: '', access: 'SRO', deprecated: true } },
    ]);
  });

  it('host-list: the snapshot fields, memory in bytes, the expensive field left out', () => {
    const hosts = parseXeHosts(...run('host-list-snapshot'));
    expect(hosts.map((h) => [h.nameLabel, h.address, h.enabled, h.live, h.memoryTotal, h.memoryOverhead])).toEqual(
      POOL.hosts.map((h) => [h.name, h.address, true, true, h.memoryTotal, h.memoryOverhead]),
    );
    expect(hosts.every((h) => h.memoryFreeComputed === undefined && h.fields['memory-free-computed'] === XE_EXPENSIVE)).toBe(true);
    expect(hosts[0]!.memoryFree).toBe(parseXeComputeFreeMemory(...run('host-compute-free-memory-xs1')));
  });

  it('vm-list: control domains and guests; a halted VM resident nowhere', () => {
    const all = parseXeVms(...run('vm-list'));
    expect(all.filter((v) => v.nameLabel!.startsWith('Control domain on host: '))).toHaveLength(3);
    const guests = parseXeVms(...run('vm-list-snapshot'));
    expect(guests.map((v) => [v.nameLabel, v.powerState, v.residentOn, v.memoryStaticMax, v.currentOperations])).toEqual(
      POOL.vms.map((v) => [v.name, v.host ? 'running' : 'halted', v.host ? host(v.host).uuid : null, v.memory, []]),
    );
    expect(guests.every((v) => v.memoryOverhead! > 0 && v.memoryDynamicMin === v.memoryStaticMax)).toBe(true);
  });

  it('which VM has a disk on which SR (vbd-list, vdi-list, sr-list)', () => {
    const local = new Map(parseXeRecords(...run('sr-list')).map((s) => [s['uuid']!, s['shared'] === 'false' ? s['host'] : undefined]));
    const srOfVdi = new Map(parseXeRecords(...run('vdi-list-srs')).map((d) => [d['uuid']!, d['sr-uuid']!]));
    const onLocal = parseXeRecords(...run('vbd-list-disks'))
      .filter((b) => local.get(srOfVdi.get(b['vdi-uuid']!)!) !== undefined)
      .map((b) => b['vm-uuid']);
    expect(onLocal).toEqual([vm('db1').uuid]);
    expect(local.get(host('xs1').localSrUuid)).toBe('xs1');
  });

  it('host-get-vms-which-prevent-evacuation: the VM and its reason (code and raw references)', () => {
    const [r] = parseXeRecords(...run('host-get-vms-which-prevent-evacuation-xs1'));
    expect(r!['uuid']).toBe(vm('db1').uuid);
    expect(r!['reason']!.split(',')).toEqual(['VM_REQUIRES_SR', expect.stringMatching(/^OpaqueRef:/), expect.stringMatching(/^OpaqueRef:/)]);
  });

  it('rejects what xe does not print', () => {
    expect(() => parseXeRecords('uuid: x\n')).toThrow(ParseError);
    expect(() => parseXeRecords('uuid ( RO): x\nuuid ( RO): y\n')).toThrow(/twice/);
    expect(() => parseXeRecords('uuid ( RX): x\n')).toThrow(ParseError);
    expect(parseXeRecords('')).toEqual([]);
  });
});

describe('--minimal, param-get, compute-free-memory, silent commands', () => {
  it('comma-separated first fields; the empty line is no value', () => {
    expect(parseXeMinimal(...run('host-list-minimal'))).toEqual(['xs1', 'xs2', 'xs3']);
    expect(parseXeMinimal(...run('host-list-disabled-minimal'))).toEqual([host('xs3').uuid]);
    expect(parseXeMinimal(...run('vm-list-resident-on-xs2-minimal'))).toEqual([vm('web2').uuid, vm('batch1').uuid]);
    expect(parseXeMinimal(...run('vm-list-no-match-minimal'))).toEqual([]);
  });

  it('unescapes commas and backslashes (cli_printer.ml escape_commas)', () => {
    expect(parseXeMinimal('a\\,b,c\\\\d,\n')).toEqual(['a,b', 'c\\d', '']);
    expect(() => parseXeMinimal('a\\b\n')).toThrow(ParseError);
    expect(() => parseXeMinimal('a\nb\n')).toThrow(ParseError);
  });

  it('param-get and host-compute-free-memory: one line', () => {
    expect(parseXeParamGet(...run('vm-param-get-resident-on'))).toBe(host('xs1').uuid);
    const free = parseXeComputeFreeMemory(...run('host-compute-free-memory-xs1'));
    expect(free).toBe(parseXeComputeFreeMemory(...run('host-param-get-memory-free-computed')));
    expect(free % 1048576).toBe(0);
    expect(() => parseXeComputeFreeMemory('12 bytes\n')).toThrow(ParseError);
  });

  it('host-disable, vm-migrate: nothing on success', () => {
    expect(() => parseXeSilent(...run('host-disable-xs3'))).not.toThrow();
    expect(() => parseXeSilent(...run('vm-migrate-web1-xs3'))).not.toThrow();
    expect(() => parseXeSilent('something\n')).toThrow(ParseError);
  });

  it('sets and maps', () => {
    expect(parseXeSet('')).toEqual([]);
    expect(parseXeSet('a; b')).toEqual(['a', 'b']);
    expect(parseXeMap('timeout: 60; x: a: b')).toEqual({ timeout: '60', x: 'a: b' });
    expect(parseXeRef(`${vm('web1').uuid} (web1)`)).toEqual({ uuid: vm('web1').uuid, name: 'web1' });
    expect(parseXeRef(host('xs1').uuid)).toEqual({ uuid: host('xs1').uuid });
    expect(() => parseXeRef('xs1')).toThrow(ParseError);
  });
});

describe('errors', () => {
  const ref = (id: { uuid: string }, name: string) => `${id.uuid} (${name})`;
  const cases: [string, string, Record<string, string>][] = [
    ['host-reboot-not-disabled', 'HOST_NOT_DISABLED', {}],
    ['vm-migrate-not-enough-memory', 'HOST_NOT_ENOUGH_FREE_MEMORY', { needed: '51954843648', available: '37707841536' }],
    ['vm-migrate-local-storage', 'VM_REQUIRES_SR', { vm: ref(vm('db1'), 'db1'), sr: `${host('xs1').localSrUuid} (Local storage)` }],
    ['vm-migrate-halted', 'VM_BAD_POWER_STATE', { vm: ref(vm('old1'), 'old1'), expected: 'running', actual: 'halted' }],
    ['vm-migrate-host-disabled', 'HOST_DISABLED', { host: ref(host('xs3'), 'xs3') }],
    ['vm-migrate-no-such-vm', 'INTERNAL_ERROR', { message: 'Failure: No matching VMs found' }],
    ['vm-migrate-no-such-host', 'INTERNAL_ERROR', { message: 'Failure: Host xs9 not found' }],
    [
      'vm-migrate-remote-failed',
      'INTERNAL_ERROR',
      { message: 'xenopsd internal error: Xenops_migrate.Remote_failed("unmarshalling result code from remote")' },
    ],
    ['vm-migrate-contact-remote-service-failed', 'VM_MIGRATE_CONTACT_REMOTE_SERVICE_FAILED', {}],
    ['host-evacuate-ha-not-protected', 'HOST_EVACUATE_VM_NOT_HA_PROTECTED', { vm: ref(vm('web2'), 'web2') }],
    ['host-evacuate-local-storage', 'VM_REQUIRES_SR', { vm: ref(vm('db1'), 'db1'), sr: `${host('xs1').localSrUuid} (Local storage)` }],
    // xapi raises it with the VM as its only parameter: "available: <unknown>" is no value
    ['host-evacuate-not-enough-memory', 'HOST_NOT_ENOUGH_FREE_MEMORY', { needed: ref(vm('batch1'), 'batch1') }],
    ['pool-ha-disable-not-enabled', 'HA_NOT_ENABLED', {}],
    ['pool-ha-enable-already-enabled', 'HA_IS_ENABLED', {}],
    ['host-list-tcp-member', 'HOST_IS_SLAVE', { 'Master IP address': '10.1.0.1' }],
    ['vm-param-get-uuid-invalid', 'UUID_INVALID', { type: 'VM', uuid: '00000000-0000-0000-0000-000000000000' }],
    ['host-enable-disabled-until-reboot', 'HOST_DISABLED_UNTIL_REBOOT', { host: ref(host('xs3'), 'xs3') }],
  ];
  it.each(cases)('%s: %s', (base, code, named) => {
    const e = xeError(base);
    expect([e.code, e.named, e.params]).toEqual([code, named, Object.values(named)]);
  });

  it("the CLI's own failures", () => {
    expect([xeError('unknown-command').code, xeError('unknown-command').params]).toEqual(['UNKNOWN_COMMAND', ['host-frobnicate']]);
    expect([xeError('vm-param-get-no-param-name').code, xeError('vm-param-get-no-param-name').params]).toEqual([
      'REQUIRED_PARAMETER_NOT_FOUND',
      ['param-name'],
    ]);
    expect([xeError('vm-param-get-unknown-field').code, xeError('vm-param-get-unknown-field').params]).toEqual(['Missing parameter', ['frobs']]);
    const e = (stderr: string) => parseXeError(stderr)!.code;
    expect(e('Unable to contact server. Please check server and port settings.\n')).toBe('CONNECT_FAILED');
    expect(e('Error: Connection refused (calling connect )\n')).toBe('CONNECT_FAILED');
    expect(e('Lost connection to the server.\n')).toBe('CONNECT_FAILED');
    expect(e("Authentication failed\nFor usage run: 'xe help'\n")).toBe('SESSION_AUTHENTICATION_FAILED');
    expect(e("Syntax error: \nFor usage run: 'xe help'\n")).toBe('SYNTAX_ERROR');
    expect(e('bash: xe: command not found\n')).toBe('COMMAND_NOT_FOUND');
    expect(e('Error code: SR_BACKEND_FAILURE_46\nError parameters: , The VDI is not available, \n')).toBe('SR_BACKEND_FAILURE_46');
    expect(parseXeError('Error code: SR_BACKEND_FAILURE_46\nError parameters: , The VDI is not available, \n')!.params).toEqual([
      '',
      'The VDI is not available',
      '',
    ]);
    expect(parseXeError('', 'operation failed on 0700b06f-2220-478b-82c5-63919f65867c: The specified server is disabled.\nhost: x\n')!.code).toBe(
      'MULTIPLE_FAILURE',
    );
    expect(parseXeError('', '')).toBeUndefined();
  });

  it("XenServer 7's wording (idl/datamodel.ml of 2016: host, slave, master)", () => {
    const e = (stderr: string) => parseXeError(stderr)!;
    expect(e('You cannot make regular API calls directly on a slave. Please pass API calls via the master host.\nMaster IP address: 10.1.0.1\n').named).toEqual(
      {
        'Master IP address': '10.1.0.1',
      },
    );
    expect(e('Not enough host memory is available to perform this operation\nneeded: 1\navailable: 0\n').code).toBe('HOST_NOT_ENOUGH_FREE_MEMORY');
    expect(e('The specified host is disabled.\nhost: x\n').code).toBe('HOST_DISABLED');
    expect(e('Another operation involving the object is currently in progress\nclass: VM\nobject: x (y)\n').named).toEqual({ class: 'VM', object: 'x (y)' });
  });

  it('an error the parser does not know keeps its text; a known one with a wrong parameter line is no error of xe', () => {
    const u = parseXeError('Something new happened.\nthing: x (y)\n')!;
    expect([u.code, u.params, u.named]).toEqual(['UNKNOWN_ERROR', ['x (y)'], { thing: 'x (y)' }]);
    expect(() => parseXeError('The specified server is disabled.\nvm: x\n')).toThrow(ParseError);
  });

  it('every parser throws the XeError of a failed command', () => {
    const [stdout, stderr] = run('vm-migrate-local-storage');
    for (const parse of [parseXeRecords, parseXeMinimal, parseXeParamGet, parseXeComputeFreeMemory, parseXeSilent, parseXeHosts, parseXeVms, parseXePools]) {
      expect(() => parse(stdout, stderr)).toThrow(XeError);
    }
  });

  it('every fixture parses (a record, a minimal line, a value, nothing, or an error)', () => {
    const bases = [
      ...new Set(
        readdirSync(DIR)
          .filter((f) => f.endsWith('.stdout.txt'))
          .map((f) => f.replace(/\.stdout\.txt$/, '')),
      ),
    ];
    expect(bases.length).toBeGreaterThan(30);
    for (const base of bases) {
      const [stdout, stderr] = run(base);
      if (stderr) expect(parseXeError(stderr, stdout), base).toBeInstanceOf(XeError);
      else if (/ \( RO\)/.test(stdout)) expect(parseXeRecords(stdout).length, base).toBeGreaterThan(0);
      else expect(() => (stdout === '' ? parseXeSilent(stdout) : parseXeMinimal(stdout)), base).not.toThrow();
    }
  });
});
