package templates

import (
	"strings"
	"testing"
)

func TestCodefence(t *testing.T) {
	tests := []struct {
		lang, text, want string
	}{
		{"diff", "+ a\n", "```diff\n+ a\n```"},
		{"", "has ``` inside", "````\nhas ``` inside\n````"},
		{"", "has ````` inside", "``````\nhas ````` inside\n``````"},
		{"", "one ` tick", "```\none ` tick\n```"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := codefence(tt.lang, tt.text); got != tt.want {
				t.Fatalf("codefence = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInlineCode(t *testing.T) {
	tests := map[string]string{
		"aws_s3_bucket.x":   "`aws_s3_bucket.x`",
		"a`b":               "``a`b``",
		"`edge":             "`` `edge ``",
		"two\nlines":        "`two lines`",
		`x["a  b"]`:         "`x[\"a  b\"]`",
		"module.a.b[\"k\"]": "`module.a.b[\"k\"]`",
	}
	for in, want := range tests {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPluralAndLines(t *testing.T) {
	if got := plural(1, "resource", "resources"); got != "1 resource" {
		t.Errorf("plural(1) = %q", got)
	}
	if got := plural(0, "resource", "resources"); got != "0 resources" {
		t.Errorf("plural(0) = %q", got)
	}
	text := "1\n2\n3\n4\n5\n"
	if got := truncateLines(2, text); got != "1\n2\n… (3 more lines)" {
		t.Errorf("truncateLines = %q", got)
	}
	if got := truncateLines(9, text); got != "1\n2\n3\n4\n5" {
		t.Errorf("truncateLines, short = %q", got)
	}
	if got := lastLines(2, text); got != "… (3 earlier lines)\n4\n5" {
		t.Errorf("lastLines = %q", got)
	}
	if got := head(2, []string{"a", "b", "c"}); len(got) != 2 {
		t.Errorf("head = %v", got)
	}
	if got := cell("a | b\nc"); got != `a \| b c` {
		t.Errorf("cell = %q", got)
	}
	if got := mentions([]string{"alice", "@acme/sec"}); got != "@alice, @acme/sec" {
		t.Errorf("mentions = %q", got)
	}
}

func TestMarker(t *testing.T) {
	tests := []struct {
		id, want string
	}{
		{"plan-42-7", "<!-- atoll:plan-42-7 -->"},
		{"evil-->x", "<!-- atoll:evil-x -->"},
		{"a--b", "<!-- atoll:a-b -->"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			m := Marker(tt.id)
			if m != tt.want {
				t.Fatalf("Marker = %q, want %q", m, tt.want)
			}
			if strings.Count(m, "-->") != 1 {
				t.Fatalf("marker can be ended early: %q", m)
			}
			id, part, ok := ParseMarker(m + "\nbody")
			if !ok || part != 1 || Marker(id) != m {
				t.Fatalf("ParseMarker = %q, %d, %v", id, part, ok)
			}
		})
	}
	id, part, ok := ParseMarker(partMarker("plan-1", 3) + "\n...")
	if !ok || id != "plan-1" || part != 3 {
		t.Fatalf("ParseMarker(part 3) = %q, %d, %v", id, part, ok)
	}
	if _, _, ok := ParseMarker("no marker"); ok {
		t.Fatal("ParseMarker found a marker in plain text")
	}
	if strings.Contains(partMarker("plan-1", 2), Marker("plan-1")) {
		t.Fatal("a part marker contains the run's marker: searching for it would find every part")
	}
}
