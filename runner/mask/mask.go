// Package mask is atoll's one masker: every text atoll writes (terraform
// output, git errors, policy messages, notices, comments, issues, check
// runs, pages, job logs and its own log lines) goes through a Masker
// before it leaves the process.
//
// Guarantees of Masker.Mask:
//   - every occurrence of every secret is replaced by "***", overlapping
//     ones included: the spans of all matches are merged first, so a
//     secret that contains another ("abcd" and "abcdTAIL") or overlaps
//     another is hidden whole, never partly ("***TAIL");
//   - a multi-line secret (a PEM key, a JSON credential) is also masked
//     line by line, so output that shows one of its lines on its own, or
//     one line at a time, hides it too;
//   - every match of a pattern added with AddPattern (GitHubToken: any
//     token of GitHub's shape) is masked too;
//   - secrets shorter than MinLen, and lines of a multi-line secret
//     shorter than MinLineLen, are not masked: they would mask ordinary
//     words and say more about the secret than they hide.
//
// A Masker is safe for concurrent use; secrets added later (installation
// tokens as they are minted) apply to every later call.
package mask

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Masked replaces a secret.
const Masked = "***"

// MinLen is the shortest secret masked; MinLineLen the shortest line of a
// multi-line secret masked on its own.
const (
	MinLen     = 4
	MinLineLen = 8
)

// MaxEphemeral bounds the secrets kept by AddEphemeral: the oldest is
// forgotten first.
const MaxEphemeral = 256

// GitHubToken matches the tokens GitHub issues (installation tokens ghs_,
// OAuth gho_, user-to-server ghu_, personal ghp_, refresh ghr_), for
// AddPattern: every token of that shape is masked, whoever minted it.
var GitHubToken = regexp.MustCompile(`\bgh[opsur]_[A-Za-z0-9_]{36,255}\b`)

// Masker replaces secrets by Masked. The zero value and nil mask nothing.
type Masker struct {
	mu        sync.RWMutex
	seen      map[string]bool
	secrets   []string // longest first
	ephemeral []string // AddEphemeral's, oldest first
	patterns  []*regexp.Regexp
}

// New returns a Masker for secrets (see Add).
func New(secrets ...string) *Masker {
	m := &Masker{}
	m.Add(secrets...)
	return m
}

// Add masks secrets from now on: each value (when at least MinLen bytes)
// and, for a value of several lines, each of its lines with surrounding
// space trimmed (when at least MinLineLen bytes). Empty values and values
// already known are ignored.
func (m *Masker) Add(secrets ...string) {
	if m == nil {
		return
	}
	var add []string
	for _, s := range secrets {
		if len(s) >= MinLen {
			add = append(add, s)
		}
		if strings.ContainsAny(s, "\r\n") {
			for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); len(line) >= MinLineLen {
					add = append(add, line)
				}
			}
		}
	}
	if len(add) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	changed := false
	for _, s := range add {
		if !m.seen[s] {
			m.seen[s] = true
			m.secrets = append(m.secrets, s)
			changed = true
		}
	}
	if changed {
		sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	}
}

// AddEphemeral masks a short-lived secret (an installation token, valid
// for an hour) from now on, as Add does, but keeps only the MaxEphemeral
// latest ones, so that a server minting tokens for months does not mask
// with an ever longer list. Pair it with AddPattern(GitHubToken), which
// masks every token of GitHub's shape, forgotten ones included.
func (m *Masker) AddEphemeral(secret string) {
	if m == nil || len(secret) < MinLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	if m.seen[secret] {
		return
	}
	m.seen[secret] = true
	m.ephemeral = append(m.ephemeral, secret)
	if len(m.ephemeral) > MaxEphemeral {
		old := m.ephemeral[0]
		m.ephemeral = m.ephemeral[1:]
		delete(m.seen, old)
		m.secrets = slices.DeleteFunc(m.secrets, func(s string) bool { return s == old })
	}
	m.secrets = append(m.secrets, secret)
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

// AddPattern masks every match of re from now on.
func (m *Masker) AddPattern(re *regexp.Regexp) {
	if m == nil || re == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.patterns = append(m.patterns, re)
}

// Len is how many values (secrets and their lines) are masked.
func (m *Masker) Len() int {
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.secrets)
}

// span is a half-open byte range [from, to) of s that holds a secret.
type span struct{ from, to int }

// Mask returns s with every secret replaced by Masked (see the package
// comment for the guarantees).
func (m *Masker) Mask(s string) string {
	if m == nil || s == "" {
		return s
	}
	m.mu.RLock()
	var spans []span
	for _, sec := range m.secrets {
		for at := 0; at <= len(s)-len(sec); {
			i := strings.Index(s[at:], sec)
			if i < 0 {
				break
			}
			spans = append(spans, span{at + i, at + i + len(sec)})
			at += i + 1 // overlapping occurrences too
		}
	}
	for _, re := range m.patterns {
		for _, loc := range re.FindAllStringIndex(s, -1) {
			spans = append(spans, span{loc[0], loc[1]})
		}
	}
	m.mu.RUnlock()
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(spans); {
		from, to := spans[i].from, spans[i].to
		for i++; i < len(spans) && spans[i].from <= to; i++ {
			to = max(to, spans[i].to)
		}
		b.WriteString(s[last:from])
		b.WriteString(Masked)
		last = to
	}
	b.WriteString(s[last:])
	return b.String()
}

// MaskError returns err's text masked, as an error; nil for nil. The
// result does not unwrap: the cause's text is what must not leak.
func (m *Masker) MaskError(err error) error {
	if err == nil {
		return nil
	}
	if s := err.Error(); m.Mask(s) != s {
		return maskedError(m.Mask(s))
	}
	return err
}

type maskedError string

func (e maskedError) Error() string { return string(e) }

// Handler wraps h so that every log record's message and attributes
// (strings, errors, Stringers and the text of any other value, in groups
// too) are masked before h sees them.
func (m *Masker) Handler(h slog.Handler) slog.Handler {
	return &handler{m: m, h: h}
}

type handler struct {
	m *Masker
	h slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.m.Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = h.attr(a)
	}
	return &handler{m: h.m, h: h.h.WithAttrs(masked)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{m: h.m, h: h.h.WithGroup(name)}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.m.Mask(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = h.attr(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.m.Mask(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.m.Mask(x.String()))
		case []byte:
			return slog.String(a.Key, h.m.Mask(string(x)))
		default:
			s := fmt.Sprint(x)
			if ms := h.m.Mask(s); ms != s {
				return slog.String(a.Key, ms)
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
