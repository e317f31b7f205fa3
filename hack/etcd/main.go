// Command etcd is the etcd server, built from the go.etcd.io/etcd/server/v3 module.
//
// `go install go.etcd.io/etcd/server/v3@version` does not work because etcd's go.mod
// files carry replace directives; this wrapper module requires the pinned version
// (see ../versions.env) and calls the same entry point as etcd's own main package.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
