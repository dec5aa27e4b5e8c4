// etcd is the etcd server. The repository's root main package (module
// go.etcd.io/etcd/v3) only calls etcdmain.Main; that module is not published
// at the pinned patch release, so this does the same against the published
// go.etcd.io/etcd/server/v3 module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
