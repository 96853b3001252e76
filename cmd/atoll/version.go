package main

import (
	"fmt"
	"io"
	"runtime"
)

// versionInfo is what `atoll version` prints and what the `atoll version`
// PR command answers.
func versionInfo() (v, c, goVersion string) { return version, commit, runtime.Version() }

func printVersion(w io.Writer) {
	v, c, g := versionInfo()
	fmt.Fprintf(w, "atoll %s\ncommit %s\n%s\n", v, c, g)
}
