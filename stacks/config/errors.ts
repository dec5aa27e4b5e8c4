import { CONFIG_NAMESPACE } from './schema';

/** One bad config value. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** Thrown when a stack's config is wrong; lists every problem, each as `<key>: <problem>, got <value>; <fix>`. */
export class ConfigError extends Error {
  public constructor(
    public readonly stack: string,
    public readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `stack "${stack}" has ${problems.length === 1 ? 'a config error' : `${problems.length} config errors`} ` +
        `(nothing was applied):\n${problems.map((p) => `  - ${CONFIG_NAMESPACE}:${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Records one problem as `<key>: <problem>, got <value>; <fix>`. */
export type Fail = (key: string, problem: string, value: unknown, fix: string) => undefined;

/** A problem collector and the {@link Fail} that adds to it. */
export function problemList(): { problems: ConfigProblem[]; fail: Fail } {
  const problems: ConfigProblem[] = [];
  const fail: Fail = (key, problem, value, fix) => {
    problems.push({ key, message: `${key}: ${problem}, got ${show(value)}; ${fix}` });
    return undefined;
  };
  return { problems, fail };
}

export function show(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

export function suggest(key: string, known: readonly string[]): string {
  const hint = hintFor(key, known);
  return hint === '' ? `known keys are ${known.join(', ')}` : hint.replace(/^; /, '');
}

export function hintFor(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best}"?` : '';
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
