package templates

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestEveryTemplateIsRendered: each embedded template is rendered by a
// sample (so New's self-test and TestEmbeddedSamplesRender run it) or is
// a partial another template includes. A template nothing uses fails.
func TestEveryTemplateIsRendered(t *testing.T) {
	sources, err := readEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, s := range samples() {
		used[s.name] = true
	}
	include := regexp.MustCompile(`\{\{-?\s*template\s+"([^"]+)"`)
	for _, text := range sources {
		for _, m := range include.FindAllStringSubmatch(text, -1) {
			used[m[1]] = true
		}
	}
	for name := range sources {
		if !used[name] {
			t.Errorf("%s is neither rendered by a sample (samples.go) nor included by another template", name)
		}
	}
	define := regexp.MustCompile(`\{\{-?\s*define\s+"([^"]+)"`)
	defined := map[string]bool{}
	for _, text := range sources {
		for _, m := range define.FindAllStringSubmatch(text, -1) {
			defined[m[1]] = true
		}
	}
	for name := range used {
		if _, ok := sources[name]; !ok && !defined[name] {
			t.Errorf("%s is used but is no embedded template", name)
		}
	}
}

// TestEveryMessageKindHasATemplate: each type of this package with a
// Template method (every Message kind) has a sample that renders through
// its own template, and that template exists.
func TestEveryMessageKindHasATemplate(t *testing.T) {
	kinds := messageKinds(t)
	if len(kinds) < 30 {
		t.Fatalf("found only %d message kinds: %v", len(kinds), kinds)
	}
	sampled := map[string]bool{}
	r := newTestRenderer(t)
	for _, s := range samples() {
		m, ok := s.data.(Message)
		if !ok {
			continue
		}
		if m.Template() != s.name {
			t.Errorf("sample %q of %T renders %s, but its Template() is %s", s.label, m, s.name, m.Template())
		}
		sampled[reflect.TypeOf(m).Name()] = true
		out, err := r.RenderMessage(m)
		if err != nil {
			t.Errorf("%T: %v", m, err)
		} else if strings.TrimSpace(out) == "" || strings.Contains(out, "<no value>") {
			t.Errorf("%T renders %q", m, out)
		}
	}
	for _, k := range kinds {
		if !sampled[k] {
			t.Errorf("message kind %s has no sample in samples.go, so its template is never checked", k)
		}
	}
}

// messageKinds are the names of the types of this package that declare a
// Template method, read from the source so a new kind cannot be missed.
func messageKinds(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv == nil || fn.Name.Name != "Template" || len(fn.Recv.List) != 1 {
					continue
				}
				typ := fn.Recv.List[0].Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				if id, ok := typ.(*ast.Ident); ok {
					kinds = append(kinds, id.Name)
				}
			}
		}
	}
	sort.Strings(kinds)
	return kinds
}

type unknownMessage struct{}

func (unknownMessage) Template() string { return "notice_no_such_kind.tmpl" }

// TestUnknownMessageKind: a message whose template does not exist is an
// error, never an empty comment.
func TestUnknownMessageKind(t *testing.T) {
	r := newTestRenderer(t)
	if out, err := r.RenderMessage(unknownMessage{}); !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("RenderMessage = %q, %v; want ErrUnknownTemplate", out, err)
	}
}

func TestCheckProgressAndNotes(t *testing.T) {
	r := newTestRenderer(t)
	out, err := r.RenderCheckProgress(CheckProgress{State: CheckQueued, Kind: "plan_apply", Project: "app"})
	if err != nil || out.Title != "Queued" || out.Summary != "atoll will plan and apply `app` soon.\n" {
		t.Errorf("queued = %+v, %v", out, err)
	}
	out, err = r.RenderCheckProgress(CheckProgress{State: CheckRunning, Kind: "apply", Project: "app"})
	if err != nil || out.Title != "Running" || out.Summary != "atoll is applying `app`.\n" {
		t.Errorf("running = %+v, %v", out, err)
	}
	for m, want := range map[Message]string{
		RunInterrupted{}:            "This run was interrupted by a restart of atoll. Comment `atoll plan` to plan again.\n",
		RunInterrupted{Apply: true}: "This run was interrupted by a restart of atoll.\n",
		JobSkipped{Kind: SkipSuperseded, Commit: "0123456789"}: "superseded by commit 0123456\n",
		JobInterrupted{Kind: "plan"}:                           "atoll stopped during this plan\n",
	} {
		if got, err := r.RenderMessage(m); err != nil || got != want {
			t.Errorf("%#v = %q, %v; want %q", m, got, err, want)
		}
	}
	body, err := r.RenderCommandComment(CommandComment{ID: "x", Command: "plan", Status: RunDone,
		Trigger: Trigger{Kind: TriggerPush, Commit: "0123456789"}})
	if err != nil || !strings.Contains(body, "Started by push of 0123456 ·") {
		t.Errorf("trigger: %v\n%s", err, body)
	}
}
