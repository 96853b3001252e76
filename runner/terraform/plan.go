package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PlanOutcome is the result of a plan that ran. Its zero value,
// PlanFailed, is what Plan returns with an error, so a caller that looks
// only at the outcome never mistakes a failure for "no changes".
type PlanOutcome int

const (
	// PlanFailed: the plan did not complete (Plan also returns an error).
	PlanFailed PlanOutcome = iota
	// NoChanges: the plan completed and proposes no changes (exit code 0
	// with -detailed-exitcode).
	NoChanges
	// Changes: the plan completed and proposes changes (exit code 2); for
	// a refresh-only plan, the state differs from the real objects.
	Changes
)

// String implements fmt.Stringer.
func (o PlanOutcome) String() string {
	switch o {
	case NoChanges:
		return "no changes"
	case Changes:
		return "changes"
	}
	return "failed"
}

// PlanOptions configures Plan.
type PlanOptions struct {
	// Out is the plan file to write (relative to the project directory
	// unless absolute). Empty: no plan file.
	Out string
	// RefreshOnly makes a refresh-only plan: only drift between state and
	// the real objects, no changes to reach the configuration.
	RefreshOnly bool
	// Destroy plans to destroy every object.
	Destroy bool
	// VarFiles are -var-file paths (relative to the project directory);
	// like -var-file in ExtraArgs they must resolve inside Config.RepoDir.
	VarFiles []string
	// ExtraArgs are arguments from a user; they pass only if
	// ValidateExtraArgs accepts them.
	ExtraArgs []string
}

// planArgs is the argv (after the binary) of Plan, before -var-file paths
// are checked against the file system.
func planArgs(o PlanOptions) ([]string, error) {
	if o.RefreshOnly && o.Destroy {
		return nil, errors.New("a plan cannot be both refresh-only and destroy")
	}
	extra, err := normalizeExtraArgs(o.ExtraArgs)
	if err != nil {
		return nil, err
	}
	if o.RefreshOnly {
		for _, a := range extra {
			if a == "-destroy" || a == "-destroy=true" {
				return nil, errors.New("a plan cannot be both refresh-only and destroy")
			}
		}
	}
	args := []string{"plan", "-input=false", "-no-color", "-detailed-exitcode"}
	if o.Out != "" {
		args = append(args, "-out="+o.Out)
	}
	if o.RefreshOnly {
		args = append(args, "-refresh-only")
	}
	if o.Destroy {
		args = append(args, "-destroy")
	}
	for _, f := range o.VarFiles {
		if strings.TrimSpace(f) == "" {
			return nil, errors.New("empty var file path")
		}
		args = append(args, "-var-file="+f)
	}
	return append(args, extra...), nil
}

// planCmd builds the plan command after checking that every -var-file
// stays inside the repository (a var file that is not HCL is quoted in
// terraform's error, so a path out of the checkout could leak a server
// file into a PR comment).
func (w *Workdir) planCmd(ctx context.Context, o PlanOptions) (*exec.Cmd, error) {
	args, err := planArgs(o)
	if err != nil {
		return nil, fmt.Errorf("%s plan: %w", w.binName(), err)
	}
	for _, a := range args {
		if f, ok := strings.CutPrefix(a, "-var-file="); ok {
			if err := w.checkInRepo(f); err != nil {
				return nil, fmt.Errorf("%s plan: -var-file: %w", w.binName(), err)
			}
		}
	}
	if o.Out != "" {
		if err := os.MkdirAll(filepath.Dir(w.abs(o.Out)), 0o755); err != nil {
			return nil, fmt.Errorf("%s plan: plan file directory: %w", w.binName(), err)
		}
	}
	return w.command(ctx, args...), nil
}

// checkInRepo fails unless path (relative to Dir) resolves, symlinks
// included, to a file inside RepoDir.
func (w *Workdir) checkInRepo(path string) error {
	if filepath.IsAbs(path) {
		return fmt.Errorf("%w: the path must be relative to the project directory", ErrArgNotAllowed)
	}
	root, err := filepath.EvalSymlinks(w.cfg.RepoDir)
	if err != nil {
		return fmt.Errorf("repo dir: %w", err)
	}
	real, err := filepath.EvalSymlinks(w.abs(path))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s does not exist in the repository", path)
		}
		return err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("%w: %s is outside the repository", ErrArgNotAllowed, path)
	}
	return nil
}

// Plan runs "plan -detailed-exitcode" and keeps its three outcomes apart:
// (NoChanges, nil), (Changes, nil), or (PlanFailed, err) when terraform
// failed, was cancelled, or the options were refused (an ExtraArgs entry
// outside the allowlist, a -var-file outside the repository).
func (w *Workdir) Plan(ctx context.Context, o PlanOptions) (PlanOutcome, error) {
	cmd, err := w.planCmd(ctx, o)
	if err != nil {
		return PlanFailed, err
	}
	err = w.run(ctx, cmd, "plan", nil)
	return planOutcome(err)
}

// planOutcome maps run's result under -detailed-exitcode to an outcome.
func planOutcome(err error) (PlanOutcome, error) {
	if err == nil {
		return NoChanges, nil
	}
	var te *Error
	if errors.As(err, &te) && te.ExitCode == 2 && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return Changes, nil
	}
	return PlanFailed, err
}
