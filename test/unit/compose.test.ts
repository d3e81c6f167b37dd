/**
 * docker-compose.yml and Dockerfile, checked without a Docker engine: the compose file is valid
 * against the Compose Specification's JSON schema (what `docker compose config` validates with;
 * that command is run too when the Compose plugin is installed), and its structure is the one the
 * deployment needs: pinned images, persistent volumes, health-gated start order, hvflow's search
 * attributes registered exactly as workflows/search-attributes.ts declares them, and a worker
 * environment that the worker's own configuration parser accepts.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import Ajv from 'ajv';
import { ALL_SEARCH_ATTRIBUTES, searchAttributeFlags } from '../../workflows/search-attributes';
import { configFromEnv } from '../../worker/config';

const ROOT = path.join(__dirname, '..', '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const composeText = read('docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  ports?: string[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  configs?: ({ source: string; target?: string } | string)[];
  secrets?: ({ source: string; target?: string } | string)[];
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { file?: string }>;
  secrets?: Record<string, { file?: string }>;
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $$ for a literal $. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (all, name: string, op: string | undefined, arg: string) => {
    if (all === '$$') return '$';
    const v = env[name];
    const unset = v === undefined || (op?.startsWith(':') && v === '');
    if (!op) return v ?? '';
    if (op.endsWith('-')) return unset ? arg : v!;
    if (unset) throw new Error(`required variable ${name} is missing: ${arg}`);
    return v!;
  });
}

const raw = parse(composeText, { merge: true }) as Compose;
const env = { POSTGRES_PASSWORD: 'not-a-real-password' };
const compose = parse(interpolate(composeText, env), { merge: true }) as Compose;
const services = compose.services;
const envOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s).slice(0, 2))) : { ...(s.environment ?? {}) };
const script = (s: Service) => [s.command ?? []].flat().join('\n');

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema, before and after interpolation', () => {
    const schema = JSON.parse(read('test/fixtures/compose-spec/compose-spec.json'));
    // Draft-07 (Ajv's default dialect); Ajv knows it as http://...#, the file says https://...
    expect(schema.$schema).toMatch(/json-schema\.org\/draft-07\/schema/);
    delete schema.$schema;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    for (const doc of [raw, compose]) {
      const ok = validate(doc);
      expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    }
    // The schema check catches what `docker compose config` would (a wrong key, a bad condition).
    expect(validate({ services: { a: { image: 'x:1', depends_on: { b: { condition: 'service_ready' } } } } })).toBe(false);
    expect(validate({ services: { a: { image: 'x:1', helthcheck: {} } } })).toBe(false);
  });

  it('`docker compose config` accepts it (when the Compose plugin is installed)', (ctx) => {
    try {
      execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // this machine has the Docker client without its Compose plugin: the schema check above stands in
    }
    execFileSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        HVFLOW_INVENTORY_FILE: 'config/ocean.example.yaml',
        HVFLOW_KNOWN_HOSTS_FILE: 'package.json',
        HVFLOW_SSH_KEY_FILE: 'package.json',
        HVFLOW_IPMI_PASSWORD_FILE: 'package.json',
      },
      stdio: 'pipe',
    });
  });

  it('runs PostgreSQL, the Temporal schema set-up, the server, the search-attribute set-up, the Web UI and the worker', () => {
    expect(Object.keys(services).sort()).toEqual(['hvflow-worker', 'postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui']);
    expect(envOf(services.temporal)).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services['hvflow-worker'].build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
  });

  it('pins every image to a version, the Temporal ones to those the test suite runs', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/); // a version tag, never `latest` or a bare major
    }
    // scripts/ensure-temporal.sh: "Temporal CLI 1.5.1 (dev server: Temporal Server 1.29.1, Web UI 2.42.1)"
    const [, server, ui] = /Temporal Server (\d+\.\d+\.\d+), Web UI (\d+\.\d+\.\d+)/.exec(read('scripts/ensure-temporal.sh'))!;
    expect(services.temporal.image).toBe(`temporalio/server:${server}`);
    expect(services['temporal-ui'].image).toBe(`temporalio/ui:${ui}`);
    expect(services['temporal-schema'].image).toMatch(new RegExp(`^temporalio/admin-tools:${server.replace(/\./g, '\\.')}\\b`));
    expect(services['temporal-setup'].image).toBe(services['temporal-schema'].image);
  });

  it('keeps the database on a declared named volume', () => {
    const declared = Object.keys(compose.volumes ?? {});
    expect(declared).toContain('postgres-data');
    const used = Object.values(services).flatMap((s) =>
      (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : (v.source ?? ''))).filter((src) => src && !/^[./~]/.test(src)),
    );
    expect(used.length).toBeGreaterThan(0);
    for (const v of used) expect(declared, `volume ${v}`).toContain(v);
    expect(services.postgresql.volumes).toContain('postgres-data:/var/lib/postgresql/data');
  });

  it('starts in order, gated by health checks and one-shot set-ups', () => {
    const deps = Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        Array.isArray(s.depends_on) ? {} : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition])),
      ]),
    );
    expect(deps).toEqual({
      postgresql: {},
      'temporal-schema': { postgresql: 'service_healthy' },
      temporal: { 'temporal-schema': 'service_completed_successfully' },
      'temporal-setup': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy' },
      'hvflow-worker': { 'temporal-setup': 'service_completed_successfully' },
    });
    // Every service waited on as healthy has a health check; one-shots do not restart.
    for (const deps1 of Object.values(deps)) {
      for (const [d, condition] of Object.entries(deps1)) {
        if (condition === 'service_healthy') expect(services[d].healthcheck, d).toBeDefined();
        if (condition === 'service_completed_successfully') expect(services[d].restart, d).toBe('no');
      }
    }
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'hvflow-worker']) expect(services[name].healthcheck, name).toBeDefined();
  });

  it('registers exactly the custom search attributes of workflows/search-attributes.ts', () => {
    const setup = script(services['temporal-setup']);
    const registered = [...setup.matchAll(/--name\s+(\w+)\s+--type\s+(\w+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(registered).toEqual(searchAttributeFlags());
    expect(registered.map((r) => r.split('=')[0]).sort()).toEqual(ALL_SEARCH_ATTRIBUTES.map((k) => k.name).sort());
    expect(setup).toMatch(/temporal operator search-attribute create --namespace "\$TEMPORAL_NAMESPACE"/);
    // The namespace the worker uses exists before it starts.
    expect(setup).toMatch(/temporal operator namespace create -n "\$TEMPORAL_NAMESPACE"/);
    expect(envOf(services['temporal-setup']).TEMPORAL_NAMESPACE).toBe(envOf(services['hvflow-worker']).TEMPORAL_NAMESPACE);
  });

  it('sets up the schemas of both databases, idempotently', () => {
    const s = script(services['temporal-schema']);
    expect(s).toContain('for db in temporal visibility');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d /etc/temporal/schema/postgresql/v12/$db/versioned']) expect(s).toContain(step);
  });

  it('gives the worker an environment its configuration parser accepts, secrets as mounted files', () => {
    const w = services['hvflow-worker'];
    const wenv = envOf(w);
    const config = configFromEnv(wenv);
    expect(config.temporalAddress).toBe('temporal:7233');
    expect(config.metricsPort).toBe(9464);
    expect(config.metricsHost).toBe('0.0.0.0');
    expect(config.webhookUrl).toBeFalsy(); // HVFLOW_WEBHOOK_URL empty unless set in .env
    // Inventory and known_hosts as configs, key and BMC password as secrets, each from a file.
    const targets = (list: Service['configs'], top: Compose['configs']) =>
      (list ?? []).map((c) => {
        const source = typeof c === 'string' ? c : c.source;
        expect(top?.[source]?.file, source).toBeTruthy();
        return typeof c === 'string' || !c.target ? `/run/secrets/${source}` : c.target;
      });
    const configTargets = targets(w.configs, compose.configs);
    const secretTargets = targets(w.secrets, compose.secrets);
    expect(configTargets).toEqual(expect.arrayContaining([config.inventoryPath, config.knownHostsPath]));
    expect(secretTargets).toEqual(expect.arrayContaining([config.sshKeyPath, config.ipmiPasswordFile]));
    // The metrics port is the one published and probed.
    expect(w.ports).toContain(`127.0.0.1:${config.metricsPort}:${config.metricsPort}`);
    expect(JSON.stringify(w.healthcheck)).toContain(`127.0.0.1:${config.metricsPort}/metrics`);
  });

  it('holds no secret and publishes ports on loopback only', () => {
    // The database password comes from .env and must be set: there is no default.
    expect(() => interpolate(composeText, {})).toThrow(/POSTGRES_PASSWORD/);
    expect(composeText).not.toMatch(/^\s*[A-Z_]*(PASSWORD|PWD):\s*(?!\$\{)\S/m);
    expect(composeText).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    for (const [name, s] of Object.entries(services)) for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const pkg = JSON.parse(read('package.json'));
  it('runs the worker with tsx on node 20 (bookworm), production dependencies only', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\}$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    // tsx must then be a runtime dependency.
    expect(pkg.dependencies.tsx).toBeDefined();
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "worker\/main\.ts"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    for (const dir of ['domain', 'activities', 'workflows', 'worker']) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
  });

  it('.dockerignore keeps node_modules, secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', '.git', '.env', 'secrets', '.hvflow', 'test-results']) expect(ignored).toContain(p);
  });
});
