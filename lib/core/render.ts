import { ApiObject, Chart } from 'cdk8s';

/** A Kubernetes object as it will be applied. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** One rendered object and the construct it came from. */
export interface RenderedObject {
  readonly object: ApiObject;
  readonly manifest: Manifest;
}

/** `apiVersion/kind/namespace/name`: what identifies an object in a cluster. */
export function objectKey(manifest: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${manifest.apiVersion}/${manifest.kind}/${manifest.metadata.namespace ?? ''}/${manifest.metadata.name}`;
}

/**
 * Validates every construct in `chart` (as `cdk8s synth` does) and renders its objects in cdk8s's
 * dependency order, each paired with its ApiObject so callers can wire dependencies between them.
 * @throws when a construct reports a validation error
 */
export function renderChart(chart: Chart): RenderedObject[] {
  const errors = chart.node.findAll().flatMap((construct) => construct.node.validate().map((error) => `[${construct.node.path}] ${error}`));
  if (errors.length > 0) {
    throw new Error(`validation failed:\n  ${errors.join('\n  ')}`);
  }
  const byKey = new Map<string, ApiObject>();
  for (const construct of chart.node.findAll()) {
    if (construct instanceof ApiObject) {
      byKey.set(objectKey(construct.toJson() as Manifest), construct);
    }
  }
  return (chart.toJson() as Manifest[]).map((manifest) => {
    const object = byKey.get(objectKey(manifest));
    if (object === undefined) {
      throw new Error(`render: no construct found for ${objectKey(manifest)}`);
    }
    return { object, manifest };
  });
}
