package migrate

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// carriedFlags are the Atlantis flags Atlantis carries over (flags.go).
var carriedFlags = []string{
	"gh-app-id", "gh-app-key-file", "gh-app-key", "gh-webhook-secret", "api-secret", "gh-hostname", "gh-org",
	"enable-policy-checks", "gh-team-allowlist", "repo-allowlist", "atlantis-url", "port", "log-level",
	"parallel-pool-size", "checkout-strategy", "automerge", "allow-fork-prs", "allow-draft-prs",
	"default-tf-version", "tf-distribution", "default-tf-distribution", "tf-download-url",
	"require-approval", "require-mergeable",
}

// TestGuideCoversFlags: the README's migration guide has a row for every
// Atlantis flag this package knows, carried or not.
func TestGuideCoversFlags(t *testing.T) {
	data, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	guide := string(data)
	if i := strings.Index(guide, "## Moving from Atlantis"); i >= 0 {
		guide = guide[i:]
	} else {
		t.Fatal("README.md has no section \"Moving from Atlantis\"")
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)`")
	inGuide := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(guide, -1) {
		inGuide[m[1]] = true
	}
	all := append([]string{}, carriedFlags...)
	for f := range notCarried {
		all = append(all, f)
	}
	for f := range aliasOf {
		all = append(all, f)
	}
	for _, f := range all {
		if !inGuide[f] {
			t.Errorf("the migration guide has no row for --%s", f)
		}
	}
}
