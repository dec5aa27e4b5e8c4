// Validates rendered custom resources against the operators' real CRD schemas (the pinned files in
// ../shared/crds, and the ones vendored in test/crds), the way the API server's OpenAPI validation and pruning would judge them.
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/** The pinned upstream CRDs, relative to the project root; never copied into the project. */
export const CRD_DIRECTORY = resolve(__dirname, '..', '..', 'shared', 'crds');

/** Every CRD file the data and monitoring tier renders resources of. */
export const CRD_FILES: readonly string[] = [
  'postgresql.cnpg.io_clusters.yaml',
  'postgresql.cnpg.io_scheduledbackups.yaml',
  'postgresql.cnpg.io_backups.yaml',
  'postgresql.cnpg.io_poolers.yaml',
  'barmancloud.cnpg.io_objectstores.yaml',
  'redis.redis.opstreelabs.in_redisreplications.yaml',
  'redis.redis.opstreelabs.in_redissentinels.yaml',
  'redis.redis.opstreelabs.in_redisclusters.yaml',
  'monitoring.coreos.com_servicemonitors.yaml',
  'monitoring.coreos.com_podmonitors.yaml',
  'monitoring.coreos.com_prometheusrules.yaml',
];

/**
 * CRDs of resource types `../shared/crds` lacks, vendored into the project with their provenance (`test/crds/`,
 * refreshed and verified by `scripts/vendor-crds`).
 */
export const VENDORED_CRD_DIRECTORY = resolve(__dirname, 'crds');

/**
 * Every vendored CRD file, relative to {@link VENDORED_CRD_DIRECTORY}: the Gateway API standard channel (the HTTPRoute,
 * Gateway and GatewayClass that the gateway router renders, and the kinds the local cluster's Traefik watches) and the
 * Prometheus Operator AlertmanagerConfig that `monitoring.alerting` renders.
 */
export const VENDORED_CRD_FILES: readonly string[] = [
  'gateway-api/gateway.networking.k8s.io_httproutes.yaml',
  'gateway-api/gateway.networking.k8s.io_gateways.yaml',
  'gateway-api/gateway.networking.k8s.io_gatewayclasses.yaml',
  'gateway-api/gateway.networking.k8s.io_grpcroutes.yaml',
  'gateway-api/gateway.networking.k8s.io_referencegrants.yaml',
  'gateway-api/gateway.networking.k8s.io_backendtlspolicies.yaml',
  'gateway-api/gateway.networking.k8s.io_listenersets.yaml',
  'gateway-api/gateway.networking.k8s.io_tlsroutes.yaml',
  'gateway-api/gateway.networking.k8s.io_tcproutes.yaml',
  'gateway-api/gateway.networking.k8s.io_udproutes.yaml',
  'prometheus-operator/monitoring.coreos.com_alertmanagerconfigs.yaml',
];

/** The path of every CRD file the tests know, pinned and vendored: what the e2e suite installs. */
export const ALL_CRD_PATHS: readonly string[] = [
  ...CRD_FILES.map((file) => join(CRD_DIRECTORY, file)),
  ...VENDORED_CRD_FILES.map((file) => join(VENDORED_CRD_DIRECTORY, file)),
];

/** An OpenAPI v3 schema node of a CRD (structural schema, with Kubernetes extensions). */
export type OpenApiSchema = { readonly [keyword: string]: unknown };

/** One served version of one CRD. */
export interface CrdVersion {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: OpenApiSchema;
}

interface CrdDocument {
  readonly kind: string;
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string };
    readonly versions: readonly { readonly name: string; readonly served: boolean; readonly schema: { readonly openAPIV3Schema: OpenApiSchema } }[];
  };
}

/** Reads the served versions of `files` from `directory`. */
export function loadCrdVersions(directory: string = CRD_DIRECTORY, files: readonly string[] = CRD_FILES): CrdVersion[] {
  return files.flatMap((file) => {
    const crd = parse(readFileSync(join(directory, file), 'utf8')) as CrdDocument;
    if (crd.kind !== 'CustomResourceDefinition') {
      throw new Error(`${file}: is not a CustomResourceDefinition, got kind ${crd.kind}`);
    }
    return crd.spec.versions
      .filter((version) => version.served)
      .map((version) => ({
        file,
        apiVersion: `${crd.spec.group}/${version.name}`,
        kind: crd.spec.names.kind,
        schema: version.schema.openAPIV3Schema,
      }));
  });
}

const OBJECT_META_SCHEMA = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
    namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/**
 * Converts a CRD version's `openAPIV3Schema` into a JSON Schema for the whole object:
 * - `x-kubernetes-int-or-string: true` accepts an integer or a string;
 * - an object without `x-kubernetes-preserve-unknown-fields: true` rejects properties its schema does not
 *   declare, since the API server would silently prune them (a field that never reaches the operator);
 * - `nullable: true` also accepts null;
 * - `apiVersion` and `kind` must be the CRD's, and `metadata` is checked as ObjectMeta (the CRD leaves it open);
 * - other `x-kubernetes-*` keywords (list types, CEL validations) are left to the API server.
 */
export function toJsonSchema(version: Pick<CrdVersion, 'apiVersion' | 'kind' | 'schema'>): object {
  const root = convert(version.schema) as { properties?: Record<string, unknown>; required?: string[] };
  return {
    ...root,
    required: [...new Set([...(root.required ?? []), 'apiVersion', 'kind', 'metadata'])],
    properties: {
      ...root.properties,
      apiVersion: { const: version.apiVersion },
      kind: { const: version.kind },
      metadata: OBJECT_META_SCHEMA,
    },
  };
}

const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;

function convert(node: OpenApiSchema): object {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === 'description' || keyword === 'default' || keyword === 'nullable' || keyword.startsWith('x-kubernetes-')) {
      continue;
    }
    if (keyword === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, OpenApiSchema>).map(([name, child]) => [name, convert(child)]));
    } else if (keyword === 'items' || (keyword === 'additionalProperties' && typeof value === 'object') || keyword === 'not') {
      out[keyword] = convert(value as OpenApiSchema);
    } else if ((SCHEMA_LISTS as readonly string[]).includes(keyword)) {
      out[keyword] = (value as OpenApiSchema[]).map(convert);
    } else {
      out[keyword] = value;
    }
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf ??= [{ type: 'integer' }, { type: 'string' }];
  }
  const preserveUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.type === 'object' && !preserveUnknown && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  if (node.nullable === true && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
  }
  return out;
}

// Kubernetes patterns are Go RE2: JavaScript lacks the inline `(?i)` flag, so it becomes the `i` flag.
const goRegExp = Object.assign(
  (pattern: string, flags: string): RegExp =>
    pattern.includes('(?i)') ? new RegExp(pattern.split('(?i)').join(''), `${flags}i`) : new RegExp(pattern, flags),
  { code: 'goRegExp' },
);

const INT32 = 2 ** 31;

/** Validates whole manifests (apiVersion, kind, metadata, spec) against CRD schemas. */
export class CrdSchemaValidator {
  /** A validator for the pinned CRDs. */
  public static fromDirectory(directory: string = CRD_DIRECTORY, files: readonly string[] = CRD_FILES): CrdSchemaValidator {
    return new CrdSchemaValidator(loadCrdVersions(directory, files));
  }

  /** A validator for the pinned CRDs and the vendored ones (every resource type the stacks render). */
  public static all(): CrdSchemaValidator {
    return new CrdSchemaValidator([...loadCrdVersions(), ...loadCrdVersions(VENDORED_CRD_DIRECTORY, VENDORED_CRD_FILES)]);
  }

  private readonly ajv = new Ajv({
    strict: false,
    allErrors: true,
    unicodeRegExp: false,
    code: { regExp: goRegExp },
    formats: {
      int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32 },
      int64: { type: 'number', validate: (n: number) => Number.isSafeInteger(n) },
      'date-time': /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
      byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
    },
  });
  private readonly versions = new Map<string, CrdVersion>();
  private readonly compiled = new Map<string, ValidateFunction>();

  public constructor(versions: readonly CrdVersion[]) {
    for (const version of versions) {
      this.versions.set(`${version.apiVersion}/${version.kind}`, version);
    }
  }

  /** `apiVersion/kind` of every resource type the validator knows. */
  public get resourceTypes(): string[] {
    return [...this.versions.keys()].sort();
  }

  /** True when a CRD schema covers the manifest's apiVersion and kind. */
  public covers(manifest: { readonly apiVersion?: unknown; readonly kind?: unknown }): boolean {
    return this.versions.has(`${String(manifest.apiVersion)}/${String(manifest.kind)}`);
  }

  /** Every schema violation of `manifest`, as `<path> <problem>`; empty when the API server would accept it. */
  public validate(manifest: { readonly apiVersion?: unknown; readonly kind?: unknown }): string[] {
    const key = `${String(manifest.apiVersion)}/${String(manifest.kind)}`;
    const version = this.versions.get(key);
    if (version === undefined) {
      return [`no CRD schema for ${key}; known: ${this.resourceTypes.join(', ')}`];
    }
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(toJsonSchema(version));
      this.compiled.set(key, validate);
    }
    return validate(manifest) ? [] : (validate.errors ?? []).map(formatError);
  }
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '/' : error.instancePath;
  const extra = error.keyword === 'additionalProperties' ? ` (${String((error.params as { additionalProperty: string }).additionalProperty)})` : '';
  return `${where} ${error.message ?? error.keyword}${extra}`;
}
