// The stack config: one schema (./schema.ts) and the parse that checks a stack's values against it.
export {
  ALERTING_DEFAULTS,
  CONFIG_DEFAULTS,
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  UNDECLARED_DEFAULT_KEYS,
  metricGateSchema,
  monitoringSchema,
  postgresSchema,
  redisSchema,
  stackConfigSchema,
} from './schema';
export type { FieldMeta } from './schema';
export type {
  AlertingConfig,
  ConfigKey,
  GateCheckConfig,
  GateConfig,
  GatewayConfig,
  MetricGateConfig,
  MigrationStepConfig,
  MigrationsConfig,
  MonitoringConfig,
  NetworkConfig,
  OperatorsConfig,
  PostgresConfig,
  RedisConfig,
  ResourcesConfig,
  RoutingConfig,
  SecretRefConfig,
  ServiceEntryConfig,
} from './schema';
export { CONFIG_SHAPES } from './shape';
export type { ConfigShape } from './shape';
export { ConfigError } from './errors';
export type { ConfigProblem } from './errors';
export type { AlertRoutingConfig } from './alerting';
export type { AppConfig } from './services';
export { gatewayProxyNamespace } from './routing';
export { parseStackConfig, parseStackConfigWithProblems } from './parse';
export type { StackConfig } from './parse';
