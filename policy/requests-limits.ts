import { PolicyObject, violation } from './kubernetes';
import { containersOf, workloadsOf } from './workloads';

/** The four values every container must state. */
const REQUIRED: readonly (readonly ['requests' | 'limits', 'cpu' | 'memory'])[] = [
  ['requests', 'cpu'],
  ['requests', 'memory'],
  ['limits', 'cpu'],
  ['limits', 'memory'],
];

/**
 * Every container of the pods `object` makes that does not state CPU and memory requests and limits.
 * Requests are what the scheduler and the HPA's utilization targets are computed from; limits keep one pod
 * from starving its node. A namespace LimitRange would fill in defaults, but a default is not a reviewed
 * value, so the rule wants them in the object. Ephemeral (debug) containers cannot have resources and are
 * not checked.
 */
export function requestsLimitsViolations(object: PolicyObject): string[] {
  return workloadsOf(object).flatMap((workload) =>
    containersOf(workload.podSpec)
      .filter(({ where }) => !where.startsWith('ephemeralContainers'))
      .flatMap(({ where, container }) => {
        const missing = REQUIRED.filter(([kind, resource]) => {
          const value = container.resources?.[kind]?.[resource];
          return value === undefined || value === null || value === '';
        }).map(([kind, resource]) => `${kind}.${resource}`);
        return missing.length === 0
          ? []
          : [
              violation(
                `${workload.where} ${where}`,
                'must state CPU and memory requests and limits',
                `no ${missing.join(', ')}`,
                'set resources.requests and resources.limits for cpu and memory',
              ),
            ];
      }),
  );
}
