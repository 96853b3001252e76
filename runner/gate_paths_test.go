package runner

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/vcs"
)

// gatePackages are the packages below the root whose code decides or
// starts applies, by directory (relative to runner/); their functions are
// named "pkg.Name" by runnerFuncs, methods also "pkg.Type.Name".
var gatePackages = []string{"clearance", "pr", "drift"}

// runnerFuncs parses the runner package's non-test files, and those of
// gatePackages, and returns their functions by name (a package's below
// the root as "pkg.Name", and a method of one also as "pkg.Type.Name",
// which two methods of one name cannot share).
func runnerFuncs(t *testing.T) map[string]*ast.FuncDecl {
	t.Helper()
	out := map[string]*ast.FuncDecl{}
	fset := token.NewFileSet()
	for _, dir := range append([]string{"."}, gatePackages...) {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		prefix := ""
		if dir != "." {
			prefix = filepath.Base(dir) + "."
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(fset, f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				out[prefix+fd.Name.Name] = fd
				if prefix != "" && fd.Recv != nil && len(fd.Recv.List) == 1 {
					typ := fd.Recv.List[0].Type
					if st, ok := typ.(*ast.StarExpr); ok {
						typ = st.X
					}
					if id, ok := typ.(*ast.Ident); ok {
						out[prefix+id.Name+"."+fd.Name.Name] = fd
					}
				}
			}
		}
	}
	return out
}

// calls reports whether fn's body calls a function or method named name
// (or, for a call through a subpackage's interface, its exported form:
// startApply or StartApply).
func calls(fn *ast.FuncDecl, name string) bool {
	found := false
	exported := strings.ToUpper(name[:1]) + name[1:]
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			switch f := c.Fun.(type) {
			case *ast.Ident:
				found = found || f.Name == name
			case *ast.SelectorExpr:
				found = found || f.Sel.Name == name || f.Sel.Name == exported
			}
		}
		return !found
	})
	return found
}

// mentions reports whether fn's body names sel as pkg.sel.
func mentions(fn *ast.FuncDecl, pkg, sel string) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok && id.Name == pkg && s.Sel.Name == sel {
				found = true
			}
		}
		return !found
	})
	return found
}

// makesApplyJob reports whether fn builds a Job of kind apply or
// plan_apply (JobApply, or records.JobApply below the root).
func makesApplyJob(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Kind" {
			var v string
			switch e := kv.Value.(type) {
			case *ast.Ident:
				v = e.Name
			case *ast.SelectorExpr:
				v = e.Sel.Name
			}
			if v == "JobApply" || v == "JobPlanApply" {
				found = true
			}
		}
		return !found
	})
	return found
}

// Every apply path asks the gate. The paths are enumerated twice: by
// gate.Paths (each must be decided in the function that handles it), and
// by the code (every function that builds an apply job hands it to
// startApply, the only caller that may start one: startRun refuses apply
// jobs otherwise, and startApply needs a Clearance only gate.Decide
// makes).
func TestEveryApplyPathAsksTheGate(t *testing.T) {
	funcs := runnerFuncs(t)
	handler := map[gate.Path]string{
		gate.PathComment:       "clearance.Requirements", // from commandApply, through pr.Gate (the clearance.Gatherer)
		gate.PathAfterMerge:    "pr.OnMerged",
		gate.PathRetry:         "pr.retryAfterMerge",
		gate.PathRemediation:   "drift.Remediations.Remediate",
		gate.PathAutoRemediate: "drift.Remediations.AutoRemediate",
	}
	consts := map[gate.Path]string{gate.PathComment: "PathComment", gate.PathAfterMerge: "PathAfterMerge",
		gate.PathRetry: "PathRetry", gate.PathRemediation: "PathRemediation", gate.PathAutoRemediate: "PathAutoRemediate"}
	if len(handler) != len(gate.Paths) {
		t.Fatalf("gate.Paths has %d paths, this test knows %d: add the new one here", len(gate.Paths), len(handler))
	}
	for _, p := range gate.Paths {
		name, ok := handler[p]
		fn := funcs[name]
		if !ok || fn == nil {
			t.Errorf("path %s: no handler %q", p, name)
			continue
		}
		if !mentions(fn, "gate", consts[p]) {
			t.Errorf("path %s: %s does not decide with gate.%s", p, name, consts[p])
		}
		if !calls(fn, "Decide") && !calls(fn, "ForPR") && !calls(fn, "Merged") {
			t.Errorf("path %s: %s does not ask the gate", p, name)
		}
	}
	// pr.Gate is the clearance.Gatherer itself (wire.go), so its
	// Requirements is clearance.Requirements.
	if !calls(funcs["pr.commandApply"], "Requirements") {
		t.Error("commandApply does not check the requirements")
	}
	for _, name := range []string{"clearance.ForPR", "clearance.DecidePolicies"} {
		if fn := funcs[name]; fn == nil || !mentions(fn, "gate", "Decide") {
			t.Errorf("%s does not decide with gate.Decide", name)
		}
	}
	if fn := funcs["clearance.Merged"]; fn == nil || !calls(fn, "ForPR") {
		t.Error("clearance.Merged does not ask the gate")
	}
	var builders []string
	for name, fn := range funcs {
		if !makesApplyJob(fn) {
			continue
		}
		builders = append(builders, name)
		if !calls(fn, "startApply") {
			t.Errorf("%s builds an apply job but does not start it through startApply", name)
		}
		// A drift remediation starts its apply through the engine's
		// StartApply with the clearance the function itself got from
		// gate.Decide.
		if strings.HasPrefix(name, "drift.") && (!calls(fn, "Decide") || !calls(fn, "Clearance")) {
			t.Errorf("%s builds an apply job without a clearance gate.Decide gave it", name)
		}
	}
	if len(builders) == 0 {
		t.Fatal("found no function that builds an apply job")
	}
	for name, fn := range funcs {
		if name == "startApply" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if kv, ok := n.(*ast.KeyValueExpr); ok {
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Clearances" {
					t.Errorf("%s gives a run spec clearances: only startApply may", name)
				}
			}
			if as, ok := n.(*ast.AssignStmt); ok {
				for _, l := range as.Lhs {
					if s, ok := l.(*ast.SelectorExpr); ok && s.Sel.Name == "Clearances" {
						t.Errorf("%s gives a run spec clearances: only startApply may", name)
					}
				}
			}
			return true
		})
	}
}

// startRun refuses apply jobs that did not come through startApply, and
// startApply refuses a project without a valid clearance.
func TestApplyJobsNeedAClearance(t *testing.T) {
	r, _ := schedTestRunner(t, config.DefaultServer(), &fakeHost{})
	ctx := context.Background()
	repo := vcs.Repo{Owner: "acme", Name: "x"}
	for _, kind := range []JobKind{JobApply, JobPlanApply} {
		spec := runSpec{Repo: repo, Command: "apply",
			Jobs: []Job{{Kind: kind, Repo: repo, Project: Project{ProjectCore: config.ProjectCore{Name: "prod"}}}}}
		if _, err := r.startRun(ctx, spec); !errors.Is(err, errNotCleared) {
			t.Errorf("startRun(%s) = %v, want errNotCleared", kind, err)
		}
		if _, err := r.startApply(ctx, spec, []gate.Clearance{{}}); !errors.Is(err, errNotCleared) {
			t.Errorf("startApply(%s) with a zero clearance = %v, want errNotCleared", kind, err)
		}
		refused := gate.Decide(gate.Input{Path: gate.PathComment, Project: "prod",
			Policies: []gate.Policy{{Set: "sec", Failed: true}}})
		c, _ := refused.Clearance()
		if _, err := r.startApply(ctx, spec, []gate.Clearance{c}); !errors.Is(err, errNotCleared) {
			t.Errorf("startApply(%s) with a refusal's clearance = %v, want errNotCleared", kind, err)
		}
		other, ok := gate.Decide(gate.Input{Path: gate.PathComment, Project: "staging"}).Clearance()
		if !ok {
			t.Fatal("an empty decision is refused")
		}
		if _, err := r.startApply(ctx, spec, []gate.Clearance{other}); !errors.Is(err, errNotCleared) {
			t.Errorf("startApply(%s) with another project's clearance = %v, want errNotCleared", kind, err)
		}
	}
}
