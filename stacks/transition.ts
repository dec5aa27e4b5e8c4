import { Color, isColor } from '../lib';
import { AppConfig, ConfigProblem, StackConfig } from './config';

/**
 * What the stack's last *completed* update did, as it recorded it in its `cutoverState` output. Pulumi keeps a
 * stack's previous outputs when an output depends on a resource that failed, and `cutoverState` depends on every
 * routing object (and the contract migration): a switch that a gate stopped is not recorded.
 */
export interface PreviousState {
  /** The color that update routed traffic to. */
  readonly activeColor?: Color;
  /** The idle color's size that update applied through `idleReplicas`. */
  readonly idle?: { readonly color: Color; readonly replicas: number };
  /** The contract migration Job that completed (its name is a hash of its spec). */
  readonly contractMigration?: string;
}

/** The `cutoverState` output value this update records, once it completed. */
export interface CutoverState {
  readonly activeColor: Color;
  readonly idle: { readonly color: Color; readonly replicas: number } | null;
  readonly contractMigration: string | null;
}

/** How this update relates to the previous one, and the config with `idleReplicas` applied. */
export interface Transition {
  /** Whether `activeColor` differs from the color the last completed update routed traffic to. */
  readonly switching: boolean;
  /** The config to build: the idle colors sized by `idleReplicas` when it applies in this update. */
  readonly config: StackConfig;
  /** The idle size applied in this update, to record. */
  readonly idle?: { readonly color: Color; readonly replicas: number };
  /** What the update output should say (e.g. that idleReplicas waits for the next update). */
  readonly notes: readonly string[];
  readonly problems: readonly ConfigProblem[];
}

/** Reads a `cutoverState` output value; anything unrecognised counts as "no previous update". */
export function parsePreviousState(value: unknown): PreviousState {
  if (typeof value !== 'object' || value === null) {
    return {};
  }
  const state = value as Record<string, unknown>;
  const idle = state.idle as Record<string, unknown> | null | undefined;
  return {
    ...(isColor(state.activeColor) ? { activeColor: state.activeColor } : {}),
    ...(idle !== null && idle !== undefined && isColor(idle.color) && Number.isInteger(idle.replicas)
      ? { idle: { color: idle.color, replicas: idle.replicas as number } }
      : {}),
    ...(typeof state.contractMigration === 'string' ? { contractMigration: state.contractMigration } : {}),
  };
}

/**
 * Decides what `idleReplicas` does in this update and refuses a switch to a color that was retired:
 * - an update that switches colors changes only what routes traffic: the color that was live becomes idle at full size,
 *   and `idleReplicas` applies to it from the next update on (a rollback stays instant until then);
 * - in an update that does not switch, every app's idle color runs `idleReplicas` replicas (0: retired, no pods);
 * - switching to a color that the last update shrank with `idleReplicas` is refused: it would send traffic to fewer
 *   pods than the color needs (or none); scale it up in an update of its own first.
 * Pure: the previous state is passed in.
 */
export function planTransition(config: StackConfig, previous: PreviousState): Transition {
  const problems: ConfigProblem[] = [];
  const fail = (key: string, message: string): void => void problems.push({ key, message: `${key}: ${message}` });
  const switching = previous.activeColor !== undefined && previous.activeColor !== config.activeColor;
  const idleColor = config.idleColor;
  const notes: string[] = [];

  if (switching && previous.idle !== undefined && previous.idle.color === config.activeColor) {
    fail(
      'activeColor',
      `${config.activeColor} runs ${previous.idle.replicas} replica(s) since the last update (idleReplicas), got ` +
        `activeColor=${config.activeColor}; ` +
        `scale it back up in an update of its own first (\`pulumi config set activeColor ${previous.activeColor}\`, \`pulumi config rm ` +
        `idleReplicas\`, \`pulumi up\`), then switch`,
    );
  }

  const replicas = config.idleReplicas;
  let idle: Transition['idle'];
  let apps = config.apps;
  if (replicas !== undefined) {
    config.apps.forEach((app, index) => {
      const explicit = app[idleColor].replicas;
      if (explicit !== undefined) {
        const key = `${index === 0 ? '' : `services.${app.name}.`}${idleColor}.replicas`;
        fail(
          key,
          `sizes the idle color while idleReplicas (${replicas}) does too, got ${explicit}; keep one: \`pulumi config rm --path ${key}\` or ` +
            `\`pulumi config rm idleReplicas\``,
        );
      }
    });
    if (switching) {
      notes.push(
        `idleReplicas (${replicas}) applies to ${idleColor} from the next update: this one switches traffic to ${config.activeColor} and leaves ` +
          `${idleColor} at full size, so a rollback stays instant`,
      );
    } else {
      apps = config.apps.map((app): AppConfig =>
        app[idleColor].image === undefined ? app : { ...app, [idleColor]: { ...app[idleColor], replicas } },
      );
      idle = { color: idleColor, replicas };
    }
  }
  const main = apps[0];
  return {
    switching,
    config: { ...config, apps, blue: main.blue, green: main.green },
    ...(idle !== undefined ? { idle } : {}),
    notes,
    problems,
  };
}

/**
 * A contract migration that has not completed before (`name` differs from the recorded one) runs only in an update that
 * does not switch colors, once every app's old color is retired (0 replicas, or not deployed): dropping what the old
 * release uses while it could still take traffic, or be switched back to in seconds, breaks it. A contract migration
 * that already completed is kept as it is and never runs again, whatever the update does.
 */
export function checkContract(transition: Transition, previous: PreviousState, name: string | undefined): ConfigProblem[] {
  if (name === undefined || name === previous.contractMigration) {
    return [];
  }
  const problems: ConfigProblem[] = [];
  const { config } = transition;
  const key = 'migrations.contract';
  if (transition.switching) {
    problems.push({
      key,
      message:
        `${key}: runs only in an update of its own, got it in the update that switches traffic from ${previous.activeColor} to ` +
        `${config.activeColor}; ` +
        'switch first, retire the old color (`pulumi config set idleReplicas 0`, `pulumi up`), then add the contract step',
    });
    return problems;
  }
  const running = config.apps
    .filter((app) => app[config.idleColor].image !== undefined && app[config.idleColor].replicas !== 0)
    .map((app) => app.name);
  if (running.length > 0) {
    problems.push({
      key,
      message:
        `${key}: runs only once the old color is retired, got ${config.idleColor} still running (${running.join(', ')}); ` +
        `retire it first: \`pulumi config set idleReplicas 0\` (it may go in the same update as the contract step, which then waits for the ` +
        `scale-down)`,
    });
  }
  return problems;
}
