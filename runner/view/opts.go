package view

import (
	"os"
	"strings"

	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
)

// verboseLines bounds the log a --verbose comment shows per project; the
// job page keeps the whole log.
const verboseLines = 200

// QuietPolicies drops the policy sets that passed without a warning
// (quiet_policy_checks): what is left needs a reader's attention.
func QuietPolicies(ps []templates.PolicyResult) []templates.PolicyResult {
	var out []templates.PolicyResult
	for _, p := range ps {
		if p.Status != templates.PolicyPassed {
			out = append(out, p)
		}
	}
	return out
}

// logTail is the last n lines of a job's log file, ANSI stripped; "" when
// it cannot be read.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return terraform.StripANSI(strings.Join(lines, "\n"))
}
