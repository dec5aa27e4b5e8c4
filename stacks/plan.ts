import { Color, Manifest, objectKey } from '../lib';
import { ConfigError } from './config';
import { synthesize } from './synthesize';

/** One color as a reviewer sees it. */
export interface ColorSummary {
  readonly color: Color;
  readonly live: boolean;
  /** The image, or undefined when the color is not deployed. */
  readonly image?: string;
  /** `0` when scaled down; otherwise the HPA's minimum. */
  readonly replicas: number;
  readonly maxReplicas: number;
}

/** One field that differs between two renders of the same object. */
export interface FieldChange {
  /** Dotted path, e.g. `spec.selector["cutover.dev/color"]`. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** What one object would undergo. */
export interface ObjectChange {
  /** `Kind namespace/name`. */
  readonly object: string;
  readonly action: 'create' | 'update' | 'delete';
  readonly fields: readonly FieldChange[];
}

/** What flipping `activeColor` would do: the changes, or why the program would refuse the flip. */
export type FlipPlan =
  { readonly to: Color; readonly changes: readonly ObjectChange[] } | { readonly to: Color; readonly refused: readonly string[] };

/** The reviewer's summary of a stack. */
export interface Plan {
  readonly stack: string;
  readonly namespace: string;
  readonly url: string;
  readonly colors: readonly ColorSummary[];
  readonly objects: number;
  readonly flip: FlipPlan;
}

/**
 * Summarises a stack's raw config the way a reviewer reads a pull request: which color is live, each
 * color's image and size, and what flipping `activeColor` would change, field by field. Renders with the
 * same code as `npm run synth` and `pulumi up`; throws the config's own error when the config is bad.
 */
export function planStack(raw: Readonly<Record<string, string>>, stack: string): Plan {
  // Read without the stack's previous update: the current state as settled (idleReplicas applied), the flip as a switch.
  const now = synthesize(raw, stack);
  const config = now.config;
  const current = now.objects.map(({ manifest }) => manifest);
  const to = config.idleColor;
  let flip: FlipPlan;
  try {
    const previous = { activeColor: config.activeColor, ...(now.transition.idle !== undefined ? { idle: now.transition.idle } : {}) };
    const flipped = synthesize({ ...raw, 'cutover:activeColor': to }, stack, previous).objects.map(({ manifest }) => manifest);
    flip = { to, changes: diffObjects(current, flipped) };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    flip = { to, refused: error.problems.map((problem) => problem.message) };
  }
  return {
    stack,
    namespace: config.namespace,
    url: `https://${config.host}/`,
    colors: (['blue', 'green'] as const).map((color) => ({
      color,
      live: color === config.activeColor,
      image: config[color].image,
      replicas: config[color].image === undefined ? 0 : (config[color].replicas ?? config.replicas),
      maxReplicas: config.maxReplicas,
    })),
    objects: current.length,
    flip,
  };
}

/** Object-level and field-level differences between two renders, in the order of `before`, then new objects. */
export function diffObjects(before: readonly Manifest[], after: readonly Manifest[]): ObjectChange[] {
  const label = (manifest: Manifest): string =>
    `${manifest.kind} ${manifest.metadata.namespace !== undefined ? `${manifest.metadata.namespace}/` : ''}${manifest.metadata.name}`;
  const afterByKey = new Map(after.map((manifest) => [objectKey(manifest), manifest]));
  const beforeKeys = new Set(before.map(objectKey));
  const changes: ObjectChange[] = [];
  for (const manifest of before) {
    const next = afterByKey.get(objectKey(manifest));
    if (next === undefined) {
      changes.push({ object: label(manifest), action: 'delete', fields: [] });
      continue;
    }
    const fields = diffValues(manifest, next, '');
    if (fields.length > 0) {
      changes.push({ object: label(manifest), action: 'update', fields });
    }
  }
  for (const manifest of after.filter((m) => !beforeKeys.has(objectKey(m)))) {
    changes.push({ object: label(manifest), action: 'create', fields: [] });
  }
  return changes;
}

function diffValues(before: unknown, after: unknown, path: string): FieldChange[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => diffValues(before[key], after[key], join(path, key)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => diffValues(item, after[index], `${path}[${index}]`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  const segment = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `["${key}"]`;
  return path === '' ? segment : segment.startsWith('[') ? `${path}${segment}` : `${path}.${segment}`;
}

/** The plan as the few lines a reviewer reads first. */
export function formatPlan(plan: Plan): string {
  const lines = [`Stack ${plan.stack} (namespace ${plan.namespace}, ${plan.objects} objects) serving ${plan.url}`];
  const live = plan.colors.find((c) => c.live) as ColorSummary;
  lines.push(`Live color: ${live.color}`);
  for (const color of plan.colors) {
    const size =
      color.image === undefined ? 'not deployed' : color.replicas === 0 ? 'scaled to 0' : `${color.replicas}-${color.maxReplicas} replicas (HPA)`;
    const role = color.live ? 'live' : 'idle, reachable through the preview Service';
    lines.push(`  ${color.color.padEnd(5)}  ${(color.image ?? '-').padEnd(48)}  ${size.padEnd(24)}  ${role}`);
  }
  const { flip } = plan;
  if ('refused' in flip) {
    lines.push(`Flipping activeColor to ${flip.to} would be refused before anything is applied:`);
    lines.push(...flip.refused.map((problem) => `  ${problem}`));
  } else {
    lines.push(`Flipping activeColor to ${flip.to} would change ${flip.changes.length} object${flip.changes.length === 1 ? '' : 's'}:`);
    for (const change of flip.changes) {
      const symbol = change.action === 'create' ? '+' : change.action === 'delete' ? '-' : '~';
      lines.push(`  ${symbol} ${change.object}`);
      for (const field of change.fields) {
        lines.push(`      ${field.path}: ${show(field.before)} -> ${show(field.after)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function show(value: unknown): string {
  return value === undefined ? '(unset)' : typeof value === 'string' ? value : JSON.stringify(value);
}
