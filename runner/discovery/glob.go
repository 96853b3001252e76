package discovery

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Glob is a compiled path pattern. Patterns are slash-separated; a segment
// "**" matches zero or more whole segments, and any other segment is matched
// against exactly one path segment with path.Match rules ("*", "?", "[a-z]",
// "\\" escapes), so "*" never crosses a "/". A leading "/" or "./" is
// ignored: patterns are always relative.
//
// Examples: "*.tf" matches "main.tf" but not "mod/main.tf"; "**/*.tf"
// matches both; "modules/**" matches "modules" and everything below it.
type Glob struct {
	raw  string
	segs []string
	// literal is the pattern's leading segments without wildcards, joined:
	// a cheap test that rejects most names before segment matching.
	literal string
}

// ErrEmptyGlob is returned (wrapped) by CompileGlob for an empty pattern.
var ErrEmptyGlob = errors.New("empty pattern")

// GlobError is a malformed glob: the pattern, and the segment that is
// not a valid pattern ("" for an empty pattern). Err is path.ErrBadPattern
// or ErrEmptyGlob. A reader shows it through its own template
// (config_problem_invalid_glob.tmpl); Error is for logs and the command
// line.
type GlobError struct {
	Pattern string
	Segment string
	Err     error
}

func (e *GlobError) Error() string {
	if e.Segment == "" {
		return fmt.Sprintf("glob %q: %v", e.Pattern, e.Err)
	}
	return fmt.Sprintf("glob %q: segment %q: %v", e.Pattern, e.Segment, e.Err)
}

func (e *GlobError) Unwrap() error { return e.Err }

// CompileGlob checks pattern and compiles it. A malformed pattern is a
// *GlobError, which says which segment is malformed and wraps
// path.ErrBadPattern or ErrEmptyGlob.
func CompileGlob(pattern string) (Glob, error) {
	p := normalizePattern(pattern)
	if p == "" {
		return Glob{}, &GlobError{Pattern: pattern, Err: ErrEmptyGlob}
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return Glob{}, &GlobError{Pattern: pattern, Segment: s, Err: err}
		}
	}
	n := 0
	for n < len(segs) && !strings.ContainsAny(segs[n], `*?[\`) {
		n++
	}
	return Glob{raw: pattern, segs: segs, literal: strings.Join(segs[:n], "/")}, nil
}

// MustCompileGlob is CompileGlob for patterns known to be valid; it panics
// otherwise.
func MustCompileGlob(pattern string) Glob {
	g, err := CompileGlob(pattern)
	if err != nil {
		panic(err)
	}
	return g
}

// String returns the pattern as it was given.
func (g Glob) String() string { return g.raw }

// Match reports whether the slash-separated relative path name matches. A
// zero Glob matches nothing.
func (g Glob) Match(name string) bool {
	if len(g.segs) == 0 {
		return false
	}
	name = strings.TrimPrefix(name, "./")
	if l := g.literal; l != "" {
		if !strings.HasPrefix(name, l) || (len(name) > len(l) && name[len(l)] != '/') {
			return false
		}
	}
	return matchSegs(g.segs, name)
}

// ValidGlob reports whether pattern is a well-formed glob (see Glob).
func ValidGlob(pattern string) error {
	_, err := CompileGlob(pattern)
	return err
}

// Match reports whether the slash-separated relative path name matches
// pattern (see Glob for the syntax). A malformed pattern matches nothing.
func Match(pattern, name string) bool {
	g, err := CompileGlob(pattern)
	if err != nil {
		return false
	}
	return g.Match(name)
}

// MatchAny reports whether name matches at least one of globs.
func MatchAny(globs []Glob, name string) bool {
	for _, g := range globs {
		if g.Match(name) {
			return true
		}
	}
	return false
}

// CompileGlobs compiles every pattern; the first error is returned.
func CompileGlobs(patterns []string) ([]Glob, error) {
	out := make([]Glob, 0, len(patterns))
	for _, p := range patterns {
		g, err := CompileGlob(p)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func normalizePattern(p string) string {
	for {
		switch {
		case strings.HasPrefix(p, "./"):
			p = p[2:]
		case strings.HasPrefix(p, "/"):
			p = p[1:]
		default:
			return p
		}
	}
}

// matchSegs matches pattern segments against name, whose segments are read
// in place without allocating. "**" is handled like "*" in the classic
// wildcard algorithm, one level up: it remembers the last "**" and, on a
// mismatch, lets it swallow one more segment.
func matchSegs(pat []string, name string) bool {
	pi := 0
	ni := 0 // byte offset of the current name segment; len(name)+1 when done
	end := len(name) + 1
	starPi, starNi := -1, 0
	for ni < end || pi < len(pat) {
		if pi < len(pat) {
			if pat[pi] == "**" {
				starPi, starNi = pi, ni
				pi++
				continue
			}
			if ni < end {
				seg, next := segmentAt(name, ni)
				if ok, _ := path.Match(pat[pi], seg); ok {
					pi++
					ni = next
					continue
				}
			}
		}
		if starPi >= 0 && starNi < end {
			_, next := segmentAt(name, starNi)
			starNi = next
			pi, ni = starPi+1, starNi
			continue
		}
		return false
	}
	return true
}

// segmentAt returns the segment of name starting at byte i and the offset of
// the next segment (len(name)+1 after the last).
func segmentAt(name string, i int) (string, int) {
	j := strings.IndexByte(name[i:], '/')
	if j < 0 {
		return name[i:], len(name) + 1
	}
	return name[i : i+j], i + j + 1
}
