import { isLabelKey, isLabelValue } from './validation';

/** A taint that pods tolerate (Kubernetes `Toleration`, without `tolerationSeconds`). */
export interface PodToleration {
  /** Taint key; absent with `operator: Exists` tolerates every taint. */
  readonly key?: string;
  /** @default 'Equal' */
  readonly operator?: 'Equal' | 'Exists';
  /** Taint value, for `operator: Equal`. */
  readonly value?: string;
  /** Taint effect; absent tolerates every effect. */
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/**
 * Where an app's pods (and its gate and migration Jobs) may run.
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/
 */
export interface PodScheduling {
  /**
   * Node labels every pod requires (a node pool).
   * @default {} (any node)
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodeselector
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Taints the pods tolerate (a dedicated, tainted node pool).
   * @default []
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
   */
  readonly tolerations?: readonly PodToleration[];
  /**
   * `required`: two pods of one color never share a node, so losing a node costs a color at most one pod.
   * `preferred`: the scheduler avoids it but may put them together, for clusters with fewer nodes than replicas
   * (a one-node development cluster).
   * @default 'required'
   */
  readonly podAntiAffinity?: 'required' | 'preferred';
}

/** The pod spec fields that place a pod: only those that are set, so a default placement renders nothing. */
export interface PodPlacement {
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: PodToleration[];
}

const OPERATORS = ['Equal', 'Exists'];
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/**
 * Every problem with `scheduling` (props path `key`), as `<key>.<field>: <problem>, got <value>; <fix>` messages: the
 * config parser reports them under the key the user wrote, the construct throws the first.
 */
export function schedulingProblems(key: string, scheduling: PodScheduling): string[] {
  const problems: string[] = [];
  for (const [label, value] of Object.entries(scheduling.nodeSelector ?? {})) {
    if (!isLabelKey(label)) {
      problems.push(`${key}.nodeSelector: "${label}" is not a label key, got ${JSON.stringify(label)}; use e.g. cutover.dev/node-pool`);
    }
    if (typeof value !== 'string' || !isLabelValue(value)) {
      problems.push(
        `${key}.nodeSelector.${label}: is not a label value, got ${JSON.stringify(value)}; use at most 63 letters, digits, "-", "_" or "."`,
      );
    }
  }
  (scheduling.tolerations ?? []).forEach((toleration, index) => {
    const at = `${key}.tolerations[${index}]`;
    const operator = toleration.operator ?? 'Equal';
    if (!OPERATORS.includes(operator)) {
      problems.push(
        `${at}.operator: must be Equal or Exists, got ${JSON.stringify(toleration.operator)}; use Exists to tolerate any value of the key`,
      );
    }
    if (toleration.effect !== undefined && !EFFECTS.includes(toleration.effect)) {
      problems.push(
        `${at}.effect: must be one of ${EFFECTS.join(', ')}, got ${JSON.stringify(toleration.effect)}; leave it out to tolerate every effect`,
      );
    }
    if (toleration.key !== undefined && !isLabelKey(toleration.key)) {
      problems.push(`${at}.key: is not a taint key, got ${JSON.stringify(toleration.key)}; use the key of the node's taint, e.g. dedicated`);
    }
    if (toleration.key === undefined && operator !== 'Exists') {
      problems.push(
        `${at}.key: is required with operator ${operator}, got none; give the taint's key, or use operator Exists to tolerate every taint`,
      );
    }
    if (operator === 'Exists' && toleration.value !== undefined && toleration.value !== '') {
      problems.push(`${at}.value: must be empty with operator Exists, got ${JSON.stringify(toleration.value)}; remove it, or use operator Equal`);
    }
    if (toleration.value !== undefined && !isLabelValue(toleration.value)) {
      problems.push(`${at}.value: is not a taint value, got ${JSON.stringify(toleration.value)}; use at most 63 letters, digits, "-", "_" or "."`);
    }
  });
  if (scheduling.podAntiAffinity !== undefined && !['required', 'preferred'].includes(scheduling.podAntiAffinity)) {
    problems.push(
      `${key}.podAntiAffinity: must be required or preferred, got ${JSON.stringify(scheduling.podAntiAffinity)}; ` +
        'use preferred only where there are fewer nodes than replicas',
    );
  }
  return problems;
}

/** The placement fields of `scheduling` for a pod spec (nothing for the default: any node, no tolerations). */
export function podPlacement(scheduling: PodScheduling): PodPlacement {
  const nodeSelector = scheduling.nodeSelector ?? {};
  const tolerations = scheduling.tolerations ?? [];
  return {
    ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector: { ...nodeSelector } } : {}),
    ...(tolerations.length > 0 ? { tolerations: tolerations.map((t) => ({ ...t })) } : {}),
  };
}
