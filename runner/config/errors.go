package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/atollhq/atoll/runner/discovery"
)

// Kind names what is wrong with a value, so that a reader other than the
// command line (the pull request comment, through templates/) can say it in
// its own words from FieldError's fields. Message is always the English
// sentence for logs and `atoll config validate`.
type Kind string

// The kinds of FieldError. Each lists the fields it sets besides File,
// Line, Column and Key.
const (
	// KindFileTooLarge: the file is over the size limit (Size, Limit in
	// bytes); it was not read.
	KindFileTooLarge Kind = "file_too_large"
	// KindInvalidYAML: a YAML syntax error; Detail is the YAML parser's
	// own description.
	KindInvalidYAML Kind = "invalid_yaml"
	// KindMultipleDocuments: a second YAML document ("---") follows the first.
	KindMultipleDocuments Kind = "multiple_documents"
	// KindTooManyValues: the document expands to more than Limit values.
	KindTooManyValues Kind = "too_many_values"
	// KindWrongType: the value is not of the Expected type ("string",
	// "bool", "integer", "list", "mapping", "duration" or "step"); Got
	// describes what it is ("a list", or the quoted value).
	KindWrongType Kind = "wrong_type"
	// KindInvalidDuration: Value is not a duration in Go syntax.
	KindInvalidDuration Kind = "invalid_duration"
	// KindUnknownKey: the mapping has no key Name; Suggestion is the known
	// key closest to it, if any.
	KindUnknownKey Kind = "unknown_key"
	// KindDuplicateKey: the key Name is written twice in one mapping.
	KindDuplicateKey Kind = "duplicate_key"
	// KindKeyNotString: a mapping key is not a plain string (Got).
	KindKeyNotString Kind = "key_not_string"
	// KindMergeTooDeep: merge keys (<<) nest more than Limit levels.
	KindMergeTooDeep Kind = "merge_too_deep"
	// KindMergeNotMapping: a merge key's value (Got) is not a mapping or a
	// list of mappings.
	KindMergeNotMapping Kind = "merge_not_mapping"
	// KindStepNeedsValue: the step Name (run, env, multienv) is written
	// without its value.
	KindStepNeedsValue Kind = "step_needs_value"
	// KindUnknownStep: no step is called Name; Allowed lists the steps.
	KindUnknownStep Kind = "unknown_step"
	// KindStepKeys: a step mapping has Count keys instead of one; Allowed
	// lists the steps.
	KindStepKeys Kind = "step_keys"
	// KindUnknownValue: Value is not one of Allowed.
	KindUnknownValue Kind = "unknown_value"
	// The checks of a repository configuration's values: each sets Value
	// (the value as written) where it has one, Other a second value it
	// names, Index the entry it clashes with, Detail a library's error
	// text, Allowed the accepted values.
	KindVersionRequired            Kind = "version_required"
	KindUnsupportedAtlantisVersion Kind = "unsupported_atlantis_version"
	KindUnsupportedVersion         Kind = "unsupported_version"
	KindUnknownApplyMode           Kind = "unknown_apply_mode"
	KindAutomergeIgnored           Kind = "automerge_ignored"
	KindAutomergeNotEnabled        Kind = "automerge_not_enabled"
	KindDriftNotAllowed            Kind = "drift_not_allowed"
	KindInvalidSchedule            Kind = "invalid_schedule"
	KindWorkflowsNotAllowed        Kind = "workflows_not_allowed"
	KindInvalidWorkspace           Kind = "invalid_workspace"
	KindInvalidProjectName         Kind = "invalid_project_name"
	KindDuplicateProjectName       Kind = "duplicate_project_name"
	KindDuplicateDirWorkspace      Kind = "duplicate_dir_workspace"
	KindDistributionsDisagree      Kind = "distributions_disagree"
	KindInvalidVarFile             Kind = "invalid_var_file"
	KindVarFileOutside             Kind = "var_file_outside"
	KindBranchNeedsSlashes         Kind = "branch_needs_slashes"
	KindInvalidRegexp              Kind = "invalid_regexp"
	// KindInvalidGlob: Value is not a well-formed glob; Other is the
	// segment that is not a valid pattern, "" when Value is empty.
	KindInvalidGlob                Kind = "invalid_glob"
	KindUnknownLockMode            Kind = "unknown_lock_mode"
	KindUnknownDependency          Kind = "unknown_dependency"
	KindDirRequired                Kind = "dir_required"
	KindDirNotRelative             Kind = "dir_not_relative"
	KindDirOutside                 Kind = "dir_outside"
	KindDirControlChar             Kind = "dir_control_char"
	KindUnknownRequirement         Kind = "unknown_requirement"
	KindPoliciesPassedKept         Kind = "policies_passed_kept"
	KindRemovalNotAllowed          Kind = "removal_not_allowed"
	KindAddsAndRemoves             Kind = "adds_and_removes"
	KindUnknownAtlantisRequirement Kind = "unknown_atlantis_requirement"
	KindRequirementLeftOut         Kind = "requirement_left_out"
	KindUnknownWorkflow            Kind = "unknown_workflow"
	KindWorkflowChoiceNotAllowed   Kind = "workflow_choice_not_allowed"
	KindPolicyCheckNotAllowed      Kind = "policy_check_not_allowed"
	KindRegexpSelectionIgnored     Kind = "regexp_selection_ignored"
	KindUnknownPlanRequirement     Kind = "unknown_plan_requirement"
	KindImportRequirementsIgnored  Kind = "import_requirements_ignored"
	KindDestroyOrderIgnored        Kind = "destroy_order_ignored"
	KindUnknownSilence             Kind = "unknown_silence"
	KindCustomPolicyCheckIgnored   Kind = "custom_policy_check_ignored"
	KindInvalidConstraint          Kind = "invalid_constraint"
	KindInvalidTeam                Kind = "invalid_team"
	KindTeamsRequired              Kind = "teams_required"
	KindCountTooSmall              Kind = "count_too_small"
	KindInvalidWorkflowName        Kind = "invalid_workflow_name"
	KindCommandEmpty               Kind = "command_empty"
	KindUnknownMultienvOutput      Kind = "unknown_multienv_output"
	KindUnknownOutput              Kind = "unknown_output"
	KindEnvNameRequired            Kind = "env_name_required"
	KindInvalidEnvName             Kind = "invalid_env_name"
	KindValueOrCommand             Kind = "value_or_command"
	KindWorkflowNotAllowed         Kind = "workflow_not_allowed"
	// KindInvalid: any other problem, said by Message alone.
	KindInvalid Kind = "invalid"
)

// Kinds lists every Kind, so that a reader can check it says each.
var Kinds = []Kind{KindFileTooLarge, KindInvalidYAML, KindMultipleDocuments, KindTooManyValues, KindWrongType,
	KindInvalidDuration, KindUnknownKey, KindDuplicateKey, KindKeyNotString, KindMergeTooDeep, KindMergeNotMapping,
	KindStepNeedsValue, KindUnknownStep, KindStepKeys, KindUnknownValue, KindInvalid,
	KindVersionRequired, KindUnsupportedAtlantisVersion, KindUnsupportedVersion, KindUnknownApplyMode, KindAutomergeIgnored, KindAutomergeNotEnabled, KindDriftNotAllowed, KindInvalidSchedule, KindWorkflowsNotAllowed, KindInvalidWorkspace, KindInvalidProjectName, KindDuplicateProjectName, KindDuplicateDirWorkspace, KindDistributionsDisagree, KindInvalidVarFile, KindVarFileOutside, KindBranchNeedsSlashes, KindInvalidRegexp, KindInvalidGlob, KindUnknownLockMode, KindUnknownDependency, KindDirRequired, KindDirNotRelative, KindDirOutside, KindDirControlChar, KindUnknownRequirement, KindPoliciesPassedKept, KindRemovalNotAllowed, KindAddsAndRemoves,
	KindUnknownAtlantisRequirement, KindRequirementLeftOut, KindUnknownWorkflow, KindWorkflowChoiceNotAllowed, KindPolicyCheckNotAllowed, KindRegexpSelectionIgnored, KindUnknownPlanRequirement, KindImportRequirementsIgnored, KindDestroyOrderIgnored, KindUnknownSilence, KindCustomPolicyCheckIgnored, KindInvalidConstraint, KindInvalidTeam, KindTeamsRequired, KindCountTooSmall,
	KindInvalidWorkflowName, KindCommandEmpty, KindUnknownMultienvOutput, KindUnknownOutput, KindEnvNameRequired, KindInvalidEnvName, KindValueOrCommand, KindWorkflowNotAllowed}

// FieldError is one problem in a configuration, located as precisely as its
// source allows.
type FieldError struct {
	// File is where the value came from: a file name ("atoll.yaml"), an
	// environment variable ("$ATOLL_WORKERS") or a flag ("--workers"); empty
	// for a value set in Go.
	File string
	// Line and Column are 1-based; 0 when unknown (environment, flags, or a
	// YAML syntax error that gives no column).
	Line, Column int
	// Key is the path of the value: "projects[1].apply_requirements",
	// "github.app_id"; empty for an error about the whole document.
	Key string
	// Kind says what is wrong; the fields below it hold the particulars
	// its doc lists.
	Kind Kind
	// Name is a key or step name, Value a value as written (never a
	// secret), Suggestion the known name closest to Name, Expected and Got
	// the type wanted and what was found, Detail the YAML parser's words.
	Name, Value, Other, Suggestion, Expected, Got, Detail string
	// Size, Limit, Count and Index are the numbers of the kinds that have
	// them.
	Size, Limit, Count, Index int
	// Allowed are the values or names that would be accepted, joined by
	// commas (a string, so FieldError stays comparable).
	Allowed string
	// Warning marks a key atoll reads but does not act on, reported beside
	// errors.
	Warning bool
	// Message says what is wrong and, where it can, what would be right, in
	// English, for logs and the command line. It never holds a secret value.
	Message string
}

// Error formats the error as "FILE:LINE:COLUMN: KEY: MESSAGE", leaving out
// the parts that are unknown.
func (e FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	if e.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ValidationError holds every problem found in a configuration, not only
// the first, in the order they appear in the file (problems without a line
// come last).
type ValidationError struct {
	Errors []FieldError
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// errList collects FieldErrors while a configuration is read and checked.
type errList struct {
	errs []FieldError
}

func (l *errList) add(fe FieldError) { l.errs = append(l.errs, fe) }

// err returns nil or a *ValidationError with the problems sorted by
// position, duplicates removed.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := append([]FieldError(nil), l.errs...)
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if (a.Line == 0) != (b.Line == 0) {
			return a.Line != 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	out := errs[:0]
	seen := map[FieldError]bool{}
	for _, e := range errs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return &ValidationError{Errors: out}
}

// origin is where a value came from: the template of its FieldErrors.
type origin struct {
	file         string
	line, column int
}

// sources maps key paths to where their values came from. Lookups fall back
// to the nearest parent path, so an error on "projects[1].dir" points at the
// project when dir itself was not written.
type sources map[string]origin

func (s sources) at(key string) origin {
	for k := key; ; k = parentKey(k) {
		if o, ok := s[k]; ok {
			return o
		}
		if k == "" {
			return origin{}
		}
	}
}

// set reports whether key was given explicitly.
func (s sources) set(key string) bool {
	_, ok := s[key]
	return ok
}

// replace records that key now comes from o, forgetting where its children
// came from.
func (s sources) replace(key string, o origin) {
	for k := range s {
		if strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[") {
			delete(s, k)
		}
	}
	s[key] = o
}

// parentKey strips the last ".name" or "[i]" from a key path.
func parentKey(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i < 0 {
		return ""
	}
	return k[:i]
}

// checker reports problems located through sources.
type checker struct {
	src   sources
	errs  *errList
	warns *errList // nil: warnings are dropped
}

// warnf records a warning: a key atoll reads but does not act on.
func (c checker) warnf(key, format string, args ...any) {
	if c.warns == nil {
		return
	}
	o := c.src.at(key)
	c.warns.add(FieldError{File: o.file, Line: o.line, Column: o.column, Key: key, Kind: KindInvalid, Message: fmt.Sprintf(format, args...)})
}

func (c checker) errorf(key, format string, args ...any) {
	o := c.src.at(key)
	c.errs.add(FieldError{File: o.file, Line: o.line, Column: o.column, Key: key, Kind: KindInvalid, Message: fmt.Sprintf(format, args...)})
}

// badGlob records err, what discovery.ValidGlob said of a glob, at key:
// a malformed glob as KindInvalidGlob, anything else as KindInvalid.
func (c checker) badGlob(key string, err error) {
	var ge *discovery.GlobError
	if !errors.As(err, &ge) {
		c.errorf(key, "%v", err)
		return
	}
	c.report(key, FieldError{Kind: KindInvalidGlob, Value: ge.Pattern, Other: ge.Segment, Message: err.Error()})
}

// report records fe at key.
func (c checker) report(key string, fe FieldError) {
	o := c.src.at(key)
	fe.File, fe.Line, fe.Column, fe.Key = o.file, o.line, o.column, key
	c.errs.add(fe)
}

// warn records fe at key as a warning (see warnf).
func (c checker) warn(key string, fe FieldError) {
	if c.warns == nil {
		return
	}
	o := c.src.at(key)
	fe.File, fe.Line, fe.Column, fe.Key = o.file, o.line, o.column, key
	c.warns.add(fe)
}

// unknownValue reports that value is not one of allowed.
func (c checker) unknownValue(key, value string, allowed ...string) {
	o := c.src.at(key)
	c.errs.add(FieldError{File: o.file, Line: o.line, Column: o.column, Key: key, Kind: KindUnknownValue, Value: value,
		Allowed: strings.Join(allowed, ", "), Message: fmt.Sprintf("unknown value %q: use %s", value, strings.Join(allowed, ", "))})
}

func index(key string, i int) string { return fmt.Sprintf("%s[%d]", key, i) }

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}
