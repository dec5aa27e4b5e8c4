// netpolicy is np-guard's netpol-analyzer CLI (upstream cmd/netpolicy, which
// only calls cli.Execute), plus a --version flag: upstream has none, and
// scripts/toolchain and the tests need to see which release they run. The
// version is read from the linked netpol-analyzer module, so it cannot drift
// from the pin in go.mod. Everything else is upstream's command unchanged.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/np-guard/netpol-analyzer/pkg/cli"
)

const analyzerModule = "github.com/np-guard/netpol-analyzer"

func analyzerVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == analyzerModule {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return "unknown"
}

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Printf("netpolicy version %s (%s)\n", analyzerVersion(), analyzerModule)
		return
	}
	cli.Execute()
}
