/**
 * The lab stand-ins the cluster shutdown / start-up use: systemd-run's scheduled poweroff, getent,
 * fping -e with the slowPing fault, and a host that stays off.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lab/clock';
import { LabModel } from '../../lab/model';
import { runTool } from '../../lab/tools/run';
import { seedTopology } from '../../lab/topology';
import { parseFping } from '../../activities/fping-parse';
import { parseIpmiPowerStatus } from '../../activities/power-parse';
import { readFileSync } from 'node:fs';

const setup = () => {
  const clock = new ManualClock();
  return { clock, model: new LabModel(seedTopology(), { clock }) };
};
const flush = () => new Promise((r) => setImmediate(r));

describe('systemd-run poweroff', () => {
  it('returns at once, powers the host off after the delay, and refuses a second timer of the same name', async () => {
    const { clock, model } = setup();
    const argv = ['systemd-run', '--on-active=5', '--unit=hvflow-poweroff', 'poweroff'];
    const first = await runTool(model, 'islet12', argv);
    expect(first).toEqual({ code: 0, stdout: '', stderr: 'Running timer as unit: hvflow-poweroff.timer\nWill run service as unit: hvflow-poweroff.service\n' });
    expect(model.machine('islet12').power).toBe(true);
    const again = await runTool(model, 'islet12', argv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Unit hvflow-poweroff\.timer was already loaded/);
    clock.advance(5000);
    await flush();
    await flush();
    expect(model.machine('islet12').power).toBe(false);
    const status = await runTool(model, 'top1', ['ipmitool', '-I', 'lanplus', '-H', model.machine('islet12').bmc, '-U', 'ADMIN', '-E', 'power', 'status'], {
      env: { IPMI_PASSWORD: 'x' },
    });
    expect(parseIpmiPowerStatus(status.stdout, status.stderr)).toBe('off');
    expect(model.commandLog({ mutating: true }).map((e) => e.argv[0])).toEqual(['systemd-run']);
  });

  it('refuses anything but a poweroff timer', async () => {
    const { model } = setup();
    expect((await runTool(model, 'top1', ['systemd-run', '--on-active=5', 'reboot'])).code).toBe(1);
    expect((await runTool(model, 'top1', ['systemd-run', 'poweroff'])).code).toBe(1);
    expect(model.machine('top1').power).toBe(true);
  });
});

describe('getent hosts and fping -e', () => {
  it('getent resolves lab hosts to the addresses gluster shows, exit 2 for an unknown name', async () => {
    const { model } = setup();
    const r = await runTool(model, 'top1', ['getent', 'hosts', 'top1', 'nosuch', 'top3']);
    expect(r).toEqual({ code: 2, stderr: '', stdout: '10.1.0.1        top1\n10.1.0.3        top3\n' });
  });

  it('fping -e prints round trips fping-style; slowPing and a powered-off host show', async () => {
    const { model } = setup();
    model.slowPing('top2', 250);
    model.machine('worker3').power = false;
    const hosts = ['top1', 'top2', 'worker3'];
    const r = await runTool(model, 'top1', ['fping', '-e', ...hosts]);
    expect(r.code).toBe(1);
    expect(parseFping(r.stdout, r.stderr, hosts)).toEqual([
      { host: 'top1', alive: true, rttMs: 0.04 },
      { host: 'top2', alive: true, rttMs: 250 },
      { host: 'worker3', alive: false },
    ]);
  });
});

describe('stayOff', () => {
  it('a host whose power-on does nothing until the fault is cleared', async () => {
    const { model } = setup();
    model.machine('worker3').power = false;
    model.stayOff('worker3');
    await model.powerOn('worker3');
    expect(model.machine('worker3').power).toBe(false);
    model.stayOff('worker3', false);
    await model.powerOn('worker3');
    expect(model.machine('worker3').power).toBe(true);
  });
});

describe('BMC faults (ipmitool stand-in)', () => {
  const status = (model: LabModel, from: string, host: string) =>
    runTool(model, from, ['ipmitool', '-I', 'lanplus', '-H', model.machine(host).bmc, '-U', 'ADMIN', '-E', 'power', 'status'], { env: { IPMI_PASSWORD: 'x' } });
  const noBmc = {
    code: 1,
    stdout: readFileSync('test/fixtures/ipmitool/captured-power-status-no-bmc.stdout.txt', 'utf8'),
    stderr: readFileSync('test/fixtures/ipmitool/captured-power-status-no-bmc.stderr.txt', 'utf8'),
  };

  it('a BMC that is down answers nobody, as real ipmitool reports a BMC that does not answer', async () => {
    const { model } = setup();
    model.bmcDown('worker3');
    expect(await status(model, 'top1', 'worker3')).toEqual(noBmc);
    expect((await status(model, 'top1', 'worker2')).stdout).toBe('Chassis Power is on\n');
    model.bmcDown('worker3', false);
    expect((await status(model, 'top1', 'worker3')).code).toBe(0);
  });

  it('a place cut off from the BMC network reaches no BMC; the others still do', async () => {
    const { model } = setup();
    model.cutOffFromBmcs('top1');
    expect(await status(model, 'top1', 'worker2')).toEqual(noBmc);
    expect((await status(model, 'top2', 'worker2')).code).toBe(0);
    model.cutOffFromBmcs('top1', false);
    expect((await status(model, 'top1', 'worker2')).code).toBe(0);
  });
});

describe('systemctl reboot and hostnamectl: a new boot id at each power-on', () => {
  const FIXTURE = 'test/fixtures/hostnamectl/status-top1';
  const bootIdOf = async (model: LabModel, host: string) => {
    const r = await runTool(model, host, ['hostnamectl']);
    return /^ {9}Boot ID: ([0-9a-f]{32})$/m.exec(r.stdout)?.[1];
  };
  /** Runs the manual clock in steps, real time passing between them (systemctl reboot's 100 ms), until `pred` holds. */
  async function until(clock: ManualClock, pred: () => boolean, stepMs = 100, maxSteps = 2000): Promise<number> {
    const t0 = clock.now();
    for (let i = 0; i < maxSteps && !pred(); i++) {
      await new Promise((r) => setTimeout(r, 2));
      clock.advance(stepMs);
    }
    expect(pred()).toBe(true);
    return clock.now() - t0;
  }

  it('hostnamectl prints the fixture (systemd 252), `status` the same, `hostname` the name alone', async () => {
    const { model } = setup();
    const want = { code: 0, stdout: readFileSync(`${FIXTURE}.stdout.txt`, 'utf8'), stderr: readFileSync(`${FIXTURE}.stderr.txt`, 'utf8') };
    expect(await runTool(model, 'top1', ['hostnamectl'])).toEqual(want);
    expect(await runTool(model, 'top1', ['hostnamectl', 'status'])).toEqual(want);
    expect(await runTool(model, 'top1', ['hostnamectl', 'hostname'])).toEqual({ code: 0, stdout: 'top1\n', stderr: '' });
    expect((await runTool(model, 'top1', ['hostnamectl', 'set-hostname', 'x'])).code).toBe(1);
    // every host its own boot id, each a v4 UUID without dashes; bootedAt: the lab's start
    const ids = [...model.machines.values()].map((m) => m.bootId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(model.machine('top1').bootedAt).toBe(0);
  });

  it('systemctl reboot answers at once (exit 0), goes down, is back rebootMs later with a new boot id, once', async () => {
    const clock = new ManualClock();
    const model = new LabModel(seedTopology(), { clock, rebootMs: 30_000 });
    const host = 'worker3';
    const before = await bootIdOf(model, host);
    expect(await runTool(model, host, ['systemctl', 'reboot'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(model.machine(host).power).toBe(true); // not yet: the session ends first
    expect(await runTool(model, host, ['systemctl', 'is-system-running'])).toEqual({ code: 1, stdout: 'stopping\n', stderr: '' });
    // a second one merges with the queued job
    expect((await runTool(model, host, ['systemctl', 'reboot'])).code).toBe(0);
    await until(clock, () => !model.machine(host).power);
    const downAt = clock.now();
    expect(model.machine(host).fleetd).toBe(false); // an orderly shutdown: fleetd stopped its VMs first
    await until(clock, () => model.machine(host).power, 1000);
    // powered on rebootMs after it went down (the steps of 100 ms: when the test saw it down)
    const bootedAt = model.machine(host).bootedAt;
    expect(bootedAt - downAt).toBeGreaterThanOrEqual(30_000 - 100);
    expect(bootedAt - downAt).toBeLessThanOrEqual(30_000);
    const after = await bootIdOf(model, host);
    expect(after).not.toBe(before);
    expect(model.machine(host)).toMatchObject({ boots: 2, sshd: 'up', stopping: false });
    expect(await runTool(model, host, ['systemctl', 'is-system-running'])).toEqual({ code: 0, stdout: 'running\n', stderr: '' });
    // booted once: nothing more happens later
    clock.advance(600_000);
    await new Promise((r) => setTimeout(r, 20));
    expect([model.machine(host).boots, await bootIdOf(model, host)]).toEqual([2, after]);
    expect(model.commandLog({ host, mutating: true }).map((e) => e.argv.join(' '))).toEqual(['systemctl reboot', 'systemctl reboot']);
  });

  it('LabModel.reboot: the default rebootMs; under stayOff the host does not come back (until the fault is cleared)', async () => {
    const { clock, model } = setup();
    expect(model.rebootMs).toBe(60_000);
    model.stayOff('islet12');
    const before = model.machine('islet12').bootId;
    void model.reboot('islet12');
    await until(clock, () => !model.machine('islet12').power);
    clock.advance(10 * model.rebootMs);
    await new Promise((r) => setTimeout(r, 20));
    expect(model.machine('islet12')).toMatchObject({ power: false, sshd: 'down', boots: 1, bootId: before });
    model.stayOff('islet12', false);
    await model.powerOn('islet12');
    expect(model.machine('islet12').boots).toBe(2);
    expect(model.machine('islet12').bootId).not.toBe(before);
  });
});
