package main

// RunPlugin for policy packs.
//
// How the Pulumi CLI (3.259) starts a Node.js policy pack: for
// `--policy-pack <dir>`, plugin.NewPolicyAnalyzer reads <dir>/PulumiPolicy.yaml
// (`runtime: nodejs`) and, because a `nodejs` language plugin exists (this
// host), asks that host to run the directory as a plugin of kind "analyzer"
// through the LanguageRuntime.RunPlugin stream instead of looking for the
// legacy `pulumi-analyzer-policy` launcher script. The engine then reads the
// plugin's gRPC port from the first line of the stream's stdout and talks the
// Analyzer protocol to it: Handshake, ConfigureStack, GetAnalyzerInfo,
// Analyze, AnalyzeStack.
//
// The @pulumi/policy library predates Handshake and ConfigureStack: it is
// started as `node @pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` and
// reads the stack's project, name and config from PULUMI_NODEJS_* /
// PULUMI_CONFIG. So, like the upstream host, we answer the engine first with
// the SDK's PolicyProxy (its port is the first line we print), wait for the
// ConfigureStack call, then start node with that configuration in its
// environment and let the proxy forward every further call to the port node
// prints.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// policyPackModule is the @pulumi/pulumi entry point that loads a policy pack
// program (whose `new PolicyPack(...)` serves the Analyzer protocol).
const policyPackModule = "@pulumi/pulumi/cmd/run-policy-pack"

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != string(apitype.AnalyzerPlugin) {
		return status.Errorf(codes.Unimplemented,
			"this Node.js host runs policy packs only, got a plugin of kind %q", req.GetKind())
	}
	info := req.GetInfo()
	if info == nil || info.GetProgramDirectory() == "" {
		return errors.New("RunPlugin: the request carries no policy pack directory")
	}
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	dir := info.GetProgramDirectory()
	runPath, err := resolveModule(ctx, nodeBin, dir, policyPackModule)
	if err != nil {
		return fmt.Errorf("policy pack %s: %w (run npm install where the pack resolves @pulumi/pulumi)", dir, err)
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	args = append(args, positionalArgs(req.GetArgs())...)
	args = append(args, dir)

	env := append([]string{}, req.GetEnv()...)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	stackConfig, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the stack configuration: %w", err)
	}
	stackEnv, err := policyStackEnv(stackConfig)
	if err != nil {
		return err
	}
	env = append(env, stackEnv...)

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	// Policy packs have always run in their own directory, so relative paths
	// (and ts-node's tsconfig.json lookup) resolve there.
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = packStdout
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	logging.V(5).Infof("launching policy pack: %s %s", nodeBin, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run node for policy pack %s: %w", dir, err)
	}
	// Attach returns when node exits (or the engine cancels the stream after
	// the update, which stops node through cmd.Cancel).
	if err := proxy.Attach(ctx, cmd); err != nil {
		var exitErr *exec.ExitError
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &exitErr):
			return fmt.Errorf("policy pack %s exited with code %d", dir, exitErr.ExitCode())
		default:
			return fmt.Errorf("policy pack %s: %w", dir, err)
		}
	}
	return closer.Close()
}

// positionalArgs drops the engine's logging and tracing flags (`--logtostderr`,
// `-v=N`, `--tracing <endpoint>`) from a plugin's arguments: run-policy-pack
// parses its command line with minimist, which would take the engine address
// that follows `--logtostderr` as that flag's value.
func positionalArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--tracing":
			i++
		case strings.HasPrefix(arg, "-"):
		default:
			out = append(out, arg)
		}
	}
	return out
}

// policyStackEnv is the environment through which @pulumi/pulumi (as loaded by
// a policy pack) learns the stack it is checking.
func policyStackEnv(req *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if req == nil {
		return nil, nil
	}
	var env []string
	set := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	set("PULUMI_NODEJS_ORGANIZATION", req.GetOrganization())
	set("PULUMI_NODEJS_PROJECT", req.GetProject())
	set("PULUMI_NODEJS_STACK", req.GetStack())
	set("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(req.GetDryRun()))
	if len(req.GetConfig()) > 0 {
		cfg, err := configJSON(req.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("failed to serialize the stack configuration: %w", err)
		}
		set("PULUMI_CONFIG", cfg)
		keys := req.GetConfigSecretKeys()
		if keys == nil {
			keys = []string{}
		}
		secret, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("failed to serialize the secret config keys: %w", err)
		}
		set("PULUMI_CONFIG_SECRET_KEYS", string(secret))
	}
	return env, nil
}
