# shellcheck shell=bash
# scripts/cluster.d/gateway.sh — the local cluster's Gateway, sourced by scripts/cluster (with the real node).
#
# Traefik (built by scripts/toolchain) runs on the host as the Gateway API implementation: its Kubernetes Gateway
# provider watches the API server with the admin kubeconfig and sends requests straight to the pods' addresses on
# the real node's bridge, as an in-cluster proxy would. The platform's side of the edge, as a platform team would
# run it for the stacks (docs/routing.md):
#   GatewayClass traefik (controllerName traefik.io/gateway-controller),
#   Gateway gateway-system/public: listener `http` on 127.0.0.1:18080 and `https` on 127.0.0.1:18443 (TLS
#   terminated with a self-signed certificate made here, also Traefik's default certificate, so it is served for
#   every host), both admitting HTTPRoutes from every namespace.
# The stacks of scripts/local.ts attach to it (routing.gateway public/gateway-system). Listener ports are Traefik's
# entry points' (Traefik's rule), above 1024 and on loopback, so nothing else on the machine is disturbed.
# The Gateway API CRDs are the vendored standard channel (test/crds/gateway-api, scripts/vendor-crds).

GATEWAY_NAMESPACE=gateway-system
GATEWAY_NAME=public
GATEWAY_CLASS=traefik
GATEWAY_HTTP_PORT=18080
GATEWAY_HTTPS_PORT=18443
# Traefik's own entry point: /ping.
GATEWAY_ADMIN_PORT=18081
GATEWAY_CRDS="$SCRIPT_DIR/../test/crds/gateway-api"

gateway_log() { printf '[cluster] gateway: %s\n' "$*" >&2; }

gateway_up() {
  local admin_kubeconfig=$1
  node_paths
  command -v traefik >/dev/null 2>&1 || die "traefik not in the toolchain: run scripts/toolchain install"
  command -v openssl >/dev/null 2>&1 || die "openssl is missing (the Gateway's certificate): run scripts/system-packages"
  local k=(kubectl --kubeconfig "$admin_kubeconfig") dir="$NODE_DIR/gateway" file names=()
  mkdir -p "$dir"
  for file in "$GATEWAY_CRDS"/*.yaml; do
    "${k[@]}" apply --server-side -f "$file" >/dev/null
    # gateway.networking.k8s.io_httproutes.yaml holds httproutes.gateway.networking.k8s.io
    file=${file##*/}
    file=${file%.yaml}
    names+=("crd/${file#*_}.${file%%_*}")
  done
  "${k[@]}" wait --for=condition=Established "${names[@]}" --timeout=60s >/dev/null || die "the Gateway API CRDs were not established within 60s"
  if [[ ! -f $dir/tls.crt ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=cutover local gateway" \
      -addext "subjectAltName=DNS:*.example.com,DNS:*.cutover.local,DNS:localhost" \
      -keyout "$dir/tls.key" -out "$dir/tls.crt" >/dev/null 2>&1 || die "openssl could not make the Gateway's certificate"
  fi
  # Traefik picks a listener's certificate by the request's server name; a name no certificate covers (the stacks'
  # hosts have two labels before example.com) would get Traefik's own. This one is its default instead.
  node_write "$dir/dynamic.yaml" <<YAML
tls:
  stores:
    default:
      defaultCertificate: {certFile: $dir/tls.crt, keyFile: $dir/tls.key}
YAML
  "${k[@]}" create namespace "$GATEWAY_NAMESPACE" --dry-run=client -o yaml | "${k[@]}" apply -f - >/dev/null
  "${k[@]}" -n "$GATEWAY_NAMESPACE" create secret tls "$GATEWAY_NAME-tls" --cert "$dir/tls.crt" --key "$dir/tls.key" --dry-run=client -o yaml |
    "${k[@]}" apply -f - >/dev/null
  "${k[@]}" apply -f - >/dev/null <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: $GATEWAY_CLASS}
spec: {controllerName: traefik.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: $GATEWAY_NAME, namespace: $GATEWAY_NAMESPACE}
spec:
  gatewayClassName: $GATEWAY_CLASS
  listeners:
  - {name: http, protocol: HTTP, port: $GATEWAY_HTTP_PORT, allowedRoutes: {namespaces: {from: All}}}
  - name: https
    protocol: HTTPS
    port: $GATEWAY_HTTPS_PORT
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: $GATEWAY_NAME-tls}]}
    allowedRoutes: {namespaces: {from: All}}
YAML
  local args=(
    --entryPoints.http.address="127.0.0.1:$GATEWAY_HTTP_PORT"
    --entryPoints.https.address="127.0.0.1:$GATEWAY_HTTPS_PORT"
    --entryPoints.traefik.address="127.0.0.1:$GATEWAY_ADMIN_PORT"
    --ping=true
    --global.checkNewVersion=false --global.sendAnonymousUsage=false
    --providers.kubernetesgateway=true
    --providers.kubernetesgateway.statusAddress.ip=127.0.0.1
    --providers.kubernetesgateway.throttleDuration=0s
    --providers.file.filename="$dir/dynamic.yaml"
    --log.level=INFO --log.noColor=true
  )
  # A Traefik started by an earlier version of this script, with other flags, is restarted.
  if node_pid_alive traefik && [[ $(cat "$dir/traefik.args" 2>/dev/null) != "$(traefik version 2>/dev/null | awk '/^Version:/ {print $2}') ${args[*]}" ]]; then
    gateway_log "Traefik runs with other flags or another version: restarting it"
    node_stop traefik
  fi
  printf '%s %s' "$(traefik version 2>/dev/null | awk '/^Version:/ {print $2}')" "${args[*]}" >"$dir/traefik.args"
  node_pid_alive traefik || gateway_log "starting Traefik $(traefik version 2>/dev/null | awk '/^Version:/ {print $2}') (http 127.0.0.1:$GATEWAY_HTTP_PORT, https 127.0.0.1:$GATEWAY_HTTPS_PORT)"
  node_start traefik env KUBECONFIG="$admin_kubeconfig" traefik "${args[@]}"
  node_wait Traefik 60 curl -fsS "http://127.0.0.1:$GATEWAY_ADMIN_PORT/ping"
  "${k[@]}" -n "$GATEWAY_NAMESPACE" wait --for=condition=Programmed "gateway/$GATEWAY_NAME" --timeout=60s >/dev/null ||
    die "Gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME was not programmed within 60s (Traefik log: $NODE_LOGS/traefik.log)"
}

# A route on the Gateway reaches a real pod: HTTPS through the `https` listener answers from the probe pod, and
# the plain-HTTP listener redirects to HTTPS. Called by node_check with its probe Service.
gateway_check() {
  local admin_kubeconfig=$1 ns=$2 host=probe.cutover.local out i code
  local k=(kubectl --kubeconfig "$admin_kubeconfig")
  "${k[@]}" -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: probe}
spec:
  parentRefs: [{name: $GATEWAY_NAME, namespace: $GATEWAY_NAMESPACE, sectionName: https}]
  hostnames: [$host]
  rules: [{backendRefs: [{name: probe, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: probe-https-redirect}
spec:
  parentRefs: [{name: $GATEWAY_NAME, namespace: $GATEWAY_NAMESPACE, sectionName: http}]
  hostnames: [$host]
  rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]
YAML
  for i in $(seq 1 60); do
    out=$(curl -fsS --max-time 2 --cacert "$NODE_DIR/gateway/tls.crt" --resolve "$host:$GATEWAY_HTTPS_PORT:127.0.0.1" "https://$host:$GATEWAY_HTTPS_PORT/" 2>/dev/null) && break
    sleep 0.5
  done
  [[ $out == *'"color":"blue"'* ]] || die "the Gateway did not route https://$host:$GATEWAY_HTTPS_PORT/ to the probe pod (got: ${out:-nothing}; Traefik log: $NODE_LOGS/traefik.log)"
  # The two routes are programmed one after the other: wait for the redirect too.
  for i in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --resolve "$host:$GATEWAY_HTTP_PORT:127.0.0.1" "http://$host:$GATEWAY_HTTP_PORT/")
    [[ $code == 301 ]] && break
    sleep 0.5
  done
  [[ $code == 301 ]] || die "the Gateway's HTTP listener answered $code, not a redirect to HTTPS (Traefik log: $NODE_LOGS/traefik.log)"
  gateway_log "an HTTPRoute on $GATEWAY_NAMESPACE/$GATEWAY_NAME reached the probe pod over HTTPS, and HTTP redirected"
}

gateway_down() {
  node_paths
  node_stop traefik
}
