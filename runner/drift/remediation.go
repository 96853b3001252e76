package drift

import (
	"path"
	"strings"
)

// AutoRemediateAllowed reports whether the server's
// drift.auto_remediate_repos (globs on "owner/name", letter case ignored)
// let repository fullName's atoll.yaml turn auto_remediate on.
func AutoRemediateAllowed(globs []string, fullName string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), strings.ToLower(fullName)); ok {
			return true
		}
	}
	return false
}
