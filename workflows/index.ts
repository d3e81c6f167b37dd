/** Every workflow the hvflow worker registers. */
export { clusterStatus } from './cluster-status';
export { clusterLock } from './cluster-lock';
export { evacuateHost } from './evacuate-host';
export { reintegrateHost } from './reintegrate-host';
/** The names of evacuateHost and reintegrateHost before hvflow served other stacks (procedures in flight, users' `temporal` commands). */
export { evacuateHost as evacuateHypervisor } from './evacuate-host';
export { reintegrateHost as reintegrateHypervisor } from './reintegrate-host';
export { failback } from './failback';
export { clusterShutdown } from './cluster-shutdown';
export { clusterStartup } from './cluster-startup';
export { rollingReboot } from './rolling-reboot';
export { rebootHost } from './reboot-host';
