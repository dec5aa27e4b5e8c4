// The public API of lib/: constructs, their props and value classes, and what callers of them need. Helpers the
// constructs share among themselves (lib/gates/gate-job.ts, lib/core/workload.ts, lib/core/hash.ts, the props
// resolution in lib/app/props.ts) are imported from their module by whoever needs them, never from here.
export * from './core/color';
export * from './core/image';
export * from './core/labels';
export * from './core/pod-security';
export * from './core/scheduling';
export * from './core/render';
export * from './core/validation';
export type { AppEnvVar, IAppBackend } from './core/workload';
export * from './namespace/environment-namespace';
export * from './namespace/namespace-peak';
export * from './app/blue-green-app';
export type { AppResources, AppRoutingOptions, BlueGreenAppProps, ColorSpec } from './app/props';
export type { ColorResources } from './app/color-workload';
export * from './app/routing/router';
export * from './app/routing/ingress-router';
export * from './app/routing/gateway-router';
export * from './app/routing/edge-gateway';
export * from './observability/prometheus-rule';
export * from './data/postgres-ha';
export * from './data/redis-cluster';
export * from './network/network-policy-set';
export * from './observability/slo';
export * from './observability/grafana-dashboard';
export * from './observability/monitoring-stack';
export * from './observability/alert-routing';
export * from './gates/migration-job';
export * from './gates/cutover-gate';
export * from './gates/metric-gate';
export type { JobResources } from './gates/gate-job';
