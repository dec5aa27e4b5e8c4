import { restrictedViolations } from '../lib/core/pod-security';
import { PolicyObject, violation } from './kubernetes';
import { workloadsOf } from './workloads';

/** What to change for each Pod Security control, named as `restrictedViolations` names them. */
const FIXES: Readonly<Record<string, string>> = {
  'Privilege Escalation': 'set securityContext.allowPrivilegeEscalation: false on every container',
  'Running as Non-root': 'set securityContext.runAsNonRoot: true on the pod (or every container)',
  'Running as Non-root user': 'run as a non-zero UID (securityContext.runAsUser)',
  Seccomp: 'set securityContext.seccompProfile.type: RuntimeDefault on the pod',
  Capabilities: 'set securityContext.capabilities.drop: ["ALL"] on every container and add nothing but NET_BIND_SERVICE',
  'Privileged Containers': 'remove securityContext.privileged: true',
  'Host Namespaces': 'remove hostNetwork, hostPID and hostIPC',
  'Host Ports': 'remove hostPort; expose the port through a Service',
  'HostPath Volumes': 'use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead of hostPath',
  'Volume Types': 'use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret volumes',
};

const PROFILE = 'https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted';

/**
 * Every way the pods `object` makes break the Pod Security Standards `restricted` profile: each pod template,
 * and the operator-made pods of the data tier as modelled in workloads.ts. The checks are the ones Pod
 * Security admission applies (lib/core/pod-security.ts), so a template that passes here is admitted by a namespace
 * that enforces `restricted`.
 */
export function podSecurityViolations(object: PolicyObject): string[] {
  return workloadsOf(object).flatMap((workload) =>
    restrictedViolations(workload.podSpec).map((found) =>
      violation(
        workload.where,
        `breaks Pod Security "restricted" (${found.control})`,
        found.detail,
        FIXES[found.control] ?? `meet the restricted profile, see ${PROFILE}`,
      ),
    ),
  );
}
