package pr

import (
	"errors"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/terraform"
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
		p, _ := problem(err)
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
	// The extra arguments after "--", refused by runner/terraform.
	extra := map[terraform.ArgProblem]struct{ arg, want string }{
		terraform.ArgNotFlag:         {"plan", `extra argument "plan": only flags such as -target=ADDR are accepted`},
		terraform.ArgRefused:         {"-chdir=x", "extra argument -chdir is not allowed: atoll chooses the directory"},
		terraform.ArgUnknown:         {"-frobnicate", "extra argument -frobnicate is not allowed (allowed: -destroy, -lock-timeout, -no-color, -parallelism, -refresh, -replace, -target, -var, -var-file)"},
		terraform.ArgWantBool:        {"-refresh=maybe", "extra argument -refresh: want true or false"},
		terraform.ArgNeedsValue:      {"-target", "extra argument -target: needs a value"},
		terraform.ArgWantVar:         {"-var=oops", "extra argument -var: want NAME=VALUE"},
		terraform.ArgAbsoluteFile:    {"-var-file=/etc/passwd", "extra argument -var-file: the file must be given relative to the project directory"},
		terraform.ArgWantPositiveInt: {"-parallelism=0", "extra argument -parallelism: want a positive integer"},
		terraform.ArgWantDuration:    {"-lock-timeout=soon", "extra argument -lock-timeout: want a duration such as 30s or 5m"},
	}
	for want, c := range extra {
		err := terraform.ValidateExtraArgs([]string{c.arg})
		var ae *terraform.ArgError
		if !errors.As(err, &ae) || ae.Problem != want {
			t.Fatalf("%s: error %v, want problem %s", c.arg, err, want)
		}
		p, ok := problem(err)
		if !ok {
			t.Fatalf("%s: no problem for %v", c.arg, err)
		}
		out, rerr := tmpl.RenderCommandError(templates.CommandError{Problem: p})
		if rerr != nil {
			t.Fatal(rerr)
		}
		if !strings.Contains(out, "**That atoll command is not valid:** "+c.want+"\n") {
			t.Errorf("%s: reply %q does not say %q", c.arg, out, c.want)
		}
	}
}
