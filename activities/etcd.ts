/**
 * etcd: the health check of seeds 000 / 001 (`etcdctl cluster-health`, or `endpoint health
 * --cluster` for the v3 dialect) and `systemctl stop|start etcd` on a member.
 * etcdctl asks a member, so it runs on a member host other than the one being worked on, trying
 * the next member when the one it asked is down.
 */
import { ApplicationFailure } from '@temporalio/common';
import { etcdEndpoint, etcdMembers } from '../domain/inventory';
import { parseClusterHealthV2, parseEndpointHealthV3, withMemberNames, type EtcdHealthReport } from './etcd-parse';
import { expectSuccess } from './ssh';
import { parsed, runOn, sleepOrCancel, type ToolContext } from './remote';
import { Context } from '@temporalio/activity';
import { FAILURE } from '../domain/contract';

export interface EtcdHealth extends EtcdHealthReport {
  ranOn: string;
  healthyMembers: string[];
  unhealthyMembers: string[];
}

export function etcdActivities(ctx: ToolContext) {
  const inv = ctx.inventory;

  async function askFrom(host: string): Promise<EtcdHealthReport | undefined> {
    const endpoint = etcdEndpoint(inv, host);
    const v2 = (inv.etcd?.apiVersion ?? 2) === 2;
    const argv = v2
      ? ['env', 'ETCDCTL_API=2', 'etcdctl', '-C', endpoint, 'cluster-health']
      : ['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', endpoint, '--dial-timeout=2s', '--command-timeout=5s', 'endpoint', 'health', '--cluster'];
    // v2 exits 5 when degraded, 4 when the asked member is down; v3 exits 1 when any is unhealthy.
    const res = await runOn(ctx, host, argv, { okExitCodes: [0, 1, 4, 5], timeoutMs: 60_000 });
    const report = parsed(() => (v2 ? parseClusterHealthV2(res.stdout, res.stderr) : parseEndpointHealthV3(res.stdout, res.stderr)));
    if (report.members.length === 0) return undefined; // the asked member could not list the cluster
    return report;
  }

  async function health(avoid: string[] = []): Promise<EtcdHealth> {
    const members = etcdMembers(inv);
    if (!members.length) throw ApplicationFailure.nonRetryable('the inventory declares no etcd cluster', FAILURE.invalidInput);
    const endpoints = Object.fromEntries(members.map((m) => [m, etcdEndpoint(inv, m)]));
    const tried: string[] = [];
    for (const host of members.filter((m) => !avoid.includes(m))) {
      tried.push(host);
      let report: EtcdHealthReport | undefined;
      try {
        report = await askFrom(host);
      } catch (e) {
        // An unreachable member host is a finding, not a reason to stop asking.
        if (e instanceof ApplicationFailure && e.type === 'SshConnectionError') continue;
        throw e;
      }
      if (!report) continue;
      const named = withMemberNames(report, endpoints);
      const healthy = members.filter((m) => named.members.some((x) => x.name === m && x.healthy));
      return { ...named, ranOn: host, healthyMembers: healthy, unhealthyMembers: members.filter((m) => !healthy.includes(m)) };
    }
    throw ApplicationFailure.create({ type: 'EtcdUnavailable', message: `no etcd member answered (asked from ${tried.join(', ') || 'no host'})` });
  }

  return {
    /** Health of every etcd member, named by inventory host. */
    async etcdHealth(input: { avoid?: string[] } = {}): Promise<EtcdHealth> {
      return health(input.avoid);
    },

    /**
     * Polls until every member is healthy (a member back from a reboot rejoins), or the timeout;
     * returns the last report. `ignore`: members not waited for (hosts a start-up goes on without),
     * and not asked either.
     */
    async waitEtcdHealthy(input: { timeoutMs: number; ignore?: string[] }): Promise<EtcdHealth> {
      const deadline = Date.now() + input.timeoutMs;
      const ignore = input.ignore ?? [];
      for (;;) {
        let report: EtcdHealth | undefined;
        try {
          report = await health(ignore);
        } catch (e) {
          if (!(e instanceof ApplicationFailure && e.type === 'EtcdUnavailable') || Date.now() > deadline) throw e;
        }
        const waitingFor = report?.unhealthyMembers.filter((m) => !ignore.includes(m));
        Context.current().heartbeat({ unhealthy: waitingFor });
        if (report && (waitingFor!.length === 0 || Date.now() > deadline)) return report;
        await sleepOrCancel(2000);
      }
    },

    async stopEtcd(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'stop', 'etcd'], { timeoutMs: 120_000 }), 'systemctl stop etcd');
    },

    async startEtcd(input: { host: string }): Promise<void> {
      expectSuccess(await runOn(ctx, input.host, ['systemctl', 'start', 'etcd'], { timeoutMs: 120_000 }), 'systemctl start etcd');
    },
  };
}
