import { ApiObject, Chart, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { LabelSelector } from '../observability/prometheus-rule';
import { Problems, isDnsLabel, isLabelKey, isLabelValue } from '../core/validation';

/** API version of the policies this set renders. */
export const NETWORK_POLICY_API_VERSION = k8s.KubeNetworkPolicy.GVK.apiVersion;

/**
 * The label the API server puts on every namespace, with the namespace's name (Kubernetes >= 1.22): the one
 * namespace label nobody can forge or forget, so it is how every policy here selects another namespace.
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/#targeting-a-namespace-by-its-name
 */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Transport protocol of a {@link NetworkPort}. */
export type NetworkProtocol = 'TCP' | 'UDP';

/** One port of a policy rule: a protocol and a number (never a container port name, which operators may rename). */
export class NetworkPort {
  /** A TCP port, 1 to 65535. */
  public static tcp(port: number): NetworkPort {
    return new NetworkPort('TCP', port);
  }

  /** A UDP port, 1 to 65535. */
  public static udp(port: number): NetworkPort {
    return new NetworkPort('UDP', port);
  }

  private constructor(
    public readonly protocol: NetworkProtocol,
    public readonly port: number,
  ) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(
        `port: must be a whole number from 1 to 65535, got ${port}; e.g. NetworkPort.${protocol.toLowerCase()}(${protocol === 'UDP' ? 53 : 443})`,
      );
    }
  }

  /** `5432/TCP`. */
  public toString(): string {
    return `${this.port}/${this.protocol}`;
  }
}

/** Pods of another namespace: the namespace by name, the pods by labels. */
export interface NamespacedPods {
  /** Name of the namespace (matched on its `kubernetes.io/metadata.name` label). */
  readonly namespace: string;

  /**
   * Labels the pods carry; `{}` selects every pod of the namespace.
   * @default - depends on the prop; see each one
   */
  readonly podLabels?: Readonly<Record<string, string>>;
}

/** An operator (controller) that calls into a peer's pods from its own namespace. */
export interface NetworkOperator {
  /** Key of {@link NetworkPolicySetProps.operatorNamespaces}, e.g. `cloudnative-pg`. */
  readonly name: string;
  /** Namespace the operator's own install instructions put it in. */
  readonly defaultNamespace: string;
  /** Labels of the operator's pods. */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** One group of pods of a peer, in the peer's namespace, that gets a NetworkPolicy of its own. */
export interface NetworkWorkload {
  /** Names the workload's NetworkPolicy; part of the public contract, so never a color, a version or a role. */
  readonly name: string;

  /** Selects every pod of the workload, and no other pod of the namespace. */
  readonly selector: LabelSelector;

  /**
   * Ports clients of the peer connect to on these pods; empty when clients go through another workload (e.g. a pool).
   * @default []
   */
  readonly clientPorts?: readonly NetworkPort[];

  /**
   * Ports Prometheus scrapes.
   * @default []
   */
  readonly metricsPorts?: readonly NetworkPort[];

  /**
   * Whether the pods call the Kubernetes API server (operator-managed pods that report their own state do).
   * @default false
   */
  readonly apiServer?: boolean;

  /**
   * Ports the pods reach outside the cluster on (e.g. an object store for backups).
   * @default []
   */
  readonly externalPorts?: readonly NetworkPort[];
}

/** Traffic between two workloads of one peer (replication, failover, a pool in front of a database). */
export interface NetworkInternalFlow {
  /** Name of the workload that connects. */
  readonly from: string;
  /** Name of the workload it connects to (may be `from`: pods of one workload talking to each other). */
  readonly to: string;
  readonly ports: readonly NetworkPort[];
}

/** Traffic from an operator to a workload of the peer. */
export interface NetworkOperatorFlow {
  readonly operator: NetworkOperator;
  /** Name of the workload the operator connects to. */
  readonly to: string;
  readonly ports: readonly NetworkPort[];
}

/** What a construct's pods are, from the network's point of view, and which flows they need among themselves. */
export interface NetworkPeerSpec {
  readonly workloads: readonly NetworkWorkload[];
  /** @default [] */
  readonly internalFlows?: readonly NetworkInternalFlow[];
  /** @default [] */
  readonly operatorFlows?: readonly NetworkOperatorFlow[];
}

/** A construct whose pods {@link NetworkPolicySet} can relate to others: BlueGreenApp, PostgresHA, RedisCluster. */
export interface INetworkPeer extends IConstruct {
  /** The peer's pods, ports and own flows. */
  readonly networkPeer: NetworkPeerSpec;
}

/** Where the Kubernetes API server answers, as the pods' packets see it. */
export interface ApiServerAccess {
  /**
   * Addresses of the API server's endpoints (`kubectl get endpointslices -l kubernetes.io/service-name=kubernetes`),
   * not the `kubernetes` Service's cluster IP: policies see a Service's traffic after it has been sent to an
   * endpoint. The pod and service ranges are excluded from each CIDR.
   * @default ['0.0.0.0/0'] - anywhere outside the cluster: works on every cluster; narrow it to the endpoints
   */
  readonly cidrs?: readonly string[];

  /**
   * Ports of the endpoints: 6443 on kubeadm-style control planes, 443 on most managed ones.
   * @default [NetworkPort.tcp(443), NetworkPort.tcp(6443)]
   */
  readonly ports?: readonly NetworkPort[];
}

/** Props of {@link NetworkPolicySet}. */
export interface NetworkPolicySetProps {
  /**
   * The ingress controller, which forwards to the pods themselves (not to the Service's cluster IP).
   * @default { namespace: 'ingress-nginx', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' } }
   */
  readonly ingressController?: NamespacedPods;

  /**
   * The Gateway's data plane (the proxies of the Gateway API implementation), which forwards to the pods themselves.
   * Where the proxies run depends on the implementation (Envoy Gateway's run in its own namespace, not the Gateway's),
   * and so do their labels: `{}` admits every pod of that namespace, so give labels when it is the app's own namespace.
   * @default - no Gateway: {@link NetworkPolicySet.allowGateway} refuses
   */
  readonly gateway?: NamespacedPods;

  /**
   * Prometheus, which scrapes the metrics ports.
   * @default { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } }
   */
  readonly monitoring?: NamespacedPods;

  /**
   * The cluster DNS every pod of the namespace may query, on UDP and TCP 53. CoreDNS keeps the `k8s-app: kube-dns`
   * label of its predecessor. Clusters with NodeLocal DNSCache answer on a link-local address instead: not supported.
   * @see https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
   * @default { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } }
   */
  readonly dns?: NamespacedPods;

  /**
   * Namespace of each operator, by operator name, where it is not the operator's usual one.
   * @default {} - each in its usual namespace: `cnpg-system` (cloudnative-pg), `ot-operators` (redis-operator)
   */
  readonly operatorNamespaces?: Readonly<Record<string, string>>;

  /**
   * The pod network: never "outside the cluster", so excluded from every CIDR egress may go to.
   * @default ['10.244.0.0/16'] (kubeadm with flannel, kind)
   */
  readonly podCidrs?: readonly string[];

  /**
   * The service network (cluster IPs): excluded like the pod network.
   * @default ['10.96.0.0/12'] (the kubeadm and kind default)
   */
  readonly serviceCidrs?: readonly string[];

  /**
   * Where "outside the cluster" is for {@link NetworkPolicySet.allowInternetEgress} and for peers' external ports
   * (object stores); the pod and service ranges are excluded from each.
   * @default ['0.0.0.0/0']
   */
  readonly externalCidrs?: readonly string[];

  /**
   * The Kubernetes API server, for the pods that call it (CloudNativePG instances and poolers).
   * @default { cidrs: ['0.0.0.0/0'], ports: [NetworkPort.tcp(443), NetworkPort.tcp(6443)] }
   */
  readonly apiServer?: ApiServerAccess;
}

/** Options of {@link NetworkPolicySet.allow}'s `to`. */
export interface ConnectionOptions {
  /**
   * Only these of the target's client ports (e.g. Redis without its sentinels).
   * @default - every port the target serves to clients
   */
  readonly ports?: readonly NetworkPort[];
}

/** Options of {@link NetworkPolicySet.allowInternetEgress}. */
export interface InternetEgressOptions {
  /**
   * Destination ports.
   * @default [NetworkPort.tcp(443)]
   */
  readonly ports?: readonly NetworkPort[];

  /**
   * Destinations, e.g. a partner's range; the pod and service ranges are excluded from each.
   * @default NetworkPolicySetProps.externalCidrs
   */
  readonly cidrs?: readonly string[];
}

/** Options of {@link NetworkPolicySet.allowPrometheusQuery}. */
export interface PrometheusQueryOptions {
  /**
   * Port of the Prometheus pods' HTTP API: the pod's port, which a Service in front of it may map from another one.
   * @default NetworkPort.tcp(9090)
   */
  readonly port?: NetworkPort;
}

/** The source side of {@link NetworkPolicySet.allow}: say where it may connect. */
export class NetworkConnection {
  /** @internal use {@link NetworkPolicySet.allow} */
  public constructor(private readonly connect: (target: INetworkPeer, options: ConnectionOptions) => ApiObject[]) {}

  /**
   * Lets every pod of the source connect to the target's client ports (the source's egress and the target's ingress).
   * @returns the policies that carry the flow
   */
  public to(target: INetworkPeer, options: ConnectionOptions = {}): ApiObject[] {
    return this.connect(target, options);
  }
}

const DEFAULT_INGRESS_CONTROLLER = {
  namespace: 'ingress-nginx',
  podLabels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
};
const DEFAULT_MONITORING = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } };
const DEFAULT_DNS = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };
const DNS_PORTS = [NetworkPort.udp(53), NetworkPort.tcp(53)];
const POLICY_LABELS = { 'app.kubernetes.io/managed-by': 'cutover', 'app.kubernetes.io/component': 'network-policy' };

/**
 * The network policies of one namespace: default deny for ingress and egress, DNS for every pod, then exactly the
 * flows declared as relationships between constructs:
 *
 * ```ts
 * const policies = new NetworkPolicySet(chart, 'network', {});
 * policies.allow(app).to(postgres);
 * policies.allow(app).to(redis);
 * policies.allowIngressController(app);
 * policies.allowMonitoring(app, postgres, redis);
 * policies.allowInternetEgress(app, { ports: [NetworkPort.tcp(443)] });
 * ```
 *
 * A peer named in any relationship also gets the flows it needs by itself (its operator, replication between its
 * pods, the API server, an object store); {@link NetworkPolicySet.add} does only that. Each workload of a peer has one policy, named
 * after it, that lists everything its pods accept and send, so a relationship adds rules and never objects, and a
 * cutover (which changes no pod label) changes no policy. Policies select pods by the labels their operators
 * set (see each construct's `networkPeer`) and other namespaces by `kubernetes.io/metadata.name`.
 *
 * Kubelet probes come from the node and are not subject to these policies on common CNIs (Calico, Cilium).
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
export class NetworkPolicySet extends Construct {
  public readonly ingressController: Required<NamespacedPods>;
  /** The Gateway's data plane; absent without the `gateway` prop. */
  public readonly gateway?: Required<NamespacedPods>;
  public readonly monitoring: Required<NamespacedPods>;
  public readonly dns: Required<NamespacedPods>;
  public readonly podCidrs: readonly string[];
  public readonly serviceCidrs: readonly string[];
  public readonly externalCidrs: readonly string[];
  public readonly apiServerCidrs: readonly string[];
  public readonly apiServerPorts: readonly NetworkPort[];
  /** Denies all ingress and egress of every pod of the namespace that no other policy allows. */
  public readonly defaultDeny: ApiObject;
  /** Lets every pod of the namespace query the cluster DNS. */
  public readonly allowDns: ApiObject;

  private readonly namespace: string | undefined;
  private readonly operatorNamespaces: Readonly<Record<string, string>>;
  private readonly clusterRanges: readonly { readonly cidr: Ipv4Cidr; readonly key: string }[];
  private readonly policies = new Map<string, WorkloadPolicy>();
  private readonly peers = new Set<INetworkPeer>();
  private readonly operatorsSeen = new Set<string>();

  public constructor(scope: Construct, id: string, props: NetworkPolicySetProps = {}) {
    super(scope, id);
    this.namespace = Chart.of(this).namespace;
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    const ingressController = problems.attempt(() => resolvePods('ingressController', props.ingressController, DEFAULT_INGRESS_CONTROLLER));
    const gateway =
      props.gateway !== undefined ? problems.attempt(() => resolvePods('gateway', props.gateway, { namespace: '', podLabels: {} })) : undefined;
    const monitoring = problems.attempt(() => resolvePods('monitoring', props.monitoring, DEFAULT_MONITORING));
    const dns = problems.attempt(() => resolvePods('dns', props.dns, DEFAULT_DNS));
    this.operatorNamespaces = { ...(props.operatorNamespaces ?? {}) };
    for (const [operator, namespace] of Object.entries(this.operatorNamespaces)) {
      problems.check(() => requireNamespace(`operatorNamespaces.${operator}`, namespace));
    }
    this.podCidrs = props.podCidrs ?? ['10.244.0.0/16'];
    this.serviceCidrs = props.serviceCidrs ?? ['10.96.0.0/12'];
    this.externalCidrs = props.externalCidrs ?? ['0.0.0.0/0'];
    this.apiServerCidrs = props.apiServer?.cidrs ?? ['0.0.0.0/0'];
    this.apiServerPorts = props.apiServer?.ports ?? [NetworkPort.tcp(443), NetworkPort.tcp(6443)];
    problems.check(
      () => requireNonEmpty('podCidrs', this.podCidrs, '["10.244.0.0/16"]'),
      () => requireNonEmpty('serviceCidrs', this.serviceCidrs, '["10.96.0.0/12"]'),
      () => requireNonEmpty('externalCidrs', this.externalCidrs, '["0.0.0.0/0"]'),
      () => requireNonEmpty('apiServer.cidrs', this.apiServerCidrs, 'the API server endpoint addresses, e.g. ["203.0.113.10/32"]'),
      () => requireNonEmpty('apiServer.ports', this.apiServerPorts, '[NetworkPort.tcp(6443)]'),
    );
    const ranges = [
      ...this.podCidrs.map((cidr, index) => problems.attempt(() => ({ cidr: parseCidr(`podCidrs[${index}]`, cidr), key: 'podCidrs' }))),
      ...this.serviceCidrs.map((cidr, index) => problems.attempt(() => ({ cidr: parseCidr(`serviceCidrs[${index}]`, cidr), key: 'serviceCidrs' }))),
    ];
    problems.throwIfAny();
    // Defined once no check refused.
    this.ingressController = ingressController as NonNullable<typeof ingressController>;
    this.gateway = gateway;
    this.monitoring = monitoring as NonNullable<typeof monitoring>;
    this.dns = dns as NonNullable<typeof dns>;
    this.clusterRanges = ranges as NonNullable<(typeof ranges)[number]>[];
    // Checked now so a bad value fails at construction, not at the first relationship that uses it.
    problems.check(
      () => this.ipBlocks('externalCidrs', this.externalCidrs),
      () => this.ipBlocks('apiServer.cidrs', this.apiServerCidrs),
    );
    problems.throwIfAny();

    const defaultDenySpec: k8s.NetworkPolicySpec = { podSelector: {}, policyTypes: ['Ingress', 'Egress'] };
    this.defaultDeny = new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: { name: 'default-deny', labels: POLICY_LABELS },
      spec: defaultDenySpec,
    });
    const dnsSpec: k8s.NetworkPolicySpec = {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [namespacedPeer(this.dns)], ports: DNS_PORTS.map(policyPort) }],
    };
    this.allowDns = new k8s.KubeNetworkPolicy(this, 'allow-dns', { metadata: { name: 'allow-dns', labels: POLICY_LABELS }, spec: dnsSpec });

    // Peers are added after construction, so names that must match one are checked when the chart is rendered.
    this.node.addValidation({
      validate: () =>
        Object.keys(this.operatorNamespaces)
          .filter((operator) => !this.operatorsSeen.has(operator))
          .map(
            (operator) =>
              `operatorNamespaces.${operator}: no peer of this set has an operator of that name, got "${operator}"; ` +
              `use one of ${
                this.operatorsSeen.size > 0 ? [...this.operatorsSeen].map((name) => `"${name}"`).join(', ') : '(none: no peer needs an operator)'
              }`,
          ),
    });
  }

  /**
   * Starts a relationship: `policies.allow(app).to(postgres)`.
   * @param source the peer whose pods connect
   */
  public allow(source: INetworkPeer): NetworkConnection {
    return new NetworkConnection((target, options) => this.connect(source, target, options));
  }

  /**
   * Lets the ingress controller reach the peer's client ports (for BlueGreenApp, the HTTP port of both colors).
   * @returns the policies that carry the flow
   */
  public allowIngressController(target: INetworkPeer): ApiObject[] {
    const workloads = clientWorkloads(target);
    this.add(target);
    for (const workload of workloads) {
      this.policy(workload).ingress.add([namespacedPeer(this.ingressController)], workload.clientPorts ?? []);
    }
    return workloads.map((workload) => this.policy(workload).object);
  }

  /**
   * Lets the Gateway's data plane reach the peer's client ports (for BlueGreenApp, the HTTP port of both colors).
   * @returns the policies that carry the flow
   */
  public allowGateway(target: INetworkPeer): ApiObject[] {
    const gateway = this.gateway;
    if (gateway === undefined) {
      throw new Error(
        "gateway: the Gateway's data plane is not set, got none; " +
          'set the gateway prop (the namespace and labels of its proxies) before allowing traffic from it',
      );
    }
    const workloads = clientWorkloads(target);
    this.add(target);
    for (const workload of workloads) {
      this.policy(workload).ingress.add([namespacedPeer(gateway)], workload.clientPorts ?? []);
    }
    return workloads.map((workload) => this.policy(workload).object);
  }

  /**
   * Lets Prometheus scrape the metrics ports of every workload of each peer.
   * @returns the policies that carry the flows
   */
  public allowMonitoring(...targets: INetworkPeer[]): ApiObject[] {
    if (targets.length === 0) {
      throw new Error('allowMonitoring: needs at least one peer, got none; e.g. policies.allowMonitoring(app, postgres)');
    }
    const touched: ApiObject[] = [];
    const scraped = targets.map((target) => {
      const workloads = target.networkPeer.workloads.filter((workload) => (workload.metricsPorts ?? []).length > 0);
      if (workloads.length === 0) {
        throw new Error(`allowMonitoring: ${target.node.path} exposes no metrics port, got none; turn its monitoring on or leave it out`);
      }
      return { target, workloads };
    });
    for (const { target, workloads } of scraped) {
      this.add(target);
      for (const workload of workloads) {
        this.policy(workload).ingress.add([namespacedPeer(this.monitoring)], workload.metricsPorts ?? []);
        touched.push(this.policy(workload).object);
      }
    }
    return unique(touched);
  }

  /**
   * Lets every pod of the peer query Prometheus's HTTP API: egress to the {@link monitoring} pods on `options.port` (e.g. for
   * a MetricGate). The other half, ingress to Prometheus from this namespace, belongs to the monitoring namespace's
   * own policies, if it has any.
   * @returns the policies that carry the flow
   */
  public allowPrometheusQuery(source: INetworkPeer, options: PrometheusQueryOptions = {}): ApiObject[] {
    const port = options.port ?? NetworkPort.tcp(9090);
    this.add(source);
    for (const workload of source.networkPeer.workloads) {
      this.policy(workload).egress.add([namespacedPeer(this.monitoring)], [port]);
    }
    return source.networkPeer.workloads.map((workload) => this.policy(workload).object);
  }

  /**
   * Lets every pod of the peer connect outside the cluster on the given ports (HTTPS by default). The pod and
   * service ranges are always excluded, so this never opens a path to another pod.
   * @returns the policies that carry the flow
   */
  public allowInternetEgress(source: INetworkPeer, options: InternetEgressOptions = {}): ApiObject[] {
    const ports = options.ports ?? [NetworkPort.tcp(443)];
    requireNonEmpty('allowInternetEgress ports', ports, '[NetworkPort.tcp(443)]');
    const blocks = this.ipBlocks('allowInternetEgress cidrs', options.cidrs ?? this.externalCidrs);
    this.add(source);
    for (const workload of source.networkPeer.workloads) {
      this.policy(workload).egress.add(blocks, ports);
    }
    return source.networkPeer.workloads.map((workload) => this.policy(workload).object);
  }

  /**
   * Takes a peer in with only the flows it needs by itself (its operator, its internal traffic, the API server,
   * external ports). Every relationship calls it; call it for a peer nothing else connects to.
   * @returns the peer's policies
   */
  public add(peer: INetworkPeer): ApiObject[] {
    const spec = peer.networkPeer;
    if (this.peers.has(peer)) {
      return spec.workloads.map((workload) => this.policy(workload).object);
    }
    const peerNamespace = Chart.of(peer).namespace;
    if (peerNamespace !== this.namespace) {
      throw new Error(
        `${peer.node.path}: is in namespace ${peerNamespace ?? '(none)'}, got it in a NetworkPolicySet of namespace ${this.namespace ?? '(none)'}; ` +
          'a set selects only pods of its own namespace, so give each namespace its own NetworkPolicySet',
      );
    }
    const byName = new Map(spec.workloads.map((workload) => [workload.name, workload]));
    const workload = (name: string, field: string): NetworkWorkload => {
      const found = byName.get(name);
      if (found === undefined) {
        throw new Error(`${peer.node.path}: ${field} names no workload of the peer, got "${name}"; use one of ${[...byName.keys()].join(', ')}`);
      }
      return found;
    };
    for (const item of spec.workloads) {
      const existing = this.policies.get(item.name);
      if (existing !== undefined) {
        throw new Error(
          `${peer.node.path}: workload name is already used by ${existing.peer.node.path}, got "${item.name}"; ` +
            "each workload's policy is named after it, so give the constructs different names",
        );
      }
      if (item.name === 'default-deny' || item.name === 'allow-dns') {
        throw new Error(`${peer.node.path}: workload name is reserved for a policy of the set, got "${item.name}"; rename the construct`);
      }
    }
    const internalFlows = (spec.internalFlows ?? []).map((flow) => ({
      from: workload(flow.from, 'internalFlows.from'),
      to: workload(flow.to, 'internalFlows.to'),
      ports: flow.ports,
    }));
    const operatorFlows = (spec.operatorFlows ?? []).map((flow) => ({ ...flow, to: workload(flow.to, 'operatorFlows.to') }));

    for (const item of spec.workloads) {
      this.policies.set(item.name, this.createPolicy(peer, item));
      if (item.apiServer === true) {
        this.policy(item).egress.add(this.ipBlocks('apiServer.cidrs', this.apiServerCidrs), this.apiServerPorts);
      }
      if ((item.externalPorts ?? []).length > 0) {
        this.policy(item).egress.add(this.ipBlocks('externalCidrs', this.externalCidrs), item.externalPorts ?? []);
      }
    }
    for (const { from, to, ports } of internalFlows) {
      this.policy(from).egress.add([{ podSelector: selector(to.selector) }], ports);
      this.policy(to).ingress.add([{ podSelector: selector(from.selector) }], ports);
    }
    for (const { operator, to, ports } of operatorFlows) {
      this.operatorsSeen.add(operator.name);
      const namespace = this.operatorNamespaces[operator.name] ?? operator.defaultNamespace;
      this.policy(to).ingress.add([namespacedPeer({ namespace, podLabels: operator.podLabels })], ports);
    }
    this.peers.add(peer);
    return spec.workloads.map((item) => this.policy(item).object);
  }

  private connect(source: INetworkPeer, target: INetworkPeer, options: ConnectionOptions): ApiObject[] {
    const targets = clientWorkloads(target);
    const served = targets.flatMap((workload) => workload.clientPorts ?? []);
    for (const port of options.ports ?? []) {
      if (!served.some((other) => samePort(other, port))) {
        throw new Error(
          `ports: ${target.node.path} serves no client on ${String(port)}, got ${String(port)}; ` +
            `use some of ${unique(served.map(String)).join(', ')} or leave ports out`,
        );
      }
    }
    this.add(source);
    this.add(target);
    const touched: ApiObject[] = [];
    for (const to of targets) {
      const ports = (to.clientPorts ?? []).filter((port) => options.ports === undefined || options.ports.some((wanted) => samePort(wanted, port)));
      if (ports.length === 0) {
        continue;
      }
      for (const from of source.networkPeer.workloads) {
        this.policy(from).egress.add([{ podSelector: selector(to.selector) }], ports);
        this.policy(to).ingress.add([{ podSelector: selector(from.selector) }], ports);
        touched.push(this.policy(from).object, this.policy(to).object);
      }
    }
    return unique(touched);
  }

  private policy(workload: NetworkWorkload): WorkloadPolicy {
    const found = this.policies.get(workload.name);
    if (found === undefined) {
      throw new Error(`internal: no policy for workload "${workload.name}"`);
    }
    return found;
  }

  private createPolicy(peer: INetworkPeer, workload: NetworkWorkload): WorkloadPolicy {
    const ingress = new RuleBook();
    const egress = new RuleBook();
    // Resolved at synthesis, once every relationship has added its rules.
    const spec = Lazy.any({
      produce: () => {
        const rendered: k8s.NetworkPolicySpec = {
          podSelector: selector(workload.selector),
          // Both types even when a list is empty: the policy alone then still means "only these flows".
          policyTypes: ['Ingress', 'Egress'],
          ...(ingress.size > 0 ? { ingress: ingress.rules().map(({ peers, ports }) => ({ from: peers, ports })) } : {}),
          ...(egress.size > 0 ? { egress: egress.rules().map(({ peers, ports }) => ({ to: peers, ports })) } : {}),
        };
        return rendered;
      },
    }) as k8s.NetworkPolicySpec;
    const object = new k8s.KubeNetworkPolicy(this, workload.name, { metadata: { name: workload.name, labels: POLICY_LABELS }, spec });
    return { peer, object, ingress, egress };
  }

  /** The CIDRs as ipBlocks, each without the pod and service ranges it contains. */
  private ipBlocks(key: string, cidrs: readonly string[]): k8s.NetworkPolicyPeer[] {
    requireNonEmpty(key, cidrs, '["0.0.0.0/0"]');
    return cidrs.map((text, index) => {
      const cidr = parseCidr(`${key}[${index}]`, text);
      const inside = this.clusterRanges.find((range) => contains(range.cidr, cidr));
      if (inside !== undefined) {
        const hint =
          key === 'apiServer.cidrs' && inside.key === 'serviceCidrs'
            ? 'policies see the API server endpoints, not the kubernetes Service: ' +
              'use the addresses of `kubectl get endpointslices -l kubernetes.io/service-name=kubernetes`'
            : `it is inside the cluster, not outside it: relate pods with allow(...).to(...), or correct ${inside.key}`;
        throw new Error(`${key}[${index}]: lies inside the cluster range ${inside.cidr.text} (${inside.key}), got "${text}"; ${hint}`);
      }
      const within = [
        ...new Map(this.clusterRanges.filter((range) => contains(cidr, range.cidr)).map((range) => [range.cidr.text, range.cidr])).values(),
      ];
      // A range inside another excluded range adds nothing.
      const excluded = within.filter((range) => !within.some((other) => other !== range && contains(other, range)));
      return { ipBlock: { cidr: cidr.text, ...(excluded.length > 0 ? { except: excluded.map((range) => range.text) } : {}) } };
    });
  }
}

interface WorkloadPolicy {
  readonly peer: INetworkPeer;
  readonly object: ApiObject;
  readonly ingress: RuleBook;
  readonly egress: RuleBook;
}

/** Rules of one direction of a policy: one rule per set of peers, in the order first given, with its ports merged and sorted. */
class RuleBook {
  private readonly byPeers = new Map<string, { readonly peers: k8s.NetworkPolicyPeer[]; readonly ports: Map<string, NetworkPort> }>();

  public get size(): number {
    return this.byPeers.size;
  }

  public add(peers: k8s.NetworkPolicyPeer[], ports: readonly NetworkPort[]): void {
    const key = JSON.stringify(peers);
    const rule = this.byPeers.get(key) ?? { peers, ports: new Map<string, NetworkPort>() };
    for (const port of ports) {
      rule.ports.set(port.toString(), port);
    }
    this.byPeers.set(key, rule);
  }

  public rules(): { peers: k8s.NetworkPolicyPeer[]; ports: k8s.NetworkPolicyPort[] }[] {
    return [...this.byPeers.values()].map(({ peers, ports }) => ({
      peers,
      ports: [...ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)).map(policyPort),
    }));
  }
}

function policyPort(port: NetworkPort): k8s.NetworkPolicyPort {
  return { protocol: port.protocol, port: k8s.IntOrString.fromNumber(port.port) };
}

function selector(labels: LabelSelector): k8s.LabelSelector {
  return {
    ...(labels.matchLabels !== undefined ? { matchLabels: { ...labels.matchLabels } } : {}),
    ...(labels.matchExpressions !== undefined
      ? {
          matchExpressions: labels.matchExpressions.map((expression) => ({
            key: expression.key,
            operator: expression.operator,
            values: expression.values && [...expression.values],
          })),
        }
      : {}),
  };
}

function namespacedPeer(pods: Required<NamespacedPods>): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: pods.namespace } },
    podSelector: Object.keys(pods.podLabels).length > 0 ? { matchLabels: { ...pods.podLabels } } : {},
  };
}

function clientWorkloads(peer: INetworkPeer): NetworkWorkload[] {
  const workloads = peer.networkPeer.workloads.filter((workload) => (workload.clientPorts ?? []).length > 0);
  if (workloads.length === 0) {
    throw new Error(`${peer.node.path}: serves no client port, got none; it cannot be the target of a connection`);
  }
  return workloads;
}

function samePort(a: NetworkPort, b: NetworkPort): boolean {
  return a.port === b.port && a.protocol === b.protocol;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function resolvePods(key: string, pods: NamespacedPods | undefined, defaults: Required<NamespacedPods>): Required<NamespacedPods> {
  const resolved = { namespace: pods?.namespace ?? defaults.namespace, podLabels: { ...(pods?.podLabels ?? defaults.podLabels) } };
  requireNamespace(`${key}.namespace`, resolved.namespace);
  for (const [label, value] of Object.entries(resolved.podLabels)) {
    requireLabel(`${key}.podLabels`, label, value);
  }
  return resolved;
}

function requireNamespace(key: string, namespace: string): void {
  if (!isDnsLabel(namespace)) {
    throw new Error(`${key}: is not a namespace name (a lowercase DNS label), got "${namespace}"; e.g. "monitoring"`);
  }
}

function requireLabel(key: string, label: string, value: string): void {
  if (!isLabelKey(label) || !isLabelValue(value)) {
    throw new Error(`${key}: is not a valid label, got ${JSON.stringify({ [label]: value })}; e.g. { "app.kubernetes.io/name": "prometheus" }`);
  }
}

function requireNonEmpty(key: string, values: readonly unknown[], example: string): void {
  if (values.length === 0) {
    throw new Error(`${key}: must not be empty, got []; e.g. ${example}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// IPv4 CIDRs
// ---------------------------------------------------------------------------------------------------------------

interface Ipv4Cidr {
  readonly text: string;
  /** Network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` and insists on the network address, as the API server's CIDR validation does. */
function parseCidr(key: string, text: string): Ipv4Cidr {
  if (text.includes(':')) {
    throw new Error(`${key}: only IPv4 CIDRs are supported, got "${text}"; use an IPv4 range such as "203.0.113.0/24"`);
  }
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text);
  const octets = match === null ? [] : match.slice(1, 5).map(Number);
  if (match === null || octets.some((octet) => octet > 255)) {
    throw new Error(`${key}: is not an IPv4 CIDR, got "${text}"; use address/prefix, e.g. "203.0.113.0/24"`);
  }
  if (match[5] === undefined) {
    throw new Error(`${key}: CIDR mask is missing, got "${text}"; did you mean "${text}/32"?`);
  }
  const prefix = Number(match[5]);
  if (prefix > 32) {
    throw new Error(`${key}: prefix length must be 0 to 32, got "${text}"; e.g. "${octets.join('.')}/32"`);
  }
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  const base = (address & mask(prefix)) >>> 0;
  if (base !== address) {
    const network = [24, 16, 8, 0].map((shift) => (base >>> shift) & 255).join('.');
    throw new Error(`${key}: has host bits set, got "${text}"; use the network address "${network}/${prefix}"`);
  }
  return { text, base, prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Whether `outer` contains every address of `inner` (a range contains itself). */
function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return outer.prefix <= inner.prefix && (inner.base & mask(outer.prefix)) >>> 0 === outer.base;
}
