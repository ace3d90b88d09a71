// Command offline-embedder builds the data of package embed/offline from Debian packages.
// See README.md beside this file and regenerate.sh, which runs it.
//
//	offline-embedder corpus ROOT OUT.txt        training corpus from the unpacked .debs under ROOT
//	offline-embedder pack [flags] VECTORS.vec CORPUS.txt OUT.bin   quantised model from fastText's vectors
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 4 && os.Args[1] == "corpus":
		err = corpus(os.Args[2], os.Args[3])
	case len(os.Args) >= 2 && os.Args[1] == "pack":
		err = pack(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: offline-embedder corpus ROOT OUT.txt | pack [flags] VECTORS.vec CORPUS.txt OUT.bin")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "offline-embedder:", err)
		os.Exit(1)
	}
}
