package pr

import (
	"path/filepath"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/records"
)

// filterProjects keeps the projects a command's -p, -d and -w select.
func filterProjects(ps []records.Project, name, dir, workspace string) []records.Project {
	var out []records.Project
	for _, p := range ps {
		if name != "" && p.Name != name {
			continue
		}
		if dir != "" && filepath.Clean(p.Dir) != filepath.Clean(dir) {
			continue
		}
		if workspace != "" && p.Workspace != workspace {
			continue
		}
		out = append(out, p)
	}
	return out
}

// runOptions are cmd's RunOptions.
func runOptions(cmd *command.Command) records.RunOptions {
	if cmd == nil {
		return records.RunOptions{}
	}
	return records.RunOptions{Verbose: cmd.Verbose, NoAutomerge: cmd.AutoMergeDisabled, MergeMethod: cmd.AutoMergeMethod}
}

// lockKey is the lock of a job's project.
func lockKey(job records.Job) locks.Key {
	return locks.Key{Repo: job.Repo.FullName(), Dir: job.Project.Dir, Workspace: job.Project.Workspace}
}

// firstBool is the first of vs that is set, or nil.
func firstBool(vs ...*bool) *bool {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
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
