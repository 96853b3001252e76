package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Validate checks a repository configuration for `atoll config validate
// [FILE]`: path defaults to "atoll.yaml" in the working directory, else
// "atlantis.yaml" when only that exists. A file whose name contains
// "atlantis" is read as Atlantis reads it (ParseAtlantis), any other as an
// atoll.yaml (ParseRepo). It prints every problem, one per line as
// FILE:LINE:COLUMN: KEY: MESSAGE, and returns 1; or prints every warning
// (a key atoll reads but does not act on) as FILE:LINE:COLUMN: KEY:
// warning: MESSAGE, then "FILE: ok", and returns 0. It checks against
// DefaultServer, so settings a server must allow first (automerge, drift
// overrides, removed requirements, workflows) are reported as errors; see
// ValidateWith.
func Validate(path string, stdout io.Writer) int {
	return ValidateWith(path, DefaultServer(), stdout)
}

// ValidateWith is Validate against a given server configuration (pass
// srv.ForRepo(repo, branch) for its repo_rules to apply).
func ValidateWith(path string, srv Server, stdout io.Writer) int {
	if path == "" {
		path = RepoFile
		if _, err := os.Stat(RepoFile); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(AtlantisFile); err == nil {
				path = AtlantisFile
			}
		}
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
	parse := ParseRepo
	if strings.Contains(filepath.Base(path), "atlantis") {
		parse = ParseAtlantis
	}
	r, err := parse(path, data, srv)
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	for _, w := range r.Warnings {
		w.Warning = true
		fmt.Fprintln(stdout, w.Error())
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return 0
}
