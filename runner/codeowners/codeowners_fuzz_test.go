package codeowners

import (
	"strings"
	"testing"
)

// FuzzCodeOwners feeds Parse arbitrary files and checks the rules
// it keeps against a path given with the file (its first line). Rules keep
// file order and line numbers, owners are logins, teams (without their
// "@") or e-mail addresses, every kept pattern compiled, and match returns
// the last rule that matches the path.
func FuzzCodeOwners(f *testing.F) {
	for _, s := range []string{
		"infra/app/main.tf\n* @acme/everyone\n/infra/ @acme/platform @alice # comment\n",
		"docs/a.md\ndocs/* docs@example.com\n**/logs @bob\n/build/** @carol\n",
		"a/b\n!neg @x\n[ab].tf @y\n/ @z\n\\#literal @w\n",
		"x\n" + strings.Repeat("*", 200) + " @a\n",
		"x\n*.tf\n*.tf @a\n",
		"src/\u00e9/\u00fc.tf\n\u00e9/ @a\n",
		"\n\r\n\t#\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, data, _ := strings.Cut(in, "\n")
		co := Parse("CODEOWNERS", []byte(data))
		last := 0
		for _, r := range co.Rules {
			if r.re == nil || r.Pattern == "" || r.Line <= last {
				t.Fatalf("bad rule %+v after line %d", r, last)
			}
			last = r.Line
			for _, o := range r.Owners {
				if !strings.Contains(o, "@") {
					o = "@" + o
				}
				if !codeOwnerRE.MatchString(o) {
					t.Fatalf("owner %q is neither a login, a team nor an e-mail address: %+v", o, r)
				}
			}
		}
		rule, ok := co.Match(file)
		want := -1
		for i := len(co.Rules) - 1; i >= 0; i-- {
			if co.Rules[i].re.MatchString(strings.TrimPrefix(file, "/")) {
				want = i
				break
			}
		}
		if ok != (want >= 0) || (ok && rule.Line != co.Rules[want].Line) {
			t.Fatalf("match(%q) = line %d, %v; want rule %d", file, rule.Line, ok, want)
		}
		// "*" owns every path that has a name.
		star := Parse("CODEOWNERS", []byte("* @a\n"))
		if f := strings.TrimPrefix(file, "/"); f != "" && !strings.Contains(f, "\n") {
			if _, ok := star.Match(file); !ok {
				t.Fatalf("* does not match %q", file)
			}
		}
	})
}
