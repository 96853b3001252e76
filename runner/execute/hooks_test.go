package execute

import (
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
)

// TestHooksOf checks which repo_rules hooks run for a command: those
// naming no commands, and those naming it.
func TestHooksOf(t *testing.T) {
	hooks := []config.Hook{{Run: "all"}, {Run: "plan", Commands: "plan"}, {Run: "both", Commands: "plan, apply"}, {Run: "apply", Commands: "apply"}}
	var got []string
	for _, h := range hooksOf(hooks, "apply") {
		got = append(got, h.Run)
	}
	if !reflect.DeepEqual(got, []string{"all", "both", "apply"}) {
		t.Fatalf("hooks for apply = %v", got)
	}
}

// TestInitOptions checks an init step's extra_args: -backend-config
// (either form) is taken, anything else refused.
func TestInitOptions(t *testing.T) {
	x := &Jobs{cfg: withOpen(t, Deps{})}
	o, err := x.initOptions([]string{"-backend-config=bucket=b", "--backend-config", "key=k"})
	if err != nil || !reflect.DeepEqual(o.BackendConfig, []string{"bucket=b", "key=k"}) {
		t.Fatalf("initOptions = %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-upgrade"}, {"-backend-config"}, {"-plugin-dir=/x"}} {
		if _, err := x.initOptions(bad); err == nil || !strings.Contains(err.Error(), "init extra_args") {
			t.Errorf("initOptions(%q) = %v, want a refusal naming init's extra_args", bad, err)
		}
	}
}
