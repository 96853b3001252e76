package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
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

// planOptions maps o onto terraform-exec's plan options, in this order:
// Out, RefreshOnly, Destroy, the -var-file of envVars (when not empty),
// VarFiles, then ExtraArgs in their order. It checks nothing on disk.
//
// terraform-exec always passes -no-color, -input=false,
// -detailed-exitcode, -lock=true, -lock-timeout=0s, -parallelism=10 and
// -refresh=true unless an option says otherwise, and puts every -var-file
// before every -var: a -var in ExtraArgs wins over any var file, whatever
// their order.
func planOptions(o PlanOptions, envVars string) ([]tfexec.PlanOption, error) {
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
	var opts []tfexec.PlanOption
	if o.Out != "" {
		opts = append(opts, tfexec.Out(o.Out))
	}
	if o.RefreshOnly {
		opts = append(opts, tfexec.RefreshOnly(true))
	}
	if o.Destroy {
		opts = append(opts, tfexec.Destroy(true))
	}
	if envVars != "" {
		opts = append(opts, tfexec.VarFile(envVars))
	}
	for _, f := range o.VarFiles {
		if strings.TrimSpace(f) == "" {
			return nil, errors.New("empty var file path")
		}
		opts = append(opts, tfexec.VarFile(f))
	}
	for _, a := range extra {
		opt, err := extraPlanOption(a)
		if err != nil {
			return nil, err
		}
		if opt != nil {
			opts = append(opts, opt)
		}
	}
	return opts, nil
}

// planVarFiles returns the -var-file paths of o: VarFiles, then those of
// ExtraArgs.
func planVarFiles(o PlanOptions) []string {
	files := append([]string(nil), o.VarFiles...)
	extra, _ := normalizeExtraArgs(o.ExtraArgs)
	for _, a := range extra {
		if f, ok := strings.CutPrefix(a, "-var-file="); ok {
			files = append(files, f)
		}
	}
	return files
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

// checkPlan refuses what Plan must not run: options planOptions refuses,
// and a -var-file outside the repository (a var file that is not HCL is
// quoted in terraform's error, so a path out of the checkout could leak a
// server file into a PR comment). It creates the plan file's directory.
func (w *Workdir) checkPlan(o PlanOptions) error {
	if _, err := planOptions(o, ""); err != nil {
		return fmt.Errorf("%s plan: %w", w.binName(), err)
	}
	for _, f := range planVarFiles(o) {
		if err := w.checkInRepo(f); err != nil {
			return fmt.Errorf("%s plan: -var-file: %w", w.binName(), err)
		}
	}
	if o.Out != "" {
		if err := os.MkdirAll(filepath.Dir(w.abs(o.Out)), 0o755); err != nil {
			return fmt.Errorf("%s plan: plan file directory: %w", w.binName(), err)
		}
	}
	return nil
}

// Plan runs "plan -detailed-exitcode" with terraform-exec and keeps its
// three outcomes apart: (NoChanges, nil), (Changes, nil), or (PlanFailed,
// err) when terraform failed, was cancelled, or the options were refused
// (an ExtraArgs entry outside the allowlist, a -var-file outside the
// repository, a TF_VAR_ value that is not valid for its variable).
//
// The TF_VAR_NAME entries of Config.Env reach terraform in a var file
// written for the plan (mode 0600, in a private temporary directory
// outside the checkout, removed when the plan ends), never on its command
// line nor in its environment, with the meaning they have in the
// environment: only variables the root module declares and that no
// terraform.tfvars or *.auto.tfvars file sets are written, values of
// primitive-typed (or untyped) variables as strings and the others parsed
// as HCL. That file comes before every other -var-file, so VarFiles and
// ExtraArgs override it.
func (w *Workdir) Plan(ctx context.Context, o PlanOptions) (PlanOutcome, error) {
	outcome, _, err := w.PlanText(ctx, o)
	return outcome, err
}

// PlanText is Plan that also returns the plan's human text, taken from
// the plan run's own output rather than from a second terraform ("show
// PLANFILE"): what ShowText would return for the plan file, without the
// progress lines before it (refreshing and reading objects, state lock)
// and the "Saved the plan to" trailer after it, with Config.Secrets
// masked. terraform-exec runs plan with -no-color. The text is "" when
// the plan failed.
func (w *Workdir) PlanText(ctx context.Context, o PlanOptions) (PlanOutcome, string, error) {
	if err := w.checkPlan(o); err != nil {
		return PlanFailed, "", err
	}
	if o.Out != "" {
		o.Out = w.abs(o.Out)
	}
	release, err := w.acquire(ctx, "plan")
	if err != nil {
		return PlanFailed, "", err
	}
	defer release()
	envVars, cleanup, err := w.envVarFile()
	if err != nil {
		return PlanFailed, "", fmt.Errorf("%s plan: %w", w.binName(), err)
	}
	defer cleanup()
	opts, err := planOptions(o, envVars)
	if err != nil {
		return PlanFailed, "", fmt.Errorf("%s plan: %w", w.binName(), err)
	}
	changes := false
	var out captureStdout
	err = w.run(ctx, "plan", &out, func(ctx context.Context, tf *tfexec.Terraform) error {
		var err error
		changes, err = tf.Plan(ctx, opts...)
		return err
	})
	if err != nil {
		return PlanFailed, "", err
	}
	text := w.mask.mask(planBody(StripANSI(out.buf.String())))
	if changes {
		return Changes, text, nil
	}
	return NoChanges, text, nil
}

// planBody cuts a plan run's output down to what "show PLANFILE" prints:
// it drops the progress lines terraform writes before the plan (objects
// refreshed or read, the state lock taken) and the rule and "Saved the
// plan to:" instructions after it.
func planBody(out string) string {
	lines := strings.Split(out, "\n")
	start := 0
	for start < len(lines) {
		l := lines[start]
		if strings.TrimSpace(l) == "" || isProgressLine(l) {
			start++
			continue
		}
		break
	}
	lines = lines[start:]
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "Saved the plan to: ") {
			j := i
			for j > 0 && (strings.TrimSpace(lines[j-1]) == "" || strings.Trim(lines[j-1], "─") == "") {
				j--
			}
			lines = lines[:j]
			break
		}
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

// progressLine matches what terraform prints about one object while it
// plans ("ADDRESS: Refreshing state... [id=x]", "ADDRESS: Reading...",
// "ADDRESS: Preparing import... [id=x]", "ADDRESS: Read complete after
// 0s [id=x]"): an address without spaces, a colon, and a status.
var progressLine = regexp.MustCompile(`^\S+: (?:[A-Z][a-z]+(?: [a-z]+)*\.\.\.|Read complete after \S+)(?: \[[a-z_]+=.*\])?$`)

// isProgressLine is a line terraform prints while it refreshes, reads or
// imports objects, or takes and releases the state lock, before the plan
// itself.
func isProgressLine(l string) bool {
	return progressLine.MatchString(l) ||
		strings.HasPrefix(l, "Acquiring state lock.") || strings.HasPrefix(l, "Releasing state lock.")
}
