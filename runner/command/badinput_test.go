package command

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadComments parses the bad-input corpus of comments
// (testdata/badinput/comments). A comment that only looks addressed to
// atoll (lookalike letters, a command in a code block or a quote) is not a
// command; a malformed command gets an error naming the problem, quoting
// at most maxQuoted bytes of what was written; nothing panics.
func TestBadComments(t *testing.T) {
	const ignored = "" // not addressed to atoll: no command, no error
	tests := []struct {
		file    string
		want    string // error substring; ignored; or "ok NAME" for a command
		project string // with "ok": the project parsed
	}{
		// Lookalikes of "atoll": not addressed to atoll, so nothing runs.
		{"cyrillic_a.txt", ignored, ""},
		{"greek_omicron.txt", ignored, ""},
		{"fullwidth.txt", ignored, ""},
		{"zero_width_space.txt", ignored, ""},
		{"nbsp.txt", ignored, ""},
		// Lookalikes inside a command: an error naming the word.
		{"lookalike_command.txt", "unknown command \"\u0430pply\"", ""},
		{"lookalike_plan_l.txt", "unknown command \"p\u217ean\"", ""},
		{"en_dash_flag.txt", "unexpected argument \"\u2013p\"", ""},
		{"em_dash_flag.txt", "unexpected argument \"\u2014project\"", ""},
		{"unknown_flag_unicode.txt", "unknown flag \"-\u00fe\"", ""},
		{"unterminated_typographic.txt", "unterminated double quote", ""},
		// Commands shown, not given: code blocks, quotes, comments, later lines.
		{"fenced_command.txt", ignored, ""},
		{"nested_fences.txt", ignored, ""},
		{"quoted_command.txt", ignored, ""},
		{"inline_code.txt", ignored, ""},
		{"html_comment.txt", ignored, ""},
		{"command_after_text.txt", ignored, ""},
		// Directories.
		{"escape_dir.txt", "the directory is outside the repository", ""},
		{"backslash_dir.txt", "with forward slashes", ""},
		// Long comments.
		{"very_long_line.txt", "flag -p given twice", ""},
		{"very_long_body.txt", "ok plan", "prod"},
		{"very_long_extra_args.txt", `"--" (extra terraform arguments) is only allowed with plan`, ""},
		{"huge_unknown_command.txt", `unknown command "` + strings.Repeat("x", maxQuoted) + `"...`, ""},
		{"huge_flag_value_dash.txt", `flag -p needs a value, got "-` + strings.Repeat("y", maxQuoted-1) + `"...`, ""},
		// Control characters and line ends.
		{"nul_byte.txt", "flag -p given twice", ""},
		{"crlf_twice.txt", "ok apply", ""},
		{"bidi_override.txt", "ok plan", "\u202eprod"},
		{"unicode_dir_dots.txt", "ok plan", ""},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "badinput", "comments", "*.txt"))
	if len(files) != len(tests) {
		t.Errorf("%d files in testdata/badinput/comments, %d cases: every file needs a case", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "badinput", "comments", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := Parse(string(b))
			switch {
			case tt.want == ignored:
				if cmd != nil || err != nil {
					t.Fatalf("Parse = %+v, %v; want no command", cmd, err)
				}
			case strings.HasPrefix(tt.want, "ok "):
				if err != nil || cmd == nil || cmd.Name != strings.TrimPrefix(tt.want, "ok ") || cmd.Project != tt.project {
					t.Fatalf("Parse = %+v, %v; want %s with project %q", cmd, err, tt.want, tt.project)
				}
			default:
				var perr *Error
				if cmd != nil || !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Parse = %+v, %v; want an error with %q", cmd, err, tt.want)
				}
				if len(err.Error()) > 400 {
					t.Fatalf("error is %d bytes long: %.200s...", len(err.Error()), err)
				}
			}
		})
	}
}
