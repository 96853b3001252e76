package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		comment string
		want    *Command
		wantErr string // substring of the error; "" for none
	}{
		{"not addressed", "LGTM", nil, ""},
		{"empty", "", nil, ""},
		{"blank lines", "\n  \n\t\n", nil, ""},
		{"word prefix is not atoll", "atollx plan", nil, ""},
		{"mention later in line", "please atoll plan", nil, ""},
		{"quoted reply", "> atoll plan\nthanks", nil, ""},
		{"second line ignored", "hello\natoll plan", nil, ""},
		{"bare atoll is help", "atoll", &Command{Name: Help}, ""},
		{"help with text", "atoll help I don't get it", &Command{Name: Help}, ""},
		{"plan", "atoll plan", &Command{Name: Plan}, ""},
		{"slash form", "/atoll plan", &Command{Name: Plan}, ""},
		{"capitalised by a phone", "Atoll Plan", &Command{Name: Plan}, ""},
		{"leading blank lines and spaces", "\n\n   atoll apply   \nmore text -x", &Command{Name: Apply}, ""},
		{"crlf", "atoll apply -p prod\r\nthanks", &Command{Name: Apply, Project: "prod"}, ""},
		{"tab after atoll", "atoll\tplan", &Command{Name: Plan}, ""},
		{"project", "atoll plan -p prod", &Command{Name: Plan, Project: "prod"}, ""},
		{"long project", "atoll apply --project=prod", &Command{Name: Apply, Project: "prod"}, ""},
		{"dir and workspace", "atoll plan -d envs/prod/ -w eu", &Command{Name: Plan, Dir: "envs/prod", Workspace: "eu"}, ""},
		{"dir root", "atoll plan -d .", &Command{Name: Plan, Dir: "."}, ""},
		{"dir cleaned", "atoll plan --dir ./envs//prod", &Command{Name: Plan, Dir: "envs/prod"}, ""},
		{"workspace alone", "atoll unlock -w eu", &Command{Name: Unlock, Workspace: "eu"}, ""},
		{"extra args", `atoll plan -d x -- -var 'a=b c' -var "d=\"e\"" -target=x`, &Command{Name: Plan, Dir: "x", ExtraArgs: []string{"-var", "a=b c", "-var", `d="e"`, "-target=x"}}, ""},
		{"typographic quotes", "atoll plan -- -var “a=b c”", &Command{Name: Plan, ExtraArgs: []string{"-var", "a=b c"}}, ""},
		{"empty extra args", "atoll plan --", &Command{Name: Plan}, ""},
		{"approve policies", "atoll approve_policies --policy-set security -p prod", &Command{Name: ApprovePolicies, PolicySet: "security", Project: "prod"}, ""},
		{"clear", "atoll approve_policies --clear", &Command{Name: ApprovePolicies, Clear: true}, ""},
		{"version", "atoll version", &Command{Name: Version}, ""},

		{"unknown command", "atoll destroy", nil, `unknown command "destroy"`},
		{"unknown flag", "atoll plan -x", nil, `unknown flag "-x"`},
		{"positional", "atoll plan prod", nil, `unexpected argument "prod"`},
		{"p and d", "atoll plan -p a -d b", nil, "do not combine it with -d or -w"},
		{"p and w", "atoll apply -w eu -p a", nil, "do not combine"},
		{"missing value", "atoll plan -p", nil, "flag -p needs a value"},
		{"flag as value", "atoll plan -p -d", nil, "needs a value"},
		{"value before --", "atoll plan -p -- x", nil, "needs a value"},
		{"empty value", "atoll plan -p=", nil, "needs a value"},
		{"twice", "atoll plan -p a --project b", nil, "given twice"},
		{"extra args on apply", "atoll apply -- -auto-approve", nil, `only allowed with plan`},
		{"clear on plan", "atoll plan --clear", nil, "--clear does not apply to plan"},
		{"policy set on apply", "atoll apply --policy-set s", nil, "does not apply to apply"},
		{"clear with value", "atoll approve_policies --clear=yes", nil, "takes no value"},
		{"flags on version", "atoll version -p x", nil, "does not apply to version"},
		{"unterminated quote", "atoll plan -- -var 'x", nil, "unterminated single quote"},
		{"unterminated double quote", `atoll plan -- -var "x`, nil, "unterminated double quote"},
		{"dir outside", "atoll plan -d ../x", nil, "outside the repository"},
		{"dir absolute", "atoll plan -d /etc", nil, "relative to the repository root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.comment)
			if tt.wantErr != "" {
				var perr *Error
				if !errors.As(err, &perr) {
					t.Fatalf("Parse(%q) error = %v, want *Error containing %q", tt.comment, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %q, want it to contain %q", tt.comment, err, tt.wantErr)
				}
				if got != nil {
					t.Fatalf("Parse(%q) returned %+v with an error", tt.comment, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.comment, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.comment, got, tt.want)
			}
		})
	}
}

func TestErrorNamesCommand(t *testing.T) {
	_, err := Parse("atoll apply -x")
	var perr *Error
	if !errors.As(err, &perr) || perr.Command != Apply {
		t.Fatalf("error %v: want *Error for apply", err)
	}
	if !strings.HasPrefix(err.Error(), "atoll apply: ") || !strings.Contains(err.Error(), "usage: atoll apply") {
		t.Errorf("error %q: want the command and its usage", err)
	}
	_, err = Parse("atoll nope")
	if !errors.As(err, &perr) || perr.Command != "" || !strings.HasPrefix(err.Error(), "atoll: ") {
		t.Errorf("error %v: want *Error without a command", err)
	}
}

func TestCommandsCoverEveryName(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Commands() {
		if _, ok := accepts[c.Name]; !ok {
			t.Errorf("Commands lists %q, which Parse does not know", c.Name)
		}
		seen[c.Name] = true
	}
	for name := range accepts {
		if !seen[name] {
			t.Errorf("command %q missing from Commands", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"atoll plan -p a", "atoll plan -- -var 'a b'", "atoll approve_policies --clear --policy-set=x", "/atoll apply -d ./x -w y", "atoll \"", "atoll plan -d ../..", "hello"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, comment string) {
		cmd, err := Parse(comment)
		if err != nil {
			if cmd != nil {
				t.Fatal("command and error both returned")
			}
			var perr *Error
			if !errors.As(err, &perr) || perr.Kind == "" {
				t.Fatalf("error %v is not a *Error with a message", err)
			}
			return
		}
		if cmd == nil {
			return
		}
		if _, ok := accepts[cmd.Name]; !ok {
			t.Fatalf("unknown name %q", cmd.Name)
		}
		if cmd.Project != "" && (cmd.Dir != "" || cmd.Workspace != "") {
			t.Fatalf("project with dir or workspace: %+v", cmd)
		}
		if cmd.Dir == ".." || strings.HasPrefix(cmd.Dir, "../") || strings.HasPrefix(cmd.Dir, "/") {
			t.Fatalf("dir escapes: %q", cmd.Dir)
		}
		if len(cmd.ExtraArgs) > 0 && cmd.Name != Plan {
			t.Fatalf("extra args on %s", cmd.Name)
		}
		// Round trip: the command written back out parses to itself.
		if line, ok := writeCommand(cmd); ok {
			again, err := Parse(line)
			if err != nil || !reflect.DeepEqual(again, cmd) {
				t.Fatalf("%+v written as %q parses to %+v, %v", cmd, line, again, err)
			}
		}
	})
}

// Atlantis users keep typing `atlantis ...`: with the alias configured the
// same comment means what it means addressed to atoll, with Atlantis's
// flags; without it, atoll stays silent.
func TestParseAtlantisAlias(t *testing.T) {
	p := Parser{Aliases: []string{"atlantis"}}
	tests := []struct {
		name    string
		comment string
		want    *Command
		wantErr string
	}{
		{"plan dir workspace", "atlantis plan -d envs/prod -w staging", &Command{Name: Plan, Dir: "envs/prod", Workspace: "staging", Alias: "atlantis"}, ""},
		{"project", "atlantis apply -p app", &Command{Name: Apply, Project: "app", Alias: "atlantis"}, ""},
		{"capitalised and slash", "/Atlantis Plan", &Command{Name: Plan, Alias: "atlantis"}, ""},
		{"bare alias is help", "atlantis", &Command{Name: Help, Alias: "atlantis"}, ""},
		{"verbose plan", "atlantis plan --verbose -- -target=x", &Command{Name: Plan, Verbose: true, ExtraArgs: []string{"-target=x"}, Alias: "atlantis"}, ""},
		{"auto merge disabled", "atlantis apply --auto-merge-disabled", &Command{Name: Apply, AutoMergeDisabled: true, Alias: "atlantis"}, ""},
		{"auto merge method", "atlantis apply --auto-merge-method Squash", &Command{Name: Apply, AutoMergeMethod: "squash", Alias: "atlantis"}, ""},
		{"auto merge method with =", "atlantis apply --auto-merge-method=rebase -d .", &Command{Name: Apply, Dir: ".", AutoMergeMethod: "rebase", Alias: "atlantis"}, ""},
		{"clear policy approval", "atlantis approve_policies --clear-policy-approval", &Command{Name: ApprovePolicies, Clear: true, Alias: "atlantis"}, ""},
		{"unlock", "atlantis unlock", &Command{Name: Unlock, Alias: "atlantis"}, ""},
		{"version", "atlantis version", &Command{Name: Version, Alias: "atlantis"}, ""},
		{"atoll still works", "atoll plan -w staging", &Command{Name: Plan, Workspace: "staging"}, ""},
		{"atoll gets the flags too", "atoll apply --auto-merge-disabled", &Command{Name: Apply, AutoMergeDisabled: true}, ""},

		{"bad merge method", "atlantis apply --auto-merge-method fast", nil, `"fast" is not one of merge, squash, rebase`},
		{"both merge flags", "atlantis apply --auto-merge-disabled --auto-merge-method squash", nil, "do not combine"},
		{"merge flags on plan", "atlantis plan --auto-merge-disabled", nil, "does not apply to plan"},
		{"verbose takes no value", "atlantis plan --verbose=1", nil, "takes no value"},
		{"clear policy approval on apply", "atlantis apply --clear-policy-approval", nil, "does not apply to apply"},
		{"extra args on apply", "atlantis apply -- -lock-timeout=5m", nil, "only allowed with plan"},
		{"prefix of alias", "atlantisx plan", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Parse(tt.comment)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %+v, %v; want an error containing %q", tt.comment, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tt.comment, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.comment, got, tt.want)
			}
		})
	}
	if got, err := Parse("atlantis plan"); got != nil || err != nil {
		t.Fatalf("without the alias, Parse(atlantis plan) = %+v, %v; want nil, nil", got, err)
	}
}

// Commands atoll does not have are named as such, not as typos.
func TestParseUnsupported(t *testing.T) {
	p := Parser{Aliases: []string{"atlantis"}}
	for _, c := range []string{"atlantis import -d . aws_instance.a i-123", "atlantis state rm aws_instance.a", "atoll import x y"} {
		_, err := p.Parse(c)
		var perr *Error
		if !errors.As(err, &perr) || perr.Kind != Unsupported {
			t.Fatalf("Parse(%q) error = %v, want an Unsupported *Error", c, err)
		}
		if want := strings.Fields(c)[1]; perr.Command != want {
			t.Fatalf("Parse(%q).Command = %q, want %q", c, perr.Command, want)
		}
	}
}

// writeCommand writes cmd as a comment line, every value double-quoted;
// false when a value holds a typographic quote, which Parse reads as a
// plain one.
func writeCommand(cmd *Command) (string, bool) {
	var b strings.Builder
	b.WriteString("atoll " + cmd.Name)
	ok := true
	q := func(v string) string {
		if strings.ContainsAny(v, "“”‘’") {
			ok = false
		}
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	for _, f := range []struct{ flag, v string }{{"-p", cmd.Project}, {"-d", cmd.Dir}, {"-w", cmd.Workspace}, {"--policy-set", cmd.PolicySet}} {
		if f.v != "" {
			b.WriteString(" " + f.flag + " " + q(f.v))
		}
	}
	if cmd.Clear {
		b.WriteString(" --clear")
	}
	if cmd.Verbose {
		b.WriteString(" --verbose")
	}
	if cmd.AutoMergeDisabled {
		b.WriteString(" --auto-merge-disabled")
	}
	if cmd.AutoMergeMethod != "" {
		b.WriteString(" --auto-merge-method " + q(cmd.AutoMergeMethod))
	}
	if cmd.ExtraArgs != nil {
		b.WriteString(" --")
		for _, a := range cmd.ExtraArgs {
			b.WriteString(" " + q(a))
		}
	}
	return b.String(), ok && cmd.Name != Help
}
