// Command etcd is the etcd server, built from the published
// go.etcd.io/etcd/server/v3 module (its own main package lives in a module
// whose replace lines break `go install`).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
