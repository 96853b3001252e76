package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkspaceArgs(t *testing.T) {
	tests := []struct {
		sub, name string
		want      []string
		wantErr   bool
	}{
		{sub: "select", name: "staging", want: []string{"workspace", "select", "-no-color", "staging"}},
		{sub: "new", name: "prod-eu", want: []string{"workspace", "new", "-no-color", "prod-eu"}},
		{sub: "select", name: "", wantErr: true},
		{sub: "select", name: "-chdir=/", wantErr: true},
		{sub: "select", name: "a/b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.sub+" "+tt.name, func(t *testing.T) {
			got, err := workspaceArgs(tt.sub, tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil {
				assertArgs(t, got, tt.want)
			}
		})
	}
}

// TestSelectWorkspaceCreates runs select, then new when select fails.
func TestSelectWorkspaceCreates(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	w := fakeWorkdir(t, `echo "$@" >> `+log+`
case "$2" in
select) [ -e "$(dirname `+log+`)/ws-$4" ] || { echo "Workspace \"$4\" doesn't exist." >&2; exit 1; } ;;
new) touch "$(dirname `+log+`)/ws-$4" ;;
esac
`, Config{})
	for i := 0; i < 2; i++ {
		if err := w.SelectWorkspace(context.Background(), "staging"); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "workspace select -no-color staging\nworkspace new -no-color staging\nworkspace select -no-color staging\n"
	if string(b) != want {
		t.Errorf("commands run:\n%s\nwant:\n%s", b, want)
	}
}

func TestSelectWorkspaceBothFail(t *testing.T) {
	w := fakeWorkdir(t, "echo \"backend unreachable\" >&2\nexit 1\n", Config{})
	err := w.SelectWorkspace(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "neither be selected nor created") || !strings.Contains(err.Error(), "backend unreachable") {
		t.Errorf("err = %v", err)
	}
}
