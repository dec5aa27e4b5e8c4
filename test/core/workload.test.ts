import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { restrictedViolations } from '../../lib';
import { backendEnv, containerResources, plainEnv, restrictedContainerSecurity } from '../../lib/core/workload';

const DEFAULTS = {
  cpuRequest: '100m',
  cpuLimit: '500m',
  memoryRequest: '128Mi',
  memoryLimit: '256Mi',
  ephemeralStorageRequest: '64Mi',
  ephemeralStorageLimit: '256Mi',
};
const TMP = { mebibytes: 64, description: 'the writable /tmp of 64Mi' };

describe('containerResources', () => {
  it('renders the defaults, normalized, with ephemeral storage', () => {
    expect(k8s.toJson_ResourceRequirements(containerResources({ memoryLimit: '1024Mi' }, DEFAULTS, TMP))).toEqual({
      requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
      limits: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '256Mi' },
    });
  });

  it('refuses an ephemeral request above its limit', () => {
    expect(() => containerResources({ ephemeralStorageRequest: '512Mi' }, DEFAULTS, TMP)).toThrow(
      'resources.ephemeralStorageRequest: exceeds resources.ephemeralStorageLimit 256Mi, got 512Mi; lower the request or raise the limit',
    );
  });

  it('refuses an ephemeral limit that cannot hold the writable volumes, suggesting the default or twice the volumes', () => {
    expect(() => containerResources({ ephemeralStorageRequest: '32Mi', ephemeralStorageLimit: '64Mi' }, DEFAULTS, TMP)).toThrow(
      'resources.ephemeralStorageLimit: must exceed the writable /tmp of 64Mi, got 64Mi; raise it, e.g. to 256Mi',
    );
    expect(() =>
      containerResources({ ephemeralStorageRequest: '32Mi', ephemeralStorageLimit: '200Mi' }, DEFAULTS, { mebibytes: 200, description: 'the cache' }),
    ).toThrow('resources.ephemeralStorageLimit: must exceed the cache, got 200Mi; raise it, e.g. to 400Mi');
  });
});

describe('container environment', () => {
  it('maps backend connection variables in order, Secret keys as secretKeyRef', () => {
    const backend = {
      connectionEnv: [
        { name: 'DB_PASSWORD', secretKeyRef: { name: 'db', key: 'password' } },
        { name: 'DB_URL', value: 'postgres://$(DB_PASSWORD)@db' },
      ],
    };
    expect(backendEnv([backend])).toEqual([
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'DB_URL', value: 'postgres://$(DB_PASSWORD)@db' },
    ]);
  });

  it('maps plain variables in the order given', () => {
    expect(plainEnv({ B: '2', A: '1' })).toEqual([
      { name: 'B', value: '2' },
      { name: 'A', value: '1' },
    ]);
  });
});

describe('restrictedContainerSecurity', () => {
  it('passes Pod Security restricted on its own, with no pod-level context', () => {
    expect(restrictedViolations({ containers: [{ name: 'app', securityContext: restrictedContainerSecurity(10001) }] })).toEqual([]);
  });
});
