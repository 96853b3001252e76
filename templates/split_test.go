package templates

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// bigPlan generates a realistic plan text of n resources: creates,
// updates with heredocs and nested blocks, replaces and destroys. It
// returns the text and each resource's "# ADDRESS" header line.
func bigPlan(n int) (string, []string) {
	var b strings.Builder
	b.WriteString("\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  + create\n  ~ update in-place\n  - destroy\n-/+ destroy and then create replacement\n\nTerraform will perform the following actions:\n\n")
	var heads []string
	add, change, destroy := 0, 0, 0
	for i := range n {
		addr := fmt.Sprintf(`module.svc_%03d.aws_instance.web["node-%05d"]`, i/50, i)
		switch i % 4 {
		case 0:
			h := "# " + addr + " will be created"
			heads = append(heads, h)
			fmt.Fprintf(&b, "  %s\n  + resource \"aws_instance\" \"web\" {\n      + ami           = \"ami-%08d\"\n      + id            = (known after apply)\n      + instance_type = \"t3.micro\"\n      + tags          = {\n          + \"Name\" = \"node-%05d\"\n        }\n      + user_data     = <<-EOT\n            #cloud-config\n            packages:\n              - nginx\n              - jq\n        EOT\n    }\n\n", h, i, i)
			add++
		case 1:
			h := "# " + addr + " will be updated in-place"
			heads = append(heads, h)
			fmt.Fprintf(&b, "  %s\n  ~ resource \"aws_instance\" \"web\" {\n        id            = \"i-%012d\"\n      ~ instance_type = \"t3.micro\" -> \"t3.small\"\n      ~ tags          = {\n          ~ \"Version\" = \"1\" -> \"2\"\n            # (1 unchanged element hidden)\n        }\n        # (28 unchanged attributes hidden)\n    }\n\n", h, i)
			change++
		case 2:
			h := "# " + addr + " must be replaced"
			heads = append(heads, h)
			fmt.Fprintf(&b, "  %s\n-/+ resource \"aws_instance\" \"web\" {\n      ~ ami           = \"ami-old\" -> \"ami-%08d\" # forces replacement\n      ~ id            = \"i-%012d\" -> (known after apply)\n        # (12 unchanged attributes hidden)\n    }\n\n", h, i, i)
			add++
			destroy++
		case 3:
			h := "# " + addr + " will be destroyed"
			heads = append(heads, h)
			fmt.Fprintf(&b, "  %s\n  # (because %s is not in configuration)\n  - resource \"aws_instance\" \"web\" {\n      - ami = \"ami-%08d\" -> null\n      - id  = \"i-%012d\" -> null\n    }\n\n", h, addr, i, i)
			destroy++
		}
	}
	fmt.Fprintf(&b, "Plan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	return b.String(), heads
}

// checkParts asserts what every split must guarantee: parts within the
// limit, payloads that put body back together, and parts that are the
// pieces around their payload.
func checkParts(t *testing.T, body string, limit int) []part {
	t.Helper()
	parts := splitParts(body, limit)
	var joined strings.Builder
	for i, p := range parts {
		s := p.String()
		if len(s) > max(limit, MinSplitLimit) {
			t.Fatalf("part %d of %d is %d characters, over the limit %d", i+1, len(parts), len(s), limit)
		}
		if len(parts) > 1 && p.payload == "" {
			t.Fatalf("part %d of %d is empty", i+1, len(parts))
		}
		joined.WriteString(p.payload)
	}
	if joined.String() != body {
		t.Fatalf("payloads do not rebuild the body: got %d characters, want %d", joined.Len(), len(body))
	}
	return parts
}

// fencesBalanced reports whether every code fence opened in s is closed.
func fencesBalanced(s string) bool {
	var f fenceState
	for _, line := range strings.Split(s, "\n") {
		f.feed(line)
	}
	return !f.open()
}

// detailsBalanced reports whether <details> opens and closes match
// outside code fences.
func detailsBalanced(s string) bool {
	var st mdState
	for _, line := range strings.Split(s, "\n") {
		st = st.next(line)
	}
	return st.depth() == 0
}

func TestSplitBigPlan(t *testing.T) {
	r := newTestRenderer(t)
	plan, heads := bigPlan(3000)
	p := ProjectResult{Name: "fleet", Dir: "infra/fleet", Status: StatusPlanned, Add: 1500, Change: 750, Destroy: 1500, Replace: 750, PlanText: plan}
	body, err := r.RenderCommandComment(CommandComment{ID: "plan-7", Command: "plan", Status: RunDone, MaxPlanChars: -1, Projects: []ProjectResult{p}})
	if err != nil {
		t.Fatal(err)
	}
	if len(body) < 10*CommentLimit {
		t.Fatalf("test plan too small: %d characters", len(body))
	}
	parts := checkParts(t, body, CommentLimit)
	out := Split(body, CommentLimit)
	if len(out) != len(parts) {
		t.Fatalf("Split gave %d parts, splitParts %d", len(out), len(parts))
	}
	for i, s := range out {
		if !fencesBalanced(s) {
			t.Errorf("part %d: code fences not balanced", i+1)
		}
		if !detailsBalanced(s) {
			t.Errorf("part %d: <details> not balanced", i+1)
		}
		if i > 0 {
			if id, n, ok := ParseMarker(s); !ok || id != "plan-7" || n != i+1 {
				t.Errorf("part %d starts with marker %q %d %v", i+1, id, n, ok)
			}
			if !strings.Contains(s, fmt.Sprintf("Part %d of %d", i+1, len(out))) {
				t.Errorf("part %d does not say which part it is", i+1)
			}
		}
		if i < len(out)-1 && !strings.Contains(s, "Continued in the next comment") {
			t.Errorf("part %d does not say it continues", i+1)
		}
	}
	if !strings.HasPrefix(out[0], Marker("plan-7")) {
		t.Errorf("first part does not start with the run's marker")
	}
	// Every resource appears in exactly one part, whole.
	for _, h := range heads {
		n := 0
		for _, s := range out {
			n += strings.Count(s, h)
		}
		if n != 1 {
			t.Fatalf("%q appears %d times across the parts, want 1", h, n)
		}
	}
	// The counts come first, outside every fold, in the first part.
	if !strings.Contains(out[0], "**Plan: 1500 to add, 750 to change, 1500 to destroy.**") {
		t.Errorf("first part lacks the counts")
	}
	if !strings.Contains(out[len(out)-1], "Plan: 1500 to add, 750 to change, 1500 to destroy.\n```") {
		t.Errorf("last part lacks the end of the plan")
	}
	// Parts after the first reopen the fold and the diff block.
	if !strings.Contains(out[1], "<details><summary>Show plan (continued)</summary>\n\n```diff\n") {
		t.Errorf("part 2 does not reopen the plan fold:\n%s", out[1][:400])
	}
}

func TestSplit(t *testing.T) {
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name  string
		body  string
		limit int
		parts int // 0: more than one, any number
	}{
		{"fits", "hello\n", 100, 1},
		{"exactly the limit", strings.Repeat("a", 600), 600, 1},
		{"paragraphs", strings.Repeat("para one two three\n\n", 200), 1000, 0},
		{"one huge line", long, 600, 0},
		{"huge line in a fence", "```diff\n" + long + "\n```\n", 600, 0},
		{"multibyte line", strings.Repeat("é→", 1000), 600, 0},
		{"nested details", strings.Repeat("<details><summary>a</summary>\n\n", 5) + strings.Repeat("line\n", 2000) + strings.Repeat("</details>\n", 5), 3000, 0},
		{"unclosed fence", "```\n" + strings.Repeat("code\n", 500), 600, 0},
		{"table", "| a | b |\n|---|---|\n" + strings.Repeat("| x | y |\n", 300), 700, 0},
		{"crlf", strings.Repeat("line\r\n", 500), 600, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := checkParts(t, tt.body, tt.limit)
			if tt.parts != 0 && len(parts) != tt.parts {
				t.Fatalf("got %d parts, want %d", len(parts), tt.parts)
			}
			if tt.parts == 0 && len(parts) < 2 {
				t.Fatalf("got %d part, want several", len(parts))
			}
			if len(parts) == 1 && Split(tt.body, tt.limit)[0] != tt.body {
				t.Fatalf("a body that fits must come back unchanged")
			}
			for i, p := range parts {
				s := p.String()
				if strings.Contains(tt.body, "```") && !strings.Contains(tt.name, "unclosed") && !fencesBalanced(s) {
					t.Errorf("part %d: fences not balanced:\n%s", i+1, s)
				}
				if strings.Contains(tt.body, "<details>") && !detailsBalanced(s) {
					t.Errorf("part %d: details not balanced:\n%s", i+1, s)
				}
			}
		})
	}
}

func TestSplitPrefersBlankLines(t *testing.T) {
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "#### section %d\n\nsome text about section %d\nmore text\n\n", i, i)
	}
	for _, p := range splitParts(b.String(), 600) {
		if !strings.HasPrefix(p.payload, "#### section") {
			t.Fatalf("part does not start at a section: %q", p.payload[:min(40, len(p.payload))])
		}
	}
}

func TestSplitDoesNotBreakTableRows(t *testing.T) {
	body := strings.Repeat("intro text\n", 20) + "\n| a | b |\n|---|---|\n" + strings.Repeat("| x | y |\n", 20) + "\nafter\n"
	for _, p := range splitParts(body, 512) {
		if strings.HasPrefix(p.payload, "| x") {
			t.Fatalf("a part starts in the middle of a table:\n%s", p.payload)
		}
	}
}

func TestSplitRandomMarkdown(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"text line\n", "\n", "```diff\n", "```\n", "<details><summary>s</summary>\n", "</details>\n",
		"| a | b |\n", "~~~\n", strings.Repeat("y", 700) + "\n", "- item\n", "  + indented\n"}
	for i := range 200 {
		var b strings.Builder
		for range rng.IntN(300) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		limit := MinSplitLimit + rng.IntN(3000)
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkParts(t, b.String(), limit) })
	}
}

func FuzzSplit(f *testing.F) {
	plan, _ := bigPlan(20)
	f.Add(plan, 600)
	f.Add("```\n"+strings.Repeat("`", 2000)+"\n```\n", 512)
	f.Add("<details><summary>x</summary>\n\n```diff\n+ a\n```\n</details>\n", 512)
	f.Add(strings.Repeat("<details>", 400), 520)
	f.Add(strings.Repeat("\u00e9", 900), 513)
	f.Fuzz(func(t *testing.T, body string, limit int) {
		if limit < 0 {
			limit = -limit
		}
		limit = MinSplitLimit + limit%(4*len(body)+1)
		parts := checkParts(t, body, limit)
		out := Split(body, limit)
		if len(out) != len(parts) {
			t.Fatalf("Split and splitParts disagree")
		}
	})
}

func TestWrapSizes(t *testing.T) {
	lines := []string{"<details><summary>Show plan</summary>", "", "```diff", "+ a", "```", "<details>", "<summary>x</summary>",
		"~~~~ info", "text", "~~~~", "</details>", "<DETAILS open>", "````", "</details>"}
	var st mdState
	for _, line := range lines {
		st = st.next(line)
		for lvl := wrapFull; lvl <= wrapNone; lvl++ {
			p, s := st.wrapAt(lvl)
			if o, c := st.sizes(lvl); o != len(p) || c != len(s) {
				t.Fatalf("after %q level %d: sizes %d,%d, want %d,%d", line, lvl, o, c, len(p), len(s))
			}
		}
	}
}
