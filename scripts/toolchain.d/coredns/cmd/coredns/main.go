// CoreDNS with only the plugins the local cluster's DNS needs: cluster names
// from the Kubernetes API (kubernetes), a listen address of its own (bind),
// health and readiness endpoints, caching and error/query logs. Upstream's
// main (github.com/coredns/coredns/coredns.go) links every plugin; the local
// cluster needs none of the cloud ones and never forwards to another server.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The order in which plugins handle a query: upstream's plugin.cfg order, restricted to the plugins linked above.
var directives = []string{"bind", "ready", "health", "errors", "log", "cache", "kubernetes"}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
