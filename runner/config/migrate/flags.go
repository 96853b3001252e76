package migrate

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/atollhq/atoll/runner/config"
)

// notCarried are the Atlantis server flags atoll has no equivalent for,
// with the reason. The README's migration guide lists them too.
var notCarried = map[string]string{
	"autoplan-file-list":              "atoll plans a directory when its Terraform files (.tf, .tf.json, .tofu, .tfvars, .terraform.lock.hcl) change; list other files in a project's when_modified",
	"autoplan-modules":                "atoll always plans the projects that call a changed local module",
	"autoplan-modules-from-projects":  "atoll always plans the projects that call a changed local module",
	"azuredevops-hostname":            "atoll works with GitHub only",
	"azuredevops-token":               "atoll works with GitHub only",
	"azuredevops-user":                "atoll works with GitHub only",
	"azuredevops-webhook-password":    "atoll works with GitHub only",
	"azuredevops-webhook-user":        "atoll works with GitHub only",
	"bitbucket-base-url":              "atoll works with GitHub only",
	"bitbucket-token":                 "atoll works with GitHub only",
	"bitbucket-user":                  "atoll works with GitHub only",
	"bitbucket-webhook-secret":        "atoll works with GitHub only",
	"gitea-base-url":                  "atoll works with GitHub only",
	"gitea-token":                     "atoll works with GitHub only",
	"gitea-user":                      "atoll works with GitHub only",
	"gitea-webhook-secret":            "atoll works with GitHub only",
	"gitea-page-size":                 "atoll works with GitHub only",
	"gitlab-hostname":                 "atoll works with GitHub only",
	"gitlab-token":                    "atoll works with GitHub only",
	"gitlab-user":                     "atoll works with GitHub only",
	"gitlab-webhook-secret":           "atoll works with GitHub only",
	"gitlab-group-allowlist":          "atoll works with GitHub only",
	"gh-user":                         "atoll runs as a GitHub App only, never as a user with a token: create the App and give github.app_id and its key",
	"gh-token":                        "atoll runs as a GitHub App only, never as a user with a token: create the App and give github.app_id and its key",
	"gh-app-slug":                     "atoll finds its own comments by hidden markers, not by the App's name",
	"gh-app-installation-id":          "atoll serves every installation of its App",
	"gh-allow-mergeable-bypass-apply": "atoll's mergeable requirement already leaves atoll's own checks out",
	"checkout-depth":                  "atoll keeps one mirror per repository and checks out exact commits",
	"config":                          "this is the file being migrated",
	"repo-config":                     "give the file to --repos-yaml",
	"repo-config-json":                "give the JSON to --repos-yaml (as a file)",
	"data-dir":                        "atoll keeps its own database, plans and mirrors: give it a new data_dir, not Atlantis's",
	"disable-markdown-folding":        "atoll's comments fold long output by design",
	"enable-diff-markdown-format":     "atoll always shows plans as diffs",
	"disable-repo-locking":            "atoll's server has no default for it: set repo_locks.mode: disabled on the projects of each repository's atlantis.yaml",
	"disable-unlock-label":            "atoll has no unlock label",
	"emoji-reaction":                  "atoll does not react to comments",
	"enable-regexp-cmd":               "atoll has no regular-expression project selection",
	"enable-profiling-api":            "atoll has no profiling API",
	"hide-prev-plan-comments":         "atoll always minimizes the plan comments of older commits",
	"hide-unchanged-plan-comments":    "atoll groups projects without changes on one line",
	"include-git-untracked-files":     "atoll plans what is committed",
	"locking-db-type":                 "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"redis-db":                        "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"redis-host":                      "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"redis-insecure-skip-verify":      "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"redis-password":                  "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"redis-port":                      "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"redis-tls-enabled":               "atoll keeps locks in its own database (bbolt); Redis is not supported",
	"markdown-template-overrides-dir": "atoll's templates differ from Atlantis's: copy atoll's and give templates_dir",
	"max-comments-per-command":        "atoll splits long comments itself and links the job page",
	"restrict-file-list":              "atoll plans an explicit -d or -p even outside the changed files",
	"silence-allowlist-errors":        "atoll never comments on repositories outside its allowlist",
	"silence-fork-pr-errors":          "atoll says once that it does not plan forks",
	"silence-no-projects":             "atoll does not comment when a pull request changes no project",
	"silence-vcs-status-no-plans":     "atoll sets checks only for projects it plans",
	"silence-vcs-status-no-projects":  "atoll sets checks only for projects it plans",
	"skip-clone-no-changes":           "atoll fetches into its mirror incrementally",
	"slack-token":                     "atoll does not post to Slack",
	"ssl-cert-file":                   "atoll serves plain HTTP: terminate TLS in a proxy in front of it",
	"ssl-key-file":                    "atoll serves plain HTTP: terminate TLS in a proxy in front of it",
	"stats-namespace":                 "atoll serves Prometheus metrics on /metrics; StatsD is not supported",
	"tfe-hostname":                    "give Terraform Cloud credentials in terraform.cli_config_file",
	"tfe-local-execution-mode":        "give Terraform Cloud credentials in terraform.cli_config_file",
	"tfe-token":                       "give Terraform Cloud credentials in terraform.cli_config_file (or terraform.secrets_env)",
	"tf-download":                     "atoll downloads a missing version from terraform.releases_url; without network, install the versions beside atoll",
	"use-tf-plugin-cache":             "atoll always shares a provider cache and serializes init on it",
	"var-file-allowlist":              "atoll reads var files from the repository only",
	"vcs-status-name":                 "atoll's checks are named atoll/plan, atoll/policy and atoll/apply",
	"web-basic-auth":                  "atoll's web UI signs people in with GitHub (see Web UI)",
	"web-password":                    "atoll's web UI signs people in with GitHub (see Web UI)",
	"web-username":                    "atoll's web UI signs people in with GitHub (see Web UI)",
	"websocket-check-origin":          "atoll streams logs without websockets",
	"write-git-creds":                 "atoll checks out with the App's installation tokens; give module credentials in terraform.cli_config_file",
	"autodiscover-mode":               "atoll reads autodiscover from each repository's atlantis.yaml (or atoll.yaml)",
	"parallel-plan":                   "atoll plans a command's projects in parallel, up to workers, unless a repository's file sets parallel_plan: false",
	"parallel-apply":                  "atoll applies a command's projects in parallel, up to workers, unless a repository's file sets parallel_apply: false",
	"disable-apply-all":               "atoll has no switch against `apply` without a selector; apply_all_or_nothing decides what it applies",
	"disable-autoplan-label":          "atoll has no label that turns autoplan off",
	"fail-on-pre-workflow-hook-error": "atoll always stops a command whose pre-workflow hook fails",
	"discard-approval-on-plan":        "atoll's approvals bind to the commit; use dismiss_stale_approvals",
	"ignore-vcs-status-names":         "atoll's mergeable requirement already leaves atoll's own checks out",
	"help":                            "not a setting",
	"disable-autoplan":                "atoll plans pull requests when they change; turn autoplan off per project (autoplan.enabled: false)",
	"disable-global-apply-lock":       "atoll's apply lock is set and lifted by an admin through its API",
}

// sameAsAtoll are flags whose "true" is what atoll always does: nothing
// to carry, nothing lost.
var sameAsAtoll = map[string]bool{
	"hide-prev-plan-comments": true, "autoplan-modules": true, "gh-allow-mergeable-bypass-apply": true,
	"enable-diff-markdown-format": true, "parallel-plan": true, "parallel-apply": true,
	"fail-on-pre-workflow-hook-error": true, "silence-allowlist-errors": true, "silence-no-projects": true,
	"use-tf-plugin-cache": true, "silence-vcs-status-no-plans": true, "silence-vcs-status-no-projects": true,
}

// aliasOf are flags carried to a key another part of atoll defines, when
// this build has it.
var aliasOf = map[string]string{
	"quiet-policy-checks": "quiet_policy_checks",
	"allow-commands":      "allow_commands",
	"executable-name":     "command_aliases",
	"disable-apply":       "disable_apply",
}

// flags converts the server's flags.
func (m *migration) flags() {
	f := m.in.Flags
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	boolFlag := func(name string) bool {
		b, _ := strconv.ParseBool(f[name])
		return b
	}
	gh := &github{}
	host := "github.com"
	if h := f["gh-hostname"]; h != "" && h != "github.com" {
		host = h
		gh.APIURL = "https://" + h + "/api/v3/"
	}
	org := f["gh-org"]
	policiesOn := boolFlag("enable-policy-checks")
	tf := &terraform{}
	var reqs []string
	checkout := "branch" // Atlantis's default
	for _, name := range names {
		v := f[name]
		switch name {
		case "gh-app-id":
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				m.dropFlag(name, "not a number: %q", v)
				continue
			}
			gh.AppID = id
		case "gh-app-key-file":
			gh.PrivateKeyFile = v
		case "gh-app-key":
			m.dropFlag(name, "atoll never writes a private key into its configuration: save the key to a file and give github.private_key_file (or set ATOLL_GITHUB_PRIVATE_KEY)")
		case "gh-webhook-secret":
			m.note("the webhook secret is not written here: save it to a file and give github.webhook_secret_file, or set ATOLL_GITHUB_WEBHOOK_SECRET (the same value as --gh-webhook-secret, so the App's webhook keeps working)")
		case "api-secret":
			m.note("the API secret is not written here: set ATOLL_API_TOKEN (or api_token_file); atoll's REST API differs from Atlantis's")
		case "gh-hostname", "gh-org", "enable-policy-checks":
		case "gh-team-allowlist":
			m.teamAllowlist(v, org)
		case "repo-allowlist":
			m.allowlist(v, host)
		case "atlantis-url":
			m.out.URL = v
		case "port":
			m.out.Listen = net.JoinHostPort("", v)
		case "log-level":
			m.out.LogLevel = v
		case "parallel-pool-size":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				m.out.Workers = min(n, 256)
			}
		case "checkout-strategy":
			checkout = v
		case "automerge":
			if boolFlag(name) {
				m.out.Automerge = &automerge{Enabled: true}
			}
		case "allow-fork-prs":
			m.out.AllowForkPRs = boolFlag(name)
		case "allow-draft-prs":
			m.out.AllowDraftPRs = boolFlag(name)
		case "default-tf-version":
			tf.Version = strings.TrimPrefix(v, "v")
		case "tf-distribution", "default-tf-distribution":
			tf.Distribution = v
		case "tf-download-url":
			tf.ReleasesURL = v
		case "require-approval":
			if boolFlag(name) {
				reqs = append(reqs, string(config.Approved))
			}
		case "require-mergeable":
			if boolFlag(name) {
				reqs = append(reqs, string(config.Mergeable))
			}
		default:
			if key, ok := aliasOf[name]; ok {
				m.aliased(name, key, v)
				continue
			}
			if reason, ok := notCarried[name]; ok {
				if sameAsAtoll[name] && v == "true" {
					continue
				}
				if v != "" && v != "false" {
					m.dropFlag(name, "%s", reason)
				}
				continue
			}
			m.dropFlag(name, "not an Atlantis server flag atoll knows")
		}
	}
	if *gh != (github{}) {
		m.out.GitHub = gh
	}
	if *tf != (terraform{}) {
		m.out.Terraform = tf
	}
	if _, set := f["executable-name"]; !set && hasKey("command_aliases") {
		// Atlantis users type `atlantis plan`: keep answering it.
		m.aliased("executable-name", "command_aliases", "atlantis")
	}
	if hasKey("apply_all_or_nothing") {
		// Atlantis applies the projects that meet their requirements and
		// reports the others.
		if m.out.Extra == nil {
			m.out.Extra = map[string]any{}
		}
		m.out.Extra["apply_all_or_nothing"] = false
		m.note("apply_all_or_nothing is false, as Atlantis behaves: `atlantis apply` applies the projects that meet their requirements and lists the others (atoll's default, true, applies none of them then)")
	}
	if _, set := f["gh-webhook-secret"]; !set {
		m.note("give the App's webhook secret: save it to a file and give github.webhook_secret_file, or set ATOLL_GITHUB_WEBHOOK_SECRET")
	}
	if checkout == "branch" {
		m.out.CheckoutStrategy = "branch"
		if _, set := f["checkout-strategy"]; !set {
			m.note("checkout_strategy is branch, Atlantis's default (atoll's is merge, which plans the pull request merged into its base)")
		}
	} else if checkout != "merge" {
		m.dropFlag("checkout-strategy", "unknown strategy %q: atoll has branch and merge", checkout)
	}
	// Atlantis requires nothing before an apply unless told; its repos
	// rules then replace this per repository.
	if reqs == nil {
		reqs = []string{}
		m.note("apply_requirements is [] as Atlantis's default (atoll's is [approved, mergeable]); repo_rules keep the requirements repos.yaml set; policies_passed always applies")
	}
	m.out.ApplyRequirements = &reqs
	m.readPolicies(policiesOn, org)
}

// aliased carries a flag to a key another part of atoll defines.
func (m *migration) aliased(flag, key, v string) {
	if key == "" || !hasKey(key) {
		if v != "" && v != "false" {
			m.dropFlag(flag, "this atoll has no equivalent setting yet")
		}
		return
	}
	if m.out.Extra == nil {
		m.out.Extra = map[string]any{}
	}
	switch key {
	case "quiet_policy_checks", "disable_apply":
		b, _ := strconv.ParseBool(v)
		if b {
			m.out.Extra[key] = true
		}
	case "allow_commands":
		var cmds []string
		for _, c := range strings.Split(v, ",") {
			switch c = strings.TrimSpace(c); c {
			case "all":
				cmds = nil
			case "plan", "apply", "unlock", "approve_policies", "version", "help":
				cmds = append(cmds, c)
			case "":
			default:
				m.dropFlag(flag, "atoll has no %s command", c)
			}
			if c == "all" {
				break
			}
		}
		if len(cmds) > 0 {
			m.out.Extra[key] = cmds
		}
	case "command_aliases":
		if v != "" && v != "atoll" {
			m.out.Extra[key] = []string{v}
		}
	}
}

// allowlist converts --repo-allowlist.
func (m *migration) allowlist(v, host string) {
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		g, err := repoGlob(e, host)
		switch {
		case errors.Is(err, errNoGitHub):
			m.dropFlag("repo-allowlist", "%s: atoll works with GitHub (%s) only", e, host)
		case err != nil:
			m.dropFlag("repo-allowlist", "%s: %v", e, err)
		case g == "":
			m.out.Repos = nil // every repository: atoll's default
			return
		default:
			m.out.Repos = append(m.out.Repos, g)
		}
	}
}

// teamAllowlist converts --gh-team-allowlist ("team:command, ...") into
// permissions.COMMAND.teams.
func (m *migration) teamAllowlist(v, org string) {
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		team, cmd, ok := strings.Cut(e, ":")
		if !ok {
			continue
		}
		team, cmd = strings.TrimSpace(team), strings.TrimSpace(cmd)
		switch cmd {
		case "plan", "apply", "unlock", "approve_policies":
		default:
			m.dropFlag("gh-team-allowlist", "%s: atoll sets teams for plan, apply, unlock and approve_policies, not %s", e, cmd)
			continue
		}
		if !strings.Contains(team, "/") {
			if org == "" {
				m.dropFlag("gh-team-allowlist", "%s: atoll names teams org/team-slug; give gh-org in the flags, or add it by hand", e)
				continue
			}
			team = org + "/" + teamSlug(team)
		}
		if m.out.Permissions == nil {
			m.out.Permissions = map[string]permission{}
		}
		p := m.out.Permissions[cmd]
		p.Teams = append(p.Teams, team)
		m.out.Permissions[cmd] = p
	}
}
