/**
 * The policies of the pack: each binds a pure check (one file per rule) to a name, a description and an
 * enforcement level. Tests call the checks directly, and these policies through `validateResource` /
 * `validateStack`; only index.ts starts the pack.
 */
import type {
  EnforcementLevel,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';
import { disruptionBudgetViolations } from './disruption-budgets';
import { floatingImageViolations, unpinnedDigestViolations } from './images';
import { PolicyObject, StackViolation } from './kubernetes';
import { networkPolicyViolations } from './network-policies';
import { podSecurityViolations } from './pod-security';
import { requestsLimitsViolations } from './requests-limits';
import { literalSecretViolations } from './secrets';
import { skipAwaitViolations } from './traffic-path';

/** Name of the pack, as `pulumi preview` prints it (`cutover-guardrails@v<version of package.json>`). */
export const PACK_NAME = 'cutover-guardrails';

/** The pack's default: a violation fails the preview or update. Policies below that only advise say so. */
export const DEFAULT_ENFORCEMENT: EnforcementLevel = 'mandatory';

interface PolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly remediationSteps: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
}

function resourcePolicy(info: PolicyInfo, check: (object: PolicyObject) => string[]): ResourceValidationPolicy {
  return {
    ...info,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      for (const message of check({ type: args.type, props: args.props, urn: args.urn })) {
        report(message);
      }
    },
  };
}

function stackPolicy(info: PolicyInfo, check: (objects: readonly PolicyObject[]) => StackViolation[]): StackValidationPolicy {
  return {
    ...info,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const { message, urn } of check(args.resources.map((resource) => ({ type: resource.type, props: resource.props, urn: resource.urn })))) {
        report(message, urn);
      }
    },
  };
}

export const podSecurityRestricted = resourcePolicy(
  {
    name: 'pod-security-restricted',
    description: 'Every pod template (and every operator-made pod of the data tier) meets the Pod Security Standards "restricted" profile.',
    enforcementLevel: 'mandatory',
    severity: 'high',
    remediationSteps:
      'Run as non-root with seccomp RuntimeDefault, no privilege escalation and all capabilities dropped; the message names the control and ' +
      'the field.',
  },
  podSecurityViolations,
);

export const requestsAndLimits = resourcePolicy(
  {
    name: 'resource-requests-and-limits',
    description: 'Every container states CPU and memory requests and limits.',
    enforcementLevel: 'mandatory',
    severity: 'medium',
    remediationSteps:
      "Set resources.requests and resources.limits for cpu and memory on every container (the data tier: the custom resource's resources fields).",
  },
  requestsLimitsViolations,
);

export const noFloatingImages = resourcePolicy(
  {
    name: 'no-floating-images',
    description: 'Every image names one build: a tag other than latest, or a digest.',
    enforcementLevel: 'mandatory',
    severity: 'high',
    remediationSteps: 'Pin a release tag (registry/repo:1.4.2) or a digest (registry/repo@sha256:...).',
  },
  floatingImageViolations,
);

export const imagesPinnedByDigest = resourcePolicy(
  {
    name: 'images-pinned-by-digest',
    description: 'Images are pinned by digest, so a moved tag cannot change what runs (advisory).',
    enforcementLevel: 'advisory',
    severity: 'low',
    remediationSteps: 'Append @sha256:<digest> to the image reference.',
  },
  unpinnedDigestViolations,
);

export const noLiteralSecretData = resourcePolicy(
  {
    name: 'no-literal-secret-data',
    description:
      'No secret value is written into the program or its state: no Secret data, no secret-named literal ConfigMap keys or environment values.',
    enforcementLevel: 'mandatory',
    severity: 'critical',
    remediationSteps: 'Create Secrets outside the stack and reference them by name (secretNames, secretKeyRef).',
  },
  literalSecretViolations,
);

export const disruptionBudgets = stackPolicy(
  {
    name: 'disruption-budget-for-replicated-workloads',
    description: "Every workload with more than one replica (an HPA's minReplicas when one owns it) is protected by a PodDisruptionBudget.",
    enforcementLevel: 'mandatory',
    severity: 'high',
    remediationSteps: "Add a PodDisruptionBudget selecting the pods (maxUnavailable below the replica count), or keep the operator's budget on.",
  },
  disruptionBudgetViolations,
);

export const networkPolicies = stackPolicy(
  {
    name: 'pods-selected-by-network-policy',
    description: 'Every pod of the stack is selected by a NetworkPolicy of its namespace.',
    enforcementLevel: 'mandatory',
    severity: 'high',
    remediationSteps: 'Add a NetworkPolicy whose podSelector matches the pods, e.g. a namespace default-deny with an empty podSelector.',
  },
  networkPolicyViolations,
);

export const noSkipAwaitInTrafficPath = stackPolicy(
  {
    name: 'no-skip-await-in-traffic-path',
    description:
      'No object in the traffic path whose await proves readiness (Ingresses, HTTPRoutes, Deployments, StatefulSets, routed LoadBalancer ' +
      'Services) carries pulumi.com/skipAwait.',
    enforcementLevel: 'mandatory',
    severity: 'high',
    remediationSteps:
      'Remove pulumi.com/skipAwait; only ClusterIP and NodePort Services may skip the await (it proves no readiness for them; the gate ' +
      'checks ready endpoints).',
  },
  skipAwaitViolations,
);

/** Every policy of the pack, in the order the CLI lists them. */
export const POLICIES: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
  podSecurityRestricted,
  requestsAndLimits,
  noFloatingImages,
  imagesPinnedByDigest,
  noLiteralSecretData,
  disruptionBudgets,
  networkPolicies,
  noSkipAwaitInTrafficPath,
];
