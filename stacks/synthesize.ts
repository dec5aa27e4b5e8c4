import { RenderedObject, renderChart } from '../lib';
import { ConfigError, ConfigProblem, StackConfig, parseStackConfig } from './config';
import { Platform, buildPlatform } from './platform';
import { PreviousState, Transition, checkContract, planTransition } from './transition';

/** Everything the config of one update renders to, and how it got there. */
export interface Synthesis {
  /** The config as this update applies it (after the transition: `idleReplicas` applied when it may be). */
  readonly config: StackConfig;
  readonly transition: Transition;
  /** What the last completed update recorded, as the transition and the contract check read it. */
  readonly previous: PreviousState;
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
  const parsed = parseStackConfig(raw, stack);
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
  return { config: transition.config, transition, previous: before, platform, objects: renderChart(platform.chart) };
}
