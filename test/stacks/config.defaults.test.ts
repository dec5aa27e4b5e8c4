// The schema is the one declaration of the stack's defaults: the parse applies the literal ones, and where a construct
// applies its own (an absent key), the construct's must be the schema's.
import { App, Chart } from 'cdk8s';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { BlueGreenApp, MetricGate, MonitoringStack, PostgresHA, RedisCluster, renderChart } from '../../lib';
import { CONFIG_DEFAULTS, FieldMeta, metricGateSchema, monitoringSchema, parseStackConfig, postgresSchema, redisSchema } from '../../stacks/config';
import { BASE_PROPS } from '../helpers';

const MINIMAL: Record<string, string> = {
  'cutover:activeColor': 'blue',
  'cutover:host': 'web.example.com',
  'cutover:blue': JSON.stringify({ image: 'acme/web:1.0.0' }),
  'cutover:routing': JSON.stringify({ gateway: { name: 'public', namespace: 'gateway-system' } }),
};

/** Renders what `build` adds to a fresh namespaced chart. */
function rendered(build: (chart: Chart) => void): unknown[] {
  const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
  build(chart);
  return renderChart(chart).map((r) => r.manifest);
}

/** `field` without its `.optional()`. */
function required(field: z.ZodType): z.ZodType {
  return field.def.type === 'optional' ? ((field as z.ZodOptional).def.innerType as z.ZodType) : field;
}

/** The object schema of the nested key `name` of `schema`. */
function nested(schema: z.ZodObject, name: string): z.ZodObject {
  return required(schema.shape[name] as z.ZodType) as z.ZodObject;
}

/** The defaults the schema declares for the construct behind `schema`, by field. */
function constructDefaults(schema: z.ZodObject): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const inner = required(field as z.ZodType);
    const meta = z.globalRegistry.get(inner) as FieldMeta | undefined;
    if (meta?.constructDefault !== undefined) {
      defaults[name] = meta.constructDefault;
    }
  }
  return defaults;
}

describe('stack defaults', () => {
  it('resolves the whole default config from a minimal one', () => {
    const main = {
      name: 'web',
      host: 'web.example.com',
      blue: { image: 'acme/web:1.0.0' },
      green: {},
      replicas: 3,
      maxReplicas: 10,
      port: 8080,
      metricsPort: 9090,
      readinessPath: '/ready',
      livenessPath: '/health',
      settings: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
      secretNames: [],
      tlsSecretName: 'web-tls',
      gate: {},
      backends: true,
    };
    expect(parseStackConfig(MINIMAL, 'dev')).toEqual({
      stack: 'dev',
      production: true,
      app: 'web',
      namespace: 'web-dev',
      host: 'web.example.com',
      activeColor: 'blue',
      idleColor: 'green',
      blue: { image: 'acme/web:1.0.0' },
      green: {},
      replicas: 3,
      maxReplicas: 10,
      maxUnavailable: 1,
      targetCpuUtilization: 70,
      targetMemoryUtilization: 80,
      port: 8080,
      metricsPort: 9090,
      readinessPath: '/ready',
      livenessPath: '/health',
      resources: {
        cpuRequest: '100m',
        cpuLimit: '500m',
        memoryRequest: '256Mi',
        memoryLimit: '512Mi',
        ephemeralStorageRequest: '256Mi',
        ephemeralStorageLimit: '1Gi',
      },
      settings: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
      secretNames: [],
      tlsSecretName: 'web-tls',
      clusterIssuer: 'letsencrypt-prod',
      ingressClassName: 'nginx',
      rateLimitRps: 20,
      drainSeconds: 10,
      shutdownSeconds: 20,
      deployTimeoutSeconds: 600,
      podSecurityVersion: 'v1.30',
      operators: { install: false },
      preflight: { enabled: true, skip: [] },
      network: {},
      monitoring: {},
      gate: {},
      migrations: {},
      routing: { router: 'gateway', gateway: { name: 'public', namespace: 'gateway-system' } },
      alerting: {
        pager: { secret: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
        chat: { secret: { name: 'alertmanager-slack', key: 'webhookURL' } },
      },
      trafficWeight: 0,
      scheduling: {},
      apps: [main],
    });
  });

  it("BlueGreenApp's defaults are the schema's, for every key both have", () => {
    const {
      replicas,
      maxReplicas,
      maxUnavailable,
      targetCpuUtilization,
      targetMemoryUtilization,
      port,
      metricsPort,
      readinessPath,
      livenessPath,
      drainSeconds,
      shutdownSeconds,
      trafficWeight,
      settings,
      secretNames,
      resources,
    } = CONFIG_DEFAULTS;
    const schemaDefaults = {
      replicas,
      maxReplicas,
      maxUnavailable,
      targetCpuUtilization,
      targetMemoryUtilization,
      port,
      metricsPort,
      readinessPath,
      livenessPath,
      drainSeconds,
      shutdownSeconds,
      trafficWeight,
      settings,
      secretNames,
      resources,
    };
    expect(rendered((chart) => new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...schemaDefaults }))).toEqual(
      rendered((chart) => new BlueGreenApp(chart, 'app', BASE_PROPS)),
    );
  });

  it("PostgresHA's defaults are the schema's", () => {
    const defaults = constructDefaults(postgresSchema);
    expect(Object.keys(defaults).sort()).toEqual(['imageName', 'instances', 'storageClass', 'storageSize']);
    const base = { name: 'web-db', backup: { destinationPath: 's3://backups/web' } };
    expect(rendered((chart) => new PostgresHA(chart, 'db', { ...base, ...defaults }))).toEqual(
      rendered((chart) => new PostgresHA(chart, 'db', base)),
    );
  });

  it("RedisCluster's defaults are the schema's, in both modes", () => {
    const { shards, ...sentinel } = constructDefaults(redisSchema);
    expect(Object.keys(sentinel).sort()).toEqual(['mode', 'replicas', 'sentinels', 'storageClass', 'storageSize']);
    expect(rendered((chart) => new RedisCluster(chart, 'cache', { name: 'web-cache', ...sentinel }))).toEqual(
      rendered((chart) => new RedisCluster(chart, 'cache', { name: 'web-cache' })),
    );
    expect(rendered((chart) => new RedisCluster(chart, 'cache', { name: 'web-cache', mode: 'cluster', shards: shards as number }))).toEqual(
      rendered((chart) => new RedisCluster(chart, 'cache', { name: 'web-cache', mode: 'cluster' })),
    );
  });

  it("MonitoringStack's defaults are the schema's, the latency SLO's and the pool alert's included", () => {
    const defaults = constructDefaults(monitoringSchema);
    expect(Object.keys(defaults).sort()).toEqual(['availabilityObjective', 'errorRateThreshold', 'p95LatencySeconds']);
    const latencyObjective = constructDefaults(nested(monitoringSchema, 'latencyObjective'));
    expect(Object.keys(latencyObjective).sort()).toEqual(['objective', 'thresholdSeconds']);
    const pool = constructDefaults(nested(monitoringSchema, 'databasePool'));
    expect(Object.keys(pool)).toEqual(['threshold']);
    const databasePool = { inUse: 'db_client_connections_usage', max: 'db_client_connections_max' };
    const monitored = (props: Record<string, unknown>) =>
      rendered((chart) => {
        const app = new BlueGreenApp(chart, 'app', BASE_PROPS);
        new MonitoringStack(chart, 'monitoring', { app, databasePool, ...props });
      });
    expect(monitored({ ...defaults, latencyObjective, databasePool: { ...databasePool, ...pool } })).toEqual(monitored({}));
  });

  it("MetricGate's defaults are the schema's", () => {
    const defaults = constructDefaults(metricGateSchema);
    expect(Object.keys(defaults).sort()).toEqual(['maxErrorRatio', 'maxP95LatencySeconds', 'minRequests', 'window']);
    const gated = (props: Record<string, unknown>) =>
      rendered((chart) => {
        const app = new BlueGreenApp(chart, 'app', BASE_PROPS);
        const monitoring = new MonitoringStack(chart, 'monitoring', { app });
        new MetricGate(chart, 'metric-gate', { app, monitoring, prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', ...props });
      });
    expect(gated(defaults)).toEqual(gated({}));
  });
});
