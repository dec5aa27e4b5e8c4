import { LabelSelector, PolicyObject, StackViolation, isKind, namespaceOf, showLabels, specOf, violation } from './kubernetes';
import { selects } from './selectors';
import { allWorkloads } from './workloads';

/** The `spec` field of a NetworkPolicy (networking.k8s.io/v1) this rule reads. */
interface NetworkPolicySpec {
  readonly podSelector: LabelSelector;
}

/**
 * Every set of pods in the stack that no NetworkPolicy of its namespace selects. A pod no NetworkPolicy
 * selects accepts traffic from anywhere in the cluster and may send it anywhere; once one selects it, only
 * what the policies allow gets through. An empty `podSelector` (a namespace-wide default-deny) selects every
 * pod. Covers pod templates (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, Pods) and
 * the data tier's operator-made pods by the labels the operators give them (see workloads.ts).
 */
export function networkPolicyViolations(objects: readonly PolicyObject[]): StackViolation[] {
  const policies = objects.filter((object) => isKind(object, 'networking.k8s.io/v1', 'NetworkPolicy'));
  return allWorkloads(objects).flatMap((workload) => {
    const covered = policies.some(
      (policy) => namespaceOf(policy) === workload.namespace && selects(specOf<NetworkPolicySpec>(policy).podSelector, workload.podLabels),
    );
    return covered
      ? []
      : [
          {
            urn: workload.object.urn,
            message: violation(
              workload.where,
              `no NetworkPolicy in namespace ${workload.namespace} selects its pods`,
              `pod labels ${showLabels(workload.podLabels)}`,
              'add a NetworkPolicy whose podSelector matches them (a default-deny with an empty podSelector selects every pod of the namespace)',
            ),
          },
        ];
  });
}
