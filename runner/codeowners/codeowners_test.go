package codeowners

import (
	"reflect"
	"testing"
)

func TestParseCodeOwners(t *testing.T) {
	data := "# comment line\n" +
		"\n" +
		"*       @acme/everyone\n" +
		"   /infra/   @acme/platform   @Alice  # inline comment\n" +
		"docs/*  docs@example.com\n" +
		"!neg    @bob\n" +
		"[ab].tf @bob\n" +
		"/infra/unowned.tf\n"
	co := Parse(".github/CODEOWNERS", []byte(data))
	type rule struct {
		Pattern string
		Owners  []string
		Line    int
	}
	var got []rule
	for _, r := range co.Rules {
		got = append(got, rule{r.Pattern, r.Owners, r.Line})
	}
	want := []rule{
		{"*", []string{"acme/everyone"}, 3},
		{"/infra/", []string{"acme/platform", "Alice"}, 4},
		{"docs/*", []string{"docs@example.com"}, 5},
		{"/infra/unowned.tf", nil, 8},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules:\n got %+v\nwant %+v", got, want)
	}
	if co.File != ".github/CODEOWNERS" {
		t.Errorf("file = %q", co.File)
	}
}

func TestCodeOwnersPattern(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"*", []string{"a", "a/b/c.tf"}, nil},
		{"*.tf", []string{"main.tf", "infra/app/main.tf"}, []string{"main.tfvars", "README.md"}},
		{"/main.tf", []string{"main.tf"}, []string{"infra/main.tf"}},
		{"main.tf", []string{"main.tf", "infra/main.tf"}, []string{"xmain.tf"}},
		// A directory pattern owns everything under it.
		{"/infra/", []string{"infra/a.tf", "infra/app/b.tf"}, []string{"infra", "x/infra/a.tf", "infrastructure/a.tf"}},
		{"/infra", []string{"infra", "infra/a.tf", "infra/app/b.tf"}, []string{"x/infra/a.tf"}},
		// Without a leading or middle slash: at any depth.
		{"apps/", []string{"apps/a", "x/apps/a", "x/y/apps/b/c"}, []string{"apps", "xapps/a"}},
		// "dir/*" owns the directory's direct files only (GitHub's rule).
		{"docs/*", []string{"docs/a.md"}, []string{"docs/sub/b.md", "x/docs/a.md"}},
		{"/*", []string{"README.md"}, []string{"infra/main.tf"}},
		{"**/logs", []string{"logs", "logs/a", "a/logs/b", "a/b/logs"}, []string{"xlogs/a"}},
		{"/build/**", []string{"build/a", "build/a/b"}, []string{"build", "x/build/a"}},
		{"a/**/b.tf", []string{"a/b.tf", "a/x/b.tf", "a/x/y/b.tf"}, []string{"a/x/c.tf", "z/a/b.tf"}},
		{"infra/*/iam.tf", []string{"infra/app/iam.tf"}, []string{"infra/iam.tf", "infra/a/b/iam.tf"}},
		{"?.tf", []string{"a.tf", "x/b.tf"}, []string{"ab.tf"}},
		{"a.b", []string{"a.b"}, []string{"axb"}},
		// A character of several bytes is one character, matched as itself.
		{"/café/", []string{"café/a.tf"}, []string{"cafe/a.tf", "caf/a.tf"}},
		{"/caf?/", []string{"café/a.tf", "cafe/a.tf"}, []string{"caf/a.tf"}},
		{"/\\é.tf", []string{"é.tf"}, []string{"e.tf"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			re, err := pattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.yes {
				if !re.MatchString(f) {
					t.Errorf("%q does not match %q (%s)", tt.pattern, f, re)
				}
			}
			for _, f := range tt.no {
				if re.MatchString(f) {
					t.Errorf("%q matches %q (%s)", tt.pattern, f, re)
				}
			}
		})
	}
	for _, bad := range []string{"!x", "[ab]", "/"} {
		if _, err := pattern(bad); err == nil {
			t.Errorf("pattern %q: no error", bad)
		}
	}
}

func TestCodeOwnersLastMatchWins(t *testing.T) {
	co := Parse("CODEOWNERS", []byte(
		"*            @acme/everyone\n"+
			"/infra/      @acme/platform\n"+
			"*.md         @docs\n"+
			"/infra/iam/  @acme/security @carol\n"+
			"/infra/iam/README.md\n"))
	tests := []struct {
		file   string
		owners []string
		line   int
	}{
		{"main.go", []string{"acme/everyone"}, 1},
		{"infra/app/main.tf", []string{"acme/platform"}, 2},
		{"infra/app/NOTES.md", []string{"docs"}, 3},
		{"infra/iam/roles.tf", []string{"acme/security", "carol"}, 4},
		{"infra/iam/README.md", nil, 5},
	}
	for _, tt := range tests {
		rule, ok := co.Match(tt.file)
		if !ok {
			t.Errorf("%s: no rule", tt.file)
			continue
		}
		if !reflect.DeepEqual(rule.Owners, tt.owners) || rule.Line != tt.line {
			t.Errorf("%s: owners %v (line %d), want %v (line %d)", tt.file, rule.Owners, rule.Line, tt.owners, tt.line)
		}
	}
	if _, ok := Parse("CODEOWNERS", []byte("/infra/ @a\n")).Match("app/main.tf"); ok {
		t.Error("a file no pattern matches has a rule")
	}
}

// TestCodeOwnersGitHubRules pins the behaviours of GitHub's CODEOWNERS
// documentation that a maintained parser (github.com/hmarr/codeowners
// v1.2.1) does not share, and that keep atoll on its own matcher (see the
// README): a line with invalid syntax is skipped and the rest of the file
// still applies; a path may hold any character a file name may; an owner
// may be any e-mail address.
func TestCodeOwnersGitHubRules(t *testing.T) {
	co := Parse("CODEOWNERS", []byte(
		"*                  @acme/everyone\n"+
			"!infra/negated.tf  @mallory\n"+ // "!" does not work: skipped
			"/x/                not-an-owner\n"+ // invalid owner: skipped
			"[ab].tf            @mallory\n"+ // "[ ]" does not work: skipped
			"/infra/            @acme/platform\n"+
			"/envs/café/        @alice\n"+
			"/envs/prod,eu/     @bob\n"+
			"/envs/~shared/     @carol\n"+
			"/envs/a=b/         @dave\n"+
			"/billing/          ops@example.company\n"+
			"/apps/             @octocat\n"+
			"/apps/github\n"+ // no owners: unowned
			"docs/*             docs@example.com\n"+
			"**/logs            @monalisa\n"))
	tests := []struct {
		file   string
		owners []string
	}{
		{"infra/negated.tf", []string{"acme/platform"}},
		{"x/a.tf", []string{"acme/everyone"}},
		{"a.tf", []string{"acme/everyone"}},
		{"envs/café/main.tf", []string{"alice"}},
		{"envs/prod,eu/main.tf", []string{"bob"}},
		{"envs/~shared/main.tf", []string{"carol"}},
		{"envs/a=b/main.tf", []string{"dave"}},
		{"billing/main.tf", []string{"ops@example.company"}},
		{"apps/web/main.tf", []string{"octocat"}},
		{"apps/github/main.tf", nil},
		{"docs/getting-started.md", []string{"docs@example.com"}},
		{"docs/build-app/troubleshooting.md", []string{"acme/everyone"}},
		{"deeply/nested/logs/x.log", []string{"monalisa"}},
	}
	for _, tt := range tests {
		rule, ok := co.Match(tt.file)
		if !ok {
			t.Errorf("%s: no rule", tt.file)
			continue
		}
		if !reflect.DeepEqual(rule.Owners, tt.owners) {
			t.Errorf("%s: owners %v (line %d), want %v", tt.file, rule.Owners, rule.Line, tt.owners)
		}
	}
	if len(co.Rules) != 11 {
		t.Errorf("%d rules kept, want 11 (three invalid lines skipped)", len(co.Rules))
	}
}
