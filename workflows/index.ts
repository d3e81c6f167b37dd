/** Every workflow the hvflow worker registers. */
export { clusterStatus } from './cluster-status';
export { clusterLock } from './cluster-lock';
export { evacuateHypervisor } from './evacuate-hypervisor';
export { reintegrateHypervisor } from './reintegrate-hypervisor';
export { failback } from './failback';
export { clusterShutdown } from './cluster-shutdown';
export { clusterStartup } from './cluster-startup';
