package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/atollhq/atoll/vcs"
)

// codeOwnersPaths are where GitHub looks for a CODEOWNERS file, in its
// order: the first one found is the only one used.
var codeOwnersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// codeOwners is a parsed CODEOWNERS file: its rules in file order.
type codeOwners struct {
	File  string
	Rules []codeOwnersRule
}

// codeOwnersRule is one line of CODEOWNERS: a pattern and its owners
// ("login", "org/team" or an e-mail address, without the @). A rule
// without owners makes the files it matches unowned.
type codeOwnersRule struct {
	Pattern string
	Owners  []string
	Line    int
	re      *regexp.Regexp
}

// codeOwnerRE is an owner as CODEOWNERS writes it: @login, @org/team-slug
// or an e-mail address.
var codeOwnerRE = regexp.MustCompile(`^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?|[^@\s]+@[^@\s]+)$`)

// parseCodeOwners reads a CODEOWNERS file with GitHub's rules: one
// pattern per line followed by owners, `#` starts a comment, blank lines
// are skipped. Patterns follow gitignore (without `!` negation and `[ ]`
// ranges, which GitHub does not support either); a line whose pattern
// cannot be used, or with an owner that is neither @login, @org/team nor
// an e-mail address, is skipped, as GitHub skips lines with invalid
// syntax.
func parseCodeOwners(file string, data []byte) codeOwners {
	co := codeOwners{File: file}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		rule := codeOwnersRule{Pattern: fields[0], Line: n}
		valid := true
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "#") {
				break // an inline comment
			}
			if !codeOwnerRE.MatchString(f) {
				valid = false
				break
			}
			rule.Owners = append(rule.Owners, strings.TrimPrefix(f, "@"))
		}
		re, err := codeOwnersPattern(rule.Pattern)
		if err != nil || !valid {
			continue
		}
		rule.re = re
		co.Rules = append(co.Rules, rule)
	}
	return co
}

// codeOwnersPattern compiles a CODEOWNERS pattern into a regular
// expression on slash-separated repository paths:
//
//   - a pattern with a slash at its start or in its middle is anchored at
//     the repository root, one without matches at any depth;
//   - a trailing slash matches directories only (so every file inside);
//   - a pattern that names a directory matches every file under it, except
//     one ending in "/*", which matches the directory's direct files only;
//   - `*` matches within one path segment, `?` one character but `/`,
//     `**/` any number of directories, a trailing `/**` everything inside.
func codeOwnersPattern(pattern string) (*regexp.Regexp, error) {
	p := pattern
	if strings.HasPrefix(p, "!") || strings.ContainsAny(p, "[]") {
		return nil, fmt.Errorf("pattern %q: negation and character ranges are not supported in CODEOWNERS", pattern)
	}
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	anchored := strings.Contains(p, "/")
	directOnly := strings.HasSuffix(p, "/*") && !strings.HasSuffix(p, "/**")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil, fmt.Errorf("pattern %q matches nothing", pattern)
	}
	var b strings.Builder
	b.WriteString("^")
	if !anchored && !strings.HasPrefix(p, "**") {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			switch {
			case i+1 < len(p) && p[i+1] == '/':
				i++
				b.WriteString("(?:.*/)?") // "**/": zero or more directories
			default:
				b.WriteString(".*") // "/**" at the end, or "**" in a name
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	switch {
	case directOnly:
		b.WriteString("$")
	case dirOnly:
		b.WriteString("/.*$")
	default:
		b.WriteString("(?:/.*)?$")
	}
	return regexp.Compile(b.String())
}

// match returns the rule that decides file's owners: the last rule whose
// pattern matches it. ok is false when none matches.
func (co codeOwners) match(file string) (rule codeOwnersRule, ok bool) {
	file = strings.TrimPrefix(file, "/")
	for i := len(co.Rules) - 1; i >= 0; i-- {
		if co.Rules[i].re.MatchString(file) {
			return co.Rules[i], true
		}
	}
	return codeOwnersRule{}, false
}

// readCodeOwners reads the first CODEOWNERS file GitHub would use at ref;
// nil when the repository has none.
func (r *Runner) readCodeOwners(ctx context.Context, repo vcs.Repo, ref string) (*codeOwners, error) {
	for _, p := range codeOwnersPaths {
		data, err := r.host.ReadFile(ctx, repo, ref, p)
		if errors.Is(err, vcs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", p, short(ref), err)
		}
		co := parseCodeOwners(p, data)
		return &co, nil
	}
	return nil, nil
}

// unmetCodeOwners checks, for each changed file, that one of its code
// owners (per the base branch's CODEOWNERS) approved the pull request;
// approvals count as for `approved` (latest review, not the author,
// writers). The refusal names, per CODEOWNERS pattern, the owners of
// whom none approved and the files concerned. Owners given as e-mail
// addresses cannot be matched to reviewers: they never count.
func (r *Runner) unmetCodeOwners(ctx context.Context, f *prFacts) []string {
	if !r.set.CodeOwners {
		return nil
	}
	if f.codeOwnersErr != nil {
		return []string{fmt.Sprintf("`code_owners`: could not read CODEOWNERS of %s: %v", f.pr.BaseRef, f.codeOwnersErr)}
	}
	if f.codeOwners == nil {
		return nil
	}
	type missing struct {
		rule  codeOwnersRule
		files []string
	}
	byLine := map[int]*missing{}
	approved := map[int]bool{}
	for _, file := range f.changed {
		rule, ok := f.codeOwners.match(file)
		if !ok || len(rule.Owners) == 0 {
			continue
		}
		done, seen := approved[rule.Line]
		if !seen {
			done = r.ownerApproved(ctx, f, rule.Owners)
			approved[rule.Line] = done
		}
		if done {
			continue
		}
		m := byLine[rule.Line]
		if m == nil {
			m = &missing{rule: rule}
			byLine[rule.Line] = m
		}
		m.files = append(m.files, file)
	}
	lines := make([]int, 0, len(byLine))
	for l := range byLine {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	var unmet []string
	for _, l := range lines {
		m := byLine[l]
		files := m.files
		more := ""
		if len(files) > 5 {
			more = fmt.Sprintf(" and %d more", len(files)-5)
			files = files[:5]
		}
		unmet = append(unmet, fmt.Sprintf("`code_owners`: no approval by a code owner of `%s` (%s, %s line %d) for %s%s",
			m.rule.Pattern, strings.Join(codeOwnersText(m.rule.Owners), ", "), f.codeOwners.File, l, strings.Join(files, ", "), more))
	}
	return unmet
}

// ownerApproved reports whether one of the PR's approvers is one of
// owners: the login itself, or a member of the "org/team".
func (r *Runner) ownerApproved(ctx context.Context, f *prFacts, owners []string) bool {
	for _, u := range f.approvers {
		for _, o := range owners {
			if strings.Contains(o, "@") {
				continue // an e-mail address
			}
			if org, team, ok := strings.Cut(o, "/"); ok {
				if m, err := r.host.IsTeamMember(ctx, f.pr.Repo, org, team, u); err == nil && m {
					return true
				}
				continue
			}
			if strings.EqualFold(o, u) {
				return true
			}
		}
	}
	return false
}

// codeOwnersText shows owners as CODEOWNERS writes them.
func codeOwnersText(owners []string) []string {
	out := make([]string, len(owners))
	for i, o := range owners {
		if strings.Contains(o, "@") {
			out[i] = o
		} else {
			out[i] = "@" + o
		}
	}
	return out
}
