package terraform

import (
	"context"
	"strings"
	"testing"
)

// TestShowArgv: the plan file reaches terraform as an absolute path, so
// that a relative name that looks like a flag never becomes one.
func TestShowArgv(t *testing.T) {
	w, rec := newRecorder(t, "echo '"+`{"format_version":"1.2"}`+"'\n", Config{})
	if _, _, err := w.Show(context.Background(), "-plan"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ShowText(context.Background(), "-plan"); err != nil {
		t.Fatal(err)
	}
	calls := rec.calls(t)
	if len(calls) != 2 {
		t.Fatalf("calls %q", calls)
	}
	assertArgs(t, calls[0], []string{"show", "-json", "-no-color", w.Dir() + "/-plan"})
	assertArgs(t, calls[1], []string{"show", "-no-color", w.Dir() + "/-plan"})
	for _, f := range []func() error{
		func() error { _, _, err := w.Show(context.Background(), " "); return err },
		func() error { _, err := w.ShowText(context.Background(), ""); return err },
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "no plan file") {
			t.Errorf("err = %v", err)
		}
	}
}

func TestShowTextMasksAndStrips(t *testing.T) {
	w := fakeWorkdir(t, `printf '\033[1mPlan:\033[0m token = "hunter22"\n'`+"\n", Config{Secrets: []string{"hunter22"}})
	got, err := w.ShowText(context.Background(), "p.tfplan")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Plan: token = \"***\"\n"; got != want {
		t.Errorf("ShowText = %q, want %q", got, want)
	}
}

func TestShowReturnsRawJSONWithoutStreaming(t *testing.T) {
	out := &syncBuffer{}
	plan := `{"format_version":"1.2","resource_changes":[{"address":"a.b","mode":"managed","change":{"actions":["create"],"after":{"v":"hunter22"}}}]}`
	w := fakeWorkdir(t, "echo '"+plan+"'\necho warning >&2\n", Config{Output: out, Secrets: []string{"hunter22"}})
	sum, raw, err := w.Show(context.Background(), "p.tfplan")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(raw)) != plan {
		t.Errorf("raw JSON = %s", raw)
	}
	if sum.Create != 1 || !sum.HasChanges {
		t.Errorf("summary %+v", sum)
	}
	if got := out.String(); got != "warning\n" {
		t.Errorf("Output = %q, want only stderr", got)
	}
}

func TestShowRefusesWhatIsNotAPlan(t *testing.T) {
	w := fakeWorkdir(t, `echo '{"format_version":"9.0"}'`+"\n", Config{})
	if _, _, err := w.Show(context.Background(), "p.tfplan"); err == nil || !strings.Contains(err.Error(), "format version") {
		t.Errorf("err = %v", err)
	}
}
