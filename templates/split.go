package templates

import (
	"fmt"
	"strings"
)

// MinSplitLimit is the smallest limit Split honours; a smaller limit is
// raised to it (a part must hold its header, footer and some content).
const MinSplitLimit = 512

// Split cuts body into parts of at most limit characters each (use
// CommentLimit for GitHub comments). A body that fits is returned whole and
// unchanged. Otherwise:
//
//   - parts break at markdown boundaries, preferring a blank line outside
//     code blocks and <details>, then any line outside a code block, then a
//     line inside one; a table is not broken between rows when avoidable;
//   - a code fence or <details> block open at a break is closed at the end
//     of the part and reopened at the start of the next (with its summary
//     and "(continued)"), so every part renders on its own;
//   - each part after the first starts with a hidden part marker
//     ("<!-- atoll:ID:part:I -->", when body starts with Marker(ID)) and
//     "Part I of N"; each part before the last ends with "Continued in
//     the next comment"; these count within limit;
//   - nothing is dropped: the parts' payloads, concatenated, are exactly
//     body. A line longer than a part is cut at a character boundary.
func Split(body string, limit int) []string {
	parts := splitParts(body, limit)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.String()
	}
	return out
}

// part is one piece of a split body: payload is a slice of the body, the
// rest is added around it.
type part struct {
	header, prefix, payload, suffix, footer string
}

func (p part) String() string {
	return p.header + p.prefix + p.payload + p.suffix + p.footer
}

// segment is a line of the body (with its newline), or a piece of a line
// too long for one part.
type segment struct {
	text          string
	before, after mdState // markdown state before and after the line
}

func splitParts(body string, limit int) []part {
	limit = max(limit, MinSplitLimit)
	if len(body) <= limit {
		return []part{{payload: body}}
	}
	id, _, hasID := ParseMarker(body)
	if hasID && len(partMarker(id, 1)) > limit/8 {
		hasID = false // an absurdly long ID: parts go without markers
	}
	segs := segments(body)
	for most := 9; ; most = most*10 + 9 {
		overhead := len(partHeader(id, hasID, most, most)) + len(partFooter(most-1, most))
		parts := cut(append([]segment(nil), segs...), limit-overhead)
		if len(parts) <= most {
			n := len(parts)
			for i := range parts {
				if i > 0 {
					parts[i].header = partHeader(id, hasID, i+1, n)
				}
				if i < n-1 {
					parts[i].footer = partFooter(i+1, n)
				}
			}
			return parts
		}
	}
}

func partHeader(id string, hasID bool, i, n int) string {
	h := fmt.Sprintf("<sub>⬆️ Part %d of %d, continued from the previous comment.</sub>\n\n", i, n)
	if hasID {
		h = partMarker(id, i) + "\n" + h
	}
	return h
}

func partFooter(i, n int) string {
	return fmt.Sprintf("\n\n<sub>⬇️ Continued in the next comment (part %d of %d).</sub>\n", i+1, n)
}

// segments cuts body into lines and records the markdown state around each.
func segments(body string) []segment {
	var segs []segment
	var st mdState
	for len(body) > 0 {
		i := strings.IndexByte(body, '\n')
		line := body
		if i >= 0 {
			line = body[:i+1]
		}
		body = body[len(line):]
		next := st.next(strings.TrimSuffix(line, "\n"))
		segs = append(segs, segment{text: line, before: st, after: next})
		st = next
	}
	return segs
}

// candidate is a place where a part may end: after segs[end-1].
type candidate struct {
	end, payload, class int
}

// cut groups segments into parts whose prefix, payload and suffix total at
// most avail characters. It may replace a segment by its remainder after
// a hard split, so segs must be the caller's copy.
func cut(segs []segment, avail int) []part {
	var parts []part
	budget := avail / 4 // at most this much for reopening and closing
	for a := 0; a < len(segs); {
		prefix, _ := segs[a].before.wrap(budget)
		room := avail - len(prefix)
		var cands []candidate
		payload, all := 0, false
		for b := a; b < len(segs); b++ {
			payload += len(segs[b].text)
			if payload > room {
				break
			}
			if payload+closingLen(segs[b].text, segs[b].after, budget) > room {
				continue
			}
			if b == len(segs)-1 {
				cands = append(cands, candidate{end: b + 1, payload: payload})
				all = true
				break
			}
			cands = append(cands, candidate{end: b + 1, payload: payload, class: breakClass(segs, b)})
		}
		if len(cands) == 0 {
			// segs[a] alone does not fit: cut the line.
			s := segs[a]
			suffix := closingLen("", s.before, budget) // mid-line: the line's own state has not begun
			n := validCut(s.text, room-suffix)
			if n <= 0 {
				n = min(len(s.text), max(1, room-suffix))
			}
			parts = append(parts, part{prefix: prefix, payload: s.text[:n], suffix: closing(s.text[:n], s.before, budget)})
			segs[a].text = s.text[n:]
			if segs[a].text == "" {
				a++
			}
			continue
		}
		end := cands[len(cands)-1]
		if !all {
			end = choose(cands)
		}
		body := joinSegs(segs[a:end.end])
		parts = append(parts, part{prefix: prefix, payload: body, suffix: closing(body, segs[end.end-1].after, budget)})
		a = end.end
	}
	return parts
}

// closing is what ends a part whose payload ends with text in state st: a
// newline when the payload does not end with one, then the closers.
func closing(text string, st mdState, budget int) string {
	_, suffix := st.wrap(budget)
	if suffix != "" && !strings.HasSuffix(text, "\n") {
		return "\n" + suffix
	}
	return suffix
}

// closingLen is len(closing(text, st, budget)), without building it.
func closingLen(text string, st mdState, budget int) int {
	_, n := st.sizes(st.level(budget))
	if n > 0 && !strings.HasSuffix(text, "\n") {
		n++
	}
	return n
}

func joinSegs(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.text)
	}
	return b.String()
}

// breakClass rates the boundary after segs[b] (higher is better): 0 inside
// a code block, 1 after a blank line in one or between table rows, 2 after
// a line (or a
// heading's blank line), 3 after a blank line, 4 after a blank line outside
// every <details>, 5 there and before a heading, an anchor or a rule.
func breakClass(segs []segment, b int) int {
	s := segs[b]
	line := strings.TrimSpace(s.text)
	if s.after.fence.open() {
		if line == "" && s.before.fence.open() {
			return 1 // between blocks of the code, e.g. two resources of a plan
		}
		return 0
	}
	next := strings.TrimSpace(segs[b+1].text)
	prev := ""
	if b > 0 {
		prev = strings.TrimSpace(segs[b-1].text)
	}
	switch {
	case strings.HasPrefix(line, "|") && strings.HasPrefix(next, "|"):
		return 1
	case line != "":
		return 2
	case strings.HasPrefix(prev, "#"):
		return 2 // keep a heading with what follows it
	case s.after.depth() > 0:
		return 3
	case strings.HasPrefix(next, "#") || strings.HasPrefix(next, "<a id=") || strings.HasPrefix(next, "---"):
		return 5
	}
	return 4
}

// choose picks the best place to end a part among cands (in order): the
// last one of the best class that still fills at least 60% of what the
// last candidate would.
func choose(cands []candidate) candidate {
	last := cands[len(cands)-1]
	threshold := last.payload * 6 / 10
	for class := 5; class >= 1; class-- {
		for i := len(cands) - 1; i >= 0 && cands[i].payload >= threshold; i-- {
			if cands[i].class >= class {
				return cands[i]
			}
		}
	}
	return last
}
