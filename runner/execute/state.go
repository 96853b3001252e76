package execute

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/safefs"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
)

// backendOverrideFile is the file atoll writes into a project without a
// backend, so that its state outlives the job's worktree.
const backendOverrideFile = "zz_atoll_backend.tf"

// stateDirs are where a project without a backend keeps its state
// (ensureStateBackend). Each (project dir, workspace) has a directory of
// its own, and none holds another's, so that the sandbox can give a job
// its own state and nothing else:
//
//	DATA/tfstate/OWNER/REPO/DIR/default/terraform.tfstate  (the default workspace)
//	DATA/tfstate/OWNER/REPO/DIR/ws/NAME/terraform.tfstate  (workspace NAME)
//
// DIR is the project dir escaped into one path segment (stateSegment).
type stateDirs struct {
	project string // DATA/tfstate/OWNER/REPO/DIR
	own     string // the job's workspace's directory: read-write
	list    string // the backend's workspace_dir: listed, never read
}

// stateLayout returns the state dirs of job's project and workspace, or
// an error when the workspace name is not one path segment.
func (x *Jobs) stateLayout(job records.Job) (stateDirs, error) {
	ws := job.Project.Workspace
	if ws == "" {
		ws = "default"
	}
	if ws == "." || ws == ".." || strings.ContainsAny(ws, "/\\\x00") {
		return stateDirs{}, x.explain(templates.JobError{Kind: templates.JobErrWorkspaceName, Name: ws})
	}
	project := filepath.Join(x.cfg.DataDir, "tfstate", job.Repo.Owner, job.Repo.Name, stateSegment(job.Project.Dir))
	d := stateDirs{project: project, list: filepath.Join(project, "ws")}
	if ws == "default" {
		d.own = filepath.Join(project, "default")
	} else {
		d.own = filepath.Join(d.list, ws)
	}
	return d, nil
}

// stateSegment escapes a project dir into one path segment, one to one:
// path escaping ("/" becomes %2F, "%" %25), a leading "." as %2E (the
// repository root "." is "%2E"), and a name too long for a file name as
// %00 and its SHA-256 (no dir holds a NUL).
func stateSegment(dir string) string {
	d := filepath.ToSlash(filepath.Clean(dir))
	if d == "" {
		d = "."
	}
	seg := url.PathEscape(d)
	if strings.HasPrefix(seg, ".") {
		seg = "%2E" + seg[1:]
	}
	if len(seg) > 200 {
		sum := sha256.Sum256([]byte(d))
		seg = "%00" + hex.EncodeToString(sum[:])
	}
	return seg
}

// ensureStateBackend gives a project that names no backend a local backend
// under the data dir (stateDirs), creates the job's workspace's state dir
// and moves the project's state there from the old layout
// (migrateOldState), and returns the state dirs (zero for a project with a
// backend). Worktrees are thrown away after each job; without this, such a
// project's state would be lost after every apply and every drift check
// would find everything missing. A project that names a backend is left
// alone.
//
// root is the checkout and dir the project dir in it. The override file
// and .terraform/environment are written beneath root with safefs: a
// project dir (or a parent of it) that is a symlink leading out of the
// checkout is refused, and a symlink in the override file's place is
// replaced, never written through.
func (x *Jobs) ensureStateBackend(job records.Job, root, dir string) (stateDirs, error) {
	proj, err := safefs.Dir(root, job.Project.Dir)
	if err != nil {
		return stateDirs{}, x.projectDirError(job.Project.Dir, err)
	}
	defer proj.Close()
	ok, err := terraform.HasBackend(dir, terraform.Distribution(x.distributionOf(job.Project)), backendOverrideFile)
	if err != nil || ok {
		return stateDirs{}, err
	}
	d, err := x.stateLayout(job)
	if err != nil {
		return stateDirs{}, err
	}
	for _, p := range []string{d.own, d.list} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return stateDirs{}, err
		}
	}
	if err := x.migrateOldState(job, d); err != nil {
		return stateDirs{}, fmt.Errorf("moving the state of %s to its new place: %w", job.Project.Dir, err)
	}
	if err := x.selectStateWorkspace(proj, job.Project.Workspace); err != nil {
		return stateDirs{}, err
	}
	body := fmt.Sprintf(`# Written by atoll: this project names no backend, so its state is kept
# in atoll's data dir instead of the job's throwaway worktree.
terraform {
  backend "local" {
    path          = %q
    workspace_dir = %q
  }
}
`, filepath.Join(d.project, "default", "terraform.tfstate"), d.list)
	return d, safefs.WriteFile(proj, backendOverrideFile, []byte(body), 0o644)
}

// projectDirError is the error of a project dir that cannot be opened
// beneath the checkout: one leading out of it names itself as such.
func (x *Jobs) projectDirError(dir string, err error) error {
	if errors.Is(err, safefs.ErrEscapes) {
		return x.explain(templates.JobError{Kind: templates.JobErrProjectDirEscapes, Path: dir})
	}
	return fmt.Errorf("project dir %q: %w", dir, err)
}

// selectStateWorkspace makes ws the checkout's current workspace before
// terraform runs, as `terraform workspace select` records it
// (.terraform/environment in the project dir): terraform init reads the
// current workspace's state, and in a fresh checkout that is the default
// workspace's, which the sandbox of another workspace's job refuses. A
// .terraform or environment file that is not a plain directory or file
// (a symlink the pull request committed) is refused; proj is the project
// dir, beneath which everything is resolved (safefs).
func (x *Jobs) selectStateWorkspace(proj *os.Root, ws string) error {
	if ws == "" || ws == "default" {
		return nil
	}
	if fi, err := proj.Lstat(".terraform"); err == nil && !fi.IsDir() {
		return x.explain(templates.JobError{Kind: templates.JobErrNotADirectory, Path: filepath.Join(proj.Name(), ".terraform")})
	}
	env := filepath.Join(".terraform", "environment")
	if fi, err := proj.Lstat(env); err == nil && !fi.Mode().IsRegular() {
		return x.explain(templates.JobError{Kind: templates.JobErrNotARegularFile, Path: filepath.Join(proj.Name(), env)})
	}
	return safefs.WriteFile(proj, env, []byte(ws), 0o644)
}

// stateFiles are the files of one workspace's local state that
// migrateOldState moves: the state and terraform's backup of it.
var stateFiles = []string{"terraform.tfstate", "terraform.tfstate.backup"}

// migrateOldState moves the project's state from the layout of earlier
// versions (DATA/state/OWNER/REPO/DIR/terraform.tfstate, and
// DIR/terraform.tfstate.d/NAME/terraform.tfstate for workspace NAME),
// where a project's dir held its workspaces' states and the dirs of the
// projects under it, to stateDirs. Only the project's own files move
// (the old dir of project a holds the old dir of project a/b), each by a
// rename, and only to where no state is yet; old dirs left empty are
// removed.
func (x *Jobs) migrateOldState(job records.Job, d stateDirs) error {
	old := filepath.Join(x.cfg.DataDir, "state", job.Repo.Owner, job.Repo.Name, filepath.FromSlash(cleanRel(job.Project.Dir)))
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	moves := map[string]string{old: filepath.Join(d.project, "default")}
	oldWS := filepath.Join(old, "terraform.tfstate.d")
	entries, err := os.ReadDir(oldWS)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "." && e.Name() != ".." {
			moves[filepath.Join(oldWS, e.Name())] = filepath.Join(d.list, e.Name())
		}
	}
	for from, to := range moves {
		for _, f := range stateFiles {
			src, dst := filepath.Join(from, f), filepath.Join(to, f)
			if _, err := os.Lstat(src); errors.Is(err, os.ErrNotExist) {
				continue
			}
			if _, err := os.Lstat(dst); err == nil {
				continue // the new place has its state already
			}
			if err := os.MkdirAll(to, 0o700); err != nil {
				return err
			}
			if err := os.Rename(src, dst); err != nil {
				return err
			}
		}
		if from != old {
			_ = os.Remove(from) // only when empty
		}
	}
	_ = os.Remove(oldWS)
	// The old dir, and its parents up to the data dir's state dir, when
	// empty (os.Remove refuses a dir that is not).
	top := filepath.Join(x.cfg.DataDir, "state")
	for p := old; strings.HasPrefix(p, top+string(filepath.Separator)) && os.Remove(p) == nil; p = filepath.Dir(p) {
	}
	return nil
}

// cleanRel is a project dir as the old layout's relative path: "." is
// "_root".
func cleanRel(dir string) string {
	d := filepath.ToSlash(filepath.Clean(dir))
	if d == "." || d == "" {
		return "_root"
	}
	return d
}
