package workflow

import (
	"strconv"
	"strings"
)

// Vars are the variables Atlantis documents for custom steps, which run,
// env and multienv steps see in their environment under the same names.
type Vars struct {
	// Workspace is the terraform workspace (WORKSPACE).
	Workspace string
	// Dir is the project's absolute directory (DIR); RepoRelDir the same
	// relative to the repository root (REPO_REL_DIR).
	Dir, RepoRelDir string
	// PlanFile is where the plan stage writes, and the apply stage reads,
	// the plan (PLANFILE); ShowFile where its JSON goes (SHOWFILE);
	// PolicyCheckFile where policy results go (POLICYCHECKFILE).
	PlanFile, ShowFile, PolicyCheckFile string
	// ProjectName is the project's name (PROJECT_NAME).
	ProjectName string
	// PullNum, PullURL, PullAuthor: the pull request (PULL_NUM, PULL_URL,
	// PULL_AUTHOR); 0 and empty outside one.
	PullNum    int
	PullURL    string
	PullAuthor string
	// HeadCommit (HEAD_COMMIT), HeadBranch (HEAD_BRANCH_NAME), BaseBranch
	// (BASE_BRANCH_NAME).
	HeadCommit, HeadBranch, BaseBranch string
	// BaseRepoOwner, BaseRepoName (BASE_REPO_OWNER, BASE_REPO_NAME) and
	// HeadRepoOwner, HeadRepoName (HEAD_REPO_OWNER, HEAD_REPO_NAME).
	BaseRepoOwner, BaseRepoName, HeadRepoOwner, HeadRepoName string
	// UserName is who ran the command (USER_NAME).
	UserName string
	// CommentArgs are the extra arguments after "--" (COMMENT_ARGS, each
	// character backslash-escaped and the arguments joined by commas, as
	// Atlantis writes them).
	CommentArgs []string
	// TerraformVersion is the version run (ATLANTIS_TERRAFORM_VERSION).
	TerraformVersion string
}

// Environ is v as "KEY=value" entries.
func (v Vars) Environ() []string {
	pull := ""
	if v.PullNum > 0 {
		pull = strconv.Itoa(v.PullNum)
	}
	return []string{
		"WORKSPACE=" + v.Workspace,
		"DIR=" + v.Dir,
		"REPO_REL_DIR=" + v.RepoRelDir,
		"PLANFILE=" + v.PlanFile,
		"SHOWFILE=" + v.ShowFile,
		"POLICYCHECKFILE=" + v.PolicyCheckFile,
		"PROJECT_NAME=" + v.ProjectName,
		"PULL_NUM=" + pull,
		"PULL_URL=" + v.PullURL,
		"PULL_AUTHOR=" + v.PullAuthor,
		"HEAD_COMMIT=" + v.HeadCommit,
		"HEAD_BRANCH_NAME=" + v.HeadBranch,
		"BASE_BRANCH_NAME=" + v.BaseBranch,
		"BASE_REPO_OWNER=" + v.BaseRepoOwner,
		"BASE_REPO_NAME=" + v.BaseRepoName,
		"HEAD_REPO_OWNER=" + v.HeadRepoOwner,
		"HEAD_REPO_NAME=" + v.HeadRepoName,
		"USER_NAME=" + v.UserName,
		"COMMENT_ARGS=" + commentArgs(v.CommentArgs),
		"ATLANTIS_TERRAFORM_VERSION=" + v.TerraformVersion,
	}
}

// commentArgs escapes every character of each argument with a backslash
// and joins them with commas, as Atlantis's COMMENT_ARGS does, so that a
// script can split them without a shell reading them.
func commentArgs(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		var b strings.Builder
		for _, r := range a {
			b.WriteByte('\\')
			b.WriteRune(r)
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}
