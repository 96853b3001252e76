// Package command parses the commands people write in pull request and
// issue comments: "atoll plan -p prod", "atoll apply", "atoll unlock",
// "atoll approve_policies --policy-set security", "atoll help",
// "atoll version".
//
// A comment is addressed to atoll when its first non-empty line starts with
// the word "atoll" (or "/atoll"; any letter case, since phone keyboards
// capitalise). Only that line is read: the rest of the comment is free text.
// A comment not addressed to atoll parses to (nil, nil); one addressed to
// atoll but malformed parses to a *Error that says what is wrong, which the
// runner posts back together with the help.
package command

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Command names.
const (
	Plan            = "plan"
	Apply           = "apply"
	Unlock          = "unlock"
	Help            = "help"
	Version         = "version"
	ApprovePolicies = "approve_policies"
)

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
}

// Error is a malformed command addressed to atoll. Command is the command
// name when it was recognised ("" otherwise), so the reply can show the help
// of that command.
type Error struct {
	Command string
	Message string
}

// Error returns "atoll NAME: MESSAGE" (or "atoll: MESSAGE").
func (e *Error) Error() string {
	if e.Command == "" {
		return "atoll: " + e.Message
	}
	return "atoll " + e.Command + ": " + e.Message
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
		{Plan, "atoll plan [-p PROJECT | -d DIR] [-w WORKSPACE] [-- TERRAFORM PLAN ARGS]", "Plan the projects this pull request changes, or the ones selected."},
		{Apply, "atoll apply [-p PROJECT | -d DIR] [-w WORKSPACE]", "Apply the reviewed plans once the apply requirements are met."},
		{ApprovePolicies, "atoll approve_policies [-p PROJECT | -d DIR] [-w WORKSPACE] [--policy-set SET] [--clear]", "As a policy owner, approve the failing policies (or withdraw the approval with --clear)."},
		{Unlock, "atoll unlock [-p PROJECT | -d DIR] [-w WORKSPACE]", "Release the locks this pull request holds and discard its plans."},
		{Help, "atoll help", "Show this help."},
		{Version, "atoll version", "Show the atoll and Terraform versions."},
	}
}

// flag kinds a command accepts.
const (
	selectFlags = 1 << iota // -p -d -w
	policyFlags             // --policy-set --clear
	extraArgs               // -- ARGS
)

var accepts = map[string]int{
	Plan:            selectFlags | extraArgs,
	Apply:           selectFlags,
	Unlock:          selectFlags,
	ApprovePolicies: selectFlags | policyFlags,
	Help:            0,
	Version:         0,
}

var flagNames = map[string]string{
	"-p": "-p", "--project": "-p",
	"-d": "-d", "--dir": "-d",
	"-w": "-w", "--workspace": "-w",
	"--policy-set": "--policy-set",
	"--clear":      "--clear",
}

// Parse reads the command in a comment. It returns (nil, nil) when the
// comment is not addressed to atoll, and a *Error when it is but the command
// is malformed: an unknown command or flag, a flag the command does not
// take, a missing or repeated value, -p together with -d or -w, an
// unterminated quote, a directory outside the repository. "atoll" alone is
// the help.
func Parse(comment string) (*Command, error) {
	line := firstLine(comment)
	word, rest := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		word, rest = line[:i], line[i+1:]
	}
	if w := strings.ToLower(word); w != "atoll" && w != "/atoll" {
		return nil, nil
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return &Command{Name: Help}, nil
	}
	name := strings.ToLower(fields[0])
	mask, ok := accepts[name]
	if !ok {
		return nil, &Error{Message: fmt.Sprintf("unknown command %q: use one of plan, apply, approve_policies, unlock, help, version", fields[0])}
	}
	cmd := &Command{Name: name}
	if name == Help {
		return cmd, nil // whatever follows, the answer is the help
	}
	args, err := split(rest)
	if err != nil {
		return nil, &Error{Command: name, Message: err.Error()}
	}
	if err := cmd.parseArgs(args[1:], mask); err != nil {
		return nil, &Error{Command: name, Message: err.Error()}
	}
	return cmd, nil
}

func (c *Command) parseArgs(args []string, mask int) error {
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if mask&extraArgs == 0 {
				return fmt.Errorf(`"--" (extra terraform arguments) is only allowed with plan`)
			}
			if rest := args[i+1:]; len(rest) > 0 {
				c.ExtraArgs = append([]string(nil), rest...)
			}
			break
		}
		flag, value, hasValue := strings.Cut(a, "=")
		canon, known := flagNames[flag]
		if !strings.HasPrefix(a, "-") {
			return fmt.Errorf("unexpected argument %q: %s", a, hint(c.Name))
		}
		if !known {
			return fmt.Errorf("unknown flag %q: %s", flag, hint(c.Name))
		}
		need := selectFlags
		if canon == "--policy-set" || canon == "--clear" {
			need = policyFlags
		}
		if mask&need == 0 {
			return fmt.Errorf("flag %s does not apply to %s: %s", flag, c.Name, hint(c.Name))
		}
		if seen[canon] {
			return fmt.Errorf("flag %s given twice", canon)
		}
		seen[canon] = true
		if canon == "--clear" {
			if hasValue {
				return fmt.Errorf("flag --clear takes no value")
			}
			c.Clear = true
			continue
		}
		if !hasValue {
			if i+1 >= len(args) || args[i+1] == "--" {
				return fmt.Errorf("flag %s needs a value", flag)
			}
			i++
			value = args[i]
		}
		if value == "" || strings.HasPrefix(value, "-") {
			return fmt.Errorf("flag %s needs a value, got %q", flag, value)
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
		}
	}
	if c.Project != "" && (c.Dir != "" || c.Workspace != "") {
		return errors.New("-p names a project, which fixes its dir and workspace: do not combine it with -d or -w")
	}
	return nil
}

// hint names the flags a command takes.
func hint(name string) string {
	for _, in := range Commands() {
		if in.Name == name {
			return "usage: " + in.Usage
		}
	}
	return "see atoll help"
}

// cleanDir normalises a -d value to a repository-relative directory.
func cleanDir(d string) (string, error) {
	if strings.HasPrefix(d, "/") || strings.Contains(d, `\`) {
		return "", fmt.Errorf("-d %q: give a directory relative to the repository root, with forward slashes", d)
	}
	c := path.Clean(d)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("-d %q: the directory is outside the repository", d)
	}
	return c, nil
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
func split(line string) ([]string, error) {
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
				return nil, errors.New("unterminated single quote")
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
				return nil, errors.New("unterminated double quote")
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
