package discovery

import (
	"errors"
	"path"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.tf", "main.tf", true},
		{"*.tf", "mod/main.tf", false},
		{"**/*.tf", "main.tf", true},
		{"**/*.tf", "a/b/c/main.tf", true},
		{"**/*.tf", "a/b/c/main.tfvars", false},
		{"modules/**", "modules", true},
		{"modules/**", "modules/vpc/main.tf", true},
		{"modules/**", "modulesx/vpc", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/**/b/**/c", "a/1/b/2/3/c", true},
		{"a/**/b/**/c", "a/1/b/2/3/d", false},
		{"**", "", true},
		{"**", "anything/at/all", true},
		{"./envs/*", "envs/prod", true},
		{"/envs/*", "envs/prod", true},
		{"envs/*", "./envs/prod", true},
		{"envs/*", "envs/prod/x", false},
		{"acme/*", "acme/infra", true},
		{"acme/infra-?", "acme/infra-1", true},
		{"acme/[a-c]*", "acme/billing", true},
		{"acme/[a-c]*", "acme/dev", false},
		{"**/test/**", "a/test/b.tf", true},
		{"**/test/**", "test", true},
		{"**/**/x", "x", true},
		{"a", "a/b", false},
		{"", "", false},
		{"[", "[", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.name); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
			}
		})
	}
}

func TestValidGlob(t *testing.T) {
	tests := []struct {
		pattern string
		want    error
	}{
		{"*.tf", nil},
		{"**/x/**", nil},
		{"", ErrEmptyGlob},
		{"./", ErrEmptyGlob},
		{"a/[b", path.ErrBadPattern},
		{`a\`, path.ErrBadPattern},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			err := ValidGlob(tt.pattern)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidGlob(%q) = %v, want %v", tt.pattern, err, tt.want)
			}
		})
	}
}

// FuzzGlob checks that "**" patterns agree with a slow reference matcher.
func FuzzGlob(f *testing.F) {
	f.Add("a/**/b", "a/x/b")
	f.Add("**/*.tf", "m/n.tf")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			return
		}
		name = normalizePattern(name)
		got := g.Match(name)
		want := slowMatch(g.segs, splitName(name))
		if got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, name, got, want)
		}
	})
}

func splitName(name string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			out = append(out, name[start:i])
			start = i + 1
		}
	}
	return out
}

func slowMatch(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if slowMatch(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], segs[0])
	return ok && slowMatch(pat[1:], segs[1:])
}
