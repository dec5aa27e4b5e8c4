import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../helpers';
import { CONFIG_DEFAULTS, ConfigError, UNDECLARED_DEFAULT_KEYS, parseStackConfig } from '../../stacks/config';
import { applyOverrides, readStackFile } from '../../stacks/stack-file';
import { synthesize } from '../../stacks/synthesize';

const ROOT = join(__dirname, '..', '..');

/** A minimal valid raw config, as Pulumi hands it to the program. */
const MINIMAL: Record<string, string> = {
  'cutover:activeColor': 'blue',
  'cutover:host': 'web.example.com',
  'cutover:blue': JSON.stringify({ image: 'acme/web:1.0.0' }),
  'cutover:routing': JSON.stringify({ gateway: { name: 'public', namespace: 'gateway-system' } }),
};

function problems(raw: Record<string, string>): string[] {
  return configProblems(raw, 'test');
}

describe('stack files', () => {
  it('prod parses to a production config: 3–10 replicas, PDB keeps 2 of 3, blue live', () => {
    const config = parseStackConfig(readStackFile(ROOT, 'prod'), 'prod');
    expect(config).toMatchObject({
      production: true,
      activeColor: 'blue',
      idleColor: 'green',
      namespace: 'web-prod',
      replicas: 3,
      maxReplicas: 10,
      maxUnavailable: 1,
      host: 'web.example.com',
      secretNames: ['web-secrets'],
    });
    expect(config.blue.image).toBe('registry.example.com/acme/web:1.4.2');
  });

  it('staging lowers the defaults explicitly', () => {
    const config = parseStackConfig(readStackFile(ROOT, 'staging'), 'staging');
    expect(config).toMatchObject({ production: false, replicas: 2, maxReplicas: 4, clusterIssuer: 'letsencrypt-staging' });
    expect(config.resources).toEqual({
      cpuRequest: '50m',
      cpuLimit: '250m',
      memoryRequest: '128Mi',
      memoryLimit: '256Mi',
      ephemeralStorageRequest: '256Mi',
      ephemeralStorageLimit: '1Gi',
    });
  });

  it('the stack files differ only in data: same keys apart from what staging lowers', () => {
    const prod = Object.keys(readStackFile(ROOT, 'prod'));
    const staging = Object.keys(readStackFile(ROOT, 'staging'));
    expect(staging.filter((k) => !prod.includes(k)).sort()).toEqual(['cutover:clusterIssuer', 'cutover:production', 'cutover:resources']);
  });

  it("Pulumi.yaml declares the same defaults as the program, but for the Ingress router's keys", () => {
    const project = parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config: Record<string, { default?: unknown }> };
    const declared = Object.fromEntries(
      Object.entries(project.config)
        .filter(([, v]) => v.default !== undefined)
        .map(([k, v]) => [k, v.default]),
    );
    const scalars = Object.fromEntries(
      Object.entries(CONFIG_DEFAULTS).filter(([k, v]) => typeof v !== 'object' && !(UNDECLARED_DEFAULT_KEYS as readonly string[]).includes(k)),
    );
    expect(declared).toEqual(scalars);
    for (const key of UNDECLARED_DEFAULT_KEYS) {
      expect(Object.keys(project.config)).not.toContain(key);
    }
  });

  it("the stack files parse with Pulumi.yaml's defaults applied, as the Pulumi CLI passes them to the program", () => {
    const project = parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config: Record<string, { default?: unknown }> };
    const defaults = Object.fromEntries(
      Object.entries(project.config)
        .filter(([, v]) => v.default !== undefined)
        .map(([k, v]) => [`cutover:${k}`, String(v.default)]),
    );
    for (const stack of ['prod', 'staging']) {
      expect(() => parseStackConfig({ ...defaults, ...readStackFile(ROOT, stack) }, stack), stack).not.toThrow();
    }
  });
});

describe('parseStackConfig defaults', () => {
  it('resolves every default from a minimal config', () => {
    const config = parseStackConfig(MINIMAL, 'dev');
    expect(config).toMatchObject({
      production: true,
      app: 'web',
      namespace: 'web-dev',
      replicas: 3,
      maxReplicas: 10,
      port: 8080,
      metricsPort: 9090,
      tlsSecretName: 'web-tls',
      deployTimeoutSeconds: 600,
      green: {},
    });
  });

  it('reads structured and numeric values as Pulumi passes them', () => {
    const config = parseStackConfig(
      { ...MINIMAL, 'cutover:replicas': '4', 'cutover:green': JSON.stringify({ image: 'acme/web:2.0.0', replicas: 0, env: { A: 1 } }) },
      'dev',
    );
    expect(config.replicas).toBe(4);
    expect(config.green).toEqual({ image: 'acme/web:2.0.0', replicas: 0, env: { A: '1' } });
  });

  it('ignores keys of other namespaces', () => {
    expect(() => parseStackConfig({ ...MINIMAL, 'kubernetes:context': 'kind' }, 'dev')).not.toThrow();
  });
});

describe('parseStackConfig errors', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    [
      'activeColor missing',
      { ...MINIMAL, 'cutover:activeColor': undefined as never },
      'activeColor: is required, got nothing; set the color that receives traffic: `pulumi config set activeColor blue`',
    ],
    [
      'activeColor not blue or green',
      { ...MINIMAL, 'cutover:activeColor': 'purple' },
      'activeColor: must be blue or green, got "purple"; `pulumi config set activeColor blue` (or green)',
    ],
    [
      'a live color without image',
      { ...MINIMAL, 'cutover:activeColor': 'green' },
      'green.image: the live color has no image, got nothing; set `pulumi config set --path green.image <image:tag>` before making green live',
    ],
    [
      'an untagged image',
      { ...MINIMAL, 'cutover:blue': '{"image":"acme/web"}' },
      'blue.image: has no tag or digest, got "acme/web"; pin the build, e.g. "acme/web:1.4.2" or "acme/web@sha256:<digest>"',
    ],
    [
      ':latest in production',
      { ...MINIMAL, 'cutover:green': '{"image":"acme/web:latest"}' },
      'green.image: production does not run `:latest`, got "acme/web:latest"; pin a release tag or a digest, e.g. `:1.4.2` or `@sha256:…`',
    ],
    [
      'replicas the PDB would drain to zero',
      { ...MINIMAL, 'cutover:production': 'false', 'cutover:replicas': '1' },
      'blue.replicas: the PodDisruptionBudget allows 1 pod(s) down at once and would leave none running, got 1; run at least 2 replicas ' +
        '(replicas) or lower maxUnavailable',
    ],
    [
      'fewer than 3 replicas in production',
      { ...MINIMAL, 'cutover:replicas': '2' },
      'replicas: production runs at least 3 replicas per color, got 2; set replicas to 3 or more; a non-production stack sets `production: false`',
    ],
    [
      'a host that is not a DNS name',
      { ...MINIMAL, 'cutover:host': 'Web.Example.com/' },
      'host: is not a DNS name, got "Web.Example.com/"; use a lowercase fully qualified name such as `app.example.com`',
    ],
    [
      'a typo in a key',
      { ...MINIMAL, 'cutover:maxReplica': '5' },
      'maxReplica: is not a cutover config key, got "5"; did you mean "maxReplicas"? (remove it with `pulumi config rm maxReplica`)',
    ],
    [
      'an idleReplicas the PodDisruptionBudget would drain',
      { ...MINIMAL, 'cutover:idleReplicas': '1' },
      'idleReplicas: the PodDisruptionBudget allows 1 pod(s) down at once and would leave none of the idle color running, got 1; use 0 (retire ' +
        'the idle color) or at least 2',
    ],
    [
      'an idleReplicas during a weighted shift',
      { ...MINIMAL, 'cutover:green': '{"image":"acme/web:1.1.0"}', 'cutover:trafficWeight': '10', 'cutover:idleReplicas': '0' },
      'idleReplicas: is set while trafficWeight (10) sends requests to the idle color, got 0; finish or abort the weighted shift (trafficWeight ' +
        '0) before shrinking the idle color',
    ],
    [
      'a negative idleReplicas',
      { ...MINIMAL, 'cutover:idleReplicas': '-1' },
      'idleReplicas: must be a whole number from 0 to 10, got "-1"; e.g. `pulumi config set idleReplicas 0`',
    ],
    [
      'making a color scaled to 0 live',
      { ...MINIMAL, 'cutover:blue': '{"image":"acme/web:1.0.0","replicas":0}' },
      'blue.replicas: cannot make a color scaled to 0 live (activeColor is blue), got 0; scale it up first: `pulumi config rm --path ' +
        'blue.replicas`, `pulumi up`, then cut over',
    ],
    [
      'a typo in a color field',
      { ...MINIMAL, 'cutover:green': '{"imgae":"acme/web:1"}' },
      'green.imgae: is not a color field, got "acme/web:1"; use one of image, replicas, env; did you mean "image"?',
    ],
    [
      'a non-number',
      { ...MINIMAL, 'cutover:maxReplicas': 'ten' },
      'maxReplicas: must be a whole number from 1 to 2147483647, got "ten"; e.g. `pulumi config set maxReplicas 10`',
    ],
    [
      'maxReplicas below replicas',
      { ...MINIMAL, 'cutover:maxReplicas': '2' },
      'maxReplicas: must be at least replicas (3), got 2; raise maxReplicas or lower replicas',
    ],
    [
      'a non-boolean',
      { ...MINIMAL, 'cutover:production': 'yes' },
      'production: must be true or false, got "yes"; e.g. `pulumi config set production true`',
    ],
    [
      'a CPU quantity typo',
      { ...MINIMAL, 'cutover:resources': '{"cpuLimit":"500mc"}' },
      'resources.cpuLimit: is not a CPU quantity, got "500mc"; use millicores like `250m` or cores like `1`',
    ],
    [
      'literal secret data instead of names',
      { ...MINIMAL, 'cutover:secretNames': '{"DB_PASSWORD":"hunter2"}' },
      'secretNames: must be a list of Secret names, got {"DB_PASSWORD":"hunter2"}; e.g. `pulumi config set --path "secretNames[0]" web-secrets`; ' +
        'put secret values in the Secret, never in config',
    ],
    [
      'a relative probe path',
      { ...MINIMAL, 'cutover:readinessPath': 'ready' },
      'readinessPath: must be an absolute HTTP path, got "ready"; e.g. `/ready`',
    ],
    [
      'equal ports',
      { ...MINIMAL, 'cutover:metricsPort': '8080' },
      'metricsPort: must differ from port, got 8080; serve metrics on a port of their own, e.g. 9090',
    ],
  ];
  for (const [what, raw, message] of cases) {
    it(`reports ${what}`, () => {
      const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
      expect(problems(clean)).toContain(message);
    });
  }

  it('reports every problem at once, prefixed with the namespace', () => {
    const error = (() => {
      try {
        parseStackConfig({ 'cutover:activeColor': 'red', 'cutover:host': 'x', 'cutover:routing': '{"router":"ingress"}' }, 'prod');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.problems).toHaveLength(2);
    expect(error.message).toBe(
      'stack "prod" has 2 config errors (nothing was applied):\n' +
        '  - cutover:activeColor: must be blue or green, got "red"; `pulumi config set activeColor blue` (or green)\n' +
        '  - cutover:host: is not a DNS name, got "x"; use a lowercase fully qualified name such as `app.example.com`',
    );
  });
});

describe('applyOverrides', () => {
  it('refuses a path below a single value, naming the key and the fix', () => {
    expect(() => applyOverrides(MINIMAL, ['host.name=x'])).toThrow(
      '--config host.name=x: cutover:host is a single value ("web.example.com"), not an object with fields; set it whole, e.g. --config host=<value>',
    );
  });

  it('stores true and false as booleans, as `pulumi config set --path` does', () => {
    expect(() => parseStackConfig(applyOverrides(MINIMAL, ['gate.enabled=false']), 'test')).not.toThrow();
    expect(JSON.parse(applyOverrides(MINIMAL, ['gate.enabled=false'])['cutover:gate'])).toEqual({ enabled: false });
  });

  it('sets plain and path keys the way pulumi config set does', () => {
    const raw = applyOverrides(MINIMAL, ['activeColor=green', 'green.image=acme/web:2.0.0', 'green.replicas=4', 'cutover:replicas=5']);
    expect(raw['cutover:activeColor']).toBe('green');
    expect(JSON.parse(raw['cutover:green'])).toEqual({ image: 'acme/web:2.0.0', replicas: 4 });
    expect(raw['cutover:replicas']).toBe('5');
  });

  it('sets a list item by index, as `pulumi config set --path secretNames[0]` does', () => {
    const raw = applyOverrides(MINIMAL, ['secretNames[0]=web-secrets', 'secretNames[1]=web-extra']);
    expect(JSON.parse(raw['cutover:secretNames'])).toEqual(['web-secrets', 'web-extra']);
    expect(parseStackConfig(raw, 'test').secretNames).toEqual(['web-secrets', 'web-extra']);
  });

  it('paths into nested lists and quoted keys, storing whole numbers as numbers and other values as strings', () => {
    const raw = applyOverrides(MINIMAL, [
      'gate.checks[0].path=/version',
      'gate.checks[0].expectStatus=200',
      'network.gatewayPodLabels["app.kubernetes.io/name"]=envoy',
    ]);
    expect(JSON.parse(raw['cutover:gate'])).toEqual({ checks: [{ path: '/version', expectStatus: 200 }] });
    expect(JSON.parse(raw['cutover:network'])).toEqual({ gatewayPodLabels: { 'app.kubernetes.io/name': 'envoy' } });
    expect(JSON.parse(applyOverrides(MINIMAL, ['monitoring.runbookBaseUrl=https://runbooks.example.com/'])['cutover:monitoring'])).toEqual({
      runbookBaseUrl: 'https://runbooks.example.com/',
    });
  });

  it('reads the numbers and booleans --path stores in a map as the strings labels, settings and env hold', () => {
    // The fix the config gives for empty dashboardLabels, followed as written: it stores the number 1.
    const raw = applyOverrides({ ...MINIMAL, 'cutover:monitoring': JSON.stringify({ dashboardLabels: {} }) }, [
      'monitoring.dashboardLabels.grafana_dashboard=1',
      'monitoring.labels.release=true',
      'scheduling.nodeSelector.generation=2',
      'settings.WORKERS=4',
      'blue.env.RETRIES=3',
    ]);
    expect(JSON.parse(raw['cutover:monitoring'])).toEqual({ dashboardLabels: { grafana_dashboard: 1 }, labels: { release: true } });
    const config = parseStackConfig(raw, 'test');
    expect(config.monitoring).toMatchObject({ dashboardLabels: { grafana_dashboard: '1' }, labels: { release: 'true' } });
    expect(config.scheduling.nodeSelector).toEqual({ generation: '2' });
    expect(config.settings).toEqual({ WORKERS: '4' });
    expect(config.blue.env).toEqual({ RETRIES: '3' });
    // And the constructs, which check labels themselves, take them.
    expect(() => synthesize(raw, 'test')).not.toThrow();
  });

  it('keeps a plain key a string, as `pulumi config set` without --path does', () => {
    expect(applyOverrides(MINIMAL, ['production=false'])['cutover:production']).toBe('false');
  });

  it('refuses an index past the end of a list, a field of a list and an index into an object', () => {
    const raw = applyOverrides(MINIMAL, ['secretNames[0]=a']);
    expect(() => applyOverrides(raw, ['secretNames[2]=b'])).toThrow(
      '--config secretNames[2]=b: secretNames has 1 item(s), got index 2; set [1] to add one',
    );
    expect(() => applyOverrides(raw, ['secretNames.name=b'])).toThrow(
      '--config secretNames.name=b: cutover:secretNames is a list, not an object with fields; index it, e.g. --config secretNames[0]=<value>',
    );
    expect(() => applyOverrides(MINIMAL, ['blue[0]=x'])).toThrow(
      '--config blue[0]=x: cutover:blue is an object with fields, not a list; name a field, e.g. --config blue.<field>=<value>',
    );
  });

  it('refuses a path that is not one', () => {
    expect(() => applyOverrides(MINIMAL, ['gate..enabled=false'])).toThrow(
      '--config gate..enabled=false: "gate..enabled" is not a config path at "..enabled"; ' +
        'e.g. gate.enabled=false, secretNames[0]=web or \'labels["a.b/c"]=x\'',
    );
  });

  it('refuses an override without a value', () => {
    expect(() => applyOverrides(MINIMAL, ['activeColor'])).toThrow(
      '--config: expected key=value, got "activeColor"; e.g. --config activeColor=green',
    );
  });
});

describe('parseStackConfig data tier', () => {
  it('passes the postgres and redis objects through', () => {
    const config = parseStackConfig(
      { ...MINIMAL, 'cutover:postgres': '{"instances":3,"pooler":true}', 'cutover:redis': '{"mode":"cluster"}' },
      'dev',
    );
    expect(config.postgres).toEqual({ instances: 3, pooler: true });
    expect(config.redis).toEqual({ mode: 'cluster' });
  });

  it('reports unknown and mistyped fields with the path', () => {
    expect(
      problems({ ...MINIMAL, 'cutover:postgres': '{"instance":3,"backup":{"destination":"s3://x"}}', 'cutover:redis': '{"replicas":"three"}' }),
    ).toEqual([
      'postgres.instance: is not a postgres field, got 3; use one of instances, imageName, storageSize, storageClass, pooler, backup, recovery; ' +
        'did you mean "instances"?',
      'postgres.backup.destination: is not a postgres.backup field, got "s3://x"; use one of enabled, destinationPath, endpointURL, secretName, ' +
        'retentionPolicy',
      'redis.replicas: must be a whole number, got "three"; e.g. `pulumi config set --path redis.replicas <value>`',
    ]);
  });

  it('tells how to store a number or a boolean given for a string field as a string, but not for a field of names', () => {
    // `pulumi config set --path migrations.expand.image 7` stores the number 7: only `--type string` stores "7".
    expect(
      problems({
        ...MINIMAL,
        'cutover:migrations': '{"expand":{"image":7,"command":["migrate"]}}',
        'cutover:redis': '{"mode":1}',
        'cutover:postgres': '{"backup":{"destinationPath":true}}',
      }),
    ).toEqual([
      'postgres.backup.destinationPath: must be a string, got true; ' +
        'set it as one: `pulumi config set --path --type string postgres.backup.destinationPath true`',
      'redis.mode: must be a string, got 1; e.g. `pulumi config set --path redis.mode <value>`',
      'migrations.expand.image: must be a string, got 7; set it as one: `pulumi config set --path --type string migrations.expand.image 7`',
    ]);
    expect(problems({ ...MINIMAL, 'cutover:blue': '{"image":1}' })).toContain(
      'blue.image: must be a string, got 1; set it as one: `pulumi config set --path --type string blue.image <reference>`',
    );
  });

  it('refuses an unknown redis mode', () => {
    expect(problems({ ...MINIMAL, 'cutover:redis': '{"mode":"standalone"}' })).toEqual([
      'redis.mode: must be sentinel or cluster, got "standalone"; `sentinel` (1 master + replicas with failover) or `cluster` (sharded)',
    ]);
  });
});

describe('parseStackConfig operators', () => {
  it('installs no operators unless asked', () => {
    expect(parseStackConfig(MINIMAL, 'dev').operators).toEqual({ install: false });
    expect(parseStackConfig({ ...MINIMAL, 'cutover:redis': '{}', 'cutover:operators': '{"install":true}' }, 'dev').operators).toEqual({
      install: true,
    });
  });

  it('reports a mistyped or unknown operators field', () => {
    expect(problems({ ...MINIMAL, 'cutover:redis': '{}', 'cutover:operators': '{"install":"yes","instal":true}' })).toEqual([
      'operators.install: must be a boolean, got "yes"; e.g. `pulumi config set --path operators.install <value>`',
      'operators.instal: is not a operators field, got true; use one of install; did you mean "install"?',
    ]);
  });

  it('refuses to install operators for a stack without a data tier', () => {
    expect(problems({ ...MINIMAL, 'cutover:operators': '{"install":true}' })).toEqual([
      'operators.install: has nothing to install: the stack has neither postgres nor redis, got true; set `operators.install` to false, or ' +
        'configure `postgres` or `redis`',
    ]);
  });
});

describe('parseStackConfig network', () => {
  it('passes the network object through, empty by default', () => {
    expect(parseStackConfig(MINIMAL, 'dev').network).toEqual({});
    const network = {
      podCidrs: ['10.42.0.0/16'],
      apiServer: { cidrs: ['203.0.113.10/32'] },
      internetEgress: false,
      monitoringNamespace: 'observability',
    };
    expect(parseStackConfig({ ...MINIMAL, 'cutover:network': JSON.stringify(network) }, 'dev').network).toEqual(network);
  });

  it('reports lists that are not lists, unknown fields and bad namespace names', () => {
    expect(problems({ ...MINIMAL, 'cutover:network': '{"podCidrs":"10.42.0.0/16","egress":true,"ingressNamespace":"Ingress_Nginx"}' })).toEqual([
      'network.podCidrs: must be a list of strings, got "10.42.0.0/16"; e.g. `pulumi config set --path \'network.podCidrs[0]\' <value>`',
      'network.egress: is not a network field, got true; use one of ingressNamespace, gatewayNamespace, gatewayPodLabels, monitoringNamespace, ' +
        'cnpgNamespace, redisOperatorNamespace, podCidrs, serviceCidrs, apiServer, externalCidrs, internetEgress',
      'network.ingressNamespace: is not a namespace name, got "Ingress_Nginx"; use lowercase letters, digits and "-", at most 63 characters',
    ]);
  });
});

describe('parseStackConfig monitoring', () => {
  it('passes the monitoring object through, empty by default', () => {
    expect(parseStackConfig(MINIMAL, 'dev').monitoring).toEqual({});
    const monitoring = {
      labels: { release: 'kube-prometheus-stack' },
      errorRateThreshold: 0.001,
      latencyObjective: { thresholdSeconds: 0.3, objective: 0.99 },
    };
    expect(parseStackConfig({ ...MINIMAL, 'cutover:monitoring': JSON.stringify(monitoring) }, 'dev').monitoring).toEqual(monitoring);
  });

  it('reports numbers that are not numbers and labels that are not a map', () => {
    expect(problems({ ...MINIMAL, 'cutover:monitoring': '{"errorRateThreshold":"5%","labels":["release"]}' })).toEqual([
      'monitoring.errorRateThreshold: must be a number, got "5%"; e.g. `pulumi config set --path monitoring.errorRateThreshold <value>`',
      'monitoring.labels: must be a map of names to strings, got ["release"]; e.g. `pulumi config set --path monitoring.labels <value>`',
    ]);
  });

  it('refuses every label the constructs set themselves, under the key written, before any construct sees it', () => {
    const monitoring = {
      labels: { 'app.kubernetes.io/name': 'x', 'app.kubernetes.io/part-of': 'y' },
      dashboardLabels: { 'app.kubernetes.io/component': 'z' },
    };
    expect(problems({ ...MINIMAL, 'cutover:monitoring': JSON.stringify(monitoring) })).toEqual([
      'monitoring.labels["app.kubernetes.io/name"]: is a label cutover sets on every object itself, got "x"; ' +
        'use a label of your own, e.g. `release` or `grafana_dashboard`',
      'monitoring.labels["app.kubernetes.io/part-of"]: is a label cutover sets on every object itself, got "y"; ' +
        'use a label of your own, e.g. `release` or `grafana_dashboard`',
      'monitoring.dashboardLabels["app.kubernetes.io/component"]: is a label cutover sets on every object itself, got "z"; ' +
        'use a label of your own, e.g. `release` or `grafana_dashboard`',
    ]);
  });

  it('refuses empty dashboard labels and a runbook URL with "#" or spaces', () => {
    expect(problems({ ...MINIMAL, 'cutover:monitoring': JSON.stringify({ dashboardLabels: {}, runbookBaseUrl: 'docs/run book.md#x' }) })).toEqual([
      'monitoring.dashboardLabels: is empty: the Grafana sidecar finds dashboards by label, got {}; ' +
        'set the label it watches, e.g. `pulumi config set --path monitoring.dashboardLabels.grafana_dashboard 1`, or remove the key',
      'monitoring.runbookBaseUrl: must be a URL or repository path without "#" or spaces, got "docs/run book.md#x"; ' +
        'e.g. `docs/runbook.md` or `https://git.example.com/acme/cutover/blob/main/docs/runbook.md`',
    ]);
  });

  it('refuses a bad redis Secret name under redis.secretName, not the construct prop', () => {
    expect(problems({ ...MINIMAL, 'cutover:redis': JSON.stringify({ secretName: 'Cache_Auth' }) })).toEqual([
      'redis.secretName: is not a Secret name, got "Cache_Auth"; use lowercase letters, digits, "-" and "." (the name of an existing Secret)',
    ]);
  });

  it('refuses a zero memory request under its key, before the namespace quota is sized', () => {
    expect(problems({ ...MINIMAL, 'cutover:resources': JSON.stringify({ memoryRequest: '0Mi' }) })).toEqual([
      'resources.memoryRequest: must be more than 0: the namespace quota and the scheduler need a real figure, got "0Mi"; use e.g. `256Mi` or `1Gi`',
    ]);
  });
});

describe('parseStackConfig gates, migrations, routing and weighted shifts', () => {
  const staging = () => readStackFile(ROOT, 'staging');

  it('defaults to a gate with no extra checks, no migrations, the gateway router and no weighted shift', () => {
    const config = parseStackConfig(MINIMAL, 'dev');
    expect([config.gate, config.migrations, config.routing, config.trafficWeight]).toEqual([
      {},
      {},
      { router: 'gateway', gateway: { name: 'public', namespace: 'gateway-system' } },
      0,
    ]);
  });

  it('passes gate checks, an expand migration and a gateway through', () => {
    const raw = {
      ...readStackFile(ROOT, 'prod'),
      'cutover:gate': '{"checks":[{"path":"/api/orders","expectStatus":200,"contains":"ok"}],"timeoutSeconds":90}',
      'cutover:migrations': '{"expand":{"image":"registry.example.com/acme/web-migrate:1.5.0","command":["migrate","up"]}}',
      'cutover:routing': '{"gateway":{"name":"public","namespace":"gateways"}}',
      'cutover:trafficWeight': '25',
    };
    const config = parseStackConfig(raw, 'prod');
    expect(config.gate.checks).toEqual([{ path: '/api/orders', expectStatus: 200, contains: 'ok' }]);
    expect(config.migrations.expand?.command).toEqual(['migrate', 'up']);
    expect(config.routing.gateway).toEqual({ name: 'public', namespace: 'gateways' });
    expect(config.trafficWeight).toBe(25);
  });

  it('refuses weights outside 0-100 and a shift towards a color that cannot take it', () => {
    expect(problems({ ...MINIMAL, 'cutover:trafficWeight': '101' })).toEqual([expect.stringMatching(/^trafficWeight: .*101/)]);
    expect(problems({ ...MINIMAL, 'cutover:trafficWeight': '-5' })).toEqual([expect.stringMatching(/^trafficWeight: .*-5/)]);
    expect(problems({ ...MINIMAL, 'cutover:trafficWeight': '5' })).toEqual([
      'trafficWeight: sends 5% of requests to green, which is not deployed (no image), got 5; deploy green first (`pulumi config set --path ' +
        'green.image <image:tag>`, full size), `pulumi up`, then shift',
    ]);
    const scaledDown = applyOverrides(staging(), ['green.replicas=0', 'trafficWeight=10']);
    expect(() => parseStackConfig(scaledDown, 'staging')).toThrow('trafficWeight: sends 10% of requests to green, which is scaled to 0');
  });

  it('reports malformed gate checks, half-configured migrations and a gateway without a name', () => {
    expect(
      problems({
        ...MINIMAL,
        'cutover:gate': '{"checks":[{"path":"/x","status":200}]}',
        'cutover:migrations': '{"expand":{"image":"acme/migrate:1"}}',
        'cutover:routing': '{"gateway":{"namespace":"gw"}}',
      }),
    ).toEqual([
      'gate.checks[0].status: is not a gate.checks[0] field, got 200; use one of path, expectStatus, contains',
      'migrations.expand: needs both image and command, got {"image":"acme/migrate:1"}; e.g. `pulumi config set --path migrations.expand.image ' +
        'registry.example.com/acme/web-migrate:1.5.0` and `--path "migrations.expand.command[0]" migrate`',
      'migrations.expand: needs a database to migrate: the stack has no postgres, got {"image":"acme/migrate:1"}; configure `postgres`, or ' +
        'remove `migrations`',
      'routing.gateway.name: is required by the gateway router (the default), got nothing; the Gateway the HTTPRoutes attach to: ' +
        '`pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`), or `routing.gateway.create.className` for a ' +
        'Gateway the stack owns, ' +
        'or keep an Ingress with `pulumi config set --path routing.router ingress`',
    ]);
  });
});

describe('parseStackConfig routing', () => {
  const without = (raw: Record<string, string>, key: string): Record<string, string> =>
    Object.fromEntries(Object.entries(raw).filter(([name]) => name !== key));
  const routing = (value: unknown, extra: Record<string, string> = {}) =>
    problems({ ...MINIMAL, 'cutover:routing': JSON.stringify(value), ...extra });

  it('refuses a stack that says nothing about routing, with both ways out', () => {
    expect(problems(without(MINIMAL, 'cutover:routing'))).toEqual([
      'routing: is not set: the default router is now Gateway API (an HTTPRoute on a Gateway), and a stack deployed before routed through an ' +
        'Ingress, got nothing; ' +
        'name the Gateway: `pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`); a stack deployed with an ' +
        'Ingress keeps it with ' +
        '`pulumi config set --path routing.router ingress`, then migrates (docs/routing.md)',
    ]);
  });

  it('resolves the routers, the Gateway a stack creates (named after the app) and the migration flag', () => {
    const parsed = (value: unknown, extra: Record<string, string> = {}) =>
      parseStackConfig({ ...MINIMAL, 'cutover:routing': JSON.stringify(value), ...extra }, 'test').routing;
    expect(parsed({ router: 'ingress' })).toEqual({ router: 'ingress' });
    expect(parsed({ gateway: { create: { className: 'eg' } } }, { 'cutover:network': '{"gatewayNamespace":"envoy-gateway-system"}' })).toEqual({
      router: 'gateway',
      gateway: { name: 'web', create: { className: 'eg' } },
    });
    expect(
      parsed(
        { gateway: { name: 'public', namespace: 'gateway-system' }, keepIngress: true, requestTimeoutSeconds: 30 },
        { 'cutover:rateLimitRps': '50' },
      ),
    ).toEqual({
      router: 'gateway',
      gateway: { name: 'public', namespace: 'gateway-system' },
      keepIngress: true,
      requestTimeoutSeconds: 30,
    });
  });

  it('refuses an unknown router, Gateway keys with the Ingress router, and Ingress keys with the gateway router', () => {
    expect(routing({ router: 'nginx' })).toEqual([
      'routing.router: must be one of gateway, ingress, got "nginx"; `gateway` for an HTTPRoute on a Gateway, `ingress` for an Ingress',
    ]);
    expect(routing({ router: 'ingress', gateway: { name: 'public' }, keepIngress: true, requestTimeoutSeconds: 5 })).toEqual([
      'routing.gateway: is only read by the gateway router, got it with routing.router ingress, got {"name":"public"}; remove it, or set ' +
        'routing.router to gateway (docs/routing.md: migrating)',
      'routing.keepIngress: keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router ingress, got true; ' +
        'remove it',
      "routing.requestTimeoutSeconds: is the HTTPRoute's request timeout, got it with routing.router ingress, got 5; remove it: the Ingress " +
        "controller's timeouts apply",
    ]);
    expect(problems({ ...MINIMAL, 'cutover:ingressClassName': 'traefik' })).toEqual([
      'ingressClassName: has no effect with the gateway router: no Ingress is rendered, got "traefik"; remove it (`pulumi config rm ' +
        'ingressClassName`), or keep the Ingress with `pulumi config set --path routing.router ingress`',
    ]);
    expect(routing({ gateway: { name: 'public', namespace: 'gateway-system' }, requestTimeoutSeconds: 0 })).toEqual([
      "routing.requestTimeoutSeconds: must be from 1 to 3600, got 0; e.g. 60 (ingress-nginx's default read timeout)",
    ]);
  });

  it(
    "refuses a Gateway to create without a class, in another namespace or with listener names, and proxies that would open the stack's own " +
      'namespace',
    () => {
      expect(
        routing(
          { gateway: { create: {}, namespace: 'gateway-system', sectionName: 'https' } },
          { 'cutover:network': '{"gatewayNamespace":"envoy-gateway-system"}' },
        ),
      ).toEqual([
        'routing.gateway.create.className: is required, got nothing; the GatewayClass of the implementation that runs the Gateway (`kubectl get ' +
          'gatewayclass`), e.g. `pulumi config set --path routing.gateway.create.className eg`',
        'routing.gateway.namespace: is not the stack\'s namespace (web-test): a Gateway the stack creates lives in it, got "gateway-system"; ' +
          'remove routing.gateway.namespace',
        'routing.gateway.sectionName: names a listener, and cutover names the listeners of a Gateway it creates (`http`, `https-<app>`), got ' +
          '"https"; remove routing.gateway.sectionName',
      ]);
      expect(routing({ gateway: { name: 'public' } })).toEqual([
        "network.gatewayPodLabels: is required when the Gateway's proxies run in the stack's own namespace (web-test): without labels the app " +
          'would admit every pod of it, got nothing; ' +
          'give the labels of the proxy pods (`pulumi config set --path \'network.gatewayPodLabels["app.kubernetes.io/name"]\' envoy`), or the ' +
          'namespace they run in ' +
          '(`pulumi config set --path network.gatewayNamespace envoy-gateway-system`)',
      ]);
      expect(() =>
        parseStackConfig(
          { ...MINIMAL, 'cutover:routing': '{"gateway":{"name":"public"}}', 'cutover:network': '{"gatewayPodLabels":{"app":"envoy"}}' },
          'test',
        ),
      ).not.toThrow();
    },
  );
});

describe('values the API server would refuse, or that would not run, are refused before anything is applied', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    [
      'an IP address as host',
      { ...MINIMAL, 'cutover:host': '203.0.113.10' },
      'host: is an IP address; Ingress and HTTPRoute hosts must be DNS names, got "203.0.113.10"; use the DNS name clients call, such as ' +
        '`app.example.com`, pointed at the load balancer',
    ],
    [
      'replicas past int32',
      { ...MINIMAL, 'cutover:replicas': '3000000000' },
      'replicas: must be a whole number from 1 to 2147483647, got "3000000000"; e.g. `pulumi config set replicas 3`',
    ],
    [
      'a settings key with a space',
      { ...MINIMAL, 'cutover:settings': '{"LOG LEVEL":"debug"}' },
      'settings.LOG LEVEL: is not a ConfigMap key (letters, digits, "-", "_" and "." only), got "LOG LEVEL"; name it like an environment ' +
        'variable, e.g. `LOG_LEVEL`',
    ],
    [
      'a capitalised clusterIssuer',
      { ...MINIMAL, 'cutover:clusterIssuer': 'LetsEncrypt' },
      'clusterIssuer: is not the name of a cert-manager ClusterIssuer (lowercase letters, digits, "-" and "."), got "LetsEncrypt"; e.g. `pulumi ' +
        'config set clusterIssuer letsencrypt-prod`',
    ],
    [
      'an empty ingressClassName',
      { ...MINIMAL, 'cutover:ingressClassName': '' },
      'ingressClassName: is not the name of an IngressClass (lowercase letters, digits, "-" and "."), got ""; e.g. `pulumi config set ' +
        'ingressClassName nginx`',
    ],
    [
      'a system namespace',
      { ...MINIMAL, 'cutover:namespace': 'kube-system' },
      'namespace: is a namespace Kubernetes itself uses: the stack would put its quota, LimitRange, Pod Security labels and default-deny ' +
        'policies on it, got "kube-system"; give the environment a namespace of its own, e.g. `pulumi config set namespace web-test`',
    ],
    [
      'a typo in the config namespace',
      { ...MINIMAL, 'cutvoer:replicas': '4' },
      'cutvoer:replicas: is in the config namespace "cutvoer", not "cutover", got "4"; did you mean `cutover:replicas`? (remove it with `pulumi ' +
        'config rm cutvoer:replicas`)',
    ],
    [
      'a floating PostgreSQL image in production',
      { ...MINIMAL, 'cutover:postgres': '{"imageName":"ghcr.io/cloudnative-pg/postgresql:latest"}' },
      'postgres.imageName: production does not run `:latest`, got "ghcr.io/cloudnative-pg/postgresql:latest"; pin a release tag or a digest, ' +
        'e.g. `ghcr.io/cloudnative-pg/timescaledb:16-2.17`',
    ],
    [
      'a database pool alert without the pool size',
      { ...MINIMAL, 'cutover:monitoring': '{"databasePool":{"inUse":"db_client_connections_usage"}}' },
      "monitoring.databasePool.max: is required: the pool alert divides connections in use by the pool size, got nothing; name the app's gauge, " +
        'e.g. `pulumi config set --path monitoring.databasePool.max db_client_connections_max`',
    ],
    [
      'a backup credentials Secret name with a space',
      { ...MINIMAL, 'cutover:postgres': '{"backup":{"destinationPath":"s3://b/p","secretName":"my secret"}}' },
      'postgres.backup.secretName: is not a Secret name, got "my secret"; use lowercase letters, digits, "-" and "." (the name of an existing ' +
        'Secret)',
    ],
    [
      'a Redis auth Secret name with capitals',
      { ...MINIMAL, 'cutover:redis': '{"secretName":"Cache Auth"}' },
      'redis.secretName: is not a Secret name, got "Cache Auth"; use lowercase letters, digits, "-" and "." (the name of an existing Secret)',
    ],
    [
      'a probe path with a space, gate or no gate',
      { ...MINIMAL, 'cutover:readinessPath': '/re ady', 'cutover:gate': '{"enabled":false}' },
      'readinessPath: must be an HTTP path of printable ASCII without spaces or "#", got "/re ady"; percent-encode the rest, e.g. ' +
        '`/search?q=a%20b`, or use a plain path such as `/ready`',
    ],
    [
      'a probe path with a fragment, which is never sent',
      { ...MINIMAL, 'cutover:livenessPath': '/health#now' },
      'livenessPath: must be an HTTP path of printable ASCII without spaces or "#", got "/health#now"; percent-encode the rest, e.g. ' +
        '`/search?q=a%20b`, or use a plain path such as `/ready`',
    ],
    [
      'a gate deadline shorter than one request',
      { ...MINIMAL, 'cutover:gate': '{"timeoutSeconds":5}' },
      "gate.timeoutSeconds: must be more than 5 s, the time one of the Job's requests may take, got 5; e.g. 60",
    ],
    [
      "a service sharing the main app's TLS Secret",
      { ...MINIMAL, 'cutover:services': '{"api":{"host":"api.example.com","tlsSecretName":"web-tls","blue":{"image":"acme/api:1.0.0"}}}' },
      'services.api.tlsSecretName: is already the TLS Secret of the main app; cert-manager would write both certificates into it, got "web-tls"; ' +
        'give it its own, e.g. `api-tls` (the default)',
    ],
    [
      'a Prometheus selector label that is no label key, under the key the user wrote',
      { ...MINIMAL, 'cutover:monitoring': '{"labels":{"bad key":"x"}}' },
      'monitoring.labels: "bad key" is not a label key, got "bad key"; use a Kubernetes label key, e.g. `release` or `grafana_dashboard`',
    ],
    [
      'a dashboard label value with a space',
      { ...MINIMAL, 'cutover:monitoring': '{"dashboardLabels":{"grafana_dashboard":"yes please"}}' },
      'monitoring.dashboardLabels.grafana_dashboard: is not a label value, got "yes please"; use at most 63 letters, digits, "-", "_" or "."',
    ],
    [
      'a memory request of 0',
      { ...MINIMAL, 'cutover:resources': '{"memoryRequest":"0Mi"}' },
      'resources.memoryRequest: must be more than 0: the namespace quota and the scheduler need a real figure, got "0Mi"; use e.g. `256Mi` or `1Gi`',
    ],
    [
      'a rate limit that Gateway routing would drop',
      { ...MINIMAL, 'cutover:rateLimitRps': '50' },
      'rateLimitRps: has no effect with the gateway router: Gateway API has no rate limit of its own, so it would be dropped without a word, got ' +
        '"50"; ' +
        'remove it (`pulumi config rm rateLimitRps`) and limit at the Gateway implementation (docs/routing.md: rate limiting, e.g. Envoy ' +
        "Gateway's BackendTrafficPolicy)",
    ],
  ];
  for (const [what, raw, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(problems(raw)).toContain(message);
    });
  }

  it('reports all of them at once', () => {
    // Each case's own keys (those that differ from MINIMAL), all in one config.
    const own = cases.flatMap(([, raw]) => Object.entries(raw).filter(([key, value]) => MINIMAL[key] !== value));
    type Tree = Record<string, unknown>;
    const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
    // Two cases may set fields of the same structured key (postgres, gate): keep both.
    const merge = (a: unknown, b: unknown): unknown =>
      isTree(a) && isTree(b)
        ? Object.fromEntries(
            [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, k in a && k in b ? merge(a[k], b[k]) : (b[k] ?? a[k])]),
          )
        : b;
    const json = (text: string): unknown => (text.startsWith('{') ? JSON.parse(text) : text);
    const combined: Record<string, string> = { ...MINIMAL };
    for (const [key, value] of own) {
      const merged = key in combined ? merge(json(combined[key]), json(value)) : json(value);
      combined[key] = typeof merged === 'string' ? merged : JSON.stringify(merged);
    }
    const all = problems(combined);
    for (const [, , message] of cases) {
      expect(all).toContain(message);
    }
  });

  it('keeps other config namespaces alone', () => {
    expect(() => parseStackConfig({ ...MINIMAL, 'kubernetes:context': 'prod', 'pulumi:tags': '{}' }, 'test')).not.toThrow();
  });
});
