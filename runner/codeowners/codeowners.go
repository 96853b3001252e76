package codeowners

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/atollhq/atoll/vcs"
)

// Paths are where GitHub looks for a CODEOWNERS file, in its
// order: the first one found is the only one used.
var Paths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// File is a parsed CODEOWNERS file: its rules in file order.
type File struct {
	File  string // where it was read: one of Paths
	Rules []Rule
}

// Rule is one line of CODEOWNERS: a pattern and its owners
// ("login", "org/team" or an e-mail address, without the @). A rule
// without owners makes the files it matches unowned.
type Rule struct {
	Pattern string
	Owners  []string
	Line    int
	re      *regexp.Regexp
}

// codeOwnerRE is an owner as CODEOWNERS writes it: @login, @org/team-slug
// or an e-mail address.
var codeOwnerRE = regexp.MustCompile(`^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?|[^@\s]+@[^@\s]+)$`)

// Parse reads a CODEOWNERS file with GitHub's rules: one
// pattern per line followed by owners, `#` starts a comment, blank lines
// are skipped. Patterns follow gitignore (without `!` negation and `[ ]`
// ranges, which GitHub does not support either); a line whose pattern
// cannot be used, or with an owner that is neither @login, @org/team nor
// an e-mail address, is skipped, as GitHub skips lines with invalid
// syntax.
func Parse(file string, data []byte) File {
	co := File{File: file}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		rule := Rule{Pattern: fields[0], Line: n}
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
		re, err := pattern(rule.Pattern)
		if err != nil || !valid {
			continue
		}
		rule.re = re
		co.Rules = append(co.Rules, rule)
	}
	return co
}

// pattern compiles a CODEOWNERS pattern into a regular
// expression on slash-separated repository paths:
//
//   - a pattern with a slash at its start or in its middle is anchored at
//     the repository root, one without matches at any depth;
//   - a trailing slash matches directories only (so every file inside);
//   - a pattern that names a directory matches every file under it, except
//     one ending in "/*", which matches the directory's direct files only;
//   - `*` matches within one path segment, `?` one character but `/`,
//     `**/` any number of directories, a trailing `/**` everything inside.
func pattern(pattern string) (*regexp.Regexp, error) {
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
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			// One byte as it is (not string(c), which would make a
			// byte of a multi-byte character a rune of its own).
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
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

// Match returns the rule that decides file's owners: the last rule whose
// pattern matches it. ok is false when none matches.
func (co File) Match(file string) (rule Rule, ok bool) {
	file = strings.TrimPrefix(file, "/")
	for i := len(co.Rules) - 1; i >= 0; i-- {
		if co.Rules[i].re.MatchString(file) {
			return co.Rules[i], true
		}
	}
	return Rule{}, false
}

// Reader reads a file of a repository at a ref (Host's method); a file
// that does not exist is an error wrapping vcs.ErrNotFound.
type Reader interface {
	ReadFile(ctx context.Context, repo vcs.Repo, ref, path string) ([]byte, error)
}

// Read reads and parses the first CODEOWNERS file GitHub would use at ref
// (see Paths); nil, and no error, when the repository has none.
func Read(ctx context.Context, host Reader, repo vcs.Repo, ref string) (*File, error) {
	for _, p := range Paths {
		data, err := host.ReadFile(ctx, repo, ref, p)
		if errors.Is(err, vcs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", p, ref[:min(len(ref), 7)], err)
		}
		co := Parse(p, data)
		return &co, nil
	}
	return nil, nil
}
