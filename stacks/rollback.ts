import { Color, otherColor } from '../lib';
import { PreviousState } from './transition';

/** What the fast rollback reads of one app in the cluster and in the stack's state. */
export interface AppFacts {
  /** The app's name: its live Service, `<app>-preview` and `<app>-<color>` are its other Services. */
  readonly app: string;
  /** The color the live Service selects in the cluster now. */
  readonly liveColor: string | undefined;
  /** The target color's Deployment in the cluster, if it exists. */
  readonly deployment?: {
    /** `deployment.kubernetes.io/revision`: bumped by each new pod template, not by scaling (the HPA). */
    readonly revision?: string;
    readonly generation: number;
    readonly observedGeneration?: number;
    readonly replicas: number;
    readonly readyReplicas?: number;
    readonly updatedReplicas?: number;
  };
  /** That Deployment's revision as the stack's last update left it (its Pulumi state). */
  readonly recordedRevision?: string;
  /** Ready endpoints of the target color's own Service `<app>-<color>` (EndpointSlices). */
  readonly readyEndpoints: number;
}

/** Everything the fast rollback decides on. */
export interface RollbackFacts {
  /** The stack's last completed update (its `cutoverState` output). */
  readonly previous: PreviousState;
  /** `activeColor` in the stack's config now. */
  readonly configuredColor: string | undefined;
  /**
   * `trafficWeight` in the stack's config now (a weighted shift in progress when above 0). Outside a shift the live
   * Service's selector is the switch for both routers (the HTTPRoute and the Ingress send to it), which the fast path
   * moves; during one the HTTPRoute's weights or the canary Ingress are, which only `pulumi up` changes.
   */
  readonly trafficWeight: number;
  readonly apps: readonly AppFacts[];
}

/** The fast rollback's decision: the color to move to, and why it must not (nothing is changed when any). */
export interface RollbackDecision {
  readonly from?: Color;
  readonly to?: Color;
  readonly problems: readonly string[];
}

/**
 * Whether traffic may move to the idle color at once, before `pulumi up` runs: the rollback's fast path
 * (scripts/rollback.ts). It moves only to the idle color of the stack's last completed update, only when the stack
 * file still says what that update did, and for every app only when that color's Deployment is the one the update
 * left (same revision: no pod template rolled out since; scaling does not count), finished rolling out, and its own Service has at least as many
 * ready endpoints as the Deployment has replicas — the readiness the gate would check, read from EndpointSlices
 * instead of a smoke-test pod. Pure.
 */
export function judgeRollback(facts: RollbackFacts): RollbackDecision {
  const problems: string[] = [];
  const from = facts.previous.activeColor;
  if (from === undefined) {
    return { problems: ['the stack has no completed update that recorded its live color (cutoverState output); run `pulumi up` first'] };
  }
  const to = otherColor(from);
  if (facts.configuredColor !== from) {
    problems.push(
      `activeColor: the stack file says ${facts.configuredColor ?? '(unset)'}, but its last completed update routed traffic to ${from}; ` +
        `finish or undo that change first (\`pulumi up\`, or \`pulumi config set activeColor ${from}\`)`,
    );
  }
  if (facts.trafficWeight > 0) {
    problems.push(
      `trafficWeight: a weighted shift is in progress (${facts.trafficWeight}% to ${to}); finish or abort it with \`pulumi up\` first (docs: the ` +
        `runbook's weighted shift)`,
    );
  }
  if (facts.previous.idle !== undefined && facts.previous.idle.color === to) {
    problems.push(
      `${to} runs ${facts.previous.idle.replicas} replica(s) since the last update (idleReplicas): it is retired, not a rollback target; scale it ` +
        `back up with \`pulumi up\` first`,
    );
  }
  for (const app of facts.apps) {
    const name = `${app.app}: `;
    if (app.liveColor !== from) {
      problems.push(
        `${name}the live Service selects ${app.liveColor ?? 'no color'}, but the last completed update routed it to ${from}; run \`pulumi up ` +
          `--refresh\` to reconcile first`,
      );
    }
    const deployment = app.deployment;
    if (deployment === undefined) {
      problems.push(`${name}Deployment ${app.app}-${to} does not exist; a rollback needs the idle color deployed`);
      continue;
    }
    if (app.recordedRevision === undefined || deployment.revision !== app.recordedRevision) {
      problems.push(
        `${name}Deployment ${app.app}-${to} changed since the stack's last update (revision ${deployment.revision ?? 'none'}, recorded ` +
          `${app.recordedRevision ?? 'none'}); ` +
          `use the gated path: \`pulumi config set activeColor ${to} && pulumi up\``,
      );
    }
    const rolledOut =
      deployment.observedGeneration === deployment.generation &&
      (deployment.updatedReplicas ?? 0) >= deployment.replicas &&
      (deployment.readyReplicas ?? 0) >= deployment.replicas;
    if (!rolledOut) {
      problems.push(
        `${name}Deployment ${app.app}-${to} is not rolled out and ready (${deployment.readyReplicas ?? 0} of ${deployment.replicas} ready, ` +
          `${deployment.updatedReplicas ?? 0} updated, generation ${deployment.observedGeneration ?? '?'} of ${deployment.generation} observed)`,
      );
    }
    if (deployment.replicas < 1 || app.readyEndpoints < deployment.replicas) {
      problems.push(
        `${name}Service ${app.app}-${to} has ${app.readyEndpoints} ready endpoint(s), needs ${Math.max(1, deployment.replicas)} (the Deployment's ` +
          `replicas); traffic stays on ${from}`,
      );
    }
  }
  return { from, to, problems };
}
