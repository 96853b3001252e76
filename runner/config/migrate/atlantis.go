package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/runner/config"
)

// Dropped is one setting that was not carried over.
type Dropped struct {
	// Where is the setting's location: "repos.yaml:12" or "--gh-token".
	Where string
	// Key names the setting: "repos[0].plan_requirements", "gh-token".
	Key string
	// Reason says why, and what to do instead.
	Reason string
}

// String formats the item as "WHERE: KEY: REASON".
func (d Dropped) String() string {
	if d.Where == "" || d.Where == "--"+d.Key {
		return fmt.Sprintf("--%s: %s", d.Key, d.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", d.Where, d.Key, d.Reason)
}

// Result is a migrated configuration.
type Result struct {
	// Server is the atoll server configuration as YAML.
	Server []byte
	// Dropped lists every setting not carried over, in input order: the
	// repos.yaml's, then the flags'.
	Dropped []Dropped
	// Notes are settings carried over with a change of meaning worth
	// reading (Atlantis defaults kept where atoll's differ, secrets to
	// provide).
	Notes []string
}

// AtlantisInput is what an Atlantis server is configured with.
type AtlantisInput struct {
	// ReposYAML is the server-side repo config (repos.yaml, or the JSON of
	// --repo-config-json); ReposFile names it in messages.
	ReposYAML []byte
	ReposFile string
	// Flags are the server's flags by name without dashes ("gh-app-id"),
	// as FlagsFrom reads them; FlagsFile names their source.
	Flags     map[string]string
	FlagsFile string
}

// FlagsFrom reads an Atlantis server's flags from a file: the YAML its
// --config takes (keys are flag names, "gh-app-id: 123"), or lines of
// environment variables ("ATLANTIS_GH_APP_ID=123", "export" and quotes
// allowed, "#" comments skipped).
func FlagsFrom(data []byte) (map[string]string, error) {
	out := map[string]string{}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err == nil && len(m) > 0 {
		for k, v := range m {
			k = strings.TrimLeft(k, "-")
			switch x := v.(type) {
			case []any:
				parts := make([]string, len(x))
				for i, p := range x {
					parts[i] = fmt.Sprint(p)
				}
				out[k] = strings.Join(parts, ",")
			case nil:
				out[k] = ""
			default:
				out[k] = fmt.Sprint(x)
			}
		}
		return out, nil
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "ATLANTIS_") {
			return nil, fmt.Errorf("line %d: want FLAG: VALUE (YAML, as atlantis server --config reads) or ATLANTIS_FLAG=VALUE", i+1)
		}
		if uq, err := strconv.Unquote(value); err == nil {
			value = uq
		} else {
			value = strings.Trim(value, `'`)
		}
		out[strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "ATLANTIS_")), "_", "-")] = value
	}
	return out, nil
}

// Atlantis migrates an Atlantis server's configuration. A repos.yaml that
// is not YAML (or JSON) is an error; everything else that cannot be
// carried over is listed in Result.Dropped.
func Atlantis(in AtlantisInput) (Result, error) {
	m := &migration{in: in, out: &server{}, host: "github.com"}
	if h := in.Flags["gh-hostname"]; h != "" {
		m.host = h
	}
	if in.ReposFile == "" {
		m.in.ReposFile = "repos.yaml"
	}
	if len(bytes.TrimSpace(in.ReposYAML)) > 0 {
		var doc yaml.Node
		if err := yaml.Unmarshal(in.ReposYAML, &doc); err != nil {
			return Result{}, fmt.Errorf("%s: %w", m.in.ReposFile, err)
		}
		if len(doc.Content) > 0 {
			if err := m.reposYAML(doc.Content[0]); err != nil {
				return Result{}, err
			}
		}
	}
	m.flags()
	// The repos.yaml's settings first, in line order, then the flags'.
	rank := func(d Dropped) (int, int) {
		file, line, ok := strings.Cut(d.Where, ":")
		if file != m.in.ReposFile {
			return 1, 0
		}
		n, _ := strconv.Atoi(line)
		if !ok {
			n = 0
		}
		return 0, n
	}
	sort.SliceStable(m.dropped, func(i, j int) bool {
		fi, li := rank(m.dropped[i])
		fj, lj := rank(m.dropped[j])
		return fi < fj || (fi == fj && li < lj)
	})
	var buf bytes.Buffer
	buf.WriteString("# atoll server configuration written by `atoll migrate atlantis`.\n")
	for _, n := range m.notes {
		buf.WriteString("# NOTE: " + n + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m.out); err != nil {
		return Result{}, fmt.Errorf("write the configuration: %w", err)
	}
	return Result{Server: buf.Bytes(), Dropped: m.dropped, Notes: m.notes}, nil
}

// server is the part of atoll's server configuration a migration writes,
// in the file's order; empty values are left out (atoll's defaults).
type server struct {
	URL               string                 `yaml:"url,omitempty"`
	Listen            string                 `yaml:"listen,omitempty"`
	LogLevel          string                 `yaml:"log_level,omitempty"`
	Workers           int                    `yaml:"workers,omitempty"`
	GitHub            *github                `yaml:"github,omitempty"`
	Repos             []string               `yaml:"repos,omitempty"`
	AllowForkPRs      bool                   `yaml:"allow_fork_prs,omitempty"`
	AllowDraftPRs     bool                   `yaml:"allow_draft_prs,omitempty"`
	CheckoutStrategy  string                 `yaml:"checkout_strategy,omitempty"`
	Terraform         *terraform             `yaml:"terraform,omitempty"`
	Permissions       map[string]permission  `yaml:"permissions,omitempty"`
	ApplyRequirements *[]string              `yaml:"apply_requirements,omitempty"`
	Automerge         *automerge             `yaml:"automerge,omitempty"`
	PolicySets        []policySet            `yaml:"policy_sets,omitempty"`
	Workflows         map[string]workflow    `yaml:"workflows,omitempty"`
	RepoRules         []repoRule             `yaml:"repo_rules,omitempty"`
	Extra             map[string]interface{} `yaml:",inline"`
}

type github struct {
	AppID             int64  `yaml:"app_id,omitempty"`
	PrivateKeyFile    string `yaml:"private_key_file,omitempty"`
	WebhookSecretFile string `yaml:"webhook_secret_file,omitempty"`
	APIURL            string `yaml:"api_url,omitempty"`
}

type terraform struct {
	Distribution string `yaml:"distribution,omitempty"`
	Version      string `yaml:"version,omitempty"`
	ReleasesURL  string `yaml:"releases_url,omitempty"`
}

type permission struct {
	Teams []string `yaml:"teams,omitempty"`
}

type automerge struct {
	Enabled bool `yaml:"enabled"`
}

type policySet struct {
	Name                string   `yaml:"name"`
	Path                string   `yaml:"path"`
	Format              string   `yaml:"format"`
	Owners              []string `yaml:"owners,omitempty"`
	Approvals           int      `yaml:"approvals,omitempty"`
	Enforcement         string   `yaml:"enforcement,omitempty"`
	AllowAuthorApproval bool     `yaml:"allow_author_approval,omitempty"`
}

type workflow map[string]stage

type stage struct {
	Steps []any `yaml:"steps"`
}

type repoRule struct {
	ID                   string    `yaml:"id"`
	Branch               string    `yaml:"branch,omitempty"`
	RepoConfigFile       string    `yaml:"repo_config_file,omitempty"`
	ApplyRequirements    *[]string `yaml:"apply_requirements,omitempty"`
	Workflow             string    `yaml:"workflow,omitempty"`
	AllowedOverrides     []string  `yaml:"allowed_overrides,omitempty"`
	AllowedWorkflows     []string  `yaml:"allowed_workflows,omitempty"`
	AllowCustomWorkflows *bool     `yaml:"allow_custom_workflows,omitempty"`
	PolicyCheck          *bool     `yaml:"policy_check,omitempty"`
	PreWorkflowHooks     []hook    `yaml:"pre_workflow_hooks,omitempty"`
	PostWorkflowHooks    []hook    `yaml:"post_workflow_hooks,omitempty"`
}

type hook struct {
	Run         string   `yaml:"run"`
	Description string   `yaml:"description,omitempty"`
	Shell       string   `yaml:"shell,omitempty"`
	ShellArgs   []string `yaml:"shellArgs,omitempty"`
	Commands    string   `yaml:"commands,omitempty"`
}

// migration is one run of Atlantis.
type migration struct {
	in       AtlantisInput
	out      *server
	dropped  []Dropped
	notes    []string
	policies *yaml.Node // repos.yaml's policies, read once the flags are known
	owners   []string   // policies.owners
	host     string     // the GitHub host, from --gh-hostname
}

func (m *migration) drop(n *yaml.Node, key, format string, args ...any) {
	where := m.in.ReposFile
	if n != nil {
		where = fmt.Sprintf("%s:%d", m.in.ReposFile, n.Line)
	}
	m.dropped = append(m.dropped, Dropped{Where: where, Key: key, Reason: fmt.Sprintf(format, args...)})
}

func (m *migration) dropFlag(flag, format string, args ...any) {
	where := "--" + flag
	if m.in.FlagsFile != "" {
		where = m.in.FlagsFile
	}
	m.dropped = append(m.dropped, Dropped{Where: where, Key: flag, Reason: fmt.Sprintf(format, args...)})
}

func (m *migration) note(format string, args ...any) {
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

// hasKey reports whether this atoll's server configuration has key.
func hasKey(key string) bool {
	for _, k := range config.Keys() {
		if k.Path == key {
			return true
		}
	}
	return false
}

// pairs lists a mapping's keys and values.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

func strList(n *yaml.Node) []string {
	var out []string
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		return []string{n.Value}
	}
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

func boolOf(n *yaml.Node) (bool, bool) {
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, false
	}
	return b, true
}

// reposYAML reads the server-side repo config.
func (m *migration) reposYAML(root *yaml.Node) error {
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the server-side repo config is a mapping with repos, workflows and policies", m.in.ReposFile, root.Line)
	}
	for _, p := range pairs(root) {
		k, v := p[0], p[1]
		switch k.Value {
		case "repos":
			for i, r := range v.Content {
				m.repo(index("repos", i), r)
			}
		case "workflows":
			for _, w := range pairs(v) {
				m.workflow(w[0].Value, w[1])
			}
		case "policies":
			m.policies = v
		case "metrics":
			m.drop(k, "metrics", "atoll serves Prometheus metrics on /metrics by itself; StatsD is not supported")
		case "team_authz":
			m.drop(k, "team_authz", "atoll has no external authorization command: give teams in permissions.*.teams")
		default:
			m.drop(k, k.Value, "not a key of Atlantis's server-side repo config")
		}
	}
	return nil
}

func index(key string, i int) string { return fmt.Sprintf("%s[%d]", key, i) }

// repo converts one repos[] entry into a repo rule.
func (m *migration) repo(key string, n *yaml.Node) {
	var r repoRule
	for _, p := range pairs(n) {
		k, v := p[0], p[1]
		kk := key + "." + k.Value
		switch k.Value {
		case "id":
			r.ID = v.Value
		case "branch":
			r.Branch = v.Value
			if !strings.HasPrefix(v.Value, "/") || !strings.HasSuffix(v.Value, "/") || len(v.Value) < 2 {
				r.Branch = "/^" + regexp.QuoteMeta(v.Value) + "$/"
				m.note("%s.branch %q is not a /regex/: carried as %s, the branch itself", key, v.Value, r.Branch)
			}
		case "repo_config_file":
			r.RepoConfigFile = v.Value
		case "apply_requirements":
			reqs := m.requirements(kk, v)
			r.ApplyRequirements = &reqs
		case "plan_requirements":
			if len(v.Content) > 0 {
				m.drop(k, kk, "atoll's server has no default for it: set plan_requirements on the projects of each repository's atlantis.yaml, or limit who may plan with permissions.plan")
			}
		case "import_requirements":
			if len(v.Content) > 0 {
				m.drop(k, kk, "atoll has no import command")
			}
		case "workflow":
			r.Workflow = v.Value
		case "allowed_overrides":
			for _, o := range strList(v) {
				switch o {
				case config.OverrideApplyRequirements, config.OverrideWorkflow, config.OverridePolicyCheck:
					r.AllowedOverrides = append(r.AllowedOverrides, o)
				case "repo_locking", "repo_locks":
					// A repository's atlantis.yaml may always set repo_locks.
				default:
					m.drop(v, kk, "%s cannot be overridden: atoll does not act on it (see the migration guide in the README)", o)
				}
			}
			if r.AllowedOverrides == nil {
				r.AllowedOverrides = []string{}
			}
		case "allowed_workflows":
			r.AllowedWorkflows = strList(v)
		case "allow_custom_workflows":
			if b, ok := boolOf(v); ok {
				r.AllowCustomWorkflows = &b
			}
		case "policy_check":
			if b, ok := boolOf(v); ok {
				r.PolicyCheck = &b
			}
		case "pre_workflow_hooks":
			r.PreWorkflowHooks = m.hooks(kk, v)
		case "post_workflow_hooks":
			r.PostWorkflowHooks = m.hooks(kk, v)
		case "delete_source_branch_on_merge":
			if b, _ := boolOf(v); b {
				m.drop(k, kk, "atoll's server has no default for it: set delete_source_branch_on_merge in each repository's atlantis.yaml")
			}
		case "repo_locking":
			if b, ok := boolOf(v); ok && !b {
				m.drop(k, kk, "atoll's server has no default for it: set repo_locks.mode: disabled on the projects of each repository's atlantis.yaml")
			}
		case "repo_locks":
			for _, rp := range pairs(v) {
				if rp[0].Value == "mode" && rp[1].Value != "on_plan" {
					m.drop(rp[1], kk+".mode", "atoll's server has no default for it (on_plan): set repo_locks.mode on the projects of each repository's atlantis.yaml")
				}
			}
		case "custom_policy_check":
			if b, _ := boolOf(v); b {
				m.drop(k, kk, "atoll decides policies with its own policy sets; a policy_check stage's run steps do not pass or fail them")
			}
		case "autodiscover":
			m.drop(k, kk, "atoll reads autodiscover from each repository's atlantis.yaml (or atoll.yaml), not from the server: set it there")
		case "silence_pr_comments":
			if len(v.Content) > 0 {
				m.drop(k, kk, "atoll's server has no default for it: set silence_pr_comments on the projects of each repository's atlantis.yaml")
			}
		default:
			m.drop(k, kk, "not a key of a repos entry in Atlantis's server-side repo config")
		}
	}
	if r.ID == "" {
		m.drop(n, key, "a repos entry without id applies to nothing")
		return
	}
	if h, _, ok := strings.Cut(r.ID, "/"); ok && !strings.HasPrefix(r.ID, "/") && strings.Contains(h, ".") && h != m.host {
		m.drop(n, key, "id %s is not on %s: atoll works with GitHub only", r.ID, m.host)
		return
	}
	if r.Workflow != "" && r.Workflow != config.DefaultWorkflowName {
		if _, ok := m.out.Workflows[r.Workflow]; !ok && !m.workflowDefined(r.Workflow) {
			m.drop(n, key+".workflow", "no workflow %q in the workflows: projects run the default workflow", r.Workflow)
			r.Workflow = ""
		}
	}
	m.out.RepoRules = append(m.out.RepoRules, r)
}

// workflowDefined reports whether the repos.yaml defines a workflow; the
// workflows may come after the repos in the file.
func (m *migration) workflowDefined(name string) bool {
	var doc yaml.Node
	if yaml.Unmarshal(m.in.ReposYAML, &doc) != nil || len(doc.Content) == 0 {
		return false
	}
	for _, p := range pairs(doc.Content[0]) {
		if p[0].Value == "workflows" {
			for _, w := range pairs(p[1]) {
				if w[0].Value == name {
					return true
				}
			}
		}
	}
	return false
}

func (m *migration) requirements(key string, v *yaml.Node) []string {
	out := []string{}
	for _, c := range v.Content {
		switch c.Value {
		case string(config.Approved), string(config.Mergeable), string(config.Undiverged):
			out = append(out, c.Value)
		case string(config.PoliciesPassed):
			// always in force in atoll
		default:
			m.drop(c, key, "unknown requirement %q: atoll has approved, mergeable and undiverged", c.Value)
		}
	}
	return out
}

func (m *migration) hooks(key string, v *yaml.Node) []hook {
	var out []hook
	for i, h := range v.Content {
		var x hook
		for _, p := range pairs(h) {
			switch p[0].Value {
			case "run":
				x.Run = p[1].Value
			case "description":
				x.Description = p[1].Value
			case "shell":
				x.Shell = p[1].Value
			case "shellArgs":
				x.ShellArgs = strList(p[1])
			case "commands":
				var keep []string
				for _, c := range strings.Split(p[1].Value, ",") {
					if c = strings.TrimSpace(c); c == "plan" || c == "apply" {
						keep = append(keep, c)
					} else if c != "" {
						m.drop(p[1], index(key, i)+".commands", "atoll runs hooks for plan and apply only, not for %s", c)
					}
				}
				x.Commands = strings.Join(keep, ",")
			default:
				m.drop(p[0], index(key, i)+"."+p[0].Value, "not a key of a workflow hook")
			}
		}
		if x.Run == "" {
			m.drop(h, index(key, i), "a hook without run does nothing")
			continue
		}
		out = append(out, x)
	}
	return out
}

// workflow converts one workflow.
func (m *migration) workflow(name string, n *yaml.Node) {
	w := workflow{}
	for _, p := range pairs(n) {
		st := p[0].Value
		key := "workflows." + name + "." + st
		switch st {
		case "plan", "apply", "policy_check":
		case "import", "state_rm":
			m.drop(p[0], key, "atoll has no %s command", strings.ReplaceAll(st, "_", " "))
			continue
		default:
			m.drop(p[0], key, "not a stage: use plan, apply or policy_check")
			continue
		}
		var steps []any
		for _, sp := range pairs(p[1]) {
			if sp[0].Value != "steps" {
				m.drop(sp[0], key+"."+sp[0].Value, "a stage has only steps")
				continue
			}
			for i, s := range sp[1].Content {
				if step, ok := m.step(index(key+".steps", i), s); ok {
					steps = append(steps, step)
				}
			}
		}
		w[st] = stage{Steps: steps}
	}
	if m.out.Workflows == nil {
		m.out.Workflows = map[string]workflow{}
	}
	m.out.Workflows[name] = w
}

// step converts a step, keeping Atlantis's form (atoll reads the same).
func (m *migration) step(key string, n *yaml.Node) (any, bool) {
	kind := n.Value
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		kind = n.Content[0].Value
	}
	switch kind {
	case "init", "plan", "apply", "show", "policy_check", "run", "env", "multienv":
		var v any
		if err := n.Decode(&v); err != nil {
			m.drop(n, key, "unreadable step: %v", err)
			return nil, false
		}
		return v, true
	case "import", "state_rm":
		m.drop(n, key, "atoll has no %s command", strings.ReplaceAll(kind, "_", " "))
	default:
		m.drop(n, key, "unknown step %q", kind)
	}
	return nil, false
}

var errNoGitHub = errors.New("not GitHub")

// repoGlob converts an Atlantis repo allowlist entry to atoll's owner/name
// glob ("!" kept); "" for "*" (every repository).
func repoGlob(entry, host string) (string, error) {
	neg := strings.HasPrefix(entry, "!")
	e := strings.TrimPrefix(entry, "!")
	if e == "*" {
		if neg {
			return "", fmt.Errorf("excludes everything")
		}
		return "", nil
	}
	h, rest, ok := strings.Cut(e, "/")
	switch {
	case !ok:
		return "", fmt.Errorf("not HOST/OWNER/REPO")
	case h == "*":
	case h != host:
		return "", errNoGitHub
	}
	if strings.Count(rest, "/") != 1 {
		if rest == "*" {
			rest = "*/*"
		} else {
			return "", fmt.Errorf("not HOST/OWNER/REPO")
		}
	}
	if neg {
		return "!" + rest, nil
	}
	return rest, nil
}
