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
