package config

import (
	"regexp"
	"slices"
	"time"
)

// Commands says which comment commands atoll answers and how far an apply
// may go: the settings Atlantis users know as --allow-commands,
// --disable-apply, --quiet-policy-checks, and its answer to a partly
// refused apply.
type Commands struct {
	// CommandAliases are words that address atoll besides "atoll":
	// [atlantis] makes `atlantis plan -d dir` mean `atoll plan -d dir`.
	CommandAliases []string `yaml:"command_aliases"`
	// AllowCommands are the commands atoll runs (default all:
	// plan, apply, unlock, approve_policies, approve, help, version). Others get a
	// reply saying the server does not allow them.
	AllowCommands []string `yaml:"allow_commands"`
	// DisableApply refuses every apply (comments, after merge, retries,
	// drift remediation), as Atlantis's --disable-apply.
	DisableApply bool `yaml:"disable_apply"`
	// ApplyAllOrNothing (default true): an `atoll apply` without -p, -d or
	// -w applies nothing when one project is refused. false applies the
	// projects that meet their requirements and reports the others, as
	// Atlantis does.
	ApplyAllOrNothing bool `yaml:"apply_all_or_nothing"`
	// QuietPolicyChecks leaves policy sets that passed without a warning
	// out of comments (failures, errors and warnings are still shown).
	QuietPolicyChecks bool `yaml:"quiet_policy_checks"`
	// JobTimeout bounds each job, its terraform and its workflow's custom
	// steps (default 0: no bound).
	JobTimeout time.Duration `yaml:"job_timeout"`
}

// CommandNames are the commands allow_commands may list, in help order.
var CommandNames = []string{"plan", "apply", "unlock", "approve_policies", "approve", "help", "version"}

var aliasRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// validateCommands checks command_aliases and allow_commands.
func (s Server) validateCommands(c checker) {
	for i, a := range s.CommandAliases {
		switch {
		case !aliasRE.MatchString(a):
			c.errorf(index("command_aliases", i), "%q: an alias is one lower-case word (letters, digits, '-', '_'), such as atlantis", a)
		case a == "atoll":
			c.errorf(index("command_aliases", i), "atoll always answers to atoll: list other words only")
		}
	}
	if s.JobTimeout < 0 {
		c.errorf("job_timeout", "must not be negative")
	}
	for i, cmd := range s.AllowCommands {
		if cmd != "all" && !slices.Contains(CommandNames, cmd) {
			c.errorf(index("allow_commands", i), "unknown command %q: use all or any of plan, apply, unlock, approve_policies, approve, help, version", cmd)
		}
	}
}

// CommandAllowed reports whether allow_commands lets atoll run the
// command; an empty list, or one holding "all", allows every command.
func (s Server) CommandAllowed(name string) bool {
	return len(s.AllowCommands) == 0 || slices.Contains(s.AllowCommands, "all") || slices.Contains(s.AllowCommands, name)
}
