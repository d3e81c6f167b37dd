import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../worker/config';

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
