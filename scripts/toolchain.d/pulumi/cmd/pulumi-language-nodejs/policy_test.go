package main

import (
	"reflect"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestPositionalArgsDropsEngineFlags(t *testing.T) {
	got := positionalArgs([]string{"--logtostderr", "-v=9", "--tracing", "http://127.0.0.1:9411", "127.0.0.1:4242"})
	if want := []string{"127.0.0.1:4242"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("positionalArgs = %q, want %q", got, want)
	}
}

func TestPolicyStackEnv(t *testing.T) {
	got, err := policyStackEnv(&pulumirpc.AnalyzerStackConfigureRequest{
		Project: "cutover", Stack: "prod", DryRun: true,
		Config: map[string]string{"cutover:activeColor": "blue"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PULUMI_NODEJS_PROJECT=cutover",
		"PULUMI_NODEJS_STACK=prod",
		"PULUMI_NODEJS_DRY_RUN=true",
		`PULUMI_CONFIG={"cutover:config:activeColor":"blue"}`,
		"PULUMI_CONFIG_SECRET_KEYS=[]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("policyStackEnv = %q, want %q", got, want)
	}
	if env, _ := policyStackEnv(nil); env != nil {
		t.Fatalf("policyStackEnv(nil) = %q, want nothing", env)
	}
}
