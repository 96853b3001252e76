package discovery

import (
	"context"
	"reflect"
	"testing"
)

// Atlantis's when_modified: relative paths, "!" excludes, last match wins.
func TestWhenModifiedNegation(t *testing.T) {
	root := writeTree(t, repo)
	o := Options{Configured: []ConfiguredProject{{Name: "prod", Dir: "envs/prod",
		WhenModified: []string{"**/*.tf*", "!prod.tfvars", "../../docs/**/*.md"}}}}
	for _, c := range []struct {
		changed []string
		want    []string
	}{
		{[]string{"envs/prod/prod.tfvars"}, []string{}},
		{[]string{"envs/prod/main.tf"}, []string{"prod"}},
		{[]string{"docs/guide/index.md"}, []string{"prod"}},
		{[]string{"README.md"}, []string{}},
	} {
		got, err := Discover(context.Background(), root, c.changed, o)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(names(got), c.want) {
			t.Errorf("changed %v: projects %v, want %v", c.changed, names(got), c.want)
		}
	}
}

func TestAutodiscoverModes(t *testing.T) {
	root := writeTree(t, repo)
	ctx := context.Background()
	configured := []ConfiguredProject{{Name: "prod", Dir: "envs/prod", Workspace: "eu"}}
	changed := []string{"envs/prod/main.tf", "envs/dev/main.tf"}
	for _, c := range []struct {
		name string
		o    Options
		want []string
	}{
		{"auto with projects: only the listed", Options{Configured: configured}, []string{"prod"}},
		{"enabled: listed plus discovered, the listed winning its dir", Options{Configured: configured, Autodiscover: AutodiscoverEnabled}, []string{"envs/dev", "prod"}},
		{"disabled without projects: none", Options{Autodiscover: AutodiscoverDisabled}, []string{}},
		{"ignore_paths: never discovered", Options{IgnoreDirs: []string{"envs/dev"}}, []string{"envs/prod"}},
	} {
		got, err := Discover(ctx, root, changed, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(names(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, names(got), c.want)
		}
	}
	all, err := All(ctx, root, Options{Configured: configured, Autodiscover: AutodiscoverEnabled, IgnoreDirs: []string{"examples/**", "json", "tofu", "envs/cyc", "modules/**"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".", "envs/dev", "prod", "envs/staging"}; !reflect.DeepEqual(names(all), want) {
		t.Errorf("All with autodiscover enabled: %v, want %v", names(all), want)
	}
	none, _ := All(ctx, root, Options{Autodiscover: AutodiscoverDisabled})
	if len(none) != 0 {
		t.Errorf("All with autodiscover disabled and no projects: %v", names(none))
	}
}
