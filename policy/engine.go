package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Defaults of Options.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultMaxMemoryBytes = 1 << 30
)

// Options bound every evaluation.
type Options struct {
	// Timeout bounds the evaluation of one policy set (both decisions).
	// Zero means DefaultTimeout; negative is an error.
	Timeout time.Duration
	// MaxMemoryBytes bounds, approximately, how much the live heap may grow
	// while one set is evaluated. Zero means DefaultMaxMemoryBytes; negative
	// disables the bound. The measure is process-wide (Go has no per-goroutine
	// accounting): it is a guard against runaway policies, not an exact quota,
	// and concurrent evaluations share it.
	MaxMemoryBytes int64
}

// Input is the document a policy sees as `input`. Its JSON form is the
// contract with policy authors; testdata/input.json is an example.
type Input struct {
	Plan        json.RawMessage  `json:"plan"` // the `terraform show -json` document; required
	Project     ProjectInput     `json:"project"`
	PullRequest PullRequestInput `json:"pull_request"`
	Repo        string           `json:"repo"` // "owner/name"
	User        string           `json:"user"` // login of who triggered the run (a comment's author, or the PR author on push)
}

// ProjectInput describes the project whose plan is judged.
type ProjectInput struct {
	Name         string `json:"name"`
	Dir          string `json:"dir"` // relative to the repository root, "." for the root
	Workspace    string `json:"workspace"`
	Distribution string `json:"distribution"` // "terraform" or "opentofu"
}

// PullRequestInput describes the pull request. Number is 0 and the rest is
// empty when the plan is not for a pull request (drift remediation). Nil
// slices are given to policies as empty arrays.
type PullRequestInput struct {
	Number       int      `json:"number"`
	Author       string   `json:"author"`
	Base         string   `json:"base"` // base branch name
	HeadSHA      string   `json:"head_sha"`
	ChangedFiles []string `json:"changed_files"`
	Labels       []string `json:"labels"`
}

// Message is one deny or warn message.
type Message struct {
	Msg      string `json:"msg"`
	Resource string `json:"resource,omitempty"` // a Terraform address, when the policy names one
	// More, in the last message of a decision cut to its first messages,
	// counts those not kept (Msg and Resource are then empty).
	More int `json:"more,omitempty"`
}

// Result is the judgement of one policy set on one plan.
type Result struct {
	Set         string
	Enforcement string   // Mandatory or Advisory
	Owners      []string // who may approve a failure
	Approvals   int      // owner approvals needed to lift a failure
	Deny, Warn  []Message
	// Err is set when the evaluation failed (timeout, memory, a built-in
	// error, a malformed decision, a bad input). Deny and Warn are then
	// empty, and the set counts as failed.
	Err string
}

// Failed reports whether the set denied the plan or could not judge it.
func (r Result) Failed() bool { return len(r.Deny) > 0 || r.Err != "" }

// Blocking reports whether the failure blocks an apply until approved: the
// set failed and is mandatory.
func (r Result) Blocking() bool { return r.Failed() && r.Enforcement != Advisory }

// Engine holds compiled policy sets. It is safe for concurrent use.
type Engine struct {
	sets []*compiledSet
	opts Options
}

// compiledSet is one set with its prepared decisions.
type compiledSet struct {
	cfg       SetConfig
	decisions []decision
}

// decision is one rule a set is asked for: its messages deny (deny,
// violation) or warn.
type decision struct {
	query string
	deny  bool
	// conftest decisions may also be arrays, single messages or booleans
	// (see decodeDecision).
	conftest bool
	pq       rego.PreparedEvalQuery
}

// Decision queries.
const (
	denyQuery = "data.atoll.deny"
	warnQuery = "data.atoll.warn"
)

// Compile validates sets and compiles each once. Configuration problems of
// all sets are returned together, then the compile errors of all sets (each a
// *CompileError naming file and line, found with errors.As), joined by
// newlines. Either must stop the server.
func Compile(ctx context.Context, sets []SetConfig, o Options) (*Engine, error) {
	if o.Timeout < 0 {
		return nil, fmt.Errorf("policy options: timeout %s is negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxMemoryBytes == 0 {
		o.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	cfgs, err := validateSets(sets)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: o}
	var errs []error
	for _, cfg := range cfgs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("compiling policies: %w", err)
		}
		cs, err := compileSet(ctx, cfg)
		if err != nil {
			errs = append(errs, err) // report every broken set at once
			continue
		}
		e.sets = append(e.sets, cs)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return e, nil
}

// compileSet loads, compiles and prepares one validated set.
func compileSet(ctx context.Context, cfg SetConfig) (*compiledSet, error) {
	conftest := cfg.Format == FormatConftest
	modules, err := loadModules(cfg.Name, cfg.Path, conftest)
	if err != nil {
		return nil, err
	}
	c := newCompiler(false)
	if err := compileModules(cfg.Name, c, modules); err != nil {
		return nil, err
	}
	var wanted []decision
	if conftest {
		wanted = conftestDecisions(c, cfg.Namespaces)
		if len(wanted) == 0 {
			return nil, fmt.Errorf("policy set %q: no rule deny, violation or warn (or named deny_*, violation_*, warn_*) in package %s under %s",
				cfg.Name, strings.Join(cfg.Namespaces, " or "), cfg.Path)
		}
	} else {
		if len(c.GetRules(ast.MustParseRef(denyQuery))) == 0 && len(c.GetRules(ast.MustParseRef(warnQuery))) == 0 {
			return nil, fmt.Errorf("policy set %q: no rule defines %s or %s under %s (is the package `atoll`? conftest policies need format: conftest)",
				cfg.Name, denyQuery, warnQuery, cfg.Path)
		}
		wanted = []decision{{query: denyQuery, deny: true}, {query: warnQuery}}
	}
	cs := &compiledSet{cfg: cfg}
	for _, d := range wanted {
		pq, err := rego.New(
			rego.Compiler(c),
			rego.Query(d.query),
			rego.SetRegoVersion(ast.RegoV1),
			rego.Capabilities(capabilities()),
			rego.UnsafeBuiltins(unsafeBuiltins),
			rego.StrictBuiltinErrors(true),
			rego.GenerateJSON(keepAST),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, newCompileError(cfg.Name, problemsOf(cfg.Path, err))
		}
		d.pq = pq
		cs.decisions = append(cs.decisions, d)
	}
	return cs, nil
}

// conftestDecisions lists the rules conftest would query in the
// namespaces: deny, violation and warn, and rules whose names start with
// deny_, violation_ or warn_, in name order.
func conftestDecisions(c *ast.Compiler, namespaces []string) []decision {
	var out []decision
	seen := map[string]bool{}
	for _, ns := range namespaces {
		pkg := ast.MustParseRef("data." + ns)
		var names []string
		for _, m := range c.Modules {
			if !m.Package.Path.Equal(pkg) {
				continue
			}
			for _, r := range m.Rules {
				name := r.Head.Name.String()
				if v, ok := r.Head.Reference[0].Value.(ast.Var); name == "" && ok {
					name = v.String()
				}
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			kind := name
			if i := strings.IndexByte(name, '_'); i > 0 {
				kind = name[:i]
			}
			if kind != "deny" && kind != "violation" && kind != "warn" {
				continue
			}
			q := "data." + ns + "." + name
			if !seen[q] {
				seen[q] = true
				out = append(out, decision{query: q, deny: kind != "warn", conftest: true})
			}
		}
	}
	return out
}

// keepAST hands the decision to decodeMessages as an ast.Value, so that a
// set can be told from an array.
func keepAST(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

// Sets returns the configuration of every set, in order, with defaults
// applied (Approvals at least 1, Enforcement set, owners without "@").
func (e *Engine) Sets() []SetConfig {
	out := make([]SetConfig, len(e.sets))
	for i, s := range e.sets {
		out[i] = s.cfg.normalize()
	}
	return out
}

// Set returns the configuration of the set named name.
func (e *Engine) Set(name string) (SetConfig, bool) {
	for _, s := range e.sets {
		if s.cfg.Name == name {
			return s.cfg.normalize(), true
		}
	}
	return SetConfig{}, false
}

// Evaluate judges in with every set that applies to repo ("owner/name") and
// project (the project name), and returns one Result per such set, in
// configuration order; nil when none applies. It never returns a passing
// Result for a set it could not evaluate: a timeout, the memory bound, a
// built-in error, a malformed decision or an invalid input (such as an empty
// or invalid Plan) is a Result with Err set.
func (e *Engine) Evaluate(ctx context.Context, repo, project string, in Input) []Result {
	var matched []*compiledSet
	for _, s := range e.sets {
		if s.cfg.matches(repo, project) {
			matched = append(matched, s)
		}
	}
	if len(matched) == 0 {
		return nil
	}
	input, inErr := in.value()
	results := make([]Result, 0, len(matched))
	for _, s := range matched {
		r := s.result()
		if inErr != nil {
			r.Err = inErr.Error()
		} else {
			r.Deny, r.Warn, r.Err = s.evaluate(ctx, s.inputOf(input), e.opts)
		}
		results = append(results, r)
	}
	return results
}

// inputOf is what the set's policies see as input: the whole document, or
// for a conftest set the bare plan.
func (s *compiledSet) inputOf(doc ast.Value) ast.Value {
	if s.cfg.Format != FormatConftest {
		return doc
	}
	if obj, ok := doc.(ast.Object); ok {
		if plan := obj.Get(ast.InternedTerm("plan")); plan != nil {
			return plan.Value
		}
	}
	return doc
}

// result returns the Result carrying the set's configuration, without a
// judgement.
func (s *compiledSet) result() Result {
	return Result{
		Set:         s.cfg.Name,
		Enforcement: s.cfg.Enforcement,
		Owners:      slices.Clone(s.cfg.Owners),
		Approvals:   s.cfg.Approvals,
	}
}

// value converts the input to the ast form OPA evaluates, once for all sets.
func (in Input) value() (ast.Value, error) {
	if len(bytes.TrimSpace(in.Plan)) == 0 {
		return nil, errors.New("invalid policy input: plan is empty")
	}
	if in.PullRequest.ChangedFiles == nil {
		in.PullRequest.ChangedFiles = []string{}
	}
	if in.PullRequest.Labels == nil {
		in.PullRequest.Labels = []string{}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("invalid policy input: %w", err)
	}
	v, err := parseJSONValue(b)
	if err != nil {
		return nil, fmt.Errorf("invalid policy input: %w", err)
	}
	if plan := v.(ast.Object).Get(ast.InternedTerm("plan")); plan == nil || ast.ValueName(plan.Value) != "object" {
		return nil, errors.New("invalid policy input: plan is not a JSON object")
	}
	return v, nil
}

// parseJSONValue decodes exactly one JSON value (numbers kept exact) into
// an ast.Value.
func parseJSONValue(b []byte) (ast.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not JSON: unexpected data after the first value")
	}
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		return nil, fmt.Errorf("converting JSON: %w", err)
	}
	return v, nil
}
