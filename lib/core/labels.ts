import { Color } from './color';

/** Label that carries a pod's color. Part of every color's selector, so it must never change. */
export const LABEL_COLOR = 'cutover.dev/color';

/**
 * Label that carries the hash of a color's pod template (see {@link BlueGreenApp}): it changes with every rollout,
 * so a Service that selects it routes only to the pods of that one template. Never in a Deployment's selector.
 */
export const LABEL_TEMPLATE = 'cutover.dev/template';

/**
 * Annotation on the Deployment of a color scaled to 0 (retired, or not yet scaled up): the pods it runs once scaled
 * back up, which the namespace quota keeps room for (see namespacePeak).
 */
export const ANNOTATION_PEAK_REPLICAS = 'cutover.dev/peak-replicas';

/** What the recommended `app.kubernetes.io/*` labels are made from. */
export interface AppLabelValues {
  readonly name: string;
  readonly partOf: string;
  readonly component: string;
  readonly color?: Color;
  /** Image tag (or digest prefix): on pod templates only, never in a selector. */
  readonly version?: string;
}

/**
 * The recommended labels plus the color label.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */
export function appLabels(values: AppLabelValues): Record<string, string> {
  return {
    'app.kubernetes.io/name': values.name,
    'app.kubernetes.io/instance': values.color === undefined ? values.name : `${values.name}-${values.color}`,
    ...(values.version !== undefined ? { 'app.kubernetes.io/version': values.version } : {}),
    'app.kubernetes.io/component': values.component,
    'app.kubernetes.io/part-of': values.partOf,
    'app.kubernetes.io/managed-by': 'cutover',
    ...(values.color !== undefined ? { [LABEL_COLOR]: values.color } : {}),
  };
}

/** The labels that select one color's pods: stable for the life of the service. */
export function selectorLabels(name: string, color: Color): Record<string, string> {
  return { 'app.kubernetes.io/name': name, [LABEL_COLOR]: color };
}

/**
 * Label that tells a Service's role: `live` (the active color), `preview` (the idle color), `color` (one color,
 * whichever is live; the backend of weighted shifts) or `template` (one color's current pod template only; what the
 * smoke-test gate checks). Only `live` and `preview` Services expose the metrics port.
 */
export const LABEL_SERVICE_ROLE = 'cutover.dev/role';

/** What a Service of a blue-green app is for; see {@link LABEL_SERVICE_ROLE}. */
export type ServiceRole = 'live' | 'preview' | 'color' | 'template';
