package pr

import (
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/records"
)

// runOptions are cmd's RunOptions.
func runOptions(cmd *command.Command) records.RunOptions {
	if cmd == nil {
		return records.RunOptions{}
	}
	return records.RunOptions{Verbose: cmd.Verbose, NoAutomerge: cmd.AutoMergeDisabled, MergeMethod: cmd.AutoMergeMethod}
}

// dedupe is ss without repeats, in order.
func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
