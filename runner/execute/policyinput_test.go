package execute

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// bigPRHost lists the first files of a pull request only, as GitHub does
// past 3000 files; the rest of Host is not used.
type bigPRHost struct {
	Host
	listed   []string
	complete bool
}

func (h bigPRHost) ListPullRequestFiles(context.Context, vcs.Repo, int) ([]string, bool, error) {
	return h.listed, h.complete, nil
}

// diffGit diffs base and head into files; the rest of Git is not used.
type diffGit struct {
	Git
	files []string
}

func (g diffGit) ChangedFiles(context.Context, vcs.Repo, string, string) ([]string, error) {
	return g.files, nil
}

// A very large pull request: the code host lists only part of its files.
// Policies must see every changed file, as requirements and discovery do.
func TestPolicyInputSeesEveryChangedFileOfALargePR(t *testing.T) {
	all := []string{"a/main.tf", "b/main.tf", "c/main.tf"}
	r := &Jobs{host: bigPRHost{listed: all[:1]}, git: diffGit{files: all},
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pr := vcs.PullRequest{Number: 7, BaseSHA: "base", HeadSHA: "head"}
	in := r.policyInput(context.Background(),
		records.Job{Number: 7, Project: records.Project{ProjectCore: config.ProjectCore{Name: "a", Dir: "a"}}}, pr, []byte(`{}`))
	if !slices.Equal(in.PullRequest.ChangedFiles, all) {
		t.Errorf("policies see changed files %v, want all of %v", in.PullRequest.ChangedFiles, all)
	}
}
