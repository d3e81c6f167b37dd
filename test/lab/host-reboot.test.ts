/**
 * Rebooting a host once, and waiting until it is back, against the labs over real SSH: the Xen
 * driver's xenHostBoot / rebootXenHost / waitXenHostRebooted (other-config boot_time) on a Xen pool,
 * and hostBootId / rebootLinuxHost / waitLinuxHostRebooted (hostnamectl's boot id) on the seeds'
 * fleet cluster. A second reboot call with the boot read before (what a retry or a worker crash does)
 * never reboots the host again: the labs' command logs hold one reboot each. A host that stays down
 * is HostNotBack once the wait's bound passed.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterActivities } from '../../activities';
import { SshPool } from '../../activities/ssh';
import { FAILURE } from '../../domain/contract';
import { startLab, type Lab } from '../../lab';
import { xenPoolTopology } from '../../lab/xen-topology';

const run = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn) as Promise<T>;

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApplicationFailure);
    return e as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('a Xen pool host: boot_time read, rebooted once, back with a new boot_time', () => {
  let lab: Lab;
  let pool: SshPool;
  beforeAll(async () => {
    // 0.01: the 10 s before xapi shuts the host down and its 240 s reboot take 2.5 s
    lab = await startLab({ topology: xenPoolTopology({ cluster: 'rebootpool', hosts: 3, vms: 3, seed: 4 }), timeScale: 0.01 });
    pool = new SshPool({ privateKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath, connectTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await pool?.closeAll();
    await lab?.stop();
  });
  const acts = () => clusterActivities({ inventory: lab.inventory, pool });
  /** The host-reboot commands xapi accepted (the first test's refused one on an enabled host is not). */
  const hostReboots = () => lab.commandLog({ tool: 'xe', mutating: true }).filter((e) => e.argv[1] === 'host-reboot' && e.exitCode === 0);

  it('reads the boot time; an enabled host is refused (HOST_NOT_DISABLED), quoting xe', async () => {
    const a = acts();
    const boot = await run(() => a.xenHostBoot({ host: 'xs3' }));
    expect(boot).toEqual({ host: 'xs3', bootTime: expect.stringMatching(/^\d{10}\.$/), live: true, enabled: true });
    const f = await failureOf(run(() => a.rebootXenHost({ host: 'xs3', bootedBefore: boot.bootTime })));
    expect([f.type, f.nonRetryable]).toEqual([FAILURE.toolError, true]);
    expect(f.message).toMatch(/the host is not disabled/);
    expect((await failureOf(run(() => a.xenHostBoot({ host: 'nosuchhost' })))).type).toBe(FAILURE.invalidInput);
    expect((await failureOf(run(() => a.rebootXenHost({ host: 'xs3', bootedBefore: 'yesterday' })))).type).toBe(FAILURE.invalidInput);
  });

  it('reboots a disabled host once: the second call finds it going down, the wait its new boot time, a third call that it rebooted', async () => {
    const a = acts();
    await run(() => a.disableHost({ host: 'xs3' }));
    const before = await run(() => a.xenHostBoot({ host: 'xs3' }));
    expect(before.enabled).toBe(false);
    expect(await run(() => a.rebootXenHost({ host: 'xs3', bootedBefore: before.bootTime }))).toEqual({ host: 'xs3', result: 'rebooting' });
    expect((await run(() => a.rebootXenHost({ host: 'xs3', bootedBefore: before.bootTime }))).result).toMatch(/^already-(going-down|rebooted)$/);
    const back = await run(() => a.waitXenHostRebooted({ host: 'xs3', bootedBefore: before.bootTime, timeoutMs: 60_000 }));
    expect(back.bootTime).toMatch(/^\d{10}\.$/);
    expect(back.bootTime).not.toBe(before.bootTime);
    expect(Number(back.bootTime) - Number(before.bootTime!)).toBeGreaterThanOrEqual(250); // 10 s + 240 s, simulated
    expect(back.upAfterMs).toBeGreaterThan(0);
    if (back.downAfterMs !== undefined) expect(back.downAfterMs).toBeLessThanOrEqual(back.upAfterMs);
    expect(lab.xen!.host('xs3').live).toBe(true);
    expect(await run(() => a.rebootXenHost({ host: 'xs3', bootedBefore: before.bootTime }))).toEqual({ host: 'xs3', result: 'already-rebooted' });
    expect(hostReboots().map((e) => e.argv.slice(1))).toEqual([['host-reboot', `host=${lab.xen!.host('xs3').uuid}`]]);
    expect((await run(() => a.xenHostBoot({ host: 'xs3' }))).bootTime).toBe(back.bootTime);
  });

  it('the pool master: while it is down no pool host answers xe, which is "not back yet"', async () => {
    const a = acts();
    expect(lab.xen!.masterHost().name).toBe('xs1');
    await run(() => a.disableHost({ host: 'xs1' }));
    const before = await run(() => a.xenHostBoot({ host: 'xs1' }));
    expect((await run(() => a.rebootXenHost({ host: 'xs1', bootedBefore: before.bootTime }))).result).toBe('rebooting');
    const back = await run(() => a.waitXenHostRebooted({ host: 'xs1', bootedBefore: before.bootTime, timeoutMs: 60_000 }));
    expect(back.bootTime).not.toBe(before.bootTime);
    expect(lab.xen!.host('xs1').live).toBe(true);
    expect(hostReboots()).toHaveLength(2);
  });

  it('a host that stays down after its reboot: HostNotBack once the bound passed, saying what was seen', async () => {
    const a = acts();
    await run(() => a.disableHost({ host: 'xs2' }));
    lab.xen!.stayDownAfterReboot(lab.xen!.host('xs2'));
    const before = await run(() => a.xenHostBoot({ host: 'xs2' }));
    expect((await run(() => a.rebootXenHost({ host: 'xs2', bootedBefore: before.bootTime }))).result).toBe('rebooting');
    const f = await failureOf(run(() => a.waitXenHostRebooted({ host: 'xs2', bootedBefore: before.bootTime, timeoutMs: 5_000 })));
    expect([f.type, f.nonRetryable]).toEqual([FAILURE.hostNotBack, true]);
    expect(f.message).toMatch(/^xs2 did not come back in pool rebootpool within 5 s: host-metrics-live false/);
    expect(hostReboots()).toHaveLength(3); // xs3's, xs1's and xs2's
  });
});

describe('a fleet hypervisor: boot id read, rebooted once, back with a new boot id', () => {
  let lab: Lab;
  let pool: SshPool;
  beforeAll(async () => {
    // 0.01: a reboot of 200 simulated s keeps the host down 2 s
    lab = await startLab({ timeScale: 0.01, rebootMs: 200_000, vmStopMs: 300, vmStartMs: 300, agentTtlMs: 1000 });
    pool = new SshPool({ privateKeyPath: lab.privateKeyPath, knownHostsPath: lab.knownHostsPath, connectTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await pool?.closeAll();
    await lab?.stop();
  });
  const acts = () => clusterActivities({ inventory: lab.inventory, pool });
  const reboots = (host: string) => lab.commandLog({ host, tool: 'systemctl', mutating: true }).filter((e) => e.argv[1] === 'reboot');

  it('hostBootId reads hostnamectl; rebootLinuxHost twice reboots once; the wait returns the new boot id', async () => {
    const a = acts();
    const { bootId } = await run(() => a.hostBootId({ host: 'islet12' }));
    expect(bootId).toBe(lab.model.machine('islet12').bootId);
    expect(await run(() => a.rebootLinuxHost({ host: 'islet12', bootIdBefore: bootId }))).toEqual({ host: 'islet12', result: 'rebooting' });
    // a retry: systemd already stopping, or the host already gone
    expect((await run(() => a.rebootLinuxHost({ host: 'islet12', bootIdBefore: bootId }))).result).toMatch(/^(rebooting|unreachable)$/);
    const back = await run(() => a.waitLinuxHostRebooted({ host: 'islet12', bootIdBefore: bootId, timeoutMs: 60_000 }));
    expect(back.bootId).toMatch(/^[0-9a-f]{32}$/);
    expect(back.bootId).not.toBe(bootId);
    expect(back.bootId).toBe(lab.model.machine('islet12').bootId);
    expect(back.downAfterMs).toBeDefined(); // down for 2 s, polled every 2 s
    expect(back.upAfterMs).toBeGreaterThanOrEqual(back.downAfterMs!);
    expect(lab.model.machine('islet12').boots).toBe(2);
    // later calls with the boot id read before: rebooted already, nothing done
    expect(await run(() => a.rebootLinuxHost({ host: 'islet12', bootIdBefore: bootId }))).toEqual({ host: 'islet12', result: 'already-rebooted' });
    expect(reboots('islet12')).toHaveLength(1);
    expect((await failureOf(run(() => a.rebootLinuxHost({ host: 'islet12', bootIdBefore: 'abc' })))).type).toBe(FAILURE.invalidInput);
  });

  it('a host that stays off: HostNotBack naming it', async () => {
    const a = acts();
    lab.faults.stayOff('islet13');
    const { bootId } = await run(() => a.hostBootId({ host: 'islet13' }));
    expect((await run(() => a.rebootLinuxHost({ host: 'islet13', bootIdBefore: bootId }))).result).toBe('rebooting');
    const f = await failureOf(run(() => a.waitLinuxHostRebooted({ host: 'islet13', bootIdBefore: bootId, timeoutMs: 5_000 })));
    expect([f.type, f.nonRetryable]).toEqual([FAILURE.hostNotBack, true]);
    expect(f.message).toMatch(/^islet13 did not come back within 5 s of its reboot: it does not answer SSH/);
    expect(lab.model.machine('islet13').power).toBe(false);
    expect(reboots('islet13')).toHaveLength(1);
  });
});
