import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { requireExtraLabels } from './prometheus-rule';
import { requireDnsLabel } from '../core/validation';

// ---------------------------------------------------------------------------------------------------------------
// The Grafana dashboard JSON model: only the fields this project writes.
// @see https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
// ---------------------------------------------------------------------------------------------------------------

/** The dashboard's data source: the `datasource` template variable, so one dashboard works with any Prometheus. */
export interface GrafanaDatasourceRef {
  readonly type: 'prometheus';
  readonly uid: '${datasource}';
}

/** One PromQL query of a panel. */
export interface GrafanaTarget {
  readonly refId: string;
  readonly datasource: GrafanaDatasourceRef;
  readonly expr: string;
  /** Series name, e.g. `{{color}}`. */
  readonly legendFormat: string;
  readonly range: boolean;
  readonly instant: boolean;
}

/** Where a panel sits on the 24-column grid. */
export interface GrafanaGridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** A field override that gives the series whose name matches `options` a fixed color. */
export interface GrafanaColorOverride {
  readonly matcher: { readonly id: 'byRegexp'; readonly options: string };
  readonly properties: readonly [{ readonly id: 'color'; readonly value: { readonly mode: 'fixed'; readonly fixedColor: string } }];
}

/** Display settings of a panel's values. */
export interface GrafanaFieldConfig {
  readonly defaults: { readonly unit: PanelUnit; readonly min?: number; readonly max?: number; readonly decimals?: number };
  readonly overrides: readonly GrafanaColorOverride[];
}

interface GrafanaPanelCommon {
  readonly id: number;
  readonly title: string;
  readonly description: string;
  readonly gridPos: GrafanaGridPos;
  readonly datasource: GrafanaDatasourceRef;
  readonly targets: readonly GrafanaTarget[];
  readonly fieldConfig: GrafanaFieldConfig;
}

/** A time series graph. */
export interface GrafanaTimeSeriesPanel extends GrafanaPanelCommon {
  readonly type: 'timeseries';
  readonly options: {
    readonly legend: {
      readonly showLegend: true;
      readonly displayMode: 'table';
      readonly placement: 'bottom';
      readonly calcs: readonly ('lastNotNull' | 'max' | 'mean')[];
    };
    readonly tooltip: { readonly mode: 'multi'; readonly sort: 'desc' };
  };
}

/** A single value, or the names of the series a query returns (`textMode: 'name'`). */
export interface GrafanaStatPanel extends GrafanaPanelCommon {
  readonly type: 'stat';
  readonly options: {
    readonly reduceOptions: { readonly calcs: readonly ['lastNotNull']; readonly fields: ''; readonly values: false };
    readonly textMode: 'value' | 'name' | 'value_and_name';
    readonly colorMode: 'value' | 'background';
    readonly graphMode: 'none' | 'area';
    readonly justifyMode: 'auto';
    readonly orientation: 'auto';
  };
}

/** Any panel this project renders. */
export type GrafanaPanel = GrafanaTimeSeriesPanel | GrafanaStatPanel;

/** The `datasource` template variable. */
export interface GrafanaDatasourceVariable {
  readonly name: 'datasource';
  readonly label: string;
  readonly type: 'datasource';
  readonly query: 'prometheus';
  readonly hide: 0;
  readonly refresh: 1;
}

/** A whole dashboard, as the Grafana sidecar imports it. */
export interface GrafanaDashboardModel {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly editable: boolean;
  readonly graphTooltip: 1;
  readonly schemaVersion: number;
  readonly time: { readonly from: string; readonly to: 'now' };
  readonly refresh: string;
  readonly timezone: 'browser' | 'utc';
  readonly templating: { readonly list: readonly GrafanaDatasourceVariable[] };
  readonly annotations: { readonly list: readonly [] };
  readonly panels: readonly GrafanaPanel[];
}

/** Units of the values a panel shows (Grafana unit ids). */
export type PanelUnit = 'reqps' | 'percentunit' | 's' | 'bytes' | 'short' | 'none';

/** Grafana dashboard schema version the model is written for (Grafana 10.4 and later migrate it forward). */
export const GRAFANA_SCHEMA_VERSION = 39;

const DATASOURCE: GrafanaDatasourceRef = { type: 'prometheus', uid: '${datasource}' };
const GRID_COLUMNS = 24;

// ---------------------------------------------------------------------------------------------------------------
// Panels
// ---------------------------------------------------------------------------------------------------------------

/** One query of a panel. */
export interface PanelQuery {
  /** PromQL; Grafana's `$__rate_interval` may stand for a rate window. */
  readonly expr: string;
  /** Name of each returned series, with `{{label}}` placeholders, e.g. `{{color}} p95`. */
  readonly legend: string;
}

/** A fixed color for the series whose name matches `pattern`. */
export interface SeriesColor {
  /** Regular expression on the series name (the rendered `legend`), e.g. `^blue`. */
  readonly pattern: string;
  /** Grafana color name or hex, e.g. `blue`. */
  readonly color: string;
}

/** Options every panel takes. */
export interface PanelOptions {
  readonly title: string;

  /**
   * Shown in the panel's info tooltip: what the panel answers.
   * @default ''
   */
  readonly description?: string;

  /** The queries, at least one. */
  readonly queries: readonly PanelQuery[];

  /** @default 'short' */
  readonly unit?: PanelUnit;

  /**
   * Columns of the 24-column grid the panel spans.
   * @default 12
   */
  readonly width?: number;

  /**
   * Height in grid rows (30 px each).
   * @default 8
   */
  readonly height?: number;

  /** @default - from the data */
  readonly min?: number;

  /** @default - from the data */
  readonly max?: number;

  /**
   * Fixed colors for series, e.g. the blue color's series in blue.
   * @default []
   */
  readonly seriesColors?: readonly SeriesColor[];
}

/** Options of a stat panel. */
export interface StatPanelOptions extends PanelOptions {
  /**
   * `name` shows the names of the returned series (e.g. which color is live), `value` their values.
   * @default 'value'
   */
  readonly textMode?: 'value' | 'name' | 'value_and_name';
}

/** A panel of a {@link GrafanaDashboard}, before it is placed on the grid. */
export class DashboardPanel {
  /** A graph over time, one line per returned series. */
  public static timeSeries(options: PanelOptions): DashboardPanel {
    return new DashboardPanel('timeseries', options, 'value');
  }

  /** One big value per returned series: the last one. */
  public static stat(options: StatPanelOptions): DashboardPanel {
    return new DashboardPanel('stat', options, options.textMode ?? 'value');
  }

  public readonly width: number;
  public readonly height: number;

  private constructor(
    private readonly type: GrafanaPanel['type'],
    private readonly options: PanelOptions,
    private readonly textMode: GrafanaStatPanel['options']['textMode'],
  ) {
    const key = `panel "${options.title}"`;
    if (options.title.trim() === '') {
      throw new Error(`panel title: must not be empty, got "${options.title}"; name what the panel shows, e.g. "Request rate"`);
    }
    if (options.queries.length === 0 || options.queries.length > 26) {
      throw new Error(`${key}.queries: needs 1 to 26 queries, got ${options.queries.length}; give each line or value its query`);
    }
    this.width = options.width ?? 12;
    this.height = options.height ?? 8;
    if (!Number.isInteger(this.width) || this.width < 1 || this.width > GRID_COLUMNS) {
      throw new Error(
        `${key}.width: must be a whole number of grid columns from 1 to ${GRID_COLUMNS}, got ${this.width}; e.g. 12 for half the width`,
      );
    }
    if (!Number.isInteger(this.height) || this.height < 1) {
      throw new Error(`${key}.height: must be a whole number of grid rows of at least 1, got ${this.height}; e.g. 8`);
    }
  }

  /** The panel's JSON model, with the id and position the dashboard gives it. */
  public toModel(id: number, gridPos: GrafanaGridPos): GrafanaPanel {
    const common = {
      id,
      title: this.options.title,
      description: this.options.description ?? '',
      gridPos,
      datasource: DATASOURCE,
      targets: this.options.queries.map((query, index): GrafanaTarget => ({
        refId: String.fromCharCode(65 + index),
        datasource: DATASOURCE,
        expr: query.expr,
        legendFormat: query.legend,
        range: this.type === 'timeseries',
        instant: this.type === 'stat',
      })),
      fieldConfig: {
        defaults: {
          unit: this.options.unit ?? 'short',
          ...(this.options.min !== undefined ? { min: this.options.min } : {}),
          ...(this.options.max !== undefined ? { max: this.options.max } : {}),
        },
        overrides: (this.options.seriesColors ?? []).map(({ pattern, color }): GrafanaColorOverride => ({
          matcher: { id: 'byRegexp', options: pattern },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }],
        })),
      },
    };
    if (this.type === 'timeseries') {
      return {
        ...common,
        type: 'timeseries',
        options: {
          legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    }
    return {
      ...common,
      type: 'stat',
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        textMode: this.textMode,
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
      },
    };
  }
}

/**
 * Places panels left to right on the 24-column grid, starting a new row when a panel does not fit; a row is as
 * high as its highest panel. Pure: the same panels always get the same positions and ids (1, 2, ...).
 */
export function layoutPanels(panels: readonly DashboardPanel[]): GrafanaPanel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((panel, index) => {
    if (x + panel.width > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const model = panel.toModel(index + 1, { x, y, w: panel.width, h: panel.height });
    x += panel.width;
    rowHeight = Math.max(rowHeight, panel.height);
    return model;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The construct
// ---------------------------------------------------------------------------------------------------------------

/** Props of {@link GrafanaDashboard}. */
export interface GrafanaDashboardProps {
  /** Name of the ConfigMap; the dashboard file in it is `<name>.json`. */
  readonly name: string;

  /**
   * Grafana's id of the dashboard: links and bookmarks use it, so it must stay the same for the dashboard's life
   * and be unique in the Grafana instance. At most 40 letters, digits, `-` or `_`.
   * @see https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
   */
  readonly uid: string;

  readonly title: string;

  /** @default '' */
  readonly description?: string;

  /** The panels, in reading order. */
  readonly panels: readonly DashboardPanel[];

  /** @default [] */
  readonly tags?: readonly string[];

  /**
   * Labels the Grafana dashboard sidecar selects ConfigMaps by (the grafana chart's `sidecar.dashboards.label`
   * and `labelValue`). The sidecar must watch this ConfigMap's namespace (`searchNamespace`).
   * @see https://github.com/grafana/helm-charts/tree/main/charts/grafana#sidecar-for-dashboards
   * @default { grafana_dashboard: '1' }
   */
  readonly sidecarLabels?: Readonly<Record<string, string>>;

  /**
   * Annotations of the ConfigMap, e.g. the sidecar's folder annotation.
   * @default {}
   */
  readonly annotations?: Readonly<Record<string, string>>;

  /** Other labels of the ConfigMap, e.g. the recommended `app.kubernetes.io/*` labels. */
  readonly labels?: Readonly<Record<string, string>>;

  /**
   * Default time range, back from now.
   * @default 'now-6h'
   */
  readonly timeFrom?: string;

  /**
   * Auto-refresh interval.
   * @default '30s'
   */
  readonly refresh?: string;
}

/**
 * A Grafana dashboard as code: the JSON model is built from typed panels and shipped in a ConfigMap that the
 * Grafana sidecar imports. The dashboard is read-only in Grafana (`editable: false`): changes go through code.
 */
export class GrafanaDashboard extends Construct {
  /** The dashboard JSON model in the ConfigMap. */
  public readonly model: GrafanaDashboardModel;
  public readonly configMap: kplus.ConfigMap;
  /** Key of the dashboard file in the ConfigMap. */
  public readonly fileName: string;

  public constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    requireDnsLabel('name', props.name, 58, '"web-dashboard"');
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(props.uid)) {
      throw new Error(`uid: must be 1 to 40 letters, digits, "-" or "_", got "${props.uid}"; choose a short stable id, e.g. "web-prod-web"`);
    }
    if (props.title.trim() === '') {
      throw new Error(`title: must not be empty, got "${props.title}"; e.g. "web (web-prod)"`);
    }
    if (props.panels.length === 0) {
      throw new Error('panels: a dashboard needs at least one panel, got none; add e.g. DashboardPanel.timeSeries({ title, queries })');
    }
    const timeFrom = props.timeFrom ?? 'now-6h';
    const refresh = props.refresh ?? '30s';
    if (!/^now-[1-9][0-9]*[smhdw]$/.test(timeFrom)) {
      throw new Error(`timeFrom: must be "now-" and a duration, got "${timeFrom}"; e.g. "now-6h"`);
    }
    if (!/^[1-9][0-9]*[smhd]$/.test(refresh)) {
      throw new Error(`refresh: must be a duration, got "${refresh}"; e.g. "30s" or "1m"`);
    }
    const labels = props.labels ?? {};
    const sidecarLabels = props.sidecarLabels ?? { grafana_dashboard: '1' };
    if (Object.keys(sidecarLabels).length === 0) {
      throw new Error(
        'sidecarLabels: the Grafana sidecar finds dashboards by label, got {}; set the label it watches, e.g. { grafana_dashboard: "1" }',
      );
    }
    requireExtraLabels('sidecarLabels', sidecarLabels, labels, '{ grafana_dashboard: "1" }');

    this.model = {
      uid: props.uid,
      title: props.title,
      description: props.description ?? '',
      tags: [...(props.tags ?? [])],
      editable: false,
      graphTooltip: 1,
      schemaVersion: GRAFANA_SCHEMA_VERSION,
      time: { from: timeFrom, to: 'now' },
      refresh,
      timezone: 'browser',
      templating: { list: [{ name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0, refresh: 1 }] },
      annotations: { list: [] },
      panels: layoutPanels(props.panels),
    };
    this.fileName = `${props.name}.json`;
    this.configMap = new kplus.ConfigMap(this, 'config-map', {
      metadata: { name: props.name, labels: { ...labels, ...sidecarLabels }, annotations: { ...(props.annotations ?? {}) } },
      data: { [this.fileName]: JSON.stringify(this.model, undefined, 2) },
    });
  }
}
