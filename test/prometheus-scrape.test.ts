import { describe, expect, it } from 'vitest';
import { renderChart } from '../lib';
import { ServiceMonitorLike, scrapeConfigs } from '../scripts/prometheus';
import { parseStackConfig } from '../stacks/config';
import { buildPlatform } from '../stacks/platform';
import { readStackFile } from '../stacks/stack-file';

const ROOT = `${__dirname}/..`;

function stagingMonitor(): ServiceMonitorLike {
  const manifests = renderChart(buildPlatform(parseStackConfig(readStackFile(ROOT, 'staging'), 'staging')).chart).map((r) => r.manifest as Record<string, any>);
  return manifests.find((m) => m.kind === 'ServiceMonitor' && m.metadata.name === 'web') as unknown as ServiceMonitorLike;
}

describe('scrapeConfigs (the local Prometheus, configured as Prometheus Operator would from a ServiceMonitor)', () => {
  it('discovers the monitor namespace\'s EndpointSlices and keeps only the selected Services\' metrics port', () => {
    const [job] = scrapeConfigs(stagingMonitor(), { kubeconfig: '/k', interval: '2s' }) as Array<Record<string, any>>;
    expect(job.job_name).toBe('serviceMonitor/web-staging/web/0');
    expect(job.scrape_interval).toBe('2s');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'endpointslice', kubeconfig_file: '/k', namespaces: { names: ['web-staging'] } }]);
    const keeps = job.relabel_configs.filter((r: Record<string, unknown>) => r.action === 'keep');
    expect(keeps).toEqual([
      { source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_managed_by', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_managed_by'], regex: '(cutover);true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_name'], regex: '(web);true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_service_label_cutover_dev_role', '__meta_kubernetes_service_labelpresent_cutover_dev_role'], regex: '(live|preview);true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: 'metrics', action: 'keep' },
    ]);
  });

  it('gives targets the labels the alerts and the metric gate select on, the monitor\'s relabelings last', () => {
    const [job] = scrapeConfigs(stagingMonitor(), { kubeconfig: '/k' }) as Array<Record<string, any>>;
    expect(job.scrape_interval).toBe('30s');
    const targets = job.relabel_configs.filter((r: Record<string, unknown>) => r.action !== 'keep').map((r: Record<string, unknown>) => r.target_label);
    expect(targets).toEqual(['namespace', 'service', 'pod', 'container', 'job', 'endpoint', 'color', 'version']);
    expect(job.relabel_configs.at(-2)).toEqual({ source_labels: ['__meta_kubernetes_pod_label_cutover_dev_color'], target_label: 'color', action: 'replace' });
  });

  it('refuses what it does not translate instead of scraping the wrong targets', () => {
    const monitor = stagingMonitor();
    const notIn = { ...monitor, spec: { ...monitor.spec, selector: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] } } };
    expect(() => scrapeConfigs(notIn, { kubeconfig: '/k' })).toThrow('ServiceMonitor web: selector operator NotIn is not translated; only In is used by the project');
    expect(() => scrapeConfigs({ ...monitor, metadata: { name: 'web' } }, { kubeconfig: '/k' })).toThrow('ServiceMonitor web: has no namespace; render it in a namespaced chart');
  });
});
