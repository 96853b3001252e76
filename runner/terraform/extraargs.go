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
	check func(value string) ArgProblem // for argValue, "" when fine; nil: any non-empty value
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

// refusedArgs are well-known flags refused on purpose; the reply to a
// comment says why (templates/command_problem_extra_arg_refused.tmpl).
var refusedArgs = map[string]bool{
	"chdir": true, "plugin-dir": true, "state": true, "state-out": true, "backup": true, "backend-config": true,
	"lock": true, "input": true, "out": true, "detailed-exitcode": true, "refresh-only": true,
	"generate-config-out": true, "json": true, "compact-warnings": true, "exclude": true,
}

// ArgProblem is what is wrong with an extra argument.
type ArgProblem string

// The problems of ValidateExtraArgs's *ArgError.
const (
	ArgNotFlag         ArgProblem = "not_flag"          // Arg is a bare word, not a flag
	ArgRefused         ArgProblem = "refused"           // Arg is a flag refused on purpose (-chdir, -state, ...)
	ArgUnknown         ArgProblem = "unknown"           // Arg is no plan flag atoll knows; Allowed lists those allowed
	ArgWantBool        ArgProblem = "want_bool"         // Arg's value is not true or false
	ArgNeedsValue      ArgProblem = "needs_value"       // Arg has no value
	ArgWantVar         ArgProblem = "want_var"          // -var's value is not NAME=VALUE
	ArgAbsoluteFile    ArgProblem = "absolute_file"     // -var-file's path is absolute
	ArgWantPositiveInt ArgProblem = "want_positive_int" // -parallelism's value
	ArgWantDuration    ArgProblem = "want_duration"     // -lock-timeout's value
)

// ArgError is an extra argument ValidateExtraArgs refuses: the Problem,
// and Arg, the flag's name without its dash ("chdir"), or the bare word
// for ArgNotFlag. A flag's value is never kept (it may be a secret). For
// ArgNotFlag, ArgRefused and ArgUnknown it wraps ErrArgNotAllowed.
type ArgError struct {
	Problem ArgProblem
	Arg     string
	// Allowed are the allowed flags ("-destroy", ...), for ArgUnknown.
	Allowed []string
}

// Error names the argument and the problem, for logs and tests; the reply
// a person reads is rendered from the Problem's template.
func (e *ArgError) Error() string {
	if e.Problem == ArgNotFlag {
		return fmt.Sprintf("extra argument %q: %v: only flags such as -target=ADDR are accepted", e.Arg, ErrArgNotAllowed)
	}
	switch e.Problem {
	case ArgRefused:
		return fmt.Sprintf("extra argument -%s: %v", e.Arg, ErrArgNotAllowed)
	case ArgUnknown:
		return fmt.Sprintf("extra argument -%s: %v (allowed: %s)", e.Arg, ErrArgNotAllowed, strings.Join(e.Allowed, ", "))
	}
	what := map[ArgProblem]string{ArgWantBool: "want true or false", ArgNeedsValue: "needs a value",
		ArgWantVar: "want NAME=VALUE", ArgAbsoluteFile: "the file must be given relative to the project directory",
		ArgWantPositiveInt: "want a positive integer", ArgWantDuration: "want a duration such as 30s or 5m"}[e.Problem]
	return fmt.Sprintf("extra argument -%s: %s", e.Arg, what)
}

// Unwrap is ErrArgNotAllowed for an argument outside the allowlist.
func (e *ArgError) Unwrap() error {
	switch e.Problem {
	case ArgNotFlag, ArgRefused, ArgUnknown:
		return ErrArgNotAllowed
	}
	return nil
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
			return nil, &ArgError{Problem: ArgNotFlag, Arg: tok}
		}
		flag := strings.TrimPrefix(strings.TrimPrefix(tok, "-"), "-")
		name, value, hasValue := strings.Cut(flag, "=")
		spec, ok := allowedArgs[name]
		if !ok {
			if refusedArgs[name] {
				return nil, &ArgError{Problem: ArgRefused, Arg: name}
			}
			return nil, &ArgError{Problem: ArgUnknown, Arg: name, Allowed: allowedList()}
		}
		switch spec.kind {
		case argBool:
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, &ArgError{Problem: ArgWantBool, Arg: name}
				}
				out = append(out, "-"+name+"="+strconv.FormatBool(b))
			} else {
				out = append(out, "-"+name)
			}
		case argValue:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, &ArgError{Problem: ArgNeedsValue, Arg: name}
				}
				i++
				value = args[i]
			}
			if strings.TrimSpace(value) == "" {
				return nil, &ArgError{Problem: ArgNeedsValue, Arg: name}
			}
			if spec.check != nil {
				if p := spec.check(value); p != "" {
					return nil, &ArgError{Problem: p, Arg: name}
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
			return nil, &ArgError{Problem: ArgWantPositiveInt, Arg: name}
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
func allowedList() []string {
	names := make([]string, 0, len(allowedArgs))
	for n := range allowedArgs {
		names = append(names, "-"+n)
	}
	sort.Strings(names)
	return names
}

// checkVarArg wants NAME=VALUE. The value is never quoted in the error.
func checkVarArg(v string) ArgProblem {
	name, _, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return ArgWantVar
	}
	return ""
}

// checkVarFileArg wants a relative path; Plan checks that it stays inside
// the repository.
func checkVarFileArg(v string) ArgProblem {
	if filepath.IsAbs(v) {
		return ArgAbsoluteFile
	}
	return ""
}

func checkPositiveInt(v string) ArgProblem {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return ArgWantPositiveInt
	}
	return ""
}

func checkDuration(v string) ArgProblem {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return ArgWantDuration
	}
	return ""
}
