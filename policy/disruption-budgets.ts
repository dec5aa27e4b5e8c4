import { LabelSelector, PolicyObject, StackViolation, describeObject, isKind, namespaceOf, showLabels, specOf, violation } from './kubernetes';
import { selects } from './selectors';
import { Workload, allWorkloads } from './workloads';

/** The `spec` fields of a PodDisruptionBudget (policy/v1) this rule reads. */
interface PodDisruptionBudgetSpec {
  readonly selector: LabelSelector | null;
  readonly minAvailable: number | string;
  readonly maxUnavailable: number | string;
}

/** The `spec` fields of a HorizontalPodAutoscaler (autoscaling/v2) this rule reads. */
interface HorizontalPodAutoscalerSpec {
  readonly scaleTargetRef: { readonly kind?: string; readonly name?: string };
  readonly minReplicas: number;
}

/**
 * The replica count that matters for a workload: the `minReplicas` of a HorizontalPodAutoscaler that targets
 * it (the Deployments carry no `replicas` when an HPA owns them; Kubernetes defaults `minReplicas` to 1),
 * else the object's own count.
 */
export function effectiveReplicas(workload: Workload, objects: readonly PolicyObject[]): { readonly replicas?: number; readonly from: string } {
  const autoscaler = objects.find((object) => {
    if (!isKind(object, 'autoscaling/v2', 'HorizontalPodAutoscaler') || namespaceOf(object) !== workload.namespace) {
      return false;
    }
    const target = specOf<HorizontalPodAutoscalerSpec>(object).scaleTargetRef;
    return target?.kind === workload.kind && target.name === workload.name;
  });
  if (autoscaler !== undefined) {
    return { replicas: specOf<HorizontalPodAutoscalerSpec>(autoscaler).minReplicas ?? 1, from: `minReplicas of ${describeObject(autoscaler)}` };
  }
  return { replicas: workload.replicas, from: workload.replicasField ?? 'replicas' };
}

/** Whether a budget lets every one of `replicas` pods be evicted at once (it then protects nothing). */
function allowsAllDown(spec: Partial<PodDisruptionBudgetSpec>, replicas: number): boolean {
  const percent = (value: string): number | undefined => (/^\d+%$/.test(value) ? Number(value.slice(0, -1)) : undefined);
  if (spec.maxUnavailable !== undefined) {
    return typeof spec.maxUnavailable === 'number' ? spec.maxUnavailable >= replicas : (percent(spec.maxUnavailable) ?? 0) >= 100;
  }
  if (spec.minAvailable !== undefined) {
    return typeof spec.minAvailable === 'number' ? spec.minAvailable <= 0 : percent(spec.minAvailable) === 0;
  }
  return false;
}

/**
 * Every workload that runs more than one pod without a PodDisruptionBudget that protects it: a node drain
 * could otherwise evict all its pods at once. For pod templates, a PodDisruptionBudget in the same namespace
 * must select the pods and must not allow all of them down at once; for the data tier's operators that make
 * their own budgets (CloudNativePG Clusters, redis-operator resources), the custom resource must keep that
 * budget on (see workloads.ts). DaemonSets, Jobs and CronJobs are not replicated workloads and are skipped.
 */
export function disruptionBudgetViolations(objects: readonly PolicyObject[]): StackViolation[] {
  const budgets = objects.filter((object) => isKind(object, 'policy/v1', 'PodDisruptionBudget'));
  return allWorkloads(objects).flatMap((workload): StackViolation[] => {
    const { replicas, from } = effectiveReplicas(workload, objects);
    if (replicas === undefined || replicas <= 1) {
      return [];
    }
    const urn = workload.object.urn;
    const owner = workload.disruptionBudget;
    if (owner.by === 'operator') {
      return owner.enabled
        ? []
        : [
            {
              urn,
              message: violation(
                workload.where,
                `runs ${replicas} pods (${from}) with the operator's PodDisruptionBudget turned off`,
                `${owner.field} not true`,
                `set ${owner.field} to true`,
              ),
            },
          ];
    }
    const selecting = budgets.filter(
      (budget) => namespaceOf(budget) === workload.namespace && selects(specOf<PodDisruptionBudgetSpec>(budget).selector, workload.podLabels),
    );
    if (selecting.length === 0) {
      return [
        {
          urn,
          message: violation(
            workload.where,
            `runs ${replicas} pods (${from}) but no PodDisruptionBudget in namespace ${workload.namespace} selects them`,
            `pod labels ${showLabels(workload.podLabels)}`,
            'add a PodDisruptionBudget whose selector matches these labels, e.g. with maxUnavailable: 1',
          ),
        },
      ];
    }
    if (selecting.every((budget) => allowsAllDown(specOf<PodDisruptionBudgetSpec>(budget), replicas))) {
      const budget = specOf<PodDisruptionBudgetSpec>(selecting[0]);
      return [
        {
          urn,
          message: violation(
            workload.where,
            `runs ${replicas} pods (${from}) but ${describeObject(selecting[0])} lets all of them be evicted at once`,
            budget.maxUnavailable !== undefined ? `maxUnavailable ${budget.maxUnavailable}` : `minAvailable ${budget.minAvailable}`,
            `allow fewer than ${replicas} pods down (e.g. maxUnavailable: 1)`,
          ),
        },
      ];
    }
    return [];
  });
}
