// What the data stores (PostgresHA, RedisCluster) share in their props: how Prometheus finds their monitoring, where
// their alerts link to, and their part-of label. Not part of the public API of lib/.

/** The monitoring and labelling props every data store has. */
export interface DataStoreOptions {
  /**
   * Labels a Prometheus selects the store's PodMonitors or ServiceMonitors and its PrometheusRules by
   * (`podMonitorSelector` or `serviceMonitorSelector`, `ruleSelector`), e.g. `{ release: 'kube-prometheus-stack' }`
   * for a kube-prometheus-stack release of that name.
   * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PrometheusSpec
   * @default {}
   */
  readonly monitoringLabels?: Readonly<Record<string, string>>;

  /**
   * The runbook every alert links to in `annotations.runbook_url` (plus `#<alert name in lowercase>`).
   * @default DEFAULT_RUNBOOK_URL ('docs/runbook.md')
   */
  readonly runbookBaseUrl?: string;

  /**
   * The `app.kubernetes.io/part-of` label.
   * @default name
   */
  readonly partOf?: string;
}
