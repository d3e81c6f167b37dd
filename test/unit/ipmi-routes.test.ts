import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseInventory } from '../../domain/inventory';
import { ipmiRoutes, routeName } from '../../domain/ipmi-routes';

const example = () => parseYaml(readFileSync('config/ocean.example.yaml', 'utf8')) as any;
const names = (inv: ReturnType<typeof parseInventory>, o?: Parameters<typeof ipmiRoutes>[1]) => ipmiRoutes(inv, o).map(routeName);

describe('where ipmitool runs (inventory ipmiFrom)', () => {
  const doc = example();
  doc.bmcRelays = [
    { name: 'bmcgw1', address: '10.1.255.1' },
    { name: 'bmcgw2', address: '10.1.255.2', sshPort: 2022 },
  ];
  const inv = parseInventory(doc);

  it('by default: the hypervisors (control host first, then the step hosts), the relays, then the worker', () => {
    const r = names(inv, { first: ['worker3', 'islet12'] });
    expect(r.slice(0, 3)).toEqual(['top1', 'worker3', 'islet12']);
    expect(r.slice(-3)).toEqual(['bmcgw1', 'bmcgw2', 'the worker']);
    expect(r).toHaveLength(inv.hypervisors.length + 3);
    expect(new Set(r).size).toBe(r.length);
  });

  it('in the order the inventory gives, without the sources it does not name', () => {
    const d = example();
    d.bmcRelays = [{ name: 'bmcgw1', address: '10.1.255.1' }];
    d.ipmiFrom = ['worker', 'bmcRelays'];
    expect(names(parseInventory(d))).toEqual(['the worker', 'bmcgw1']);
  });

  it('leaves out the hosts known to be off, and the control host too when it is', () => {
    const r = names(inv, { without: ['top1', 'worker2'] });
    expect(r).not.toContain('top1');
    expect(r).not.toContain('worker2');
    expect(r[0]).toBe('top2');
  });

  it('ipmiVia: one hypervisor or relay replaces the list; anything else names the field', () => {
    expect(ipmiRoutes(inv, { only: 'bmcgw2' })).toEqual([{ via: 'ssh', host: 'bmcgw2' }]);
    expect(ipmiRoutes(inv, { only: 'top3' })).toEqual([{ via: 'ssh', host: 'top3' }]);
    expect(() => ipmiRoutes(inv, { only: 'nosuch', field: 'ipmiVia' })).toThrow(
      /ipmiVia: "nosuch" is neither a hypervisor nor a BMC relay \(bmcRelays\) of cluster ocean/,
    );
  });
});
