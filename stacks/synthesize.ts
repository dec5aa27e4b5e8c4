import { RenderedObject, renderChart } from '../lib';
import { ConfigError, ConfigProblem, StackConfig, parseStackConfigWithProblems } from './config';
import { Platform, buildPlatform } from './platform';
import { PreviousState, Transition, checkContract, planTransition } from './transition';

/** Everything the config of one update renders to, and how it got there. */
export interface Synthesis {
  /** The config as this update applies it (after the transition: `idleReplicas` applied when it may be). */
  readonly config: StackConfig;
  readonly transition: Transition;
  readonly platform: Platform;
  /** Every object, in dependency order. */
  readonly objects: readonly RenderedObject[];
}

/**
 * The one pipeline from a stack's raw config to the objects it deploys: parse → transition (what the last completed
 * update did) → build → contract check → render. The Pulumi program, `synth`, `plan`, `preflight`, `release` and the
 * benchmarks all go through it, so each validates exactly what `pulumi up` does.
 *
 * Without `previous` (no stack state to read: `synth`, `plan`, `preflight`), it is the stack as after an update that
 * did not switch colors: `idleReplicas` applied, and a contract migration refused while the old color still runs.
 * Throws one {@link ConfigError} with every problem of the transition, the constructs and the contract check.
 */
export function synthesize(raw: Readonly<Record<string, string>>, stack: string, previous?: PreviousState): Synthesis {
  const { config: parsed, problems: parseProblems } = parseStackConfigWithProblems(raw, stack);
  if (parseProblems.length > 0) {
    throw new ConfigError(stack, [...parseProblems, ...constructProblems(parsed, previous, parseProblems)]);
  }
  const before = previous ?? { activeColor: parsed.activeColor };
  const transition = planTransition(parsed, before);
  const problems: ConfigProblem[] = [...transition.problems];
  let platform: Platform | undefined;
  try {
    platform = buildPlatform(transition.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    problems.push(...error.problems);
  }
  if (platform !== undefined) {
    problems.push(...checkContract(transition, before, platform.contract?.name));
  }
  if (problems.length > 0 || platform === undefined) {
    throw new ConfigError(stack, problems);
  }
  return { config: transition.config, transition, platform, objects: renderChart(platform.chart) };
}

/**
 * The transition's and the constructs' problems with a config that already has some: built from the config as parse left it (bad values
 * replaced by their defaults where they have one), so a user sees the problems of both kinds in one run. A problem
 * under a key whose top-level key already has one is left out (it may only echo it), so is one quoting a value parse
 * refused, and so is anything a half-valid config makes a construct throw that is not a config problem.
 */
function constructProblems(parsed: StackConfig, previous: PreviousState | undefined, reported: readonly ConfigProblem[]): ConfigProblem[] {
  const top = (key: string): string => key.split(/[.[]/)[0];
  const seen = new Set(reported.map((problem) => top(problem.key)));
  // Every object's name comes from these: with one of them wrong, the constructs would only repeat it.
  if (seen.has('app') || seen.has('namespace')) {
    return [];
  }
  const values = reported.map((problem) => gotValue(problem.message)).filter((value): value is string => value !== undefined);
  // The value a construct quotes contains a value parse already refused: the same mistake, met again downstream.
  const echoes = (problem: ConfigProblem): boolean => {
    const got = gotValue(problem.message);
    return got !== undefined && values.some((value) => (value === '' ? got === '' : got.includes(value)));
  };
  const found: ConfigProblem[] = [];
  try {
    const transition = planTransition(parsed, previous ?? { activeColor: parsed.activeColor });
    found.push(...transition.problems);
    buildPlatform(transition.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      found.push(...error.problems);
    }
  }
  return found.filter((problem) => !seen.has(top(problem.key)) && !echoes(problem));
}

/** The `<value>` of `…, got <value>; <fix>`, unquoted; undefined when the message has none. */
function gotValue(message: string): string | undefined {
  const match = /, got (.*?); /s.exec(message);
  return match === null ? undefined : match[1].replace(/^"(.*)"$/s, '$1');
}
