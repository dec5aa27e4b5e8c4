// Package ext stands in for Traefik's nested module
// github.com/traefik/traefik/dynamic/ext (pkg/config/dynamic/ext in its
// repository), which Traefik's go.mod replaces with that directory but which
// the module zip of github.com/traefik/traefik/v3 leaves out (a nested module
// is never part of its parent's zip) and the module mirror does not serve.
// scripts/toolchain copies this directory there before building.
//
// In OSS Traefik the module only provides the two extension points that
// pkg/config/dynamic embeds inline, both empty; so are these.
package ext

// +k8s:deepcopy-gen=true

// HTTP is embedded in dynamic.HTTPConfiguration: extra HTTP configuration
// (none).
type HTTP struct{}

// +k8s:deepcopy-gen=true

// Router is embedded in dynamic.Router: extra router configuration (none).
type Router struct{}
