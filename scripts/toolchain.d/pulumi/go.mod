module cutover.local/toolchain/pulumi

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 v3.259.0
	github.com/pulumi/pulumi/sdk/v3 v3.259.0
)

tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

// pkg/v3 carries this replace in its own go.mod; replaces of a dependency do
// not apply to the main module, so repeat it here.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
