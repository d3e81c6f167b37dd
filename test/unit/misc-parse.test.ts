import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFindmntGlusterMounts } from '../../activities/findmnt-parse';
import { parseFping, parseFpingCount } from '../../activities/fping-parse';
import { ParseError, ToolError, outputLines } from '../../activities/parse-error';
import { parsePcoccAgentPing, parsePcoccPs, parsePythonTimedelta } from '../../activities/pcocc-parse';
import { parseIpmiPowerControl, parseIpmiPowerStatus } from '../../activities/power-parse';
import { parseSystemctlIsActive, parseSystemctlShow, parseSystemctlShowUnitStates } from '../../activities/systemd-parse';

const FIXTURES = join(__dirname, '..', 'fixtures');
const seed = (tool: string, name: string): string => readFileSync(join(FIXTURES, tool, name), 'utf8');
const run = (tool: string, base: string): [string, string] => {
  const read = (s: string) => {
    const p = join(FIXTURES, tool, `${base}.${s}.txt`);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  };
  return [read('stdout'), read('stderr')];
};

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

function expectParseError(fn: () => unknown, tool: string, line?: string, message?: RegExp): void {
  const e = catchError(fn);
  expect(e).toBeInstanceOf(ParseError);
  expect((e as ParseError).tool).toBe(tool);
  expect((e as ParseError).message.startsWith(`${tool}: `)).toBe(true);
  if (line !== undefined) expect((e as ParseError).line).toBe(line);
  if (message) expect((e as ParseError).message).toMatch(message);
}

function expectToolError(fn: () => unknown, tool: string, code: string): void {
  const e = catchError(fn);
  expect(e).toBeInstanceOf(ToolError);
  expect((e as ToolError).tool).toBe(tool);
  expect((e as ToolError).code).toBe(code);
}

describe('ParseError / outputLines', () => {
  it('names the tool and quotes the line', () => {
    const e = new ParseError('gluster', 'bad thing', 'Brick x');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ParseError');
    expect(e.message).toBe('gluster: bad thing: "Brick x"');
    expect(new ParseError('fping', 'empty output').message).toBe('fping: empty output');
  });
  it('splits streams without inventing a last empty line', () => {
    expect(outputLines('a\nb\n', 'c\r\n')).toEqual(['a', 'b', 'c']);
    expect(outputLines('a\n\n')).toEqual(['a', '']);
    expect(outputLines('', '')).toEqual([]);
  });
});

describe('systemctl', () => {
  it("reads seed 002's is-active / is-failed", () => {
    expect(parseSystemctlIsActive(seed('systemctl', 'seed002-is-active.txt'))).toEqual(['active']);
    expect(parseSystemctlIsActive(seed('systemctl', 'seed002-is-failed.txt'), ['pcocc-vm-admin1'])).toEqual(['active']);
  });

  it('reads several units in argument order', () => {
    const [out] = run('systemctl', 'is-active-three-units');
    expect(parseSystemctlIsActive(out, ['a.service', 'b.service', 'c.service'])).toEqual(['active', 'inactive', 'failed']);
    expect(parseSystemctlIsActive('activating\ndeactivating\nunknown\nmaintenance\nreloading\n')).toHaveLength(5);
  });

  it('rejects unknown states and count mismatches', () => {
    expectParseError(() => parseSystemctlIsActive('active\nrunning\n'), 'systemctl', 'running', /line 2: unknown unit state/);
    expectParseError(() => parseSystemctlIsActive('active\n', ['a', 'b']), 'systemctl', undefined, /1 state line\(s\) for 2 unit\(s\)/);
    expectParseError(() => parseSystemctlIsActive(''), 'systemctl', undefined, /empty output/);
    expectToolError(
      () =>
        parseSystemctlIsActive(
          '',
          undefined,
          "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
        ),
      'systemctl',
      'no-systemd',
    );
  });

  it('reads `show -p ActiveState,SubState,MainPID` for several units', () => {
    const [out] = run('systemctl', 'show-three-units');
    expect(parseSystemctlShowUnitStates(out, ['pcocc-vm-infra1.service', 'b.service', 'c.service'])).toEqual([
      { activeState: 'active', subState: 'running', mainPid: 44912 },
      { activeState: 'inactive', subState: 'dead', mainPid: 0 },
      { activeState: 'failed', subState: 'failed', mainPid: 0 },
    ]);
    expect(parseSystemctlShowUnitStates(run('systemctl', 'show-one-unit-activating')[0])).toEqual([
      { activeState: 'activating', subState: 'start-pre', mainPid: 45310 },
    ]);
    expect(parseSystemctlShow('Id=a.service\nExecStart={ path=/bin/x ; argv[]=/bin/x a=b }\n')).toEqual([
      { Id: 'a.service', ExecStart: '{ path=/bin/x ; argv[]=/bin/x a=b }' },
    ]);
  });

  it('rejects malformed show output', () => {
    expectParseError(() => parseSystemctlShowUnitStates('MainPID=1\nActiveState=active\n'), 'systemctl', 'MainPID=1 ActiveState=active', /missing/);
    expectParseError(() => parseSystemctlShowUnitStates('MainPID=x\nActiveState=active\nSubState=running\n'), 'systemctl', 'MainPID=x');
    expectParseError(() => parseSystemctlShow('MainPID=1\nActiveState=active\nMainPID=2\n'), 'systemctl', 'MainPID=2', /repeated/);
    expectParseError(() => parseSystemctlShow('MainPID=1\n\n\nMainPID=2\n'), 'systemctl', '', /line 3: unexpected blank line/);
    expectParseError(() => parseSystemctlShow('this is status output\n'), 'systemctl', 'this is status output', /line 1/);
    expectParseError(() => parseSystemctlShowUnitStates(run('systemctl', 'show-three-units')[0], ['a']), 'systemctl', undefined, /3 record\(s\) for 1 unit/);
  });
});

describe('pcocc', () => {
  it("reads seed 002's `pcocc ps`", () => {
    const jobs = parsePcoccPs(seed('pcocc', 'seed002-ps.txt'));
    expect(jobs).toHaveLength(27);
    expect(jobs[0]).toEqual({
      id: 518,
      name: 'batch1',
      user: 'root',
      partition: 'N/A',
      nodes: 'top1',
      duration: '4 days, 3:08:53',
      durationSeconds: 4 * 86400 + 3 * 3600 + 8 * 60 + 53,
      timelimit: 'N/A',
    });
    expect(jobs.find((j) => j.name === 'siteprep2')).toMatchObject({ id: 294, nodes: 'top1', durationSeconds: 19 * 86400 + 23 * 3600 + 26 * 60 + 38 });
    expect(
      jobs
        .filter((j) => j.nodes === 'top3')
        .map((j) => j.name)
        .sort(),
    ).toEqual(['batch2', 'db1', 'lb1', 'ns3', 'nsrelay1', 'webrelay1']);
    expect(jobs.filter((j) => j.nodes === 'islet55')).toHaveLength(5);
  });

  it('handles an extra column and an empty table', () => {
    const text =
      'ID     NAME      STATE      DURATION    USER    PARTITION    NODES    TIMELIMIT\n--     ----      -----      --------    ----    ---------    -----    ---------\n7      vm7       running    0:00:05     root    N/A          top1     N/A\n';
    expect(parsePcoccPs(text)).toEqual([
      {
        id: 7,
        name: 'vm7',
        user: 'root',
        partition: 'N/A',
        nodes: 'top1',
        duration: '0:00:05',
        durationSeconds: 5,
        timelimit: 'N/A',
        extra: { state: 'running' },
      },
    ]);
    expect(
      parsePcoccPs('ID    NAME    USER    PARTITION    NODES    DURATION    TIMELIMIT\n--    ----    ----    ---------    -----    --------    ---------\n'),
    ).toEqual([]);
  });

  it('parses Python timedeltas', () => {
    expect(parsePythonTimedelta('1 day, 0:00:01')).toBe(86401);
    expect(parsePythonTimedelta('0:05:12.500000')).toBe(312.5);
    expectParseError(() => parsePythonTimedelta('4 days 3:08:53'), 'pcocc', '4 days 3:08:53');
  });

  it('rejects misaligned or damaged tables naming the line', () => {
    const lines = seed('pcocc', 'seed002-ps.txt').split('\n');
    const bad = lines[2]!.replace('batch1        root', 'batch1 root       ');
    lines[2] = bad;
    expectParseError(() => parsePcoccPs(lines.join('\n')), 'pcocc', bad, /line 3/);
    expectParseError(() => parsePcoccPs('ID NAME\n-- ---\n'), 'pcocc', '-- ---', /dashes do not underline/);
    expectParseError(() => parsePcoccPs('ID    NAME\n--    ----\n'), 'pcocc', 'ID    NAME', /no USER column/);
    const noId = seed('pcocc', 'seed002-ps.txt').replace('518    batch1', 'x18    batch1');
    expectParseError(() => parsePcoccPs(noId), 'pcocc', undefined, /line 3: ID is not a number/);
  });

  it('reads `pcocc agent ping`', () => {
    expect(parsePcoccAgentPing('', seed('pcocc', 'seed002-agent-ping.txt'))).toEqual({ ok: true, vmCount: 1, seconds: 0.3 });
    expect(parsePcoccAgentPing(...run('pcocc', 'agent-ping-timeout'))).toEqual({
      ok: false,
      errors: [{ vm: 0, message: 'Timeout while waiting for agent to answer' }],
    });
    // colours when run on a tty
    expect(parsePcoccAgentPing('', '\x1b[32m3 VMs answered in 1.02s\x1b[0m\n')).toEqual({ ok: true, vmCount: 3, seconds: 1.02 });
    expectParseError(() => parsePcoccAgentPing('', 'Unable to find job admin9\n'), 'pcocc', 'Unable to find job admin9');
    expectParseError(() => parsePcoccAgentPing('', ''), 'pcocc', undefined, /no "N VMs answered/);
  });
});

describe('ipmitool power', () => {
  it('reads power status and controls', () => {
    expect(parseIpmiPowerStatus(...run('ipmitool', 'power-status-on'))).toBe('on');
    expect(parseIpmiPowerStatus(...run('ipmitool', 'power-status-off'))).toBe('off');
    expect(parseIpmiPowerControl(...run('ipmitool', 'power-on'))).toBe('Up/On');
    expect(parseIpmiPowerControl(...run('ipmitool', 'power-off'))).toBe('Down/Off');
    expect(parseIpmiPowerControl('Chassis Power Control: Cycle\n')).toBe('Cycle');
  });

  it('reads what real ipmitool prints against a BMC that does not list its cipher suites (OpenIPMI ipmi_sim)', () => {
    expect(parseIpmiPowerStatus(...run('ipmitool', 'captured-ipmi-sim-power-status-off'))).toBe('off');
    expect(parseIpmiPowerStatus(...run('ipmitool', 'captured-ipmi-sim-power-status-on'))).toBe('on');
    expect(parseIpmiPowerControl(...run('ipmitool', 'captured-ipmi-sim-power-on'))).toBe('Up/On');
    expect(parseIpmiPowerStatus('Chassis Power is on\n', 'Get Channel Cipher Suites failed: Invalid command\n')).toBe('on');
  });

  it('classifies the real failure messages', () => {
    expectToolError(() => parseIpmiPowerStatus(...run('ipmitool', 'captured-power-status-no-bmc')), 'ipmitool', 'session');
    expectToolError(() => parseIpmiPowerControl(...run('ipmitool', 'captured-power-on-no-password')), 'ipmitool', 'no-password');
    expectToolError(() => parseIpmiPowerStatus(...run('ipmitool', 'power-status-bmc-no-response')), 'ipmitool', 'no-response');
    expectToolError(() => parseIpmiPowerStatus('', 'Get Chassis Power Status failed: Insufficient privilege level\n'), 'ipmitool', 'command');
    expectToolError(() => parseIpmiPowerControl('', 'Set Chassis Power Control to Up/On failed: Node busy\n'), 'ipmitool', 'command');
  });

  it('rejects unknown output', () => {
    expectParseError(() => parseIpmiPowerStatus('Chassis Power is unknown\n'), 'ipmitool', 'Chassis Power is unknown');
    expectParseError(() => parseIpmiPowerStatus(''), 'ipmitool', undefined, /got 0 line/);
    expectParseError(() => parseIpmiPowerControl('Chassis Power Control: Sideways\n'), 'ipmitool', 'Chassis Power Control: Sideways');
    expectParseError(() => parseIpmiPowerControl(...run('ipmitool', 'power-status-on')), 'ipmitool', 'Chassis Power is on');
  });
});

describe('fping', () => {
  it('reads `fping -e` with an unreachable host', () => {
    const hosts = ['top1', 'top2', 'top3', 'worker1', 'worker2', 'worker3'];
    const r = parseFping(...run('fping', 'e-seed-hosts-top2-down'), hosts);
    expect(r.map((h) => h.host)).toEqual(hosts);
    expect(r[0]).toEqual({ host: 'top1', alive: true, rttMs: 0.04 });
    expect(r[1]).toEqual({ host: 'top2', alive: false });
    expect(parseFping('top1 is alive (0.04 ms)\ntop2 is unreachable\n')).toEqual([
      { host: 'top1', alive: true, rttMs: 0.04 },
      { host: 'top2', alive: false },
    ]);
  });

  it('reads the default form of seed 001', () => {
    const r = parseFping(...run('fping', 'default-seed-hosts'));
    expect(r).toHaveLength(6);
    expect(r.every((h) => h.alive && h.rttMs === undefined)).toBe(true);
  });

  it('reads a real capture with an unresolvable name and ICMP diagnostics', () => {
    const r = parseFping(...run('fping', 'captured-e-mixed'), ['127.0.0.1', '10.255.255.1', 'nosuchhost.invalid', 'localhost']);
    expect(r.map((h) => [h.host, h.alive])).toEqual([
      ['127.0.0.1', true],
      ['10.255.255.1', false],
      ['nosuchhost.invalid', false],
      ['localhost', true],
    ]);
    expect(r[2]!.error).toBe('Name or service not known');
    expect(typeof r[0]!.rttMs).toBe('number');
  });

  it('reads -C summaries (real captures)', () => {
    const c = parseFpingCount(...run('fping', 'captured-C3'));
    expect(c.map((h) => [h.host, h.alive, h.rtts.length])).toEqual([
      ['127.0.0.1', true, 3],
      ['10.255.255.1', false, 3],
    ]);
    expect(c[1]!.rtts).toEqual([null, null, null]);
    expect(parseFpingCount(...run('fping', 'captured-C3-quiet')).every((h) => h.alive)).toBe(true);
    expectParseError(() => parseFpingCount(run('fping', 'captured-C3')[0]), 'fping', undefined, /was stderr passed/);
  });

  it('rejects unknown lines, duplicates and missing hosts', () => {
    expectParseError(() => parseFping('top1 is alive\ntop1\n'), 'fping', 'top1', /unrecognized line/);
    expectParseError(() => parseFping('top1 is alive\ntop1 is unreachable\n'), 'fping', 'top1 is unreachable', /reported twice/);
    expectParseError(() => parseFping('top1 is alive\n', '', ['top1', 'top2']), 'fping', undefined, /missing \[top2\]/);
    expectParseError(() => parseFping(''), 'fping', undefined, /empty output/);
    expectToolError(() => parseFping('', "fping: can't create socket (must run as root?) : Operation not permitted\n"), 'fping', 'failed');
  });
});

describe('findmnt -rn -t fuse.glusterfs -o TARGET,SOURCE', () => {
  it('reads each GlusterFS mount: target (raw escapes decoded), server and volume (a subdirectory mount too)', () => {
    const [out, err] = run('findmnt', 'captured-rn-two-mounts');
    expect(err).toBe('');
    expect(parseFindmntGlusterMounts(out)).toEqual([
      { target: '/tmp/hvflow-cap/mnt/volspoms1', source: 'top1-data:/volspoms1', server: 'top1-data', volume: 'volspoms1' },
      { target: '/tmp/hvflow-cap/mnt/vol spoms2', source: 'top1-data:/volspoms2/sub', server: 'top1-data', volume: 'volspoms2' },
    ]);
  });

  it('no mount: no output (findmnt exits 1), no mount read', () => {
    expect(parseFindmntGlusterMounts(run('findmnt', 'captured-rn-none')[0])).toEqual([]);
  });

  it('refuses a line it cannot read rather than guess a mount', () => {
    for (const line of ['/mnt/a', '/mnt/a top1:/v extra', '/mnt/a not-a-gluster-source', '/mnt/a top1:/']) {
      const e = catchError(() => parseFindmntGlusterMounts(`${line}\n`));
      expect(e, line).toBeInstanceOf(ParseError);
    }
  });
});

describe('fixtures and parser modules', () => {
  const MINE = ['fleetctl', 'gluster', 'systemctl', 'pcocc', 'ipmitool', 'fping', 'findmnt'];

  it('every fixture is documented in test/fixtures/SOURCES.md, with both streams when split', () => {
    const sources = readFileSync(join(FIXTURES, 'SOURCES.md'), 'utf8');
    for (const tool of MINE) {
      for (const f of readdirSync(join(FIXTURES, tool))) {
        const base = f.replace(/\.(stdout|stderr)\.txt$/, '');
        expect(sources.includes(`\`${f}\``) || sources.includes(`\`${base}\``), `${tool}/${f} in SOURCES.md`).toBe(true);
        if (base !== f) {
          expect(existsSync(join(FIXTURES, tool, `${base}.stdout.txt`)), `${tool}/${base}.stdout.txt`).toBe(true);
          expect(existsSync(join(FIXTURES, tool, `${base}.stderr.txt`)), `${tool}/${base}.stderr.txt`).toBe(true);
        }
      }
    }
  });

  it('the parsers stay pure (no Node API, no I/O): usable in the workflow sandbox', () => {
    for (const m of ['parse-error', 'fleet-parse', 'gluster-parse', 'systemd-parse', 'pcocc-parse', 'power-parse', 'fping-parse', 'findmnt-parse']) {
      const src = readFileSync(join(__dirname, '..', '..', 'activities', `${m}.ts`), 'utf8');
      const imports = [...src.matchAll(/^import .* from '([^']+)';$/gm)].map((x) => x[1]);
      // domain/contract.ts: the failure types (pure names; the import-direction test keeps domain/ pure)
      expect(
        imports.every((i) => i === './parse-error' || i === '../domain/contract'),
        `${m} imports ${imports.join(', ')}`,
      ).toBe(true);
      expect(src).not.toMatch(/\b(require\(|process\.(env|argv|exit|stdout|stderr|cwd)\b|Buffer\.|setTimeout\(|Date\.now\(|Math\.random\()/);
    }
  });
});
