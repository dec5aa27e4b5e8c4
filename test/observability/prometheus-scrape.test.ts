import { describe, expect, it } from 'vitest';
import { DiscoveredObjects, ServiceMonitorLike, scrapeConfig, targetGroups } from '../../scripts/prometheus';
import { readStackFile } from '../../stacks/stack-file';
import { synthesize } from '../../stacks/synthesize';

const ROOT = `${__dirname}/../..`;

function stagingMonitor(): ServiceMonitorLike {
  const manifests = synthesize(readStackFile(ROOT, 'staging'), 'staging').objects.map((r) => r.manifest as Record<string, any>);
  return manifests.find((m) => m.kind === 'ServiceMonitor' && m.metadata.name === 'web') as unknown as ServiceMonitorLike;
}

const APP_LABELS = { 'app.kubernetes.io/managed-by': 'cutover', 'app.kubernetes.io/name': 'web' };

function pod(name: string, color: string, version: string): DiscoveredObjects['pods'][number] {
  return {
    metadata: { name, labels: { ...APP_LABELS, 'cutover.dev/color': color, 'app.kubernetes.io/version': version } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http' }, { name: 'metrics' }] }] },
  };
}

function slice(service: string, pods: Array<[string, string]>): DiscoveredObjects['endpointSlices'][number] {
  return {
    metadata: { labels: { 'kubernetes.io/service-name': service } },
    ports: [
      { name: 'http', port: 8080 },
      { name: 'metrics', port: 9090 },
    ],
    endpoints: pods.map(([name, ip]) => ({ addresses: [ip], targetRef: { kind: 'Pod', name } })),
  };
}

/** The live and preview Services of `web` (selected) and its blue color Service (not selected: another role, no metrics port). */
const OBJECTS: DiscoveredObjects = {
  services: [
    { metadata: { name: 'web', labels: { ...APP_LABELS, 'cutover.dev/role': 'live' } } },
    { metadata: { name: 'web-preview', labels: { ...APP_LABELS, 'cutover.dev/role': 'preview' } } },
    { metadata: { name: 'web-blue', labels: { ...APP_LABELS, 'cutover.dev/role': 'color' } } },
  ],
  endpointSlices: [
    slice('web', [['web-blue-a-1', '10.88.0.5']]),
    slice('web-preview', [['web-green-b-1', '10.88.0.6']]),
    slice('web-blue', [['web-blue-a-1', '10.88.0.5']]),
  ],
  pods: [pod('web-blue-a-1', 'blue', '1.0.0'), pod('web-green-b-1', 'green', '1.1.0')],
};

describe("targetGroups (the local Prometheus' targets, as Prometheus Operator would configure them from a ServiceMonitor)", () => {
  it('scrapes the metrics port of the pods behind the Services the selector selects, with the labels the gate queries', () => {
    expect(targetGroups(stagingMonitor(), 0, OBJECTS)).toEqual([
      {
        targets: ['10.88.0.5:9090'],
        labels: {
          namespace: 'web-staging',
          service: 'web',
          pod: 'web-blue-a-1',
          container: 'app',
          job: 'web',
          endpoint: 'metrics',
          color: 'blue',
          version: '1.0.0',
        },
      },
      {
        targets: ['10.88.0.6:9090'],
        labels: {
          namespace: 'web-staging',
          service: 'web-preview',
          pod: 'web-green-b-1',
          container: 'app',
          job: 'web-preview',
          endpoint: 'metrics',
          color: 'green',
          version: '1.1.0',
        },
      },
    ]);
  });

  it('finds nothing for a Service without the named port or endpoints without a pod', () => {
    const objects: DiscoveredObjects = {
      ...OBJECTS,
      endpointSlices: [
        { ...slice('web', [['web-blue-a-1', '10.88.0.5']]), ports: [{ name: 'http', port: 8080 }] },
        { ...slice('web-preview', []), endpoints: [{ addresses: ['10.88.0.9'] }] },
      ],
    };
    expect(targetGroups(stagingMonitor(), 0, objects)).toEqual([]);
  });

  it('one scrape job per endpoint, its targets from the file the sync writes', () => {
    expect(scrapeConfig(stagingMonitor(), 0, { targetsFile: '/t.json', interval: '2s' })).toEqual({
      job_name: 'serviceMonitor/web-staging/web/0',
      scrape_interval: '2s',
      metrics_path: '/metrics',
      file_sd_configs: [{ files: ['/t.json'], refresh_interval: '1s' }],
    });
    expect(scrapeConfig(stagingMonitor(), 0, { targetsFile: '/t.json' }).scrape_interval).toBe('30s');
  });

  it('refuses what it does not translate instead of scraping the wrong targets', () => {
    const monitor = stagingMonitor();
    const notIn = { ...monitor, spec: { ...monitor.spec, selector: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] } } };
    expect(() => targetGroups(notIn, 0, OBJECTS)).toThrow(
      'ServiceMonitor web: selector operator NotIn is not translated; only In is used by the project',
    );
    expect(() => targetGroups({ ...monitor, metadata: { name: 'web' } }, 0, OBJECTS)).toThrow(
      'ServiceMonitor web: has no namespace; render it in a namespaced chart',
    );
    const keep = {
      ...monitor,
      spec: { ...monitor.spec, endpoints: [{ ...monitor.spec.endpoints[0], relabelings: [{ action: 'keep', sourceLabels: ['x'] }] }] },
    };
    expect(() => targetGroups(keep, 0, OBJECTS)).toThrow(
      'ServiceMonitor web: relabeling action keep is not translated; only replace is used by the project',
    );
  });
});
