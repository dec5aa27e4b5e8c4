import { describe, expect, it } from 'vitest';
import { PodSpecLike, restrictedViolations } from '../../lib';
import { find, renderApp } from '../helpers';

/** A pod spec that is compliant: the one BlueGreenApp renders. */
function compliant(): Record<string, any> {
  return structuredClone(find(renderApp().manifests, 'Deployment', 'web-blue').spec.template.spec);
}

/** One broken copy per control: [what, how to break it, the control reported]. */
const BREAKS: Array<[string, (pod: Record<string, any>) => void, string]> = [
  ['hostNetwork', (pod) => (pod.hostNetwork = true), 'Host Namespaces'],
  ['hostPID', (pod) => (pod.hostPID = true), 'Host Namespaces'],
  ['privileged', (pod) => (pod.containers[0].securityContext.privileged = true), 'Privileged Containers'],
  ['a hostPath volume', (pod) => pod.volumes.push({ name: 'host', hostPath: { path: '/' } }), 'HostPath Volumes'],
  ['a hostPort', (pod) => (pod.containers[0].ports[0].hostPort = 8080), 'Host Ports'],
  ['an unsafe sysctl', (pod) => (pod.securityContext.sysctls = [{ name: 'kernel.msgmax' }]), 'Sysctls'],
  ['an Unmasked /proc', (pod) => (pod.containers[0].securityContext.procMount = 'Unmasked'), '/proc Mount Type'],
  ['an unconfined AppArmor profile', (pod) => (pod.containers[0].securityContext.appArmorProfile = { type: 'Unconfined' }), 'AppArmor'],
  ['a custom SELinux type', (pod) => (pod.containers[0].securityContext.seLinuxOptions = { type: 'spc_t' }), 'SELinux'],
  ['a volume type outside the allowed list', (pod) => pod.volumes.push({ name: 'nfs', nfs: { server: 'x', path: '/' } }), 'Volume Types'],
  ['allowPrivilegeEscalation unset', (pod) => delete pod.containers[0].securityContext.allowPrivilegeEscalation, 'Privilege Escalation'],
  [
    'runAsNonRoot unset on container and pod',
    (pod) => {
      delete pod.containers[0].securityContext.runAsNonRoot;
      delete pod.securityContext.runAsNonRoot;
    },
    'Running as Non-root',
  ],
  ['runAsUser 0', (pod) => (pod.containers[0].securityContext.runAsUser = 0), 'Running as Non-root user'],
  [
    'seccomp unset on container and pod',
    (pod) => {
      delete pod.containers[0].securityContext.seccompProfile;
      delete pod.securityContext.seccompProfile;
    },
    'Seccomp',
  ],
  ['seccomp Unconfined', (pod) => (pod.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }), 'Seccomp'],
  ['capabilities not dropped', (pod) => (pod.containers[0].securityContext.capabilities = {}), 'Capabilities'],
  ['an added capability', (pod) => (pod.containers[0].securityContext.capabilities.add = ['NET_ADMIN']), 'Capabilities'],
];

describe('restrictedViolations', () => {
  it('finds nothing wrong with the rendered pod template', () => {
    expect(restrictedViolations(compliant() as PodSpecLike)).toEqual([]);
  });

  for (const [what, breakIt, control] of BREAKS) {
    it(`reports ${what} as ${control}`, () => {
      const pod = compliant();
      breakIt(pod);
      const controls = restrictedViolations(pod as PodSpecLike).map((v) => v.control);
      expect(controls).toContain(control);
    });
  }

  it('accepts runAsNonRoot and seccomp set on the pod only', () => {
    const pod = compliant();
    delete pod.containers[0].securityContext.runAsNonRoot;
    delete pod.containers[0].securityContext.seccompProfile;
    expect(restrictedViolations(pod as PodSpecLike)).toEqual([]);
  });

  it('accepts adding NET_BIND_SERVICE', () => {
    const pod = compliant();
    pod.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE'];
    expect(restrictedViolations(pod as PodSpecLike)).toEqual([]);
  });

  it('checks init containers too', () => {
    const pod = compliant();
    pod.initContainers = [{ name: 'migrate', securityContext: {} }];
    expect(restrictedViolations(pod as PodSpecLike).map((v) => v.detail)).toContain(
      'initContainers "migrate": allowPrivilegeEscalation must be false',
    );
  });
});
