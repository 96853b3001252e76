package runner

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/templates"
)

// TestEveryCommandErrorKindRenders: a malformed comment of each of the
// parser's error kinds gets a reply rendered from that kind's own
// template, which says what the parser's error says.
func TestEveryCommandErrorKindRenders(t *testing.T) {
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	comments := map[command.Kind]string{
		command.UnknownCommand:     "atoll aply",
		command.Unsupported:        "atoll import x y",
		command.UnterminatedQuote:  "atoll plan -p 'app",
		command.ExtraArgsPlanOnly:  "atoll apply -- -x",
		command.UnexpectedArgument: "atoll apply prod",
		command.UnknownFlag:        "atoll apply -x",
		command.FlagNotForCommand:  "atoll plan --clear",
		command.FlagTwice:          "atoll plan -p a -p b",
		command.FlagTakesNoValue:   "atoll plan --verbose=yes",
		command.FlagNeedsValue:     "atoll plan -p",
		command.FlagBadValue:       "atoll plan -p -w",
		command.BadMergeMethod:     "atoll apply --auto-merge-method fast",
		command.AutoMergeConflict:  "atoll apply --auto-merge-disabled --auto-merge-method squash",
		command.ProjectWithDir:     "atoll plan -p a -d b",
		command.DirNotRelative:     "atoll plan -d /etc",
		command.DirOutside:         "atoll plan -d ../..",
	}
	for kind, comment := range comments {
		_, err := command.Parse(comment)
		p := problem(err)
		if p.Kind != string(kind) {
			t.Fatalf("%q parsed to kind %q, want %q", comment, p.Kind, kind)
		}
		out, rerr := tmpl.RenderCommandError(templates.CommandError{Problem: p})
		if rerr != nil {
			t.Fatal(rerr)
		}
		_, want, _ := strings.Cut(err.Error(), ": ")
		if !strings.Contains(out, "**That atoll command is not valid:** "+want) {
			t.Errorf("%q: reply %q does not say %q", comment, out, want)
		}
	}
	p := problem(&command.Error{Kind: command.ExtraArgRefused, Command: "plan", Value: "extra argument -chdir: not allowed"})
	if out, _ := tmpl.RenderCommandError(templates.CommandError{Problem: p}); !strings.Contains(out, "not valid:** extra argument -chdir: not allowed") {
		t.Errorf("extra argument refused: %q", out)
	}
}
