package terraform

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// ErrArgNotAllowed is wrapped by the error of ValidateExtraArgs (and Plan)
// for an argument outside the allowlist.
var ErrArgNotAllowed = errors.New("argument not allowed")

// argKind says how an allowed flag takes its value.
type argKind int

const (
	argValue argKind = iota // -name=value or -name value
	argBool                 // -name or -name=true|false
)

// allowedArg is one flag users may pass to plan.
type allowedArg struct {
	kind  argKind
	check func(value string) error // for argValue; nil: any non-empty value
}

// allowedArgs is the allowlist of plan flags a user may add (in a comment
// such as "atoll plan -- -target=x"). Each maps onto a terraform-exec plan
// option (extraPlanOption).
var allowedArgs = map[string]allowedArg{
	"target":       {kind: argValue},
	"replace":      {kind: argValue},
	"var":          {kind: argValue, check: checkVarArg},
	"var-file":     {kind: argValue, check: checkVarFileArg},
	"refresh":      {kind: argBool},
	"parallelism":  {kind: argValue, check: checkPositiveInt},
	"lock-timeout": {kind: argValue, check: checkDuration},
	"destroy":      {kind: argBool},
	"no-color":     {kind: argBool},
}

// refusedArgs explains why well-known flags are refused.
var refusedArgs = map[string]string{
	"chdir":               "atoll chooses the directory",
	"plugin-dir":          "providers come from atoll's configuration",
	"state":               "state belongs to the configured backend",
	"state-out":           "state belongs to the configured backend",
	"backup":              "state belongs to the configured backend",
	"backend-config":      "the backend is configured by the server and repo config",
	"lock":                "atoll always takes the state lock",
	"input":               "atoll never prompts",
	"out":                 "atoll chooses the plan file",
	"detailed-exitcode":   "atoll sets it",
	"refresh-only":        "atoll runs refresh-only plans itself (drift)",
	"generate-config-out": "plans must not write files",
	"json":                "atoll chooses the output format",
	"compact-warnings":    "terraform-exec has no option for it; atoll shows warnings in full",
	"exclude":             "terraform-exec has no option for it (OpenTofu's -exclude); use -target",
}

// ValidateExtraArgs checks arguments a user asked to add to a plan against
// the allowlist: -target, -replace, -var, -var-file (a relative path),
// -refresh[=bool], -parallelism=N, -lock-timeout=DURATION,
// -destroy[=bool], -no-color; each value flag as "-flag=value" or "-flag
// value". These are the plan flags terraform-exec has an option for
// (-no-color it always passes). Anything else (-chdir, -plugin-dir,
// -state*, -backend-config, -lock, -compact-warnings and OpenTofu's
// -exclude, unknown flags, bare words) is refused with an error that
// names the flag (never its value) and wraps ErrArgNotAllowed.
func ValidateExtraArgs(args []string) error {
	_, err := normalizeExtraArgs(args)
	return err
}

// normalizeExtraArgs validates args and returns them as "-flag=value" or
// "-flag" tokens.
func normalizeExtraArgs(args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		tok := args[i]
		if !strings.HasPrefix(tok, "-") || tok == "-" || tok == "--" {
			return nil, fmt.Errorf("extra argument %q: %w: only flags such as -target=ADDR are accepted", tok, ErrArgNotAllowed)
		}
		flag := strings.TrimPrefix(strings.TrimPrefix(tok, "-"), "-")
		name, value, hasValue := strings.Cut(flag, "=")
		spec, ok := allowedArgs[name]
		if !ok {
			if why, known := refusedArgs[name]; known {
				return nil, fmt.Errorf("extra argument -%s: %w: %s", name, ErrArgNotAllowed, why)
			}
			return nil, fmt.Errorf("extra argument -%s: %w (allowed: %s)", name, ErrArgNotAllowed, allowedList())
		}
		switch spec.kind {
		case argBool:
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, fmt.Errorf("extra argument -%s: want true or false", name)
				}
				out = append(out, "-"+name+"="+strconv.FormatBool(b))
			} else {
				out = append(out, "-"+name)
			}
		case argValue:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("extra argument -%s: needs a value", name)
				}
				i++
				value = args[i]
			}
			if strings.TrimSpace(value) == "" {
				return nil, fmt.Errorf("extra argument -%s: needs a value", name)
			}
			if spec.check != nil {
				if err := spec.check(value); err != nil {
					return nil, fmt.Errorf("extra argument -%s: %w", name, err)
				}
			}
			out = append(out, "-"+name+"="+value)
		}
	}
	return out, nil
}

// extraPlanOption maps one token of normalizeExtraArgs onto the
// terraform-exec plan option that passes it; nil for -no-color, which
// terraform-exec always passes.
func extraPlanOption(tok string) (tfexec.PlanOption, error) {
	name, value, hasValue := strings.Cut(strings.TrimPrefix(tok, "-"), "=")
	b := !hasValue || value == "true"
	switch name {
	case "target":
		return tfexec.Target(value), nil
	case "replace":
		return tfexec.Replace(value), nil
	case "var":
		return tfexec.Var(value), nil
	case "var-file":
		return tfexec.VarFile(value), nil
	case "refresh":
		return tfexec.Refresh(b), nil
	case "destroy":
		return tfexec.Destroy(b), nil
	case "parallelism":
		n, err := strconv.Atoi(value)
		if err != nil {
			return nil, fmt.Errorf("extra argument -%s: want a positive integer", name)
		}
		return tfexec.Parallelism(n), nil
	case "lock-timeout":
		return tfexec.LockTimeout(value), nil
	case "no-color":
		return nil, nil
	}
	return nil, fmt.Errorf("extra argument -%s: %w", name, ErrArgNotAllowed)
}

// allowedList is the sorted allowlist for messages.
func allowedList() string {
	names := make([]string, 0, len(allowedArgs))
	for n := range allowedArgs {
		names = append(names, "-"+n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkVarArg wants NAME=VALUE. The value is never quoted in the error.
func checkVarArg(v string) error {
	name, _, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return errors.New("want NAME=VALUE")
	}
	return nil
}

// checkVarFileArg wants a relative path; Plan checks that it stays inside
// the repository.
func checkVarFileArg(v string) error {
	if filepath.IsAbs(v) {
		return errors.New("the file must be given relative to the project directory")
	}
	return nil
}

func checkPositiveInt(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return errors.New("want a positive integer")
	}
	return nil
}

func checkDuration(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return errors.New("want a duration such as 30s or 5m")
	}
	return nil
}
