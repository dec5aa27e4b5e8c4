// gen-embed writes the two files cmd/pulumi-resource-kubernetes embeds:
// schema-embed.json (the provider module's schema.json with its version set)
// and terraform-mapping-embed.json (its terraform-mapping.json, re-encoded).
//
//	go run ./cmd/gen-embed -version 4.25.0 -src <module>/cmd/pulumi-resource-kubernetes -out ./cmd/pulumi-resource-kubernetes
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	version := flag.String("version", "", "provider version to record in the schema")
	src := flag.String("src", "", "directory holding schema.json and terraform-mapping.json")
	out := flag.String("out", ".", "directory to write the *-embed.json files to")
	flag.Parse()
	if *version == "" || *src == "" {
		log.Fatal("gen-embed: -version and -src are required")
	}

	raw, err := os.ReadFile(filepath.Join(*src, "schema.json"))
	if err != nil {
		log.Fatal(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		log.Fatalf("gen-embed: parsing schema.json: %v", err)
	}
	spec.Version = *version
	schemaOut, err := json.Marshal(spec)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "schema-embed.json"), schemaOut, 0o644); err != nil {
		log.Fatal(err)
	}

	mapping, err := os.ReadFile(filepath.Join(*src, "terraform-mapping.json"))
	if err != nil {
		log.Fatal(err)
	}
	var decoded any
	if err := json.Unmarshal(mapping, &decoded); err != nil {
		log.Fatalf("gen-embed: parsing terraform-mapping.json: %v", err)
	}
	mappingOut, err := json.Marshal(decoded)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "terraform-mapping-embed.json"), mappingOut, 0o644); err != nil {
		log.Fatal(err)
	}
}
