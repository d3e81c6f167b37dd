import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, loadInventories } from '../../worker/config';

const env = { HVFLOW_INVENTORY: 'i.yaml', HVFLOW_SSH_KEY: 'k', HVFLOW_KNOWN_HOSTS: 'kh' };

describe("HVFLOW_IPMITOOL: the worker's own ipmitool", () => {
  it('is `ipmitool` on PATH by default, or the program given', () => {
    expect(configFromEnv(env).ipmitool).toBe('ipmitool');
    expect(configFromEnv({ ...env, HVFLOW_IPMITOOL: '/usr/local/bin/ipmitool' }).ipmitool).toBe('/usr/local/bin/ipmitool');
  });

  it('refuses what is not a program name or path, naming the variable, never trimmed', () => {
    for (const bad of ['', 'ipmitool ', '-oProxyCommand=x', 'ipmitool;id', '/opt/ipmi tool']) {
      expect(() => configFromEnv({ ...env, HVFLOW_IPMITOOL: bad }), JSON.stringify(bad)).toThrow(ConfigError);
      expect(() => configFromEnv({ ...env, HVFLOW_IPMITOOL: bad })).toThrow(/^HVFLOW_IPMITOOL: .* must be a program name or path/);
    }
  });
});

describe('HVFLOW_WORKFLOW_BUNDLE: a workflow bundle built beforehand', () => {
  it('is unset by default (the worker bundles workflows/ itself), or the file given', () => {
    expect(configFromEnv(env).workflowBundlePath).toBeUndefined();
    expect(configFromEnv({ ...env, HVFLOW_WORKFLOW_BUNDLE: '/tmp/b/workflow-bundle.js' }).workflowBundlePath).toBe('/tmp/b/workflow-bundle.js');
  });
});

describe('HVFLOW_INVENTORY: one inventory, or a directory of them (one worker, many clusters)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hvflow-inv-'));
  const example = readFileSync('config/ocean.example.yaml', 'utf8');
  const pool = (name: string) => `cluster: ${name}\nstack: xen\ncontrolHost: xs1\nhypervisors:\n  - { name: xs1, address: 10.3.0.1 }\n`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads every *.yaml / *.yml of a directory, by file name, and nothing else', () => {
    const farm = join(dir, 'farm');
    mkdirSync(farm);
    writeFileSync(join(farm, 'b-ocean.yaml'), example);
    writeFileSync(join(farm, 'a-pool1.yml'), pool('pool1'));
    writeFileSync(join(farm, 'notes.txt'), 'not an inventory');
    expect(loadInventories(farm).map((i) => [i.cluster, i.stack])).toEqual([
      ['pool1', 'xen'],
      ['ocean', 'fleet'],
    ]);
    expect(loadInventories(join(farm, 'b-ocean.yaml')).map((i) => i.cluster)).toEqual(['ocean']);
  });

  it('refuses two inventories of one cluster, an empty directory and an invalid file, naming the files', () => {
    const twice = join(dir, 'twice');
    mkdirSync(twice);
    writeFileSync(join(twice, 'p1.yaml'), pool('pool1'));
    writeFileSync(join(twice, 'p1-copy.yaml'), pool('pool1'));
    expect(() => loadInventories(twice)).toThrow(
      `HVFLOW_INVENTORY: ${join(twice, 'p1.yaml')} and ${join(twice, 'p1-copy.yaml')} are both inventories of cluster pool1`,
    );
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => loadInventories(empty)).toThrow(/is a directory with no inventory in it/);
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'p.yaml'), pool('pool1').replace('stack: xen', 'stack: vmware'));
    expect(() => loadInventories(bad)).toThrow(new RegExp(`invalid inventory ${join(bad, 'p.yaml')}:\\n  - stack: "vmware"`));
    expect(() => loadInventories(join(dir, 'missing'))).toThrow(ConfigError);
  });
});
