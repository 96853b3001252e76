package templates

import (
	"strings"
	"testing"
)

func TestDiffFormat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"create", "  + resource \"a\" \"b\" {\n      + id = 1\n    }",
			"+   resource \"a\" \"b\" {\n+       id = 1\n    }"},
		{"update becomes !", "  ~ resource \"a\" \"b\" {\n      ~ x = 1 -> 2\n        y = 3\n    }",
			"!   resource \"a\" \"b\" {\n!       x = 1 -> 2\n        y = 3\n    }"},
		{"replace and legend", "-/+ resource \"a\" \"b\" {\n  + create\n  - destroy\n+/- create then destroy",
			"-/+ resource \"a\" \"b\" {\n+   create\n-   destroy\n+/- create then destroy"},
		{"data read", " <= data \"x\" \"y\" {", "<=  data \"x\" \"y\" {"},
		{"heredoc body left alone", "      + content = <<-EOT\n            items:\n              - one\n            - two\n        EOT\n      + id = 1",
			"+       content = <<-EOT\n            items:\n              - one\n            - two\n        EOT\n+       id = 1"},
		{"changed heredoc lines moved", "      ~ content = <<-EOT # forces replacement\n            keep\n          - v: a\n          + v: b\n            - yaml item\n        EOT",
			"!       content = <<-EOT # forces replacement\n            keep\n-           v: a\n+           v: b\n            - yaml item\n        EOT"},
		{"unchanged heredoc attribute", "        policy = <<EOF\n          + not a marker\n            - content\n        EOF\n      - x = 1",
			"        policy = <<EOF\n+           not a marker\n            - content\n        EOF\n-       x = 1"},
		{"prose untouched", "Plan: 1 to add, 0 to change, 0 to destroy.\n  # a.b will be created",
			"Plan: 1 to add, 0 to change, 0 to destroy.\n  # a.b will be created"},
		{"lists in values", "      ~ list = [\n            \"x\",\n          - \"a\",\n          + \"b\",\n        ]",
			"!       list = [\n            \"x\",\n-           \"a\",\n+           \"b\",\n        ]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DiffFormat(tt.in)
			if got != tt.want {
				t.Fatalf("DiffFormat:\n%s\nwant:\n%s", got, tt.want)
			}
			// Alignment is kept: every line keeps its length.
			for i, l := range strings.Split(got, "\n") {
				if len(l) != len(strings.Split(tt.in, "\n")[i]) {
					t.Fatalf("line %d changed length: %q", i, l)
				}
			}
		})
	}
}

func TestSplitDrift(t *testing.T) {
	const note = "\nNote: Objects have changed outside of Terraform\n\nTerraform detected the following changes made outside of Terraform since the\nlast \"terraform apply\":\n\n  # a.b has been deleted\n  - resource \"a\" \"b\" {\n    }\n\n"
	const rule = "─────────────────────────────\n"
	const plan = "\nTerraform used the selected providers to generate the following execution\nplan.\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
	tests := []struct {
		name, in, drift, rest string
	}{
		{"no drift", plan, "", plan},
		{"with a rule", note + rule + plan, note, "\n" + plan},
		{"without a rule", note + plan, note, "\n" + plan},
		{"no changes after", note + rule + "\nNo changes. Your infrastructure matches the configuration.\n", note,
			"\n\nNo changes. Your infrastructure matches the configuration.\n"},
		{"no end", note, "", note},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drift, rest := SplitDrift(tt.in)
			if strings.TrimSpace(drift) != strings.TrimSpace(tt.drift) || strings.TrimSpace(rest) != strings.TrimSpace(tt.rest) {
				t.Fatalf("SplitDrift:\ndrift %q\nrest %q\nwant\ndrift %q\nrest %q", drift, rest, tt.drift, tt.rest)
			}
		})
	}
}
