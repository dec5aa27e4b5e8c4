// The CrossGuard policy pack: `pulumi preview --policy-pack policy` (or `pulumi up --policy-pack policy`).
// Constructing the PolicyPack starts its gRPC server, so nothing else may import this file; the policies
// themselves are in policies.ts.
import { PolicyPack } from '@pulumi/policy';
import { DEFAULT_ENFORCEMENT, PACK_NAME, POLICIES } from './policies';

new PolicyPack(PACK_NAME, {
  description:
    'Guard rails of the cutover platform: Pod Security restricted, requests and limits, pinned images, PodDisruptionBudgets, ' +
    'NetworkPolicies, awaited traffic path, no literal secrets.',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  policies: [...POLICIES],
});
