package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Exit codes of Check and Test.
const (
	ExitOK    = 0 // no denial; every test passed
	ExitFail  = 1 // a denial; a test failed or raised an error
	ExitError = 2 // the policies or inputs could not be used (syntax error, unreadable file, no tests)
)

// CheckOptions say how Check reads the policies and the files.
type CheckOptions struct {
	// InputDoc: each file is a whole input document (format atoll only).
	InputDoc bool
	// Format is FormatAtoll (default) or FormatConftest, as a server's
	// policy set's format.
	Format string
	// Namespaces are a conftest set's packages (default [main]).
	Namespaces []string
}

// Check evaluates the policy set in policiesDir against each file, as the
// server would, and prints every denial and warning to stdout, one per line:
//
//	FILE: DENY: RESOURCE: MESSAGE
//	FILE: WARN: MESSAGE
//	FILE: ERROR: REASON
//
// followed by a summary line. Each file is the output of `terraform show
// -json PLANFILE`, given to policies as input.plan with the rest of the input
// empty; with inputDoc, each file is a whole input document (see Input and
// testdata/input.json) instead. With format conftest, policies see each
// file, the bare plan, as input, and their deny and violation rules deny.
// Check returns ExitOK when no file is denied,
// ExitFail when one is, and ExitError when the policies do not compile or a
// file cannot be read, is not JSON, is not of the expected kind or fails to
// evaluate (the other files are still checked). Policies see no repository
// or project filter: every set applies.
func Check(ctx context.Context, policiesDir string, o CheckOptions, files []string, stdout io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stdout, "error: no files to check: give the output of `terraform show -json PLANFILE`")
		return ExitError
	}
	inputDoc := o.InputDoc
	if inputDoc && o.Format == FormatConftest {
		fmt.Fprintln(stdout, "error: a conftest set reads the bare plan: leave out the input-document option")
		return ExitError
	}
	e, err := Compile(ctx, []SetConfig{{Name: setName(policiesDir), Path: policiesDir, Format: o.Format, Namespaces: o.Namespaces}}, Options{})
	if err != nil {
		fmt.Fprintf(stdout, "error: %v\n", err)
		return ExitError
	}
	set := e.sets[0]
	var denied, denies, warns, errs int
	for _, f := range files {
		input, err := readCheckInput(f, inputDoc)
		if err != nil {
			fmt.Fprintf(stdout, "%s: ERROR: %v\n", f, err)
			errs++
			continue
		}
		deny, warn, errText := set.evaluate(ctx, set.inputOf(input), e.opts)
		if errText != "" {
			fmt.Fprintf(stdout, "%s: ERROR: %s\n", f, errText)
			errs++
			continue
		}
		for _, m := range deny {
			fmt.Fprintf(stdout, "%s: DENY: %s\n", f, formatMessage(m))
		}
		for _, m := range warn {
			fmt.Fprintf(stdout, "%s: WARN: %s\n", f, formatMessage(m))
		}
		if len(deny) > 0 {
			denied++
		}
		denies += len(deny)
		warns += len(warn)
	}
	fmt.Fprintf(stdout, "%s checked: %d denied (%s, %s), %s\n",
		plural(len(files), "file"), denied, plural(denies, "denial"), plural(warns, "warning"), plural(errs, "error"))
	switch {
	case errs > 0:
		return ExitError
	case denied > 0:
		return ExitFail
	default:
		return ExitOK
	}
}

// readCheckInput reads one file given to Check and returns the input
// document for it.
func readCheckInput(file string, inputDoc bool) (ast.Value, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	v, err := parseJSONValue(b)
	if err != nil {
		if inputDoc {
			return nil, err
		}
		return nil, fmt.Errorf("%w (give the output of `terraform show -json PLANFILE`, not the plan file itself)", err)
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("want a JSON object, got %s", ast.ValueName(v))
	}
	if inputDoc {
		if obj.Get(ast.InternedTerm("plan")) == nil {
			return nil, fmt.Errorf("input document has no \"plan\" key (to check a plan file, leave out the input-document option)")
		}
		return obj, nil
	}
	if obj.Get(ast.InternedTerm("format_version")) == nil {
		return nil, fmt.Errorf("no \"format_version\": not a `terraform show -json` document (to check a whole input document, use the input-document option)")
	}
	base, err := Input{Plan: json.RawMessage("{}")}.value()
	if err != nil {
		return nil, err
	}
	in := base.(ast.Object)
	in.Insert(ast.InternedTerm("plan"), ast.NewTerm(obj))
	return in, nil
}

// Test runs the Rego unit tests (rules named test_*, in any package) of the
// .rego files under dir, like `opa test`, and prints one line per test:
//
//	PASS data.atoll_test.test_private_file (312µs)
//	FAIL data.atoll_test.test_public_file (policies/policy_test.rego:12)
//	ERROR data.atoll_test.test_x (policies/policy_test.rego:20): MESSAGE
//	SKIP data.atoll_test.todo_test_y
//
// in file and line order, the print() output of failing tests indented
// below them, and a summary line. Tests run under the server's rules: Rego
// v1, no network built-ins, built-in errors raised, DefaultTimeout per test.
// Test returns ExitOK when every test passes (skipped todo_test_ rules do not
// count), ExitFail when a test fails or raises an error, and ExitError when
// the files cannot be loaded or compiled, or when no test is found: a run
// that tests nothing, say from a mistyped directory, must not pass.
func Test(ctx context.Context, dir string, stdout io.Writer) int {
	name := setName(dir)
	modules, err := loadModules(name, dir, false)
	if err != nil {
		fmt.Fprintf(stdout, "error: %v\n", err)
		return ExitError
	}
	store := inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false))
	txn, err := store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		fmt.Fprintf(stdout, "error: opening the test store: %v\n", err)
		return ExitError
	}
	defer store.Abort(ctx, txn)
	runner := tester.NewRunner().
		SetCompiler(newCompiler(true)).
		SetDefaultRegoVersion(ast.RegoV1).
		SetStore(store).
		SetModules(modules).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		SetTimeout(DefaultTimeout)
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		fmt.Fprintf(stdout, "error: %v\n", newCompileError(name, problemsOf(dir, err)))
		return ExitError
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stdout, "error: tests interrupted: %v\n", err)
		return ExitError
	}
	if len(results) == 0 {
		fmt.Fprintf(stdout, "error: no tests found under %s (a test is a rule whose name starts with test_)\n", dir)
		return ExitError
	}
	slices.SortFunc(results, func(a, b *tester.Result) int {
		fa, la := location(a)
		fb, lb := location(b)
		return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(la, lb), cmp.Compare(a.Name, b.Name))
	})
	var passed, failed, errored, skipped int
	for _, r := range results {
		file, line := location(r)
		id := r.Package + "." + r.Name
		switch {
		case r.Skip:
			skipped++
			fmt.Fprintf(stdout, "SKIP %s\n", id)
		case r.Error != nil:
			errored++
			fmt.Fprintf(stdout, "ERROR %s (%s:%d): %v\n", id, file, line, r.Error)
		case r.Fail:
			failed++
			fmt.Fprintf(stdout, "FAIL %s (%s:%d)\n", id, file, line)
		default:
			passed++
			fmt.Fprintf(stdout, "PASS %s (%s)\n", id, r.Duration.Round(time.Microsecond))
			continue
		}
		if out := strings.TrimRight(string(r.Output), "\n"); out != "" && !r.Skip {
			for l := range strings.SplitSeq(out, "\n") {
				fmt.Fprintf(stdout, "    %s\n", l)
			}
		}
	}
	fmt.Fprintf(stdout, "%s: %d passed, %d failed, %s, %d skipped\n",
		plural(len(results), "test"), passed, failed, plural(errored, "error"), skipped)
	if failed > 0 || errored > 0 {
		return ExitFail
	}
	return ExitOK
}

func location(r *tester.Result) (string, int) {
	if r.Location == nil {
		return "", 0
	}
	return r.Location.File, r.Location.Row
}

// setName names the set of a CLI directory after the directory.
func setName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(dir)
}

// formatMessage is "RESOURCE: MSG", or MSG without a resource.
func formatMessage(m Message) string {
	if m.More > 0 {
		return fmt.Sprintf("… and %d more messages not shown", m.More)
	}
	if m.Resource == "" {
		return m.Msg
	}
	return m.Resource + ": " + m.Msg
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
