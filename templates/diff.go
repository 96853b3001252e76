package templates

import (
	"regexp"
	"strings"
)

// driftNote is the heading terraform prints before resources changed
// outside of it.
const driftNote = "Objects have changed outside of Terraform"

// SplitDrift separates terraform's "Note: Objects have changed outside of
// Terraform" section from a plan text. It returns the note (up to, not
// including, the horizontal rule that ends it) and the rest of the plan.
// When the plan has no such note, or its end cannot be found, drift is ""
// and rest is plan unchanged.
func SplitDrift(plan string) (drift, rest string) {
	i := strings.Index(plan, driftNote)
	if i < 0 {
		return "", plan
	}
	start := strings.LastIndexByte(plan[:i], '\n') + 1
	pos := strings.IndexByte(plan[i:], '\n')
	if pos < 0 {
		return "", plan
	}
	pos += i + 1
	for pos < len(plan) {
		end := strings.IndexByte(plan[pos:], '\n')
		next := len(plan)
		if end >= 0 {
			next = pos + end + 1
		}
		line := strings.TrimSpace(plan[pos:next])
		switch {
		case line != "" && strings.Trim(line, "─") == "":
			return plan[start:pos], plan[:start] + plan[next:]
		case strings.HasPrefix(line, "Terraform used the selected providers"),
			strings.HasPrefix(line, "No changes."):
			return plan[start:pos], plan[:start] + plan[pos:]
		}
		pos = next
	}
	return "", plan
}

var (
	// markerLine matches a plan line with an action marker: indent, marker,
	// then a space or the end of the line.
	markerLine = regexp.MustCompile(`^( *)(-/\+|\+/-|<=|[-+~])( |$)`)
	// heredocOpen matches a line that opens a heredoc, with terraform's
	// optional trailing comment ("# forces replacement").
	heredocOpen = regexp.MustCompile(`<<-?([A-Za-z_][A-Za-z0-9_]*)\s*(#.*)?$`)
)

// DiffFormat rewrites terraform plan text for a ```diff block: each action
// marker (+, -, ~, -/+, +/-, <=) moves to column 0, with "~" shown as "!",
// so GitHub colours the line; alignment is kept. Heredoc bodies are left
// alone (a YAML "- item" inside one is content, not a removal); only the
// markers terraform puts on changed heredoc lines are moved.
func DiffFormat(plan string) string {
	lines := strings.Split(plan, "\n")
	var (
		inHeredoc bool
		ident     string
		bodyMark  int // column of terraform's markers inside the body
	)
	for i, line := range lines {
		if inHeredoc {
			if strings.TrimSpace(line) == ident {
				inHeredoc = false
				continue
			}
			if leadingSpaces(line) == bodyMark {
				if m := markerLine.FindStringSubmatchIndex(line); m != nil {
					lines[i] = moveMarker(line, m)
				}
			}
			continue
		}
		m := markerLine.FindStringSubmatchIndex(line)
		nameCol := leadingSpaces(line)
		if m != nil {
			nameCol = m[7] // after the marker and its space
			lines[i] = moveMarker(line, m)
		}
		if h := heredocOpen.FindStringSubmatch(line); h != nil {
			inHeredoc, ident, bodyMark = true, h[1], nameCol+2
		}
	}
	return strings.Join(lines, "\n")
}

// moveMarker swaps the indent and the marker of a line matched by
// markerLine (m from FindStringSubmatchIndex).
func moveMarker(line string, m []int) string {
	indent := line[m[2]:m[3]]
	marker := line[m[4]:m[5]]
	sep := line[m[6]:m[7]]
	if marker == "~" {
		marker = "!"
	}
	return marker + sep + indent + line[m[1]:]
}

func leadingSpaces(s string) int {
	return len(s) - len(strings.TrimLeft(s, " "))
}
