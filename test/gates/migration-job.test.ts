import { ApiObject, App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  BlueGreenApp,
  BlueGreenAppProps,
  Manifest,
  MigrationJob,
  MigrationJobProps,
  NetworkPolicySet,
  PostgresHA,
  renderChart,
  restrictedViolations,
} from '../../lib';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportingScript } from '../../lib/gates/gate-job';
import { synthesize } from '../../stacks/synthesize';
import { readStackFile } from '../../stacks/stack-file';
import { BASE_PROPS, find } from '../helpers';

type Options = Partial<Omit<MigrationJobProps, 'app'>>;

interface Fixture {
  readonly chart: Chart;
  readonly app: BlueGreenApp;
  readonly migration: MigrationJob;
  render(): Manifest[];
}

const MIGRATION = { phase: 'expand' as const, image: 'registry.example.com/acme/web:1.1.0', command: ['bin/migrate', 'up'] };

/** An app (blue live unless told) with an expand migration, in namespace `web-test`. */
function fixture(options: Options = {}, app: Partial<BlueGreenAppProps> = {}): Fixture {
  const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
  const bga = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...app });
  const migration = new MigrationJob(chart, 'migration', { app: bga, ...MIGRATION, ...options });
  return { chart, app: bga, migration, render: () => renderChart(chart).map((r) => r.manifest) };
}

function job(f: Fixture): Record<string, any> {
  return find(f.render(), 'Job', f.migration.name);
}

function container(manifest: Record<string, any>): Record<string, any> {
  return manifest.spec.template.spec.containers[0];
}

describe('MigrationJob name', () => {
  it('is <app>-migrate-<phase>-<8 hex digits>', () => {
    expect(fixture().migration.name).toMatch(/^web-migrate-expand-[0-9a-f]{8}$/);
    expect(fixture({ phase: 'contract' }).migration.name).toMatch(/^web-migrate-contract-[0-9a-f]{8}$/);
  });

  it('is the same for the same migration', () => {
    expect(fixture().migration.name).toBe(fixture().migration.name);
  });

  it('does not change with the live color, so a rollback never re-runs it', () => {
    const blue = fixture();
    const green = fixture({}, { activeColor: 'green' });
    expect(green.migration.name).toBe(blue.migration.name);
    expect(job(green)).toEqual(job(blue));
  });

  it.each<[string, Options]>([
    ['image', { image: 'registry.example.com/acme/web:1.2.0' }],
    ['command', { command: ['bin/migrate', 'up', '--to', '42'] }],
    ['env', { env: { MIGRATION_TARGET: '42' } }],
  ])('changes when the %s changes, so a new migration is a new Job', (_, options) => {
    expect(fixture(options).migration.name).not.toBe(fixture().migration.name);
  });

  it('uses namePrefix when given', () => {
    expect(fixture({ namePrefix: 'web-schema' }).migration.name).toMatch(/^web-schema-[0-9a-f]{8}$/);
  });
});

describe('MigrationJob objects', () => {
  it('runs the command once within a deadline, never restarts and is not TTL-deleted', () => {
    const manifest = job(fixture());
    expect(manifest.spec.backoffLimit).toBe(0);
    expect(manifest.spec.activeDeadlineSeconds).toBe(300);
    expect(manifest.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(manifest.spec.template.spec.restartPolicy).toBe('Never');
    expect(manifest.metadata.annotations).toEqual({ 'pulumi.com/replaceUnready': 'true' });
    expect(container(manifest)).toMatchObject({
      image: MIGRATION.image,
      command: MIGRATION.command,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
  });

  it('uses the app ServiceAccount without a token', () => {
    const spec = job(fixture()).spec.template.spec;
    expect(spec.serviceAccountName).toBe('web');
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it('labels its pods with the migration and its phase', () => {
    expect(job(fixture({ phase: 'contract' })).spec.template.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'web-migrate-contract',
      'app.kubernetes.io/component': 'migration',
      'app.kubernetes.io/part-of': 'web',
      'cutover.dev/migration-phase': 'contract',
    });
  });

  it('passes env, Secrets and the phase to the container', () => {
    const c = container(job(fixture({ env: { LOG_LEVEL: 'debug' }, secretNames: ['web-migrations'] })));
    expect(c.env).toEqual([
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'CUTOVER_MIGRATION_PHASE', value: 'expand' },
    ]);
    expect(c.envFrom).toEqual([{ secretRef: { name: 'web-migrations' } }]);
  });

  it('the pod passes Pod Security restricted, with a writable /tmp only', () => {
    const spec = job(fixture()).spec.template.spec;
    expect(restrictedViolations(spec)).toEqual([]);
    expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('a copy that allows privilege escalation is rejected by the restricted check', () => {
    const spec = job(fixture()).spec.template.spec;
    const broken = {
      ...spec,
      containers: [{ ...spec.containers[0], securityContext: { ...spec.containers[0].securityContext, allowPrivilegeEscalation: true } }],
    };
    expect(restrictedViolations(broken).map((v) => v.control)).toEqual(['Privilege Escalation']);
  });

  it('sets requests and limits, ephemeral storage included', () => {
    expect(container(job(fixture())).resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
      limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
    });
  });
});

describe('MigrationJob with a database', () => {
  function withDatabase(pooler: boolean): Fixture & { db: PostgresHA } {
    const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
    const db = new PostgresHA(chart, 'db', { name: 'web-db', backup: { enabled: false }, ...(pooler ? { pooler: {} } : {}) });
    const app = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, backends: [db] });
    const migration = new MigrationJob(chart, 'migration', { app, ...MIGRATION, backends: [db] });
    return { chart, app, db, migration, render: () => renderChart(chart).map((r) => r.manifest) };
  }

  it('gets DATABASE_URL from the database Secret', () => {
    expect(container(job(withDatabase(false))).env[0]).toEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'web-db-app', key: 'uri' } },
    });
  });

  it('waits for the database objects and renders after them', () => {
    const f = withDatabase(true);
    expect(f.migration.job.node.dependencies).toContain(f.db);
    const order = f.render().map((m) => `${m.kind}/${m.metadata.name}`);
    expect(order.indexOf('Cluster/web-db')).toBeLessThan(order.indexOf(`Job/${f.migration.name}`));
    expect(order.indexOf('Pooler/web-db-pooler-rw')).toBeLessThan(order.indexOf(`Job/${f.migration.name}`));
  });

  it('allow(migration).to(postgres): the migration pods reach PostgreSQL on 5432', () => {
    const f = withDatabase(false);
    const set = new NetworkPolicySet(f.chart, 'network');
    set.allow(f.migration).to(f.db);
    const manifests = f.render();
    const migrationPods = { matchLabels: { 'app.kubernetes.io/name': 'web-migrate-expand', 'app.kubernetes.io/component': 'migration' } };
    const policy = find(manifests, 'NetworkPolicy', 'web-migrate-expand');
    expect(policy.spec.podSelector).toEqual(migrationPods);
    expect(policy.spec.egress).toEqual([
      { to: [{ podSelector: expect.objectContaining({ matchLabels: { 'cnpg.io/cluster': 'web-db' } }) }], ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);
    expect(find(manifests, 'NetworkPolicy', 'web-db').spec.ingress).toContainEqual({
      from: [{ podSelector: migrationPods }],
      ports: [{ protocol: 'TCP', port: 5432 }],
    });
  });

  it('expand and contract migrations get policies of their own in one set', () => {
    const f = withDatabase(false);
    const contract = new MigrationJob(f.chart, 'contract', { app: f.app, ...MIGRATION, phase: 'contract', backends: [f.db] });
    const set = new NetworkPolicySet(f.chart, 'network');
    set.allow(f.migration).to(f.db);
    set.allow(contract).to(f.db);
    const names = f
      .render()
      .filter((m) => m.kind === 'NetworkPolicy')
      .map((m) => m.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['web-migrate-expand', 'web-migrate-contract']));
  });
});

describe('MigrationJob guard', () => {
  it('makes the traffic objects wait for the migration', () => {
    const f = fixture();
    f.migration.guard(f.app.liveService, f.app.route!);
    expect(ApiObject.of(f.app.liveService).node.dependencies).toContain(f.migration.job);
    expect(f.app.route!.node.dependencies).toContain(f.migration.job);
    const order = f.render().map((m) => `${m.kind}/${m.metadata.name}`);
    expect(order.indexOf(`Job/${f.migration.name}`)).toBeLessThan(order.indexOf('Service/web'));
  });

  it('refuses what the migration itself waits for (a cycle)', () => {
    const f = fixture();
    expect(() => f.migration.guard(f.app.serviceAccount)).toThrow(
      'guard: the migration itself waits for test/app/service-account, got it as an object to guard; that is a dependency cycle: guard only what ' +
        'moves traffic (Services, Ingresses, HTTPRoutes)',
    );
  });
});

describe('MigrationJob validation', () => {
  it.each<[string, Options, string]>([
    [
      'an unknown phase',
      { phase: 'cleanup' as 'expand' },
      'phase: must be "expand" or "contract", got "cleanup"; expand runs before a switch, contract after the old color is retired',
    ],
    ['an empty image', { image: '' }, 'image: must not be empty, got ""; give an image with a tag, e.g. "registry.example.com/acme/web:1.4.2"'],
    ['an image without tag', { image: 'registry.example.com/acme/web' }, 'image: has no tag or digest, got "registry.example.com/acme/web"'],
    [
      'a latest image',
      { image: 'registry.example.com/acme/web:latest' },
      'image: must be pinned to one build, got "registry.example.com/acme/web:latest"; use a version tag or a digest, e.g. ' +
        '"registry.example.com/acme/web:1.4.2"',
    ],
    ['an empty command', { command: [] }, 'command: must be a non-empty list of strings, got []; e.g. ["bin/migrate", "up"]'],
    ['a blank executable', { command: [' ', 'up'] }, 'command: the executable must not be blank, got [" ","up"]; e.g. ["bin/migrate", "up"]'],
    [
      'a bad env name',
      { env: { 'MIGRATION-TARGET': '1' } },
      'env: is not an environment variable name, got "MIGRATION-TARGET"; use letters, digits and underscores, e.g. MIGRATION_TARGET',
    ],
    [
      'a bad Secret name',
      { secretNames: ['Web_Secrets'] },
      'secretNames[0]: is not a Secret name (a lowercase DNS subdomain), got "Web_Secrets"; e.g. "web-migrations"',
    ],
    [
      'a zero deadline',
      { activeDeadlineSeconds: 0 },
      'activeDeadlineSeconds: must be a whole number of at least 1, got 0; set activeDeadlineSeconds to 1 or more',
    ],
    [
      'a fractional deadline',
      { activeDeadlineSeconds: 2.5 },
      'activeDeadlineSeconds: must be a whole number of at least 1, got 2.5; set activeDeadlineSeconds to 1 or more',
    ],
    ['a root user', { runAsUser: 0 }, 'runAsUser: must be a whole number of at least 1, got 0; set runAsUser to 1 or more'],
    [
      'a prefix that is not a DNS label',
      { namePrefix: 'Web_Migrate' },
      'namePrefix: must be a lowercase DNS label of at most 54 characters starting with a letter, got "Web_Migrate"',
    ],
    [
      'a memory request above its limit',
      { resources: { memoryRequest: '512Mi' } },
      'resources.memoryRequest: exceeds resources.memoryLimit 256Mi, got 512Mi; lower the request or raise the limit',
    ],
    [
      'an ephemeral limit that cannot hold /tmp',
      { resources: { ephemeralStorageRequest: '32Mi', ephemeralStorageLimit: '64Mi' } },
      'resources.ephemeralStorageLimit: must exceed the writable /tmp of 64Mi, got 64Mi; raise it, e.g. to 256Mi',
    ],
  ])('rejects %s', (_, options, message) => {
    expect(() => fixture(options)).toThrow(message);
  });

  it('reports every independent problem at once', () => {
    expect(() => fixture({ command: [], runAsUser: 0 })).toThrow(
      expect.objectContaining({
        problems: [
          'command: must be a non-empty list of strings, got []; e.g. ["bin/migrate", "up"]',
          'runAsUser: must be a whole number of at least 1, got 0; set runAsUser to 1 or more',
        ],
      }),
    );
  });

  it('rejects a default name longer than a label value allows, with a fix', () => {
    const name = `a${'b'.repeat(49)}`;
    expect(() => fixture({ phase: 'contract' }, { name })).toThrow(
      `namePrefix: must be a lowercase DNS label of at most 54 characters starting with a letter, got "${name}-migrate-contract"; e.g. ` +
        `"${name.slice(0, 30)}-migrate-contract" (shorten the app name or set namePrefix)`,
    );
  });

  it('accepts a 50-character app name with a short namePrefix, within 63 characters', () => {
    const f = fixture({ phase: 'contract', namePrefix: 'shop-contract' }, { name: `a${'b'.repeat(49)}` });
    expect(f.migration.name.length).toBeLessThanOrEqual(63);
  });
});

describe('reportingScript', () => {
  const run = (script: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-termination-'));
    const file = join(dir, 'termination-log');
    const result = spawnSync('sh', ['-c', reportingScript(script)], { encoding: 'utf8', env: { ...process.env, CUTOVER_TERMINATION_LOG: file } });
    const message = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    rmSync(dir, { recursive: true, force: true });
    return { status: result.status, stdout: result.stdout, message };
  };

  it("keeps a failing script's exit status and copies what it printed, stderr too, to the termination message", () => {
    const result = run("printf 'ok   GET /ready -> 200\\n'; printf 'FAIL GET /x: expected status 200, got 503\\n' >&2; exit 3");
    expect(result.status).toBe(3);
    expect(result.stdout).toBe('ok   GET /ready -> 200\nFAIL GET /x: expected status 200, got 503\n');
    expect(result.message).toBe(result.stdout);
  });

  it("copies a passing script's output too, and exits 0", () => {
    const result = run("printf 'gate passed: 2 checks\\n'");
    expect(result).toEqual({ status: 0, stdout: 'gate passed: 2 checks\n', message: 'gate passed: 2 checks\n' });
  });

  it('wraps what the smoke-test and metric gate Jobs run', () => {
    const raw = {
      ...readStackFile(join(__dirname, '..', '..'), 'prod'),
      'cutover:gate': JSON.stringify({ metrics: { prometheusUrl: 'http://prometheus:9090' } }),
    };
    const jobs = synthesize(raw, 'prod').objects.filter((r) => r.manifest.kind === 'Job' && /-gate-/.test(r.manifest.metadata.name));
    expect(jobs.map((r) => r.manifest.metadata.name)).toEqual(['web-gate-blue', 'web-metric-gate-blue']);
    for (const job of jobs) {
      const command = (job.manifest as any).spec.template.spec.containers[0].command as string[];
      expect(command[2].startsWith('exec 4>&1\nstatus=$(')).toBe(true);
      expect(command[2].endsWith('exit "$status"\n')).toBe(true);
    }
  });
});
