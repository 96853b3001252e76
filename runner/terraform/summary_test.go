package terraform

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// planDoc builds a plan JSON from resource changes, drift and outputs.
func planDoc(t *testing.T, changes, drift []map[string]any, outputs map[string]any) []byte {
	t.Helper()
	doc := map[string]any{"format_version": "1.2", "terraform_version": "1.5.7"}
	if changes != nil {
		doc["resource_changes"] = changes
	}
	if drift != nil {
		doc["resource_drift"] = drift
	}
	if outputs != nil {
		doc["output_changes"] = outputs
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rc is one resource change.
func rc(addr string, actions []string, extra map[string]any) map[string]any {
	change := map[string]any{"actions": actions}
	m := map[string]any{"address": addr, "mode": "managed", "type": "t", "name": "n", "change": change}
	for k, v := range extra {
		switch k {
		case "after", "after_sensitive", "importing", "before", "before_sensitive":
			change[k] = v
		default:
			m[k] = v
		}
	}
	return m
}

func TestSummarize(t *testing.T) {
	changes := []map[string]any{
		rc("a.create", []string{"create"}, nil),
		rc("a.update", []string{"update"}, nil),
		rc("a.delete", []string{"delete"}, nil),
		rc("a.replace1", []string{"delete", "create"}, nil),
		rc("a.replace2", []string{"create", "delete"}, nil),
		rc("a.noop", []string{"no-op"}, nil),
		rc("a.imported", []string{"no-op"}, map[string]any{"importing": map[string]any{"id": "i-1"}}),
		rc("a.new", []string{"no-op"}, map[string]any{"previous_address": "a.old"}),
		rc("a.forgotten", []string{"forget"}, nil),
		rc("a.delete", []string{"delete"}, map[string]any{"deposed": "00aa"}),
		rc("data.x.y", []string{"read"}, map[string]any{"mode": "data"}),
	}
	drift := []map[string]any{rc("a.update", []string{"update"}, nil)}
	outputs := map[string]any{
		"z_new":   map[string]any{"actions": []string{"create"}, "after": "v"},
		"a_upd":   map[string]any{"actions": []string{"update"}},
		"m_gone":  map[string]any{"actions": []string{"delete"}},
		"same":    map[string]any{"actions": []string{"no-op"}},
		"private": map[string]any{"actions": []string{"create"}, "after": "TOPSECRET", "after_sensitive": true},
	}
	got, err := Summarize(planDoc(t, changes, drift, outputs))
	if err != nil {
		t.Fatal(err)
	}
	want := &Summary{
		Create: 1, Update: 1, Delete: 2, Replace: 2, Import: 1, Move: 1, Forget: 1,
		Creates:  []string{"a.create"},
		Updates:  []string{"a.update"},
		Deletes:  []string{"a.delete", "a.delete (deposed 00aa)"},
		Replaces: []string{"a.replace1", "a.replace2"},
		Imports:  []string{"a.imported"},
		Forgets:  []string{"a.forgotten"},
		Moves:    []Move{{From: "a.old", To: "a.new"}},
		Outputs: []OutputChange{
			{Name: "a_upd", Action: "update"}, {Name: "m_gone", Action: "delete"},
			{Name: "private", Action: "create"}, {Name: "z_new", Action: "create"},
		},
		Drifted:    []string{"a.update"},
		HasChanges: true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize:\n got  %+v\n want %+v", got, want)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), "TOPSECRET") {
		t.Errorf("summary holds a value: %s", b)
	}
}

func TestSummarizeNoChanges(t *testing.T) {
	tests := []struct {
		name    string
		plan    []byte
		changes bool
	}{
		{name: "empty", plan: planDoc(t, nil, nil, nil)},
		{name: "no-ops", plan: planDoc(t, []map[string]any{rc("a.b", []string{"no-op"}, nil)}, nil, nil)},
		{name: "drift only", plan: planDoc(t, nil, []map[string]any{rc("a.b", []string{"update"}, nil)}, nil)},
		{name: "output only", plan: planDoc(t, nil, nil, map[string]any{"o": map[string]any{"actions": []string{"create"}}}), changes: true},
		{name: "move only", plan: planDoc(t, []map[string]any{rc("a.b", []string{"no-op"}, map[string]any{"previous_address": "a.a"})}, nil, nil), changes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			if s.HasChanges != tt.changes {
				t.Errorf("HasChanges = %v, want %v (%+v)", s.HasChanges, tt.changes, s)
			}
		})
	}
}

func TestSummarizeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":           "nope",
		"unsupported format": `{"format_version":"9.0"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Summarize([]byte(in)); err == nil {
				t.Error("no error")
			}
		})
	}
}

// Provisioned lists the changed resources whose configuration has
// provisioners, in modules too, whatever their instance keys; an
// unchanged one is not listed.
func TestSummarizeProvisioned(t *testing.T) {
	res := func(typ, name string, provisioners bool) map[string]any {
		r := map[string]any{"address": typ + "." + name, "mode": "managed", "type": typ, "name": name}
		if provisioners {
			r["provisioners"] = []any{map[string]any{"type": "local-exec"}}
		}
		return r
	}
	change := func(mod, typ, name, key string, actions ...string) map[string]any {
		addr := typ + "." + name + key
		if mod != "" {
			addr = mod + "." + addr
		}
		m := map[string]any{"address": addr, "mode": "managed", "type": typ, "name": name, "change": map[string]any{"actions": actions}}
		if mod != "" {
			m["module_address"] = mod
		}
		return m
	}
	doc := map[string]any{"format_version": "1.2", "terraform_version": "1.5.7",
		"configuration": map[string]any{"root_module": map[string]any{
			"resources": []any{res("terraform_data", "x", true), res("terraform_data", "plain", false), res("terraform_data", "same", true)},
			"module_calls": map[string]any{"m": map[string]any{"module": map[string]any{
				"resources": []any{res("null_resource", "y", true)}}}},
		}},
		"resource_changes": []any{
			change("", "terraform_data", "x", "", "create"),
			change("", "terraform_data", "plain", "", "create"),
			change("", "terraform_data", "same", "", "no-op"),
			change("module.m[0]", "null_resource", "y", `["a"]`, "delete", "create"),
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"terraform_data.x", `module.m[0].null_resource.y["a"]`}
	if !reflect.DeepEqual(s.Provisioned, want) {
		t.Fatalf("Provisioned = %q, want %q", s.Provisioned, want)
	}
}
