package terraform

import (
	"context"
	"strings"
	"testing"
)

func TestShowArgs(t *testing.T) {
	got, err := showArgs("/w/p.tfplan", true)
	if err != nil {
		t.Fatal(err)
	}
	assertArgs(t, got, []string{"show", "-no-color", "-json", "/w/p.tfplan"})
	got, err = showArgs("/w/p.tfplan", false)
	if err != nil {
		t.Fatal(err)
	}
	assertArgs(t, got, []string{"show", "-no-color", "/w/p.tfplan"})
	if _, err := showArgs("", false); err == nil {
		t.Error("no error without a plan file")
	}
}

func TestShowCmdMakesPlanFileAbsolute(t *testing.T) {
	w := fakeWorkdir(t, "exit 0\n", Config{})
	// A relative name that looks like a flag must not become one.
	cmd, err := w.showCmd(context.Background(), "-plan", false)
	if err != nil {
		t.Fatal(err)
	}
	if last := cmd.Args[len(cmd.Args)-1]; !strings.HasPrefix(last, w.Dir()+"/") {
		t.Errorf("plan file argument %q is not absolute under %s", last, w.Dir())
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
