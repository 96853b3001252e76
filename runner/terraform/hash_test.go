package terraform

import (
	"testing"
)

func TestResourceChangesHash(t *testing.T) {
	update := func(v string) map[string]any {
		return rc("a.b", []string{"update"}, map[string]any{"after": map[string]any{"v": v, "n": 1}})
	}
	secret := func(s string) map[string]any {
		return rc("a.s", []string{"update"}, map[string]any{
			"after":           map[string]any{"password": s, "tags": map[string]any{"k": s, "x": "public"}, "list": []any{"a", s}},
			"after_sensitive": map[string]any{"password": true, "tags": map[string]any{"k": true}, "list": []any{false, true}},
		})
	}
	wholeSecret := func(s string) map[string]any {
		return rc("a.w", []string{"create"}, map[string]any{"after": map[string]any{"v": s}, "after_sensitive": true})
	}
	base := planDoc(t, []map[string]any{update("x"), rc("a.c", []string{"create"}, nil)}, nil, nil)
	tests := []struct {
		name string
		a, b []byte
		same bool
	}{
		{name: "same plan", a: base, b: base, same: true},
		{name: "order does not matter", a: base,
			b: planDoc(t, []map[string]any{rc("a.c", []string{"create"}, nil), update("x")}, nil, nil), same: true},
		{name: "unchanged resources do not matter", a: base,
			b: planDoc(t, []map[string]any{update("x"), rc("a.c", []string{"create"}, nil), rc("a.zzz", []string{"no-op"}, nil)}, nil, nil), same: true},
		{name: "data reads do not matter", a: base,
			b: planDoc(t, []map[string]any{update("x"), rc("a.c", []string{"create"}, nil), rc("data.a.b", []string{"read"}, map[string]any{"mode": "data"})}, nil, nil), same: true},
		{name: "after value differs", a: base,
			b: planDoc(t, []map[string]any{update("y"), rc("a.c", []string{"create"}, nil)}, nil, nil)},
		{name: "action differs", a: base,
			b: planDoc(t, []map[string]any{update("x"), rc("a.c", []string{"delete", "create"}, nil)}, nil, nil)},
		{name: "address differs", a: base,
			b: planDoc(t, []map[string]any{update("x"), rc("a.d", []string{"create"}, nil)}, nil, nil)},
		{name: "drift differs", a: planDoc(t, nil, []map[string]any{update("x")}, nil),
			b: planDoc(t, nil, []map[string]any{update("y")}, nil)},
		{name: "drift vs no drift", a: planDoc(t, nil, []map[string]any{update("x")}, nil), b: planDoc(t, nil, nil, nil)},
		{name: "sensitive values are redacted", a: planDoc(t, []map[string]any{secret("one")}, nil, nil),
			b: planDoc(t, []map[string]any{secret("two")}, nil, nil), same: true},
		{name: "whole object sensitive", a: planDoc(t, []map[string]any{wholeSecret("one")}, nil, nil),
			b: planDoc(t, []map[string]any{wholeSecret("two")}, nil, nil), same: true},
		{name: "numbers as written", a: planDoc(t, []map[string]any{rc("a.n", []string{"update"}, map[string]any{"after": map[string]any{"n": 9007199254740993}})}, nil, nil),
			b: planDoc(t, []map[string]any{rc("a.n", []string{"update"}, map[string]any{"after": map[string]any{"n": 9007199254740992}})}, nil, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha, err := ResourceChangesHash(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			hb, err := ResourceChangesHash(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if (ha == hb) != tt.same {
				t.Errorf("hashes %s and %s: same = %v, want %v", ha, hb, ha == hb, tt.same)
			}
			if len(ha) != 64 {
				t.Errorf("hash %q is not hex SHA-256", ha)
			}
		})
	}
}

func TestResourceChangesHashRejects(t *testing.T) {
	for name, in := range map[string]string{"not json": "{", "not a plan": `{"a":1}`} {
		if _, err := ResourceChangesHash([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRedact(t *testing.T) {
	v := map[string]any{"a": "x", "b": map[string]any{"c": "y"}, "l": []any{"p", "q"}}
	sens := map[string]any{"b": map[string]any{"c": true}, "l": []any{true}}
	got := redact(v, sens).(map[string]any)
	if got["a"] != "x" || got["b"].(map[string]any)["c"] != redacted || got["l"].([]any)[0] != redacted || got["l"].([]any)[1] != "q" {
		t.Errorf("redact = %v", got)
	}
	if v["b"].(map[string]any)["c"] != "y" {
		t.Error("redact changed its input")
	}
}
