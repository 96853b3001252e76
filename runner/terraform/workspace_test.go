package terraform

import (
	"context"
	"strings"
	"testing"
)

func TestCheckWorkspaceName(t *testing.T) {
	for name, ok := range map[string]bool{"staging": true, "prod-eu": true, "": false, " ": false, "-chdir=/": false, "a/b": false, "a\nb": false} {
		if err := checkWorkspaceName(name); (err == nil) != ok {
			t.Errorf("%q: err = %v", name, err)
		}
	}
}

// fakeWorkspaces is a fake terraform that keeps its workspaces in files
// in the project directory.
const fakeWorkspaces = `case "$1 $2" in
"workspace list")
	cur=$(cat .ws-current 2>/dev/null || echo default)
	for ws in default $(cat .ws-all 2>/dev/null); do
		if [ "$ws" = "$cur" ]; then echo "* $ws"; else echo "  $ws"; fi
	done ;;
"workspace select") echo "$4" > .ws-current ;;
"workspace new") echo "$4" >> .ws-all; echo "$4" > .ws-current ;;
esac
`

// TestSelectWorkspace lists, then creates, selects or does nothing.
func TestSelectWorkspace(t *testing.T) {
	w, rec := newRecorder(t, fakeWorkspaces, Config{})
	for _, name := range []string{"staging", "staging", "default", "staging"} {
		if err := w.SelectWorkspace(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, c := range rec.calls(t) {
		got = append(got, strings.Join(c, " "))
	}
	want := []string{
		"workspace list -no-color", "workspace new -no-color staging",
		"workspace list -no-color",
		"workspace list -no-color", "workspace select -no-color default",
		"workspace list -no-color", "workspace select -no-color staging",
	}
	assertArgs(t, got, want)
	if err := w.SelectWorkspace(context.Background(), "-x"); err == nil {
		t.Error("a name like a flag was accepted")
	}
}

func TestSelectWorkspaceListFails(t *testing.T) {
	w, rec := newRecorder(t, "echo \"backend unreachable hunter22\" >&2\nexit 1\n", Config{Secrets: []string{"hunter22"}})
	err := w.SelectWorkspace(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), `workspace "x" could not be selected`) || !strings.Contains(err.Error(), "backend unreachable ***") {
		t.Errorf("err = %v", err)
	}
	if n := len(rec.calls(t)); n != 1 {
		t.Errorf("%d commands ran after the list failed", n)
	}
}
