package migrate

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/runner/config"
)

// readPolicies converts the policies, once the flags (enable-policy-checks,
// gh-org) are known.
func (m *migration) readPolicies(enabled bool, org string) {
	if m.policies == nil {
		return
	}
	var sets []*yaml.Node
	approvals := 0
	for _, p := range pairs(m.policies) {
		k, v := p[0], p[1]
		switch k.Value {
		case "owners":
			m.owners = m.ownersOf("policies.owners", v, org)
		case "approve_count":
			approvals, _ = strconv.Atoi(v.Value)
		case "policy_sets":
			sets = v.Content
		case "conftest_version":
			m.drop(k, "policies.conftest_version", "atoll evaluates conftest policies with the OPA it is built with; no conftest binary runs")
		default:
			m.drop(k, "policies."+k.Value, "not a key of Atlantis's policies")
		}
	}
	if !enabled && len(sets) > 0 {
		m.note("--enable-policy-checks is off, so Atlantis did not enforce its policy sets: they are carried as advisory (shown, never blocking); make them mandatory once they pass")
	}
	for i, s := range sets {
		key := index("policies.policy_sets", i)
		ps := policySet{Format: config.PolicyFormatConftest, Approvals: approvals, AllowAuthorApproval: true}
		if !enabled {
			ps.Enforcement = "advisory"
		}
		owners := slices.Clone(m.owners)
		for _, p := range pairs(s) {
			k, v := p[0], p[1]
			switch k.Value {
			case "name":
				ps.Name = v.Value
			case "path":
				ps.Path = v.Value
			case "source":
				if v.Value != "local" {
					m.drop(v, key+".source", "atoll reads policy sets from a local directory only")
				}
			case "owners":
				owners = append(owners, m.ownersOf(key+".owners", v, org)...)
			case "approve_count":
				ps.Approvals, _ = strconv.Atoi(v.Value)
			case "prevent_self_approve":
				if b, _ := boolOf(v); b {
					ps.AllowAuthorApproval = false
				}
			default:
				m.drop(k, key+"."+k.Value, "not a key of an Atlantis policy set")
			}
		}
		if ps.Approvals <= 1 {
			ps.Approvals = 0 // atoll's default, 1
		}
		slices.Sort(owners)
		ps.Owners = slices.Compact(owners)
		if ps.Name == "" || ps.Path == "" {
			m.drop(s, key, "a policy set needs a name and a path")
			continue
		}
		m.out.PolicySets = append(m.out.PolicySets, ps)
	}
}

// ownersOf reads Atlantis owners {users, teams}; teams become org/slug.
func (m *migration) ownersOf(key string, n *yaml.Node, org string) []string {
	var out []string
	for _, p := range pairs(n) {
		switch p[0].Value {
		case "users":
			out = append(out, strList(p[1])...)
		case "teams":
			for _, t := range strList(p[1]) {
				switch {
				case strings.Contains(t, "/"):
					out = append(out, t)
				case org != "":
					out = append(out, org+"/"+teamSlug(t))
				default:
					m.drop(p[1], key+".teams", "team %q: atoll names teams org/team-slug; give --gh-org in the flags, or add it by hand", t)
				}
			}
		default:
			m.drop(p[0], key+"."+p[0].Value, "owners are users and teams")
		}
	}
	return out
}

// teamSlug is GitHub's slug of a team name ("DevOps Team" -> "devops-team").
func teamSlug(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), " ", "-")
}
