// Package command parses the commands people write in pull request and
// issue comments: "atoll plan -p prod", "atoll apply", "atoll unlock",
// "atoll approve_policies --policy-set security", "atoll help",
// "atoll version".
//
// A comment is addressed to atoll when its first non-empty line starts with
// the word "atoll" (or "/atoll"; any letter case, since phone keyboards
// capitalise), or with one of the aliases a Parser is given ("atlantis", for
// teams moving from Atlantis, whose flags are understood too). Only that line
// is read: the rest of the comment is free text.
// A comment not addressed to atoll parses to (nil, nil); one addressed to
// atoll but malformed parses to a *Error that says what is wrong, which the
// runner posts back together with the help.
package command

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Command names.
const (
	Plan            = "plan"
	Apply           = "apply"
	Unlock          = "unlock"
	Help            = "help"
	Version         = "version"
	ApprovePolicies = "approve_policies"
	// Approve, on a drift issue, signs off the remediation plan shown there.
	Approve = "approve"
)

// unsupported are Atlantis commands atoll does not have; addressed to
// atoll they parse to an *Error with Unsupported set, whose reply says so
// rather than showing the help as for a typo.
var unsupported = map[string]bool{"import": true, "state": true}

// Command is one parsed comment command.
type Command struct {
	// Name is one of Plan, Apply, Unlock, Help, Version, ApprovePolicies.
	Name string
	// Project (-p) names one project; Dir (-d) and Workspace (-w) select
	// projects by directory and workspace. Project excludes Dir and
	// Workspace. Dir is cleaned, relative to the repository root ("." is the
	// root) and never escapes it. All empty: every project the command
	// applies to.
	Project   string
	Dir       string
	Workspace string
	// PolicySet (--policy-set, approve_policies only) limits the approval
	// to one policy set; empty approves every failing set the commenter owns.
	PolicySet string
	// Clear (--clear, approve_policies only) withdraws the commenter's
	// approvals instead of giving them.
	Clear bool
	// ExtraArgs (after "--", plan only) are passed to terraform plan as
	// they are; the runner checks them against an allowlist.
	ExtraArgs []string
	// Alias is the word the comment started with when it was one of the
	// Parser's aliases ("atlantis"); empty for "atoll".
	Alias string
	// Verbose (--verbose, plan and apply) asks for each project's log in
	// the comment, as Atlantis's flag of that name does.
	Verbose bool
	// AutoMergeDisabled (--auto-merge-disabled, apply only) skips automerge
	// after this apply; AutoMergeMethod (--auto-merge-method, apply only:
	// merge, squash or rebase) overrides the server's merge method for it.
	AutoMergeDisabled bool
	AutoMergeMethod   string
}

// Kind names what is wrong with a malformed command. Each kind has its
// own reply template (templates/command_problem_KIND.tmpl), filled from
// the Error's fields.
type Kind string

// Error kinds, with the Error fields each one sets.
const (
	UnknownCommand     Kind = "unknown_command"      // Word; Choices: the command names
	Unsupported        Kind = "unsupported"          // Command: an Atlantis command atoll does not have
	UnterminatedQuote  Kind = "unterminated_quote"   // Value: the quote, ' or "
	ExtraArgsPlanOnly  Kind = "extra_args_plan_only" // "--" after a command other than plan
	UnexpectedArgument Kind = "unexpected_argument"  // Word, Usage
	UnknownFlag        Kind = "unknown_flag"         // Flag, Usage
	FlagNotForCommand  Kind = "flag_not_for_command" // Flag, Usage
	FlagTwice          Kind = "flag_twice"           // Flag (its canonical name)
	FlagTakesNoValue   Kind = "flag_takes_no_value"  // Flag
	FlagNeedsValue     Kind = "flag_needs_value"     // Flag: nothing followed it
	FlagBadValue       Kind = "flag_bad_value"       // Flag, Value: empty or starting with "-"
	BadMergeMethod     Kind = "bad_merge_method"     // Value; Choices: MergeMethods
	AutoMergeConflict  Kind = "auto_merge_conflict"  // --auto-merge-disabled with --auto-merge-method
	ProjectWithDir     Kind = "project_with_dir"     // -p with -d or -w
	DirNotRelative     Kind = "dir_not_relative"     // Value: absolute, or with backslashes
	DirOutside         Kind = "dir_outside"          // Value: escapes the repository
)

// The extra arguments after "--" are checked by runner/terraform
// (ValidateExtraArgs); its *ArgError's problems have templates too,
// command_problem_extra_arg_PROBLEM.tmpl.

// Error is a malformed command addressed to atoll: a Kind and the fields
// that kind uses. Command is the command name when it was recognised (""
// otherwise), so the reply can show the help of that command. Word, Flag
// and Value are what the comment wrote, cut to maxQuoted bytes ("..."
// after a cut) so that a huge word does not make a huge reply.
type Error struct {
	Kind    Kind
	Command string
	Word    string
	Flag    string
	Value   string
	// Usage is the usage line of Command, e.g. "atoll apply [-p PROJECT ...]".
	Usage   string
	Choices []string
}

// Error returns "atoll NAME: PROBLEM" (or "atoll: PROBLEM") for logs and
// tests; the reply a person reads is rendered from the Kind's template.
func (e *Error) Error() string {
	if e.Command == "" {
		return "atoll: " + e.problem()
	}
	return "atoll " + e.Command + ": " + e.problem()
}

// problem says what is wrong in one line, for Error.
func (e *Error) problem() string {
	q := func(s string) string {
		if t, ok := strings.CutSuffix(s, "..."); ok && len(t) > maxQuoted-utf8.UTFMax {
			return strconv.Quote(t) + "..."
		}
		return strconv.Quote(s)
	}
	usage := "usage: " + e.Usage
	switch e.Kind {
	case UnknownCommand:
		return fmt.Sprintf("unknown command %s: use one of %s", q(e.Word), strings.Join(e.Choices, ", "))
	case Unsupported:
		return fmt.Sprintf("atoll has no %s command", e.Command)
	case UnterminatedQuote:
		if e.Value == "'" {
			return "unterminated single quote"
		}
		return "unterminated double quote"
	case ExtraArgsPlanOnly:
		return `"--" (extra terraform arguments) is only allowed with plan`
	case UnexpectedArgument:
		return fmt.Sprintf("unexpected argument %s: %s", q(e.Word), usage)
	case UnknownFlag:
		return fmt.Sprintf("unknown flag %s: %s", q(e.Flag), usage)
	case FlagNotForCommand:
		return fmt.Sprintf("flag %s does not apply to %s: %s", e.Flag, e.Command, usage)
	case FlagTwice:
		return fmt.Sprintf("flag %s given twice", e.Flag)
	case FlagTakesNoValue:
		return fmt.Sprintf("flag %s takes no value", e.Flag)
	case FlagNeedsValue:
		return fmt.Sprintf("flag %s needs a value", e.Flag)
	case FlagBadValue:
		return fmt.Sprintf("flag %s needs a value, got %s", e.Flag, q(e.Value))
	case BadMergeMethod:
		return fmt.Sprintf("flag --auto-merge-method: %s is not one of %s", q(e.Value), strings.Join(e.Choices, ", "))
	case AutoMergeConflict:
		return "--auto-merge-disabled turns automerge off: do not combine it with --auto-merge-method"
	case ProjectWithDir:
		return "-p names a project, which fixes its dir and workspace: do not combine it with -d or -w"
	case DirNotRelative:
		return fmt.Sprintf("-d %s: give a directory relative to the repository root, with forward slashes", q(e.Value))
	case DirOutside:
		return fmt.Sprintf("-d %s: the directory is outside the repository", q(e.Value))
	}
	return string(e.Kind) + ": " + e.Value
}

// Info describes one command for the help text.
type Info struct {
	Name    string
	Usage   string
	Summary string
}

// Commands returns the commands with their usage, in the order the help
// lists them.
func Commands() []Info {
	return []Info{
		{Plan, "atoll plan [-p PROJECT | -d DIR] [-w WORKSPACE] [--verbose] [-- TERRAFORM PLAN ARGS]", "Plan the projects this pull request changes, or the ones selected."},
		{Apply, "atoll apply [-p PROJECT | -d DIR] [-w WORKSPACE] [--verbose] [--auto-merge-disabled | --auto-merge-method METHOD]", "Apply the reviewed plans once the apply requirements are met."},
		{ApprovePolicies, "atoll approve_policies [-p PROJECT | -d DIR] [-w WORKSPACE] [--policy-set SET] [--clear | --clear-policy-approval]", "As a policy owner, approve the failing policies (or withdraw the approval with --clear)."},
		{Approve, "atoll approve [--clear]", "On a drift issue: as a second person with the apply permission, approve the remediation plan shown there."},
		{Unlock, "atoll unlock [-p PROJECT | -d DIR] [-w WORKSPACE]", "Release the locks this pull request holds and discard its plans."},
		{Help, "atoll help", "Show this help."},
		{Version, "atoll version", "Show the atoll and Terraform versions."},
	}
}

// flag kinds a command accepts.
const (
	selectFlags = 1 << iota // -p -d -w
	policyFlags             // --policy-set --clear --clear-policy-approval
	extraArgs               // -- ARGS
	verboseFlag             // --verbose
	mergeFlags              // --auto-merge-disabled --auto-merge-method
	clearFlag               // --clear alone (approve)
)

var accepts = map[string]int{
	Plan:            selectFlags | extraArgs | verboseFlag,
	Apply:           selectFlags | verboseFlag | mergeFlags,
	Unlock:          selectFlags,
	ApprovePolicies: selectFlags | policyFlags | verboseFlag,
	Approve:         clearFlag,
	Help:            0,
	Version:         0,
}

var flagNames = map[string]string{
	"-p": "-p", "--project": "-p",
	"-d": "-d", "--dir": "-d",
	"-w": "-w", "--workspace": "-w",
	"--policy-set": "--policy-set",
	"--clear":      "--clear",
	// Atlantis's spelling of --clear.
	"--clear-policy-approval": "--clear",
	"--verbose":               "--verbose",
	"--auto-merge-disabled":   "--auto-merge-disabled",
	"--auto-merge-method":     "--auto-merge-method",
}

// flagKind is the kind each canonical flag belongs to.
var flagKind = map[string]int{
	"-p": selectFlags, "-d": selectFlags, "-w": selectFlags,
	"--policy-set": policyFlags, "--clear": policyFlags,
	"--verbose":             verboseFlag,
	"--auto-merge-disabled": mergeFlags, "--auto-merge-method": mergeFlags,
}

// switches are the flags that take no value.
var switches = map[string]bool{"--clear": true, "--verbose": true, "--auto-merge-disabled": true}

// MergeMethods are the values --auto-merge-method accepts.
var MergeMethods = []string{"merge", "squash", "rebase"}

// Parser reads comment commands. The zero Parser answers to "atoll" only.
type Parser struct {
	// Aliases are further words a command may start with, such as
	// "atlantis" (any letter case, with or without a leading "/"). A
	// command addressed to an alias means exactly what it means addressed
	// to atoll.
	Aliases []string
}

// Parse reads the command in a comment. It returns (nil, nil) when the
// comment is not addressed to atoll, and a *Error when it is but the command
// is malformed: an unknown command or flag, a flag the command does not
// take, a missing or repeated value, -p together with -d or -w, an
// unterminated quote, a directory outside the repository. "atoll" alone is
// the help.
func Parse(comment string) (*Command, error) { return Parser{}.Parse(comment) }

// Parse is the package's Parse, answering to p's aliases as well. An
// Atlantis command atoll does not have ("import", "state rm") is a *Error
// with Unsupported set.
func (p Parser) Parse(comment string) (*Command, error) {
	line := firstLine(comment)
	word, rest := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		word, rest = line[:i], line[i+1:]
	}
	alias, ok := p.addressed(word)
	if !ok {
		return nil, nil
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return &Command{Name: Help, Alias: alias}, nil
	}
	name := strings.ToLower(fields[0])
	mask, ok := accepts[name]
	if !ok {
		if unsupported[name] {
			return nil, &Error{Kind: Unsupported, Command: name}
		}
		return nil, &Error{Kind: UnknownCommand, Word: cut(fields[0]), Choices: names()}
	}
	cmd := &Command{Name: name, Alias: alias}
	if name == Help {
		return cmd, nil // whatever follows, the answer is the help
	}
	args, err := split(rest)
	if err != nil {
		err.Command = name
		return nil, err
	}
	if err := cmd.parseArgs(args[1:], mask); err != nil {
		err.Command = name
		return nil, err
	}
	return cmd, nil
}

// addressed reports whether word addresses atoll, and the alias it used
// ("" for atoll itself).
func (p Parser) addressed(word string) (string, bool) {
	w := strings.TrimPrefix(strings.ToLower(word), "/")
	if w == "atoll" {
		return "", true
	}
	for _, a := range p.Aliases {
		if a = strings.ToLower(a); a != "" && w == a {
			return a, true
		}
	}
	return "", false
}

func (c *Command) parseArgs(args []string, mask int) *Error {
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if mask&extraArgs == 0 {
				return &Error{Kind: ExtraArgsPlanOnly}
			}
			if rest := args[i+1:]; len(rest) > 0 {
				c.ExtraArgs = append([]string(nil), rest...)
			}
			break
		}
		flag, value, hasValue := strings.Cut(a, "=")
		canon, known := flagNames[flag]
		if !strings.HasPrefix(a, "-") {
			return &Error{Kind: UnexpectedArgument, Word: cut(a), Usage: usage(c.Name)}
		}
		if !known {
			return &Error{Kind: UnknownFlag, Flag: cut(flag), Usage: usage(c.Name)}
		}
		kind := flagKind[canon]
		if canon == "--clear" {
			kind |= clearFlag
		}
		if mask&kind == 0 {
			return &Error{Kind: FlagNotForCommand, Flag: flag, Usage: usage(c.Name)}
		}
		if seen[canon] {
			return &Error{Kind: FlagTwice, Flag: canon}
		}
		seen[canon] = true
		if switches[canon] {
			if hasValue {
				return &Error{Kind: FlagTakesNoValue, Flag: flag}
			}
			switch canon {
			case "--clear":
				c.Clear = true
			case "--verbose":
				c.Verbose = true
			case "--auto-merge-disabled":
				c.AutoMergeDisabled = true
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) || args[i+1] == "--" {
				return &Error{Kind: FlagNeedsValue, Flag: flag}
			}
			i++
			value = args[i]
		}
		if value == "" || strings.HasPrefix(value, "-") {
			return &Error{Kind: FlagBadValue, Flag: flag, Value: cut(value)}
		}
		switch canon {
		case "-p":
			c.Project = value
		case "-d":
			d, err := cleanDir(value)
			if err != nil {
				return err
			}
			c.Dir = d
		case "-w":
			c.Workspace = value
		case "--policy-set":
			c.PolicySet = value
		case "--auto-merge-method":
			m := strings.ToLower(value)
			if !slices.Contains(MergeMethods, m) {
				return &Error{Kind: BadMergeMethod, Flag: "--auto-merge-method", Value: cut(value), Choices: MergeMethods}
			}
			c.AutoMergeMethod = m
		}
	}
	if c.AutoMergeDisabled && c.AutoMergeMethod != "" {
		return &Error{Kind: AutoMergeConflict}
	}
	if c.Project != "" && (c.Dir != "" || c.Workspace != "") {
		return &Error{Kind: ProjectWithDir}
	}
	return nil
}

// usage is the usage line of the command name.
func usage(name string) string {
	for _, in := range Commands() {
		if in.Name == name {
			return in.Usage
		}
	}
	return "atoll help"
}

// names are the command names, in the order the help lists them.
func names() []string {
	var out []string
	for _, in := range Commands() {
		out = append(out, in.Name)
	}
	return out
}

// cleanDir normalises a -d value to a repository-relative directory.
func cleanDir(d string) (string, *Error) {
	if strings.HasPrefix(d, "/") || strings.Contains(d, `\`) {
		return "", &Error{Kind: DirNotRelative, Flag: "-d", Value: cut(d)}
	}
	c := path.Clean(d)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", &Error{Kind: DirOutside, Flag: "-d", Value: cut(d)}
	}
	return c, nil
}

// maxQuoted bounds how much of a word an error keeps, so that a huge word
// does not make a huge reply.
const maxQuoted = 80

// cut cuts a word of the comment to maxQuoted bytes (at a character
// boundary) with "..." after the cut.
func cut(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// firstLine returns the first line of s that is not blank, trimmed.
func firstLine(s string) string {
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		if t := strings.TrimSpace(line); t != "" {
			return t
		}
		s = rest
	}
	return ""
}

// split breaks a line into words the way a POSIX shell would, without any
// expansion: blanks separate words, single quotes keep everything literally,
// double quotes keep everything but let a backslash escape `"` and `\`, and
// outside quotes a backslash escapes any character. Typographic quotes (“ ”
// ‘ ’), which phones and some editors substitute, count as plain ones.
func split(line string) ([]string, *Error) {
	line = typographic.Replace(line)
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, &Error{Kind: UnterminatedQuote, Value: "'"}
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(line); i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				} else if line[i] == '"' {
					closed = true
					break
				}
				cur.WriteByte(line[i])
			}
			if !closed {
				return nil, &Error{Kind: UnterminatedQuote, Value: `"`}
			}
		case c == '\\':
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

var typographic = strings.NewReplacer("“", `"`, "”", `"`, "‘", "'", "’", "'")
