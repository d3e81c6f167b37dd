import { describe, expect, it } from 'vitest';
import { labAddresses } from '../../lab/addresses';

describe('labAddresses', () => {
  it('a 127.0.K base: one /24, host i at .(10+i), at most 240', () => {
    expect(labAddresses('127.0.31', 3)).toEqual(['127.0.31.10', '127.0.31.11', '127.0.31.12']);
    expect(labAddresses('127.0.31', 240).at(-1)).toBe('127.0.31.249');
    expect(() => labAddresses('127.0.31', 241)).toThrow(/241 hosts .* at most 240 .* use a \/16 base/);
  });

  it('a 127.N base: a /16, 240 hosts per third octet, 500 hypervisors fit', () => {
    const a = labAddresses('127.30', 510);
    expect(a.slice(0, 2)).toEqual(['127.30.0.10', '127.30.0.11']);
    expect(a[239]).toBe('127.30.0.249');
    expect(a[240]).toBe('127.30.1.10');
    expect(a[509]).toBe('127.30.2.39');
    expect(new Set(a).size).toBe(510);
  });

  it('refuses a base that is not loopback, naming it', () => {
    for (const bad of ['10.0.0', '127', '127.0.0.1', '127.0.300', 'x']) {
      expect(() => labAddresses(bad, 1)).toThrow(`lab address base ${JSON.stringify(bad)}`);
    }
  });
});
