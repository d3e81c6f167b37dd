/**
 * activities/hostnamectl-parse.ts on test/fixtures/hostnamectl (SOURCES.md "hostnamectl/"): the
 * boot id that tells a rebooted host from one that did not reboot.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostnamectlStatus } from '../../activities/hostnamectl-parse';
import { ParseError, ToolError } from '../../activities/parse-error';

const FIXTURES = join(__dirname, '..', 'fixtures');
const read = (base: string, stream: 'stdout' | 'stderr') => readFileSync(join(FIXTURES, 'hostnamectl', `${base}.${stream}.txt`), 'utf8');

describe('parseHostnamectlStatus', () => {
  it('reads the fixture: static hostname, machine id, boot id, every row', () => {
    const s = parseHostnamectlStatus(read('status-top1', 'stdout'), read('status-top1', 'stderr'));
    expect(s).toMatchObject({ staticHostname: 'top1', machineId: '944cd548d3d9f9d836ee09ccdae354fd', bootId: 'de775dee22864cd19102b203ca743de3' });
    expect(Object.keys(s.fields)).toEqual([
      'Static hostname',
      'Icon name',
      'Chassis',
      'Machine ID',
      'Boot ID',
      'Operating System',
      'Kernel',
      'Architecture',
      'Hardware Vendor',
      'Hardware Model',
    ]);
    expect(s.fields['Chassis']).toBe('server \u{1F5B3}');
  });

  it('takes rows in any set (empty ones are left out), values with colons, a VM', () => {
    const out = [
      '   Static hostname: n1',
      'Transient hostname: n1.example',
      '         Icon name: computer-vm',
      '        Machine ID: 0123456789abcdef0123456789abcdef',
      '           Boot ID: fedcba9876543210fedcba9876543210',
      '    Virtualization: kvm',
      '  Firmware Version: rel-1.16.2-0-gea1b7a073390-prebuilt.qemu.org: x',
      '',
    ].join('\n');
    const s = parseHostnamectlStatus(out);
    expect([s.staticHostname, s.bootId, s.fields['Firmware Version']]).toEqual([
      'n1',
      'fedcba9876543210fedcba9876543210',
      'rel-1.16.2-0-gea1b7a073390-prebuilt.qemu.org: x',
    ]);
  });

  it('no systemd: a ToolError quoting it; text it does not know, or no boot id: a ParseError', () => {
    const noSystemd = "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n";
    expect(() => parseHostnamectlStatus('', noSystemd)).toThrow(ToolError);
    expect(() => parseHostnamectlStatus(' Static hostname: a\n')).toThrow(/no "Boot ID:" row/);
    expect(() => parseHostnamectlStatus(' Static hostname: a\n         Boot ID: 1234\n')).toThrow(ParseError);
    expect(() => parseHostnamectlStatus(' Static hostname: a\n         Boot ID: DE775DEE22864CD19102B203CA743DE3\n')).toThrow(ParseError);
    expect(() => parseHostnamectlStatus('a\n')).toThrow(ParseError);
    expect(() => parseHostnamectlStatus('')).toThrow(ParseError);
  });

  it('every fixture is in SOURCES.md with both streams, and the parser stays pure', () => {
    const sources = readFileSync(join(FIXTURES, 'SOURCES.md'), 'utf8');
    for (const f of readdirSync(join(FIXTURES, 'hostnamectl'))) {
      const base = f.replace(/\.(stdout|stderr)\.txt$/, '');
      expect(sources.includes(`\`${base}\``), `hostnamectl/${f} in SOURCES.md`).toBe(true);
    }
    const src = readFileSync(join(__dirname, '..', '..', 'activities', 'hostnamectl-parse.ts'), 'utf8');
    const imports = [...src.matchAll(/^import .* from '([^']+)';$/gm)].map((x) => x[1]);
    expect(imports).toEqual(['./parse-error']);
    expect(src).not.toMatch(/\b(require\(|process\.(env|argv|exit|stdout|stderr|cwd)\b|Buffer\.|setTimeout\(|Date\.now\(|Math\.random\()/);
  });
});
