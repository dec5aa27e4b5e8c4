import { App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { DashboardPanel, GrafanaDashboard, GrafanaDashboardProps, Manifest, layoutPanels, renderChart } from '../../lib';
import { find, names } from '../helpers';

const panel = (title: string, width?: number, height?: number): DashboardPanel =>
  DashboardPanel.timeSeries({ title, queries: [{ expr: 'sum(up)', legend: 'up' }], width, height });

const BASE: GrafanaDashboardProps = {
  name: 'web-dashboard',
  uid: 'web-prod-web',
  title: 'web (web-prod)',
  panels: [panel('Request rate')],
  labels: { 'app.kubernetes.io/name': 'web' },
};

function renderDashboard(overrides: Partial<GrafanaDashboardProps> = {}): { dashboard: GrafanaDashboard; manifests: Manifest[] } {
  const chart = new Chart(new App(), 'test', { namespace: 'web-prod' });
  const dashboard = new GrafanaDashboard(chart, 'dashboard', { ...BASE, ...overrides });
  return { dashboard, manifests: renderChart(chart).map((r) => r.manifest) };
}

describe('GrafanaDashboard ConfigMap', () => {
  it('ships the dashboard as <name>.json in a ConfigMap named after it', () => {
    const { dashboard, manifests } = renderDashboard();
    expect(names(manifests)).toEqual(['ConfigMap/web-dashboard']);
    const configMap = find(manifests, 'ConfigMap', 'web-dashboard');
    expect(Object.keys(configMap.data)).toEqual(['web-dashboard.json']);
    expect(JSON.parse(configMap.data['web-dashboard.json'])).toEqual(JSON.parse(JSON.stringify(dashboard.model)));
  });

  it('carries the sidecar label grafana_dashboard=1 by default, beside its own labels', () => {
    expect(find(renderDashboard().manifests, 'ConfigMap', 'web-dashboard').metadata.labels).toEqual({
      'app.kubernetes.io/name': 'web',
      grafana_dashboard: '1',
    });
  });

  it('carries the configured sidecar labels and annotations instead', () => {
    const configMap = find(
      renderDashboard({ sidecarLabels: { 'grafana.example.com/dashboard': 'true' }, annotations: { grafana_folder: 'cutover' } }).manifests,
      'ConfigMap',
      'web-dashboard',
    );
    expect(configMap.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'web', 'grafana.example.com/dashboard': 'true' });
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'cutover' });
  });
});

describe('GrafanaDashboard model', () => {
  it('keeps the given uid and title, read-only, with a Prometheus data source variable', () => {
    const { model } = renderDashboard().dashboard;
    expect(model).toMatchObject({
      uid: 'web-prod-web',
      title: 'web (web-prod)',
      editable: false,
      schemaVersion: 39,
      time: { from: 'now-6h', to: 'now' },
      refresh: '30s',
    });
    expect(model.templating.list).toEqual([
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0, refresh: 1 },
    ]);
  });

  it('renders each query as a target on the data source variable, lettered A, B, ...', () => {
    const { model } = renderDashboard({
      panels: [
        DashboardPanel.timeSeries({
          title: 'Latency',
          queries: [
            { expr: 'p95', legend: '{{color}} p95' },
            { expr: 'p99', legend: '{{color}} p99' },
          ],
          unit: 's',
        }),
      ],
    }).dashboard;
    expect(model.panels[0].targets).toEqual([
      {
        refId: 'A',
        datasource: { type: 'prometheus', uid: '${datasource}' },
        expr: 'p95',
        legendFormat: '{{color}} p95',
        range: true,
        instant: false,
      },
      {
        refId: 'B',
        datasource: { type: 'prometheus', uid: '${datasource}' },
        expr: 'p99',
        legendFormat: '{{color}} p99',
        range: true,
        instant: false,
      },
    ]);
    expect(model.panels[0].fieldConfig.defaults).toEqual({ unit: 's' });
  });

  it('gives matching series a fixed color', () => {
    const { model } = renderDashboard({
      panels: [
        DashboardPanel.timeSeries({
          title: 'Rate',
          queries: [{ expr: 'x', legend: '{{color}}' }],
          seriesColors: [{ pattern: '^blue', color: 'blue' }],
        }),
      ],
    }).dashboard;
    expect(model.panels[0].fieldConfig.overrides).toEqual([
      { matcher: { id: 'byRegexp', options: '^blue' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } }] },
    ]);
  });

  it('renders a stat panel as an instant query showing series names when asked', () => {
    const { model } = renderDashboard({
      panels: [DashboardPanel.stat({ title: 'Live color', queries: [{ expr: 'x', legend: '{{color}}' }], textMode: 'name' })],
    }).dashboard;
    const stat = model.panels[0];
    expect(stat.type).toBe('stat');
    expect(stat.targets[0]).toMatchObject({ instant: true, range: false });
    expect(stat.options).toMatchObject({ textMode: 'name', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } });
  });
});

describe('layoutPanels', () => {
  it('places panels left to right and wraps to a new row below the highest panel', () => {
    const layout = layoutPanels([panel('a', 6, 4), panel('b', 18, 4), panel('c'), panel('d', 12, 10), panel('e', 24)]);
    expect(layout.map((p) => [p.id, p.gridPos])).toEqual([
      [1, { x: 0, y: 0, w: 6, h: 4 }],
      [2, { x: 6, y: 0, w: 18, h: 4 }],
      [3, { x: 0, y: 4, w: 12, h: 8 }],
      [4, { x: 12, y: 4, w: 12, h: 10 }],
      [5, { x: 0, y: 14, w: 24, h: 8 }],
    ]);
  });
});

describe('GrafanaDashboard validation', () => {
  const cases: Array<[string, Partial<GrafanaDashboardProps>, string]> = [
    [
      'a uid longer than 40 characters',
      { uid: 'a'.repeat(41) },
      `uid: must be 1 to 40 letters, digits, "-" or "_", got "${'a'.repeat(41)}"; choose a short stable id, e.g. "web-prod-web"`,
    ],
    [
      'a uid with a slash',
      { uid: 'web/prod' },
      'uid: must be 1 to 40 letters, digits, "-" or "_", got "web/prod"; choose a short stable id, e.g. "web-prod-web"',
    ],
    ['an empty title', { title: ' ' }, 'title: must not be empty, got " "; e.g. "web (web-prod)"'],
    ['no panels', { panels: [] }, 'panels: a dashboard needs at least one panel, got none; add e.g. DashboardPanel.timeSeries({ title, queries })'],
    [
      'a name that is not a DNS label',
      { name: 'Web_Dashboard' },
      'name: must be a lowercase DNS label of at most 58 characters starting with a letter, got "Web_Dashboard"; e.g. "web-dashboard"',
    ],
    [
      'no sidecar label',
      { sidecarLabels: {} },
      'sidecarLabels: the Grafana sidecar finds dashboards by label, got {}; set the label it watches, e.g. { grafana_dashboard: "1" }',
    ],
    [
      'a sidecar label replacing one of its labels',
      { sidecarLabels: { 'app.kubernetes.io/name': '1' } },
      'sidecarLabels: "app.kubernetes.io/name" is set by the construct itself, got {"app.kubernetes.io/name":"1"}; choose another key, e.g. { ' +
        'grafana_dashboard: "1" }',
    ],
    ['a refresh that is not a duration', { refresh: 'often' }, 'refresh: must be a duration, got "often"; e.g. "30s" or "1m"'],
    ['a time range without now-', { timeFrom: '6h' }, 'timeFrom: must be "now-" and a duration, got "6h"; e.g. "now-6h"'],
  ];

  it.each(cases)('rejects %s', (_, overrides, message) => {
    expect(() => renderDashboard(overrides)).toThrow(message);
  });

  it('rejects panels that do not fit the grid or have nothing to show', () => {
    expect(() => panel('wide', 25)).toThrow(
      'panel "wide".width: must be a whole number of grid columns from 1 to 24, got 25; e.g. 12 for half the width',
    );
    expect(() => panel('flat', 12, 0)).toThrow('panel "flat".height: must be a whole number of grid rows of at least 1, got 0; e.g. 8');
    expect(() => DashboardPanel.timeSeries({ title: 'empty', queries: [] })).toThrow(
      'panel "empty".queries: needs 1 to 26 queries, got 0; give each line or value its query',
    );
    expect(() => DashboardPanel.stat({ title: '', queries: [{ expr: 'x', legend: 'x' }] })).toThrow(
      'panel title: must not be empty, got ""; name what the panel shows, e.g. "Request rate"',
    );
  });
});
