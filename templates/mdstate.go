package templates

import (
	"strings"
	"unicode/utf8"
)

// fenceState tracks a CommonMark fenced code block across lines.
type fenceState struct {
	char   byte   // '`' or '~'; 0 when no fence is open
	n      int    // length of the opening fence
	opener string // the opening line, to reopen the block after a break
}

func (f *fenceState) open() bool { return f.char != 0 }

// feed advances the state past one line (without its newline).
func (f *fenceState) feed(line string) {
	line = strings.TrimRight(line, "\r")
	indent := len(line) - len(strings.TrimLeft(line, " "))
	if indent > 3 {
		return
	}
	t := line[indent:]
	if t == "" || (t[0] != '`' && t[0] != '~') {
		return
	}
	c := t[0]
	n := len(t) - len(strings.TrimLeft(t, string(c)))
	if n < 3 {
		return
	}
	rest := t[n:]
	if f.open() {
		if c == f.char && n >= f.n && strings.TrimSpace(rest) == "" {
			*f = fenceState{}
		}
		return
	}
	if c == '`' && strings.Contains(rest, "`") {
		return // not a fence: backtick info strings cannot hold backticks
	}
	*f = fenceState{char: c, n: n, opener: line}
}

// closer is the line that closes the open fence.
func (f fenceState) closer() string { return strings.Repeat(string(f.char), f.n) }

// detailsNode is one open <details> block, in a persistent stack so that a
// state can be kept per line cheaply.
type detailsNode struct {
	summary string
	parent  *detailsNode
	depth   int
	openLen int // length of the full reopening of this block and its parents
}

func newDetailsNode(summary string, parent *detailsNode) *detailsNode {
	d := &detailsNode{summary: summary, parent: parent, depth: 1, openLen: len(reopenDetails(summary, true))}
	if parent != nil {
		d.depth += parent.depth
		d.openLen += parent.openLen
	}
	return d
}

// reopenDetails is the line that reopens a <details> block after a break.
func reopenDetails(summary string, full bool) string {
	sum := "(continued)"
	if full && summary != "" {
		sum = summary + " (continued)"
	}
	return "<details><summary>" + sum + "</summary>\n\n"
}

const closeDetails = "</details>\n"

// mdState is the markdown context after a line: an open code fence, and
// the <details> blocks open outside code fences.
type mdState struct {
	fence   fenceState
	details *detailsNode
	await   bool // the innermost <details> has no <summary> yet
}

func (s mdState) depth() int {
	if s.details == nil {
		return 0
	}
	return s.details.depth
}

// next returns the state after line (without its newline).
func (s mdState) next(line string) mdState {
	if s.fence.open() {
		s.fence.feed(line)
		return s
	}
	s.fence.feed(line)
	if s.fence.open() {
		s.await = false
		return s
	}
	lower := asciiLower(line) // same byte offsets as line
	seenTag := false
	for i := 0; i < len(lower); {
		j := strings.IndexByte(lower[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := lower[i:]
		switch {
		case strings.HasPrefix(rest, "</details>"):
			if s.details != nil {
				s.details = s.details.parent
			}
			s.await = false
			seenTag = true
			i += len("</details>")
		case strings.HasPrefix(rest, "<details") && (len(rest) == 8 || rest[8] == '>' || rest[8] == ' '):
			s.details = newDetailsNode("", s.details)
			s.await = true
			seenTag = true
			i += len("<details")
		case strings.HasPrefix(rest, "<summary>") && s.await && s.details != nil:
			inner := line[i+len("<summary>"):]
			if k := strings.Index(asciiLower(inner), "</summary>"); k >= 0 {
				inner = inner[:k]
			}
			s.details = newDetailsNode(strings.TrimSpace(inner), s.details.parent)
			s.await = false
			seenTag = true
			i += len("<summary>")
		default:
			i++
		}
	}
	if !seenTag && strings.TrimSpace(line) != "" {
		s.await = false
	}
	return s
}

// asciiLower lowers ASCII letters only, so byte offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// wrapLevel says how much of a state is reopened after a break.
type wrapLevel int

const (
	wrapFull      wrapLevel = iota // details with their summaries, the fence opener
	wrapPlain                      // details without summaries, the fence opener
	wrapFenceOnly                  // the fence opener only
	wrapBareFence                  // a bare fence of the same kind
	wrapNone                       // nothing (pathological input)
)

// level is the fullest wrapLevel whose reopening and closing together fit
// in budget.
func (s mdState) level(budget int) wrapLevel {
	for lvl := wrapFull; lvl < wrapNone; lvl++ {
		if open, closing := s.sizes(lvl); open+closing <= budget {
			return lvl
		}
	}
	return wrapNone
}

// sizes is len(prefix), len(suffix) of wrapAt(lvl), computed without
// building them.
func (s mdState) sizes(lvl wrapLevel) (open, closing int) {
	depth := s.depth()
	if lvl <= wrapPlain && depth > 0 {
		if lvl == wrapFull {
			open = s.details.openLen
		} else {
			open = depth * len(reopenDetails("", false))
		}
		closing = depth * len(closeDetails)
	}
	if s.fence.open() && lvl <= wrapBareFence {
		if lvl == wrapBareFence {
			open += s.fence.n + 1
		} else {
			open += len(s.fence.opener) + 1
		}
		return open, closing + s.fence.n + 1
	}
	if closing > 0 {
		closing++
	}
	return open, closing
}

// wrap returns what reopens s at the start of a part and what closes it at
// the end of one, degraded until both together fit in budget.
func (s mdState) wrap(budget int) (prefix, suffix string) {
	return s.wrapAt(s.level(budget))
}

func (s mdState) wrapAt(lvl wrapLevel) (prefix, suffix string) {
	var open, closeB strings.Builder
	if lvl <= wrapPlain {
		var stack []*detailsNode
		for d := s.details; d != nil; d = d.parent {
			stack = append(stack, d)
		}
		for i := len(stack) - 1; i >= 0; i-- {
			open.WriteString(reopenDetails(stack[i].summary, lvl == wrapFull))
			closeB.WriteString(closeDetails)
		}
	}
	if s.fence.open() && lvl <= wrapBareFence {
		opener := s.fence.opener
		if lvl == wrapBareFence {
			opener = s.fence.closer()
		}
		open.WriteString(opener + "\n")
		return open.String(), s.fence.closer() + "\n" + closeB.String()
	}
	if closeB.Len() > 0 {
		return open.String(), "\n" + closeB.String()
	}
	return open.String(), ""
}

// validCut returns the largest n' <= n at which s can be cut without
// splitting a UTF-8 sequence (0 if none).
func validCut(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	if n <= 0 {
		return 0
	}
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return n // not valid UTF-8 here anyway: cut bytes
}

// balance closes the fence and <details> blocks left open at the end of s.
func balance(s string) string {
	var st mdState
	for _, line := range strings.Split(s, "\n") {
		st = st.next(line)
	}
	_, suffix := st.wrapAt(wrapFull)
	if suffix == "" {
		return s
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + suffix
}
