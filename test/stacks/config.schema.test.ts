import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, CONFIG_KEYS, CONFIG_SHAPES, stackConfigSchema } from '../../stacks/config';
import { configReference, withPulumiConfigSection } from '../../stacks/config/reference';

const ROOT = join(__dirname, '..', '..');
const REGENERATE = 'regenerate it with `npm run config:generate`';

describe('what the config schema generates', () => {
  it("Pulumi.yaml's config section is the one the schema generates", () => {
    const file = readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8');
    expect(file === withPulumiConfigSection(file), `Pulumi.yaml's config: section is stale; ${REGENERATE}`).toBe(true);
  });

  it('docs/config-reference.md is the one the schema generates', () => {
    const file = readFileSync(join(ROOT, 'docs', 'config-reference.md'), 'utf8');
    expect(file === configReference(), `docs/config-reference.md is stale; ${REGENERATE}`).toBe(true);
  });

  it('the reference names every key and every field the parse checks', () => {
    const reference = configReference();
    const paths: string[] = [...CONFIG_KEYS];
    const walk = (prefix: string, shape: Record<string, unknown>): void => {
      for (const [name, type] of Object.entries(shape)) {
        paths.push(`${prefix}.${name}`);
        if (typeof type === 'object' && type !== null) {
          walk(`${prefix}.${name}`, type as Record<string, unknown>);
        }
      }
    };
    for (const [key, shape] of Object.entries(CONFIG_SHAPES.keys)) {
      walk(key, shape);
    }
    walk('services.<name>', CONFIG_SHAPES.service);
    expect(paths.filter((path) => !reference.includes(`- \`${path}\` (`))).toEqual([]);
  });

  it('every key and field has a description', () => {
    expect(configReference().match(/^- `[^`]+` \([^)]*\):?$/gm) ?? []).toEqual([]);
  });

  it('the literal defaults are the schema’s', () => {
    expect(CONFIG_DEFAULTS).toEqual({
      production: true,
      app: 'web',
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
      clusterIssuer: 'letsencrypt-prod',
      ingressClassName: 'nginx',
      rateLimitRps: 20,
      drainSeconds: 10,
      shutdownSeconds: 20,
      deployTimeoutSeconds: 600,
      trafficWeight: 0,
      podSecurityVersion: 'v1.30',
    });
    expect(Object.keys(stackConfigSchema.shape)).toEqual(CONFIG_KEYS);
  });
});
