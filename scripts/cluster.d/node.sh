# shellcheck shell=bash
# scripts/cluster.d/node.sh — the local cluster's real node, sourced by scripts/cluster.
#
# Next to kwok's three simulated nodes (scheduling across zones, scale), one node runs real containers:
# Debian's containerd and runc, the CNI bridge plugin, kubelet and kube-proxy (iptables mode) built by
# scripts/toolchain at the control plane's version, and CoreDNS as a host process answering cluster names.
# Images are built locally (scripts/images) and imported into this containerd: nothing is pulled.
#
# The node is tainted (cutover.dev/real-node=true:NoSchedule) and labelled (cutover.dev/node-pool=real), so only
# stacks that ask for it land there (config key `scheduling`, docs/configuration.md) and stacks made for the
# simulated nodes are not disturbed.
#
# Everything lives under $NODE_DIR; what cannot (iptables chains, the bridge, cgroups, the kubelet's few
# hard-coded paths, two sysctls) is recorded and undone by node_down, which also recovers from a killed `up`.
#
# Addresses: pods get 10.88.0.0/16 on the bridge cutover0, whose own address 10.88.0.1 is the node's IP, the
# kubelet's and CoreDNS's listen address; Services get ClusterIPs from 10.0.0.0/16 (scripts/cluster sets the API
# server's range: its default /24 holds 254 Services). Every address is on this machine, in network namespaces this script's containerd made.

NODE_NAME=cutover-node-real
NODE_BRIDGE=cutover0
NODE_IP=10.88.0.1
POD_SUBNET=10.88.0.0/16
NODE_TAINT_KEY=cutover.dev/real-node
NODE_POOL_LABEL=cutover.dev/node-pool
# Paths the kubelet (device plugins, container log links) and containerd's shims (their sockets, /run/containerd/s)
# write whatever their configuration: removed by node_down when node_up created them.
HOST_FIXED_PATHS=(/var/lib/kubelet /var/log/containers /var/log/pods /run/containerd)
# Built by scripts/images and imported into the node's containerd by node_up.
PAUSE_IMAGE=cutover.local/pause:1
PROBE_IMAGE=cutover.local/example-app:1.0.0
# What a Debian system needs for the node; scripts/system-packages installs them.
NODE_COMMANDS=(containerd runc ctr iptables conntrack umoci skopeo dig)

node_paths() {
  NODE_DIR="$CLUSTER_DIR/node"
  NODE_LOGS="$NODE_DIR/logs"
  NODE_RUN="$NODE_DIR/run"
  CONTAINERD_SOCK="$NODE_DIR/containerd/containerd.sock"
}

node_log() { printf '[cluster] node: %s\n' "$*" >&2; }

node_preflight() {
  ((EUID == 0)) || die "the real node needs root (containerd, the kubelet, iptables); run as root, or set CUTOVER_REAL_NODE=0 for simulated nodes only"
  local cmd missing=()
  for cmd in "${NODE_COMMANDS[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done
  ((${#missing[@]} == 0)) || die "missing ${missing[*]} for the real node: run scripts/system-packages"
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || die "no CNI plugins in /usr/lib/cni: run scripts/system-packages"
  for cmd in kubelet kube-proxy coredns; do command -v "$cmd" >/dev/null 2>&1 || die "$cmd not in the toolchain: run scripts/toolchain install"; done
}

# Process control: one pid file per daemon under $NODE_RUN.
node_pid_alive() { local f="$NODE_RUN/$1.pid"; [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

node_start() { # name command...
  local name=$1
  shift
  if node_pid_alive "$name"; then return 0; fi
  mkdir -p "$NODE_RUN" "$NODE_LOGS"
  setsid "$@" </dev/null >>"$NODE_LOGS/$name.log" 2>&1 &
  echo $! >"$NODE_RUN/$name.pid"
}

node_stop() { # name
  local f="$NODE_RUN/$1.pid" pid i
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

node_wait() { # what seconds command...
  local what=$1 seconds=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS - start < seconds)) || die "$what did not come up within ${seconds}s (logs: $NODE_LOGS)"
    sleep 0.5
  done
}

# sysctl key value: set it, remembering the value it had the first time (node_down restores it).
node_sysctl() {
  local key=$1 value=$2 file="/proc/sys/${1//.//}" saved="$NODE_DIR/sysctl.saved"
  [[ -f $file ]] || die "sysctl $key does not exist (is br_netfilter loaded? modprobe br_netfilter)"
  grep -q "^$key=" "$saved" 2>/dev/null || echo "$key=$(cat "$file")" >>"$saved"
  echo "$value" >"$file"
}

# Writes stdin to a file only when it changes it: kube-proxy exits when its configuration file is written to, even
# with the same content, and an `up` of a running cluster must not restart anything.
node_write() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

node_write_configs() {
  local admin_kubeconfig=$1
  mkdir -p "$NODE_DIR"/{containerd,runc,cni/net.d,cni/ipam,kubelet,kube-proxy,coredns,pod-logs,volume-plugins}
  node_write "$NODE_DIR/containerd/config.toml" <<EOF
# Written by scripts/cluster: a containerd of the local cluster's own (root, state, socket, CNI config).
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower a container's oom_score_adj below its own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$NODE_DIR/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
EOF
  node_write "$NODE_DIR/cni/net.d/10-cutover.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "cutover",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_SUBNET", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
  # Pods resolve cluster names only: the host's resolvers are not theirs.
  printf 'nameserver %s\n' "$NODE_IP" | node_write "$NODE_DIR/kubelet/resolv.conf"
  node_write "$NODE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1; Kubernetes 1.35+ refuses it unless told. containerd 1.6 lacks the CRI
# RuntimeConfig call, so the kubelet uses this driver (cgroupfs) as configured.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# The API server (kwokctl) calls the kubelet without a client certificate: local cluster only.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $NODE_DIR/kubelet/resolv.conf
podLogsDirectory: $NODE_DIR/pod-logs
volumePluginDir: $NODE_DIR/volume-plugins
failSwapOn: false
oomScoreAdj: 0
# Locally imported images cannot be pulled again: never garbage-collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
registerWithTaints:
- {key: $NODE_TAINT_KEY, value: "true", effect: NoSchedule}
serializeImagePulls: false
shutdownGracePeriod: 0s
EOF
  node_write "$NODE_DIR/kube-proxy/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $admin_kubeconfig}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_SUBNET
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
# See restrict_oom_score_adj above.
oomScoreAdj: 0
# Leave the host's conntrack table size alone.
conntrack: {maxPerCore: 0, min: 0}
iptables: {localhostNodePorts: false}
EOF
  node_write "$NODE_DIR/coredns/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:10054
    ready 127.0.0.1:10055
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $admin_kubeconfig
        pods insecure
    }
    cache 5
}
EOF
}

# Bring the real node up (idempotent): runtime, network, DNS, kubelet, kube-proxy; then the images.
node_up() {
  local admin_kubeconfig=$1
  node_paths
  node_preflight
  if [[ -d $NODE_DIR ]] && ! node_pid_alive kubelet; then
    node_log "a node from an earlier run is not running: cleaning it up first"
    node_down "$admin_kubeconfig"
  fi
  mkdir -p "$NODE_DIR"
  local path
  for path in "${HOST_FIXED_PATHS[@]}"; do
    [[ -e $path || -e "$NODE_DIR/created$(echo "$path" | tr / _)" ]] || : >"$NODE_DIR/created$(echo "$path" | tr / _)"
  done
  node_write_configs "$admin_kubeconfig"

  # The pod network's bridge exists before the kubelet starts: its address is the node's IP.
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/16" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  modprobe br_netfilter 2>/dev/null || true
  # Pod -> ClusterIP -> pod on the same bridge must pass through iptables (kube-proxy's DNAT), and be forwarded.
  node_sysctl net.ipv4.ip_forward 1
  node_sysctl net.bridge.bridge-nf-call-iptables 1

  node_pid_alive containerd || node_log "starting containerd $(containerd --version | awk '{print $3}') (socket $CONTAINERD_SOCK)"
  node_start containerd containerd --config "$NODE_DIR/containerd/config.toml"
  node_wait containerd 60 ctr --address "$CONTAINERD_SOCK" version
  "$SCRIPT_DIR/images" import --address "$CONTAINERD_SOCK"

  node_pid_alive coredns || node_log "starting CoreDNS on $NODE_IP:53"
  node_start coredns coredns -conf "$NODE_DIR/coredns/Corefile"
  node_wait CoreDNS 60 curl -fsS http://127.0.0.1:10055/ready

  node_pid_alive kubelet || node_log "starting kubelet $(kubelet --version | awk '{print $2}') as node $NODE_NAME"
  node_start kubelet kubelet --config "$NODE_DIR/kubelet/config.yaml" --kubeconfig "$admin_kubeconfig" \
    --root-dir "$NODE_DIR/kubelet/root" --cert-dir "$NODE_DIR/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --node-labels "$NODE_POOL_LABEL=real,topology.kubernetes.io/zone=zone-real,topology.kubernetes.io/region=local"
  node_pid_alive kube-proxy || node_log "starting kube-proxy (iptables mode)"
  node_start kube-proxy kube-proxy --config "$NODE_DIR/kube-proxy/config.yaml"

  local k=(kubectl --kubeconfig "$admin_kubeconfig")
  node_wait "node $NODE_NAME" 120 "${k[@]}" get node "$NODE_NAME"
  "${k[@]}" wait --for=condition=Ready node "$NODE_NAME" --timeout=120s >&2 ||
    die "node $NODE_NAME did not become Ready (kubelet log: $NODE_LOGS/kubelet.log)"
  node_wait kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz
}

# A pod on the real node answers HTTP through its Service's ClusterIP from the host, and resolves a cluster
# name through CoreDNS: what the real-traffic tests rely on.
node_check() {
  local admin_kubeconfig=$1 ns=cutover-node-check start=$SECONDS ip i out
  local k=(kubectl --kubeconfig "$admin_kubeconfig")
  "${k[@]}" delete namespace "$ns" --ignore-not-found --wait --timeout=120s >/dev/null
  "${k[@]}" create namespace "$ns" >/dev/null
  "${k[@]}" label namespace "$ns" pod-security.kubernetes.io/enforce=restricted >/dev/null
  "${k[@]}" -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: probe}
spec:
  replicas: 1
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      nodeSelector: {$NODE_POOL_LABEL: real}
      tolerations: [{key: $NODE_TAINT_KEY, operator: Exists, effect: NoSchedule}]
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: $PROBE_IMAGE
        imagePullPolicy: Never
        env: [{name: CUTOVER_COLOR, value: blue}]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: probe}
spec:
  selector: {app: probe}
  ports: [{port: 80, targetPort: http}]
YAML
  if ! "${k[@]}" -n "$ns" rollout status deployment probe --timeout=180s >/dev/null; then
    "${k[@]}" -n "$ns" get pods,events -o wide >&2 || true
    die "a probe pod on the real node did not become ready within 180s (events above; logs: $NODE_LOGS)"
  fi
  ip=$("${k[@]}" -n "$ns" get service probe -o jsonpath='{.spec.clusterIP}')
  for i in $(seq 1 40); do
    out=$(curl -fsS --max-time 2 "http://$ip/" 2>/dev/null) && break
    sleep 0.5
  done
  [[ $out == *'"color":"blue"'* ]] || die "the probe Service's ClusterIP $ip did not answer HTTP from the host (got: ${out:-nothing}; kube-proxy log: $NODE_LOGS/kube-proxy.log)"
  out=$(dig +short +time=2 +tries=3 "@$NODE_IP" "probe.$ns.svc.cluster.local" 2>/dev/null || true)
  [[ $out == "$ip" ]] || die "CoreDNS did not resolve probe.$ns.svc.cluster.local to $ip (got: ${out:-nothing}; log: $NODE_LOGS/coredns.log)"
  gateway_check "$admin_kubeconfig" "$ns"
  "${k[@]}" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  node_log "a real pod answered HTTP through its ClusterIP ($ip) and the Gateway, and CoreDNS resolved its name, $((SECONDS - start))s"
}

# Stop everything node_up started and remove every trace of it from the host. Safe to run at any point,
# including after a killed `up` or with the control plane already gone.
node_down() {
  local admin_kubeconfig=${1-}
  node_paths
  [[ -d $NODE_DIR ]] || return 0
  node_log "stopping the real node"
  # Let the kubelet tear the pods down (CNI DEL removes their network namespaces and veths).
  if [[ -n $admin_kubeconfig && -f $admin_kubeconfig ]] && node_pid_alive kubelet &&
    kubectl --kubeconfig "$admin_kubeconfig" --request-timeout=5s get node "$NODE_NAME" >/dev/null 2>&1; then
    kubectl --kubeconfig "$admin_kubeconfig" delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" \
      --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 60); do
      [[ -z $(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null) ]] && break
      sleep 0.5
    done
    kubectl --kubeconfig "$admin_kubeconfig" delete node "$NODE_NAME" --wait=false >/dev/null 2>&1 || true
  fi
  node_stop traefik
  node_stop kube-proxy
  node_stop kubelet
  node_stop coredns
  # Whatever the kubelet left: stop the tasks and sandboxes through containerd, which calls CNI DEL.
  if node_pid_alive containerd; then
    local c
    for c in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
    done
  fi
  node_stop containerd
  # Shims outlive containerd; so may containers whose shim was killed.
  pkill -9 -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
  if [[ -d $NODE_DIR/runc ]]; then
    local id
    for id in $(runc --root "$NODE_DIR/runc" list -q 2>/dev/null); do runc --root "$NODE_DIR/runc" delete --force "$id" >/dev/null 2>&1 || true; done
  fi
  kube-proxy --cleanup >/dev/null 2>&1 || true
  node_cleanup_iptables
  # Network namespaces of pods whose sandbox was not torn down, and their mounts.
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    if [[ -n $(ip netns exec "$ns" ip -o addr show 2>/dev/null | grep -F " ${POD_SUBNET%.*.*}.") ]]; then ip netns delete "$ns" 2>/dev/null || true; fi
  done
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v d="$NODE_DIR" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && ip link delete "$NODE_BRIDGE"
  node_cleanup_cgroups
  if [[ -f $NODE_DIR/sysctl.saved ]]; then
    local line
    while IFS= read -r line; do echo "${line#*=}" >"/proc/sys/$(echo "${line%%=*}" | tr . /)" 2>/dev/null || true; done <"$NODE_DIR/sysctl.saved"
  fi
  local path
  for path in "${HOST_FIXED_PATHS[@]}"; do
    [[ -e "$NODE_DIR/created$(echo "$path" | tr / _)" ]] && rm -rf "$path"
  done
  rm -rf "$NODE_DIR"
}

# The chains the kubelet and kube-proxy made (KUBE-*), in every table, after `kube-proxy --cleanup`.
node_cleanup_iptables() {
  local cmd table chain rule
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null 2>&1 || continue
    for table in filter nat mangle raw; do
      # Rules of built-in chains that jump to our chains first, then the chains themselves.
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule is a list of iptables arguments
        "$cmd" -t "$table" ${rule/-A /-D } 2>/dev/null || true
      done < <("$cmd" -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' || true)
      for chain in $("$cmd" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$cmd" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

# The kubelet's cgroup tree (cgroupfs driver: /kubepods under each v1 controller), deepest first.
node_cleanup_cgroups() {
  local controller dir
  for controller in /sys/fs/cgroup/*/; do
    [[ -d ${controller}kubepods ]] || continue
    while read -r dir; do rmdir "$dir" 2>/dev/null || true; done < <(find "${controller}kubepods" -depth -type d 2>/dev/null)
  done
}

# What is left of the node on the host (for `scripts/cluster status` and the tests of `down`).
# What of this cluster's real node is still on the host. With `own`, only what lives under its own directory: the
# bridge, iptables chains and cgroups are the host's, and belong to the real node of another cluster when one runs.
node_leftovers() {
  local scope=${1-all}
  node_paths
  local out=()
  [[ -d $NODE_DIR ]] && out+=("directory $NODE_DIR")
  # Ours only: every daemon and shim of the node has a path under $NODE_DIR on its command line.
  pgrep -f "$NODE_DIR" >/dev/null 2>&1 && out+=("processes: $(pgrep -f "$NODE_DIR" | tr '\n' ' ')")
  awk -v d="$NODE_DIR" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts && out+=("mounts under $NODE_DIR")
  if [[ $scope == own ]]; then
    printf '%s\n' "${out[@]}"
    return
  fi
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && out+=("interface $NODE_BRIDGE")
  ip -o link show type veth 2>/dev/null | grep -q "master $NODE_BRIDGE" && out+=("veth interfaces on $NODE_BRIDGE")
  iptables-save 2>/dev/null | grep -q -- '-N KUBE-\|:KUBE-' && out+=("iptables KUBE-* chains")
  compgen -G "/sys/fs/cgroup/*/kubepods" >/dev/null && out+=("cgroups /sys/fs/cgroup/*/kubepods")
  printf '%s\n' "${out[@]}"
}
