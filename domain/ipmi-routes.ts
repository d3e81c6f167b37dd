/**
 * Where ipmitool runs, in the inventory's order (`ipmiFrom`): a hypervisor that answers SSH (the
 * control host first, as seed 001 runs it on top1), a BMC relay of the inventory (`bmcRelays`, a
 * host hvflow reaches over SSH only to run ipmitool), or the worker itself (HVFLOW_IPMITOOL). A
 * cold start-up has no hypervisor up: a relay or the worker powers the first ones on.
 *
 * Pure module: no Node APIs, workflows import it.
 */
import { hypervisor, InventoryError, type Inventory } from './inventory';

export type IpmiRoute = { via: 'ssh'; host: string } | { via: 'worker' };

export const WORKER_ROUTE: IpmiRoute = { via: 'worker' };

/** `top1`, `bmcgw1`, `the worker`: for messages and notes. */
export function routeName(r: IpmiRoute): string {
  return r.via === 'worker' ? 'the worker' : r.host;
}

/**
 * The routes to try, in order. `first`: hypervisors to try right after the control host (the ones
 * of the step); `without`: hypervisors known to be off (left out of the run); `only`: one host
 * named by the operator (a hypervisor or a relay), which replaces the list.
 */
export function ipmiRoutes(inv: Inventory, o: { first?: string[]; without?: string[]; only?: string; field?: string } = {}): IpmiRoute[] {
  if (o.only !== undefined) {
    const isHypervisor = inv.hypervisors.some((h) => h.name === o.only);
    if (!isHypervisor && !inv.bmcRelays.some((r) => r.name === o.only)) {
      throw new InventoryError(inv.cluster, [
        `${o.field ?? 'ipmiVia'}: ${JSON.stringify(o.only)} is neither a hypervisor nor a BMC relay (bmcRelays) of cluster ${inv.cluster}`,
      ]);
    }
    return [{ via: 'ssh', host: o.only }];
  }
  const without = new Set(o.without ?? []);
  const routes: IpmiRoute[] = [];
  for (const source of inv.ipmiFrom) {
    if (source === 'hypervisors') {
      const names = [inv.controlHost, ...(o.first ?? []).map((h) => hypervisor(inv, h, 'first').name), ...inv.hypervisors.map((h) => h.name)];
      for (const host of new Set(names)) if (!without.has(host)) routes.push({ via: 'ssh', host });
    } else if (source === 'bmcRelays') {
      for (const r of inv.bmcRelays) routes.push({ via: 'ssh', host: r.name });
    } else routes.push(WORKER_ROUTE);
  }
  return routes;
}
