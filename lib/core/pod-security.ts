/**
 * Checks a pod spec against the Pod Security Standards `restricted` profile (which includes `baseline`),
 * the way Pod Security admission does, so that a rendered manifest can be judged before it reaches a cluster.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */

/** The parts of a container spec the standards look at. */
interface ContainerLike {
  readonly name?: string;
  readonly ports?: readonly { readonly hostPort?: number }[];
  readonly securityContext?: SecurityContextLike;
}

interface SecurityContextLike {
  readonly privileged?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly procMount?: string;
  readonly seccompProfile?: { readonly type?: string };
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  readonly seLinuxOptions?: { readonly type?: string };
  readonly appArmorProfile?: { readonly type?: string };
}

/** The parts of a pod spec the standards look at. */
export interface PodSpecLike {
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostIPC?: boolean;
  readonly securityContext?: SecurityContextLike & { readonly sysctls?: readonly { readonly name: string }[] };
  readonly containers?: readonly ContainerLike[];
  readonly initContainers?: readonly ContainerLike[];
  readonly ephemeralContainers?: readonly ContainerLike[];
  readonly volumes?: readonly Record<string, unknown>[];
}

/** One way a pod spec breaks the profile. */
export interface PodSecurityViolation {
  /** The control, named as in the Pod Security Standards page. */
  readonly control: string;
  /** Where and what, e.g. `containers "app": allowPrivilegeEscalation != false`. */
  readonly detail: string;
}

const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

/** Every violation of `restricted` in `spec`; empty when the pod would be admitted. */
export function restrictedViolations(spec: PodSpecLike): PodSecurityViolation[] {
  const violations: PodSecurityViolation[] = [];
  const add = (control: string, detail: string): void => {
    violations.push({ control, detail });
  };
  const podContext = spec.securityContext ?? {};
  const containers: [string, ContainerLike][] = [
    ...(spec.initContainers ?? []).map((c): [string, ContainerLike] => [`initContainers "${c.name ?? '?'}"`, c]),
    ...(spec.containers ?? []).map((c): [string, ContainerLike] => [`containers "${c.name ?? '?'}"`, c]),
    ...(spec.ephemeralContainers ?? []).map((c): [string, ContainerLike] => [`ephemeralContainers "${c.name ?? '?'}"`, c]),
  ];

  if (spec.hostNetwork === true || spec.hostPID === true || spec.hostIPC === true) {
    add('Host Namespaces', 'hostNetwork, hostPID and hostIPC must be unset or false');
  }
  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter((key) => key !== 'name');
    if (types.includes('hostPath')) {
      add('HostPath Volumes', `volume "${String(volume.name)}" is a hostPath`);
    }
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(type)) {
        add('Volume Types', `volume "${String(volume.name)}" has type ${type}`);
      }
    }
  }
  for (const sysctl of podContext.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(sysctl.name)) {
      add('Sysctls', `sysctl ${sysctl.name} is not in the safe set`);
    }
  }
  checkProfiles('pod', podContext, add);

  const podNonRoot = podContext.runAsNonRoot === true;
  const podSeccomp = isConfinedSeccomp(podContext.seccompProfile?.type);
  if (podContext.runAsNonRoot === false) {
    add('Running as Non-root', 'pod securityContext.runAsNonRoot = false');
  }
  if (podContext.runAsUser === 0) {
    add('Running as Non-root user', 'pod securityContext.runAsUser = 0');
  }
  for (const [where, container] of containers) {
    const context = container.securityContext ?? {};
    if (context.privileged === true) {
      add('Privileged Containers', `${where}: privileged = true`);
    }
    for (const port of container.ports ?? []) {
      if (port.hostPort !== undefined && port.hostPort !== 0) {
        add('Host Ports', `${where}: hostPort ${port.hostPort}`);
      }
    }
    if (context.procMount !== undefined && context.procMount !== 'Default') {
      add('/proc Mount Type', `${where}: procMount = ${context.procMount}`);
    }
    checkProfiles(where, context, add);
    if (context.allowPrivilegeEscalation !== false) {
      add('Privilege Escalation', `${where}: allowPrivilegeEscalation must be false`);
    }
    const nonRoot = context.runAsNonRoot ?? (podNonRoot ? true : undefined);
    if (nonRoot !== true) {
      add('Running as Non-root', `${where}: runAsNonRoot must be true (on the container or the pod)`);
    }
    if (context.runAsUser === 0) {
      add('Running as Non-root user', `${where}: runAsUser = 0`);
    }
    const seccomp = context.seccompProfile?.type;
    if (seccomp === undefined ? !podSeccomp : !isConfinedSeccomp(seccomp)) {
      add('Seccomp', `${where}: seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod)`);
    }
    const drop = context.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) {
      add('Capabilities', `${where}: capabilities.drop must include ALL`);
    }
    for (const capability of context.capabilities?.add ?? []) {
      if (capability !== 'NET_BIND_SERVICE') {
        add('Capabilities', `${where}: capabilities.add ${capability} (only NET_BIND_SERVICE is allowed)`);
      }
    }
  }
  return violations;
}

function isConfinedSeccomp(type: string | undefined): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

function checkProfiles(where: string, context: SecurityContextLike, add: (control: string, detail: string) => void): void {
  if (context.seccompProfile?.type === 'Unconfined') {
    add('Seccomp', `${where}: seccompProfile.type = Unconfined`);
  }
  const appArmor = context.appArmorProfile?.type;
  if (appArmor !== undefined && appArmor !== 'RuntimeDefault' && appArmor !== 'Localhost') {
    add('AppArmor', `${where}: appArmorProfile.type = ${appArmor}`);
  }
  const seLinux = context.seLinuxOptions?.type;
  if (seLinux !== undefined && seLinux !== '' && !['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(seLinux)) {
    add('SELinux', `${where}: seLinuxOptions.type = ${seLinux}`);
  }
}
