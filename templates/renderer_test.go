package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New("")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEmbeddedSamplesRender(t *testing.T) {
	r := newTestRenderer(t)
	for _, s := range samples() {
		out, err := r.Render(s.name, s.data)
		if err != nil {
			t.Fatalf("%s (%s): %v", s.name, s.label, err)
		}
		if strings.TrimSpace(out) == "" {
			t.Errorf("%s (%s) rendered nothing", s.name, s.label)
		}
		if strings.Contains(out, "<no value>") {
			t.Errorf("%s (%s) shows <no value>:\n%s", s.name, s.label, out)
		}
		if !fencesBalanced(out) || !detailsBalanced(out) {
			t.Errorf("%s (%s) is not balanced:\n%s", s.name, s.label, out)
		}
	}
}

func TestOverrides(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string // "" for success
	}{
		{name: "replaces a template", files: map[string]string{"notice_no_locks.tmpl": "NOTE: no locks"}},
		{name: "replaces a partial", files: map[string]string{"failure.tmpl": "BROKE {{.FailedStep}}"}},
		{name: "ignores other files", files: map[string]string{"README.md": "{{", ".hidden.tmpl": "{{"}},
		{name: "parse error", files: map[string]string{"notice_unlocked.tmpl": "{{.Projects"}, wantErr: "notice_unlocked.tmpl"},
		{name: "unknown field in a notice", files: map[string]string{"notice_unlocked.tmpl": "{{.Text}}"}, wantErr: "notice_unlocked.tmpl"},
		{name: "unknown field", files: map[string]string{"help.tmpl": "{{.Nope}}"}, wantErr: "help.tmpl"},
		{name: "unknown field in a partial", files: map[string]string{"counts.tmpl": "{{.Nope}}"}, wantErr: "counts.tmpl"},
		{name: "unknown function", files: map[string]string{"version.tmpl": "{{shout .Version}}"}, wantErr: "version.tmpl"},
		{name: "unknown name", files: map[string]string{"notise.tmpl": "x"}, wantErr: "notise.tmpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				writeFile(t, dir, name, text)
			}
			r, err := New(dir)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("New succeeded, want an error naming %s", tt.wantErr)
				}
				if !strings.Contains(err.Error(), filepath.Join(dir, tt.wantErr)) {
					t.Fatalf("error does not name the file %s: %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if len(r.Overrides()) != len(tt.files) && tt.name != "ignores other files" {
				t.Errorf("Overrides() = %v", r.Overrides())
			}
		})
	}
}

func TestOverrideIsUsed(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "notice_apply_taken.tmpl", "NOTE: {{.Projects}}")
	writeFile(t, dir, "failure.tmpl", "BROKE at {{.FailedStep}}")
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.RenderMessage(ApplyTaken{Projects: []string{"app"}})
	if err != nil || out != "NOTE: [app]\n" {
		t.Fatalf("RenderMessage = %q, %v", out, err)
	}
	body, err := r.RenderCommandComment(CommandComment{ID: "x", Command: "plan", Status: RunDone,
		Projects: []ProjectResult{{Name: "app", Status: StatusPlanError, FailedStep: "init"}}})
	if err != nil || !strings.Contains(body, "BROKE at init") {
		t.Fatalf("the overridden partial is not used: %v\n%s", err, body)
	}
	// The embedded templates stay as they were for a renderer without overrides.
	plain := newTestRenderer(t)
	if out, _ := plain.RenderMessage(ApplyTaken{Projects: []string{"x"}}); strings.HasPrefix(out, "NOTE") {
		t.Fatalf("override leaked into another renderer")
	}
}

func TestNewMissingOverrideDir(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("New succeeded with a missing override directory")
	}
}

func TestRenderUnknownTemplate(t *testing.T) {
	r := newTestRenderer(t)
	if _, err := r.Render("nope", nil); !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("err = %v, want ErrUnknownTemplate", err)
	}
	if out, err := r.Render("notice_no_locks", NoLocks{}); err != nil || !strings.Contains(out, "no locks") {
		t.Fatalf("Render without .tmpl = %q, %v", out, err)
	}
}

func TestTidy(t *testing.T) {
	in := "\n\na\n\n\n\nb\n```\n\n\n\n```\n\n\n"
	want := "a\n\nb\n```\n\n\n\n```\n"
	if got := tidy(in); got != want {
		t.Fatalf("tidy = %q, want %q", got, want)
	}
}

func TestConcurrentRender(t *testing.T) {
	r := newTestRenderer(t)
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for _, s := range samples()[:6] {
				if _, e := r.Render(s.name, s.data); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
