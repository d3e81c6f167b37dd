/**
 * The hostile-input corpus: what the Web UI or `temporal workflow start` could send a procedure. Every
 * case is refused by the input schema (test/unit/bad-input.test.ts) or by the inventory check; a sample
 * of each procedure's and every inventory case also run end to end (test/workflow/bad-input.test.ts).
 */
import type { ProcedureName } from '../../domain/procedure-inputs';

const ok = { cluster: 'ocean', requestedBy: 'alice' };
/**
 * [procedure, what, input, the refusal's message, `inventory` when only the worker's inventory can
 * refuse it (a host or group the cluster does not have, another cluster): the schema accepts those].
 */
export type BadInput = [ProcedureName, string, unknown, RegExp, 'inventory'?];
export const BAD_INPUTS: BadInput[] = [
  // shell metacharacters and injection in every name field
  ['evacuateHypervisor', 'host with ;', { ...ok, host: 'top1;reboot' }, /host: "top1;reboot" must be a lowercase DNS label/],
  ['evacuateHypervisor', 'host with $()', { ...ok, host: '$(reboot)' }, /host: "\$\(reboot\)"/],
  ['evacuateHypervisor', 'host with backticks', { ...ok, host: '`id`' }, /host: "`id`"/],
  ['evacuateHypervisor', 'host with &&', { ...ok, host: 'top1 && rm -rf /' }, /host: "top1 && rm -rf \/"/],
  ['evacuateHypervisor', 'host with a newline', { ...ok, host: 'top1\nreboot' }, /host: "top1\\nreboot"/],
  ['evacuateHypervisor', 'host like an option', { ...ok, host: '-rf' }, /host: "-rf"/],
  ['evacuateHypervisor', 'host with a path', { ...ok, host: '../etc/passwd' }, /host: "..\/etc\/passwd"/],
  ['evacuateHypervisor', 'host with a quote', { ...ok, host: "top1'" }, /host: "top1'"/],
  ['evacuateHypervisor', 'host with a glob', { ...ok, host: 'top*' }, /host: "top\*"/],
  ['evacuateHypervisor', 'host with unicode look-alike', { ...ok, host: 'tоp1' }, /host: "tоp1"/],
  ['evacuateHypervisor', 'upper-case host', { ...ok, host: 'TOP1' }, /host: "TOP1"/],
  ['evacuateHypervisor', 'empty host', { ...ok, host: '' }, /host: ""/],
  ['evacuateHypervisor', 'oversized host', { ...ok, host: 'a'.repeat(300) }, /host: "a{10,}/],
  ['evacuateHypervisor', 'host as a number', { ...ok, host: 42 }, /host: 42/],
  ['evacuateHypervisor', 'host as null', { ...ok, host: null }, /host: null/],
  ['evacuateHypervisor', 'host as an array', { ...ok, host: ['top1'] }, /host: \["top1"\]/],
  ['evacuateHypervisor', 'missing host', { ...ok }, /host: .*(expected string|Invalid)/i],
  ['evacuateHypervisor', 'unknown host', { ...ok, host: 'top9' }, /host: "top9" is not a hypervisor of cluster ocean/, 'inventory'],
  ['evacuateHypervisor', 'cluster with ;', { ...ok, cluster: 'ocean;reboot', host: 'top1' }, /cluster: "ocean;reboot"/],
  [
    'evacuateHypervisor',
    'another cluster',
    { ...ok, cluster: 'atlantic', host: 'top1' },
    /cluster: "atlantic" is not a cluster this worker serves \(ocean: one inventory each in HVFLOW_INVENTORY\)/,
    'inventory',
  ],
  ['evacuateHypervisor', 'missing cluster', { host: 'top1' }, /cluster: /],
  ['evacuateHypervisor', 'dryRun as a string', { ...ok, host: 'top1', dryRun: 'yes' }, /dryRun: "yes"/],
  ['evacuateHypervisor', 'empty requestedBy', { ...ok, host: 'top1', requestedBy: '   ' }, /requestedBy: .*must not be empty/],
  ['evacuateHypervisor', 'control character in requestedBy', { ...ok, host: 'top1', requestedBy: 'al\u0007ice' }, /requestedBy: .*control characters/],
  // a value is taken as written: a blank or a newline around it is refused, never trimmed (dry runs: before
  // the schema refused them, these started)
  [
    'evacuateHypervisor',
    'requestedBy with a trailing space',
    { ...ok, host: 'top1', dryRun: true, requestedBy: 'alice ' },
    /requestedBy: "alice " must not start or end with a blank/,
  ],
  [
    'evacuateHypervisor',
    'requestedBy with a trailing newline',
    { ...ok, host: 'top1', dryRun: true, requestedBy: 'alice\n' },
    /requestedBy: "alice\\n" must not contain control characters/,
  ],
  [
    'evacuateHypervisor',
    'approver with a leading space',
    { ...ok, host: 'top1', dryRun: true, gatePolicy: { approvers: [' bob'] } },
    /gatePolicy.approvers\[0\]: " bob" must not start or end/,
  ],
  ['failback', 'hosts with a trailing space', { ...ok, dryRun: true, hosts: 'top1,worker1 ' }, /hosts: "top1,worker1 " must not contain blanks/],
  ['clusterStartup', 'exclude with a trailing space', { ...ok, dryRun: true, vms: ['admin1'], exclude: 'ns1 ' }, /exclude: "ns1 " must not contain blanks/],
  [
    'clusterStartup',
    'exclude with a trailing newline',
    { ...ok, dryRun: true, vms: ['admin1'], exclude: 'ns1\n' },
    /exclude: "ns1\\n" must not contain blanks/,
  ],
  [
    'clusterStartup',
    'exclude with a path',
    { ...ok, dryRun: true, vms: ['admin1'], exclude: '../x' },
    /exclude: "\.\.\/x" names "\.\.\/x", which must be a lowercase letter/,
  ],
  ['clusterStartup', 'VM name with a trailing space', { ...ok, dryRun: true, vms: ['admin1', 'ns1 '] }, /vms\[1\]: "ns1 " must be a lowercase letter/],
  ['evacuateHypervisor', 'oversized reason', { ...ok, host: 'top1', reason: 'x'.repeat(5000) }, /reason: /],
  ['evacuateHypervisor', 'unknown field (a secret)', { ...ok, host: 'top1', password: 'hunter2' }, /input: unknown field\(s\) password/],
  [
    'evacuateHypervisor',
    'gate timeout not a duration',
    { ...ok, host: 'top1', gatePolicy: { timeout: 'forever' } },
    /gatePolicy.timeout: "forever" must be a duration/,
  ],
  ['evacuateHypervisor', 'gate onTimeout unknown', { ...ok, host: 'top1', gatePolicy: { onTimeout: 'explode' } }, /gatePolicy.onTimeout: "explode"/],
  ['evacuateHypervisor', 'approvers not a list', { ...ok, host: 'top1', gatePolicy: { approvers: 'bob' } }, /gatePolicy.approvers: "bob"/],
  ['evacuateHypervisor', 'negative move timeout', { ...ok, host: 'top1', moveTimeoutMinutes: -5 }, /moveTimeoutMinutes: -5/],
  ['evacuateHypervisor', 'absurd move timeout', { ...ok, host: 'top1', moveTimeoutMinutes: 1e9 }, /moveTimeoutMinutes: 1000000000/],
  ['evacuateHypervisor', 'input as a string', 'worker1', /input: "worker1" must be one JSON object/],
  ['evacuateHypervisor', 'input as an array', ['ocean', 'worker1'], /input: \["ocean","worker1"\] must be one JSON object/],
  ['failback', 'hosts nodeset with ;', { ...ok, hosts: '@top;reboot' }, /hosts: "@top;reboot" must be a nodeset expression/],
  ['failback', 'hosts naming an unknown group', { ...ok, hosts: '@nosuchgroup' }, /nosuchgroup/, 'inventory'],
  ['failback', 'hosts naming unknown hosts', { ...ok, hosts: 'top[1-9]' }, /hosts: "top4" is not a hypervisor/, 'inventory'],
  ['failback', 'malformed nodeset', { ...ok, hosts: 'top[1-' }, /top\[1-/],
  ['failback', 'parallelism 0', { ...ok, parallelism: 0 }, /parallelism: 0/],
  ['failback', 'parallelism 100', { ...ok, parallelism: 100 }, /parallelism: 100/],
  ['failback', 'fractional maxMoves', { ...ok, maxMoves: 1.5 }, /maxMoves: 1.5/],
  ['failback', 'prefer with $()', { ...ok, prefer: 'worker1$(id)' }, /prefer: "worker1\$\(id\)"/],
  ['reintegrateHypervisor', 'heal wait as a word', { ...ok, host: 'worker1', healWaitMinutes: 'soon' }, /healWaitMinutes: "soon"/],
  ['reintegrateHypervisor', 'host with a pipe', { ...ok, host: 'worker1|sh' }, /host: "worker1\|sh"/],
  ['clusterStatus', 'extra field', { cluster: 'ocean', host: 'top1' }, /unknown field\(s\) host/],
  ['clusterStatus', 'cluster with a space', { cluster: 'ocean reboot' }, /cluster: "ocean reboot"/],
  // seed 001: the whole-cluster procedures
  ['clusterShutdown', 'parallelism 0', { ...ok, parallelism: 0 }, /parallelism: 0/],
  ['clusterShutdown', 'stop timeout under 5 s', { ...ok, stopTimeoutSeconds: 1 }, /stopTimeoutSeconds: 1/],
  ['clusterShutdown', 'stop timeout as a word', { ...ok, stopTimeoutSeconds: 'long' }, /stopTimeoutSeconds: "long"/],
  ['clusterShutdown', 'power-off delay of a day', { ...ok, poweroffDelaySeconds: 86_400 }, /poweroffDelaySeconds: 86400/],
  ['clusterShutdown', 'a host field it does not take', { ...ok, host: 'top1' }, /unknown field\(s\) host/],
  ['clusterShutdown', 'an IPMI password in the input', { ...ok, ipmiPassword: 'calvin' }, /input: unknown field\(s\) ipmiPassword/],
  ['clusterShutdown', 'cluster with `', { ...ok, cluster: 'ocean`id`' }, /cluster: "ocean`id`"/],
  ['clusterStartup', 'neither a shutdown nor a VM list', { ...ok }, /shutdownWorkflowId: .*give shutdownWorkflowId/],
  [
    'clusterStartup',
    'shutdown id with a space',
    { ...ok, shutdownWorkflowId: 'shutdown 1; reboot' },
    /shutdownWorkflowId: "shutdown 1; reboot" must be a workflow id/,
  ],
  ['clusterStartup', 'oversized shutdown id', { ...ok, shutdownWorkflowId: 'a'.repeat(256) }, /shutdownWorkflowId: "a{10,}/],
  ['clusterStartup', 'VM name with $()', { ...ok, vms: ['admin1', 'ns$(id)'] }, /vms\[1\]: "ns\$\(id\)"/],
  ['clusterStartup', 'VM name with a newline', { ...ok, vms: ['admin1\nreboot'] }, /vms\[0\]: "admin1\\nreboot"/],
  ['clusterStartup', 'VM list as a string', { ...ok, vms: 'admin1,ns1' }, /vms: "admin1,ns1"/],
  ['clusterStartup', 'oversized VM list', { ...ok, vms: Array.from({ length: 10_001 }, (_, i) => `vm${i}`) }, /vms: .*10000/],
  ['clusterStartup', 'exclude nodeset with ;', { ...ok, vms: ['admin1'], exclude: 'ns1;reboot' }, /exclude: "ns1;reboot" must be a nodeset expression/],
  ['clusterStartup', 'IPMI via a host with |', { ...ok, vms: ['admin1'], ipmiVia: 'top1|sh' }, /ipmiVia: "top1\|sh"/],
  ['clusterStartup', 'negative RTT limit', { ...ok, vms: ['admin1'], maxRttMs: -1 }, /maxRttMs: -1/],
  ['clusterStartup', 'host-up timeout of a year', { ...ok, vms: ['admin1'], hostUpTimeoutSeconds: 31_536_000 }, /hostUpTimeoutSeconds: 31536000/],
];
