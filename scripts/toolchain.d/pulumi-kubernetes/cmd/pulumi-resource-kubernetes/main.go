// pulumi-resource-kubernetes serves the Pulumi Kubernetes provider from the
// published github.com/pulumi/pulumi-kubernetes/provider/v4 module.
//
// Upstream's main (provider/cmd/pulumi-resource-kubernetes) embeds
// schema-embed.json and terraform-mapping-embed.json, which its build
// generates from the schema.json and terraform-mapping.json that ship in the
// module and are not themselves in it. scripts/toolchain generates the same
// two files with ./cmd/gen-embed into a temporary copy of this directory
// before building, and sets pkg/version.Version with -ldflags.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
