package templates

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Funcs returns the functions every template may call, besides
// text/template's built-ins:
//
//	marker ID              Marker(ID)
//	plural N ONE MANY      "1 resource", "2 resources"
//	codefence LANG TEXT    a fenced code block whose fence is longer than any backtick run in TEXT
//	code TEXT              inline code, safe for backticks in TEXT
//	codeList LIST          "`a`, `b`"
//	truncateLines N TEXT   the first N lines, then "… (K more lines)"
//	lastLines N TEXT       "… (K earlier lines)", then the last N lines
//	head N LIST            the first N items of a string list
//	join LIST SEP          strings.Join
//	short SHA              the first 7 characters of a commit
//	when TIME              "2006-01-02 15:04 UTC"
//	mention LOGIN          "@login" (teams "@org/team" kept)
//	mentions LIST          "@a, @b"
//	cell TEXT              TEXT made safe for one markdown table cell
//	oneline TEXT           TEXT on one line
//	quote TEXT             TEXT as a markdown blockquote
//	add A B, sub A B       integer arithmetic
//	contains S SUB         whether S contains SUB
func Funcs() template.FuncMap {
	return template.FuncMap{
		"marker":        Marker,
		"plural":        plural,
		"codefence":     codefence,
		"code":          code,
		"codeList":      codeList,
		"truncateLines": truncateLines,
		"lastLines":     lastLines,
		"head":          head,
		"join":          strings.Join,
		"short":         short,
		"when":          when,
		"mention":       mention,
		"mentions":      mentions,
		"cell":          cell,
		"oneline":       oneline,
		"quote":         quote,
		"add":           func(a, b int) int { return a + b },
		"sub":           func(a, b int) int { return a - b },
		"contains":      strings.Contains,
	}
}

// Marker is the hidden HTML comment that starts every body atoll writes for
// a run or an issue, so it can be found again: "<!-- atoll:ID -->". "--"
// and ">" in id, which would end the comment, are replaced.
func Marker(id string) string {
	return "<!-- atoll:" + cleanID(id) + " -->"
}

// partMarker starts the second and later parts of a split body.
func partMarker(id string, part int) string {
	return fmt.Sprintf("<!-- atoll:%s:part:%d -->", cleanID(id), part)
}

func cleanID(id string) string {
	id = strings.ReplaceAll(id, ">", "")
	for strings.Contains(id, "--") {
		id = strings.ReplaceAll(id, "--", "-")
	}
	return strings.TrimSuffix(id, "-")
}

// ParseMarker finds atoll's marker at the start of a comment body. It
// returns the ID and the part number (1 for a body that was not split or
// for its first part; i for "part i of n"). ok is false when body does not
// start with a marker.
func ParseMarker(body string) (id string, part int, ok bool) {
	const open, end = "<!-- atoll:", " -->"
	if !strings.HasPrefix(body, open) {
		return "", 0, false
	}
	rest := body[len(open):]
	j := strings.Index(rest, end)
	if j < 0 {
		return "", 0, false
	}
	id = rest[:j]
	part = 1
	if k := strings.LastIndex(id, ":part:"); k >= 0 {
		var n int
		if _, err := fmt.Sscanf(id[k+len(":part:"):], "%d", &n); err == nil && n > 0 {
			id, part = id[:k], n
		}
	}
	return id, part, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

func codefence(lang, text string) string {
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	text = strings.TrimRight(text, "\n")
	return fence + lang + "\n" + text + "\n" + fence
}

func code(text string) string {
	text = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(text)
	ticks := strings.Repeat("`", longestRun(text, '`')+1)
	if strings.HasPrefix(text, "`") || strings.HasSuffix(text, "`") {
		text = " " + text + " "
	}
	return ticks + text + ticks
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

func truncateLines(n int, text string) string {
	text = strings.TrimRight(text, "\n")
	lines := strings.Split(text, "\n")
	if n < 0 || len(lines) <= n {
		return text
	}
	more := len(lines) - n
	return strings.Join(lines[:n], "\n") + "\n… (" + plural(more, "more line", "more lines") + ")"
}

func lastLines(n int, text string) string {
	text = strings.Trim(text, "\n")
	lines := strings.Split(text, "\n")
	if n < 0 || len(lines) <= n {
		return text
	}
	earlier := len(lines) - n
	return "… (" + plural(earlier, "earlier line", "earlier lines") + ")\n" + strings.Join(lines[earlier:], "\n")
}

func head(n int, items []string) []string {
	if n < 0 || len(items) <= n {
		return items
	}
	return items[:n]
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func when(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func mention(login string) string {
	if login == "" || strings.HasPrefix(login, "@") {
		return login
	}
	return "@" + login
}

func mentions(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = mention(l)
	}
	return strings.Join(out, ", ")
}

func cell(s string) string {
	return strings.ReplaceAll(oneline(s), "|", `\|`)
}

func oneline(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func quote(s string) string {
	s = strings.Trim(s, "\n")
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}
