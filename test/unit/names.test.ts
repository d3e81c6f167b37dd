import { describe, expect, it } from 'vitest';
import {
  assertHostName,
  assertUnitName,
  assertVmName,
  assertVolumeName,
  HOST_NAME_RULE,
  InvalidNameError,
  isHostName,
  UNIT_NAME_RULE,
} from '../../domain/names';

function err(f: () => void): InvalidNameError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidNameError);
    return e as InvalidNameError;
  }
  throw new Error('did not throw');
}

const INJECTIONS = ['top1;reboot', '$(id)', '`id`', 'top1 top2', 'top1\n', 'top1&', '../etc', 'top1|x', "top1'", '"top1"', ''];

describe('host names', () => {
  it('accepts lowercase DNS labels', () => {
    for (const h of ['top1', 'worker3', 'irene271', 'a', 'a-b-c', 'x'.repeat(63)]) expect(() => assertHostName(h, 'host')).not.toThrow();
  });
  it('refuses the rest', () => {
    for (const h of [...INJECTIONS, 'Top1', '1top', '-top', 'top_1', 'top.domain', 'x'.repeat(64)]) {
      expect(isHostName(h)).toBe(false);
      expect(() => assertHostName(h, 'host')).toThrow(InvalidNameError);
    }
  });
  it('message names the field, the JSON-quoted value and the rule', () => {
    const e = err(() => assertHostName('top1;reboot', 'evacuate.host'));
    expect(e.message).toContain('evacuate.host');
    expect(e.message).toContain('"top1;reboot"');
    expect(e.message).toContain('^[a-z][a-z0-9-]{0,62}$');
    expect(e.field).toBe('evacuate.host');
    expect(e.rule).toBe(HOST_NAME_RULE);
  });
  it('truncates long values and escapes control characters', () => {
    const e = err(() => assertHostName('a;'.repeat(500), 'host'));
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toContain('1000 characters');
    expect(err(() => assertHostName('a\nb', 'host')).message).toContain('"a\\nb"');
  });
  it('refuses non-strings', () => {
    expect(err(() => assertHostName(42, 'host')).message).toContain('expected a string, got number');
    expect(err(() => assertHostName(null, 'host')).message).toContain('got null');
  });
});

describe('VM names', () => {
  it('accepts', () => {
    for (const v of ['vm1', 'dns_1', 'dhcp-2', 'a']) expect(() => assertVmName(v, 'vm')).not.toThrow();
  });
  it('refuses', () => {
    for (const v of [...INJECTIONS, 'VM1', '_vm', '1vm', 'vm.1', 'v'.repeat(64)]) expect(() => assertVmName(v, 'vm')).toThrow(InvalidNameError);
  });
});

describe('unit names', () => {
  it('accepts', () => {
    for (const u of ['fleet.service', 'pcocc-vm-dns1.service', 'getty@tty1.service', 'multi-user.target', 'a:b_c.timer', 'vm.1.service']) {
      expect(() => assertUnitName(u, 'unit')).not.toThrow();
    }
  });
  it('refuses', () => {
    for (const u of [
      ...INJECTIONS,
      'fleet',
      'fleet.socket',
      'fleet.service;reboot',
      '-fleet.service',
      '--now.service',
      'a b.service',
      'x/y.service',
      `${'a'.repeat(250)}.service`,
    ]) {
      expect(() => assertUnitName(u, 'unit')).toThrow(InvalidNameError);
    }
  });
  it('caps the length inside the pattern itself', () => {
    expect(UNIT_NAME_RULE.pattern.test(`${'a'.repeat(247)}.service`)).toBe(true); // 255
    expect(UNIT_NAME_RULE.pattern.test(`${'a'.repeat(248)}.service`)).toBe(false); // 256
  });
});

describe('volume names', () => {
  it('accepts', () => {
    for (const v of ['vol1', 'VM_images', 'gv-0', 'x'.repeat(64)]) expect(() => assertVolumeName(v, 'volume')).not.toThrow();
  });
  it('refuses', () => {
    for (const v of [...INJECTIONS, 'vol.1', '-vol', 'x'.repeat(65), 'vol/1']) expect(() => assertVolumeName(v, 'volume')).toThrow(InvalidNameError);
  });
});
