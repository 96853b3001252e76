package policy

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Problem is one syntax or compile error in a policy file.
type Problem struct {
	File    string // path of the .rego file, as found under the set's Path
	Line    int    // 1-based; 0 when unknown
	Code    string // OPA's error code, e.g. "rego_parse_error"
	Message string
}

// String formats the problem as "file:line: code: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Code != "" {
		b.WriteString(p.Code)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// CompileError reports the syntax and compile errors of one policy set. The
// server refuses to start on it.
type CompileError struct {
	Set      string
	Problems []Problem // sorted by file and line; never empty
}

// Error is `policy set "NAME": FILE:LINE: CODE: MESSAGE`, with further
// problems joined by "; ".
func (e *CompileError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("policy set %q: %s", e.Set, strings.Join(parts, "; "))
}

// unsafeBuiltins are rejected at compile time: they reach the network, the
// process environment or local files.
var unsafeBuiltins = map[string]struct{}{
	ast.HTTPSend.Name:         {},
	ast.NetLookupIPAddr.Name:  {},
	ast.OPARuntime.Name:       {},
	ast.JSONSchemaVerify.Name: {},
	ast.JSONMatchSchema.Name:  {},
}

// capabilities returns OPA's capabilities for this version with no network
// host allowed (a second fence behind unsafeBuiltins).
func capabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.AllowNet = []string{}
	return c
}

// newCompiler returns a Rego v1 compiler with the package's safety settings.
func newCompiler(printStatements bool) *ast.Compiler {
	return ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithCapabilities(capabilities()).
		WithUnsafeBuiltins(unsafeBuiltins).
		WithEnablePrintStatements(printStatements)
}

// maxPolicyFileBytes caps one .rego file: policies are code, not data.
const maxPolicyFileBytes = 4 << 20

// loadModules parses every .rego file under dir (recursively, skipping
// hidden directories) as Rego v1, or, with allowV0, as Rego v0 when v1 fails
// and v0 does not (conftest policies written before OPA 1.0). Parse errors
// of every file are collected into a *CompileError for set; I/O errors are
// returned wrapped.
func loadModules(set, dir string, allowV0 bool) (map[string]*ast.Module, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".rego") && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("policy set %q: listing %s: %w", set, dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("policy set %q: no .rego files under %s", set, dir)
	}
	modules := make(map[string]*ast.Module, len(files))
	var problems []Problem
	opts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true, Capabilities: capabilities()}
	for _, f := range files {
		src, err := readLimited(f, maxPolicyFileBytes)
		if err != nil {
			return nil, fmt.Errorf("policy set %q: %w", set, err)
		}
		m, err := ast.ParseModuleWithOpts(f, string(src), opts)
		if err != nil && allowV0 {
			v0 := opts
			v0.RegoVersion = ast.RegoV0
			if m0, err0 := ast.ParseModuleWithOpts(f, string(src), v0); err0 == nil {
				m, err = m0, nil
			}
		}
		if err != nil {
			problems = append(problems, problemsOf(f, err)...)
			continue
		}
		if m == nil { // only comments or whitespace
			problems = append(problems, Problem{File: f, Line: 1, Code: ast.ParseErr, Message: "empty module: a package declaration is required"})
			continue
		}
		modules[f] = m
	}
	if len(problems) > 0 {
		return nil, newCompileError(set, problems)
	}
	return modules, nil
}

func readLimited(file string, limit int64) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("reading policy %s: %d bytes is over the %d-byte limit for one file", file, fi.Size(), limit)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return b, nil
}

// compileModules compiles modules with c, turning compile errors into a
// *CompileError.
func compileModules(set string, c *ast.Compiler, modules map[string]*ast.Module) error {
	if c.Compile(modules); c.Failed() {
		return newCompileError(set, problemsOf("", c.Errors))
	}
	return nil
}

// problemsOf converts an OPA error (ast.Errors, *ast.Error, or anything else)
// into problems; file is used when an error carries no location.
func problemsOf(file string, err error) []Problem {
	var list ast.Errors
	var one *ast.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = ast.Errors{one}
	default:
		return []Problem{{File: file, Message: err.Error()}}
	}
	out := make([]Problem, 0, len(list))
	for _, e := range list {
		p := Problem{File: file, Code: e.Code, Message: e.Message}
		if e.Location != nil {
			if e.Location.File != "" {
				p.File = e.Location.File
			}
			p.Line = e.Location.Row
		}
		out = append(out, p)
	}
	return out
}

func newCompileError(set string, problems []Problem) *CompileError {
	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return &CompileError{Set: set, Problems: problems}
}
