// One release over several stacks (regions): the pure decisions of `npm run release` (scripts/release.ts). Which
// stacks go in which wave, whether the release may start, what each stack's record says, and what a re-run does.
import { createHash } from 'node:crypto';
import { ApiObject } from 'cdk8s';
import { Color, isColor } from '../lib';
import { Platform } from './platform';

/** Where one stack is in a release. */
export type ReleaseState = 'pending' | 'unchanged' | 'switching' | 'switched' | 'failed' | 'rolling-back' | 'rolled-back' | 'done';

const STATES: readonly ReleaseState[] = ['pending', 'unchanged', 'switching', 'switched', 'failed', 'rolling-back', 'rolled-back', 'done'];

/** The stack tag that records a stack's part in a release, in the state backend beside the stack's state. */
export const RELEASE_TAG = 'cutover:release';

/** What a stack's release tag holds. Kept short: a Pulumi Cloud tag value holds 256 characters. */
export interface ReleaseRecord {
  readonly id: string;
  readonly to: Color;
  readonly state: ReleaseState;
  /** When the state was recorded, ISO 8601. */
  readonly at: string;
}

/** `id=…;to=…;state=…;at=…`. */
export function formatRecord(record: ReleaseRecord): string {
  return `id=${record.id};to=${record.to};state=${record.state};at=${record.at}`;
}

/** The record in a tag value; undefined for anything else (a tag someone else wrote is not ours to trust). */
export function parseRecord(value: string | undefined): ReleaseRecord | undefined {
  if (value === undefined) {
    return undefined;
  }
  const fields = Object.fromEntries(value.split(';').map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]));
  const { id, to, state, at } = fields as Record<string, string | undefined>;
  if (id === undefined || id === '' || !isColor(to) || !(STATES as readonly string[]).includes(state ?? '') || at === undefined) {
    return undefined;
  }
  return { id, to, state: state as ReleaseState, at };
}

/** What the user asked for. */
export interface ReleaseRequest {
  readonly to: Color;
  /** Every stack of the release, in order. */
  readonly stacks: readonly string[];
  /** The first wave. @default the first of `stacks` */
  readonly canary: readonly string[];
}

/** The same release has the same id however often it is run: the target color and the stacks, in order. */
export function releaseId(request: Pick<ReleaseRequest, 'to' | 'stacks'>): string {
  return `${request.to}-${createHash('sha256').update(request.stacks.join(',')).digest('hex').slice(0, 10)}`;
}

/**
 * The waves: the canary stacks first, then the rest in the order given.
 * @throws naming the argument, when a stack repeats or a canary is not one of the stacks
 */
export function planWaves(request: ReleaseRequest): string[][] {
  const problems: string[] = [];
  if (request.stacks.length === 0) {
    problems.push('--stacks: needs at least one stack, got none; e.g. --stacks prod-us-east,prod-eu-west');
  }
  const repeated = request.stacks.filter((stack, index) => request.stacks.indexOf(stack) !== index);
  if (repeated.length > 0) {
    problems.push(`--stacks: names ${[...new Set(repeated)].join(', ')} more than once; name each stack once`);
  }
  const stray = request.canary.filter((stack) => !request.stacks.includes(stack));
  if (stray.length > 0) {
    problems.push(`--canary: ${stray.join(', ')} is not one of --stacks (${request.stacks.join(', ')}); the canary wave is part of the release`);
  }
  if (problems.length > 0) {
    throw new Error(problems.join('\n'));
  }
  const canary = request.canary.length > 0 ? request.canary : request.stacks.slice(0, 1);
  const rest = request.stacks.filter((stack) => !canary.includes(stack));
  return rest.length > 0 ? [[...canary], rest] : [[...canary]];
}

/** One stack as the release finds it, before anything changes. */
export interface StackSnapshot {
  readonly name: string;
  /** `activeColor` in the stack's config file. */
  readonly configColor: Color;
  /** The color the stack's last completed update left live (its `activeColor` output); absent before any update. */
  readonly deployedColor?: Color;
  /** An update holds the stack's lock. */
  readonly locked: boolean;
  /** Operations an interrupted update left unfinished in the state. */
  readonly pendingOperations: number;
  /** Each app's image for the target color, by app name. */
  readonly targetImages: Readonly<Record<string, string | undefined>>;
  readonly record?: ReleaseRecord;
}

/** One step of a stack's preview of the switch. */
export interface PreviewStep {
  readonly op: string;
  /** The resource's type token, e.g. `kubernetes:core/v1:Service`. */
  readonly type: string;
  /** Its Pulumi name, `<namespace>/<name>` for the bridge's Kubernetes objects. */
  readonly name: string;
}

/**
 * The objects a switch may change, as `<Kind> <namespace>/<name>`, given the stack's platform before and after it (from {@link synthesize}): every
 * app's routing objects, the gate and metric gate Jobs (the target color's are created, the other's deleted), and the
 * expand migration Job, which goes with the switch (docs/gates.md).
 */
export function switchObjects(before: Platform, after: Platform): Set<string> {
  const keys = new Set<string>();
  for (const platform of [before, after]) {
    const constructs = [
      ...platform.apps.flatMap((app) => app.routingObjects),
      ...platform.gates.map((gate) => gate.job),
      ...platform.metricGates.map((gate) => gate.job),
      ...(platform.expand !== undefined ? [platform.expand.job] : []),
    ];
    for (const construct of constructs) {
      const manifest = ApiObject.of(construct).toJson() as { kind: string; metadata: { name: string; namespace?: string } };
      keys.add(`${manifest.kind} ${manifest.metadata.namespace ?? ''}/${manifest.metadata.name}`);
    }
  }
  return keys;
}

/** The steps of a preview that change something outside `allowed` (the stack's own outputs aside). */
export function stepsOutside(steps: readonly PreviewStep[], allowed: ReadonlySet<string>): PreviewStep[] {
  return steps.filter((step) => {
    if (step.op === 'same' || step.op === 'read' || step.type === 'pulumi:pulumi:Stack') {
      return false;
    }
    const kind = step.type.split(':').at(-1) ?? '';
    return !allowed.has(`${kind} ${step.name}`);
  });
}

/** What the release may not start with: every reason, each naming its stack. */
export function releaseRefusals(
  request: ReleaseRequest,
  snapshots: readonly StackSnapshot[],
  previews: ReadonlyMap<string, { readonly error?: string; readonly outside: readonly PreviewStep[] }>,
): string[] {
  const id = releaseId(request);
  const problems: string[] = [];
  for (const stack of snapshots) {
    if (stack.locked) {
      problems.push(
        `${stack.name}: is locked by a running update; wait for it, or, if it died, remove its lock (\`pulumi cancel\`, or the lock file of a ` +
          `file:// backend)`,
      );
    }
    if (stack.pendingOperations > 0) {
      problems.push(
        `${stack.name}: has ${stack.pendingOperations} pending operation(s) from an interrupted update; run \`pulumi refresh --stack ` +
          `${stack.name}\` and resolve them first (README: recovering an interrupted update)`,
      );
    }
    const record = stack.record;
    if (record !== undefined && record.id !== id && ['switching', 'switched', 'failed', 'rolling-back'].includes(record.state)) {
      problems.push(
        `${stack.name}: is in release ${record.id} (to ${record.to}, ${record.state} at ${record.at}); finish or roll back that release first ` +
          `(\`npm run release -- status\`)`,
      );
    }
    const preview = previews.get(stack.name);
    if (preview?.error !== undefined) {
      problems.push(`${stack.name}: the preview of the switch to ${request.to} failed: ${preview.error}`);
    } else if (preview !== undefined && preview.outside.length > 0) {
      const changes = preview.outside.map((step) => `${step.type.split(':').at(-1)} ${step.name} (${step.op})`).join(', ');
      problems.push(
        `${stack.name}: the switch to ${request.to} would change more than routing objects: ${changes}; deploy those changes with \`pulumi up\` on ` +
          `that stack first`,
      );
    }
  }
  // Every stack must release the same images: a release is one version everywhere.
  const apps = [...new Set(snapshots.flatMap((stack) => Object.keys(stack.targetImages)))];
  for (const app of apps) {
    const images = new Map<string, string[]>();
    for (const stack of snapshots) {
      const image = stack.targetImages[app] ?? '(none)';
      images.set(image, [...(images.get(image) ?? []), stack.name]);
    }
    if (images.size > 1) {
      const listed = [...images].map(([image, stacks]) => `${stacks.join(', ')}: ${image}`).join('; ');
      problems.push(`${app}: the stacks disagree on the ${request.to} image (${listed}); set the same \`${request.to}.image\` in every stack file`);
    }
  }
  return problems;
}

/**
 * The target when `--to` is not given: the `activeColor` every stack file of the release says (a merged pull request
 * that flipped them all, run by CI).
 * @throws naming each stack's color when the files disagree
 */
export function targetFromFiles(colors: ReadonlyArray<{ readonly name: string; readonly configColor: Color }>): Color {
  const distinct = [...new Set(colors.map((stack) => stack.configColor))];
  if (distinct.length !== 1) {
    throw new Error(
      `--to: not given, and the stack files disagree on activeColor (${colors.map((stack) => `${stack.name}: ${stack.configColor}`).join(', ')}); ` +
        'give --to, or set the same activeColor in every stack file of the release',
    );
  }
  return distinct[0];
}

/** What a run does with one stack. */
export type StackAction = 'switch' | 'skip';

/**
 * For each stack, whether this run switches it: a stack this release already switched (or found on the target color)
 * is skipped; one whose update was interrupted (`switching`) is switched again, which is idempotent.
 */
export function stackActions(request: ReleaseRequest, snapshots: readonly StackSnapshot[]): Map<string, StackAction> {
  const id = releaseId(request);
  return new Map(
    snapshots.map((stack): [string, StackAction] => {
      const mine = stack.record?.id === id ? stack.record : undefined;
      if (mine !== undefined && ['switched', 'unchanged', 'done'].includes(mine.state)) {
        return [stack.name, 'skip'];
      }
      if (mine === undefined && stack.configColor === request.to && stack.deployedColor === request.to) {
        return [stack.name, 'skip'];
      }
      return [stack.name, 'switch'];
    }),
  );
}

/**
 * The stacks to switch back when the release fails or is rolled back, in reverse order of switching: every stack this
 * release switched (or was switching: its update may have moved traffic before it failed), never one it found on
 * the target color.
 */
export function rollbackOrder(switchedInOrder: readonly string[]): string[] {
  return [...switchedInOrder].reverse();
}

/**
 * The stacks `--rollback` switches back, in the order given: every stack this release switched, was switching (its
 * update may have moved traffic before it died) or failed on; never one it found on the target color (`unchanged`)
 * or already rolled back.
 */
export function rollbackTargets(request: ReleaseRequest, snapshots: readonly StackSnapshot[]): string[] {
  const id = releaseId(request);
  return snapshots
    .filter((stack) => stack.record?.id === id && ['switching', 'switched', 'failed', 'done'].includes(stack.record.state))
    .map((stack) => stack.name);
}

/** A line per stack of what it serves, and whether the stacks agree. */
export function servingSummary(
  stacks: ReadonlyArray<{ readonly name: string; readonly serving?: Color; readonly record?: ReleaseRecord }>,
): string[] {
  const lines = stacks.map(
    (stack) =>
      `${stack.name}: serving ${stack.serving ?? 'nothing yet'}` +
      (stack.record !== undefined ? ` (release ${stack.record.id}: ${stack.record.state} at ${stack.record.at})` : ''),
  );
  const colors = new Set(stacks.map((stack) => stack.serving));
  if (colors.size > 1) {
    lines.push(
      `the stacks serve different colors: ${stacks.map((stack) => `${stack.name}=${stack.serving ?? 'none'}`).join(' ')}; re-run the release to ` +
        `finish it, or run it with --rollback`,
    );
  }
  return lines;
}
