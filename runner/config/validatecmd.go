package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Validate checks an atoll.yaml for `atoll config validate [FILE]`: path
// defaults to "atoll.yaml" in the working directory. It prints every
// problem, one per line as FILE:LINE:COLUMN: KEY: MESSAGE, and returns 1, or
// prints "FILE: ok" and returns 0. It checks against DefaultServer, so
// settings a server must allow first (automerge, drift overrides, removed
// requirements) are reported as errors; see ValidateWith.
func Validate(path string, stdout io.Writer) int {
	return ValidateWith(path, DefaultServer(), stdout)
}

// ValidateWith is Validate against a given server configuration.
func ValidateWith(path string, srv Server, stdout io.Writer) int {
	if path == "" {
		path = RepoFile
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stdout, "%s: no such file\n", path)
		} else {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
		}
		return 1
	}
	if _, err := ParseRepo(path, data, srv); err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return 0
}
