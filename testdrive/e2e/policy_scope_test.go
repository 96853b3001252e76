package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// policyAdvice is an advisory policy: it denies every public
// terraform_data and warns about every one, and only reports it.
const policyAdvice = `package atoll

import rego.v1

deny contains sprintf("advice: %s should not be public", [rc.address]) if {
	some rc in input.plan.resource_changes
	rc.type == "terraform_data"
	rc.change.after.input == "public"
}

warn contains sprintf("advice: %s has no owner tag", [rc.address]) if {
	some rc in input.plan.resource_changes
	rc.type == "terraform_data"
}
`

// policyTidy is a mandatory policy these tests' plans pass.
const policyTidy = `package atoll

import rego.v1

deny contains "forbidden input" if {
	some rc in input.plan.resource_changes
	rc.change.after.input == "forbidden"
}
`

// An advisory set that fails is reported but blocks nothing; a mandatory
// set restricted to some repositories and projects judges those only.
func TestPolicyAdvisoryAndScope(t *testing.T) {
	strict := policyDir(t, map[string]string{"public.rego": policyPublic})
	advice := policyDir(t, map[string]string{"advice.rego": policyAdvice})
	tidy := policyDir(t, map[string]string{"tidy.rego": policyTidy})
	e := Start(t, Options{ServerConfig: fmt.Sprintf(`
apply_requirements: [mergeable]
policy_sets:
  - name: strict
    path: %s
    owners: [acme/security]
    repos: ["acme/scoped*"]
    projects: ["guard*"]
  - name: advice
    path: %s
    enforcement: advisory
  - name: tidy
    path: %s
    owners: [acme/security]
`, strict, advice, tidy)})
	perms := map[string]string{"alice": "write"}
	scoped := e.Repo("scoped", map[string]string{
		"guarded/main.tf": e.Backend("guarded"),
		"open/main.tf":    e.Backend("open"),
	}, perms)
	other := e.Repo("other", map[string]string{"guarded/main.tf": e.Backend("other-guarded")}, perms)

	// acme/scoped: guarded is judged by both sets, open by advice only.
	n := e.PR(scoped, "publish", "alice", map[string]*string{
		"guarded/main.tf": S(policyTF(e, "guarded", "x", "public")),
		"open/main.tf":    S(policyTF(e, "open", "x", "public")),
	})
	cm := e.WaitMatch(scoped, n, 0, func(b string) bool {
		return strings.Contains(b, "**done**") && strings.Count(b, "advice: terraform_data.x should not be public") == 2
	})
	for _, s := range []string{"`strict`: ❌ failed", policyMessage, "`advice` (advisory): ❌ failed",
		"Advisory: reported only, it does not block the apply.", "⚠️ advice: terraform_data.x has no owner tag", "`tidy`: ✅ passed",
		"| `guarded` | `default` | 1 | 0 | 0 | ⛔ policy failed |", "| `open` | `default` | 1 | 0 | 0 | ✅ planned |"} {
		if !strings.Contains(cm.Body, s) {
			t.Errorf("plan comment lacks %q:\n%s", s, cm.Body)
		}
	}
	if c := strings.Count(cm.Body, policyMessage); c != 1 {
		t.Errorf("the strict set's message appears %d times, want once (guarded only):\n%s", c, cm.Body)
	}
	if strings.Contains(cm.Body, "no owners who can approve") {
		t.Errorf("an advisory set is shown as needing approval:\n%s", cm.Body)
	}
	head := e.Head(scoped, n)
	e.Eventually("policy checks of acme/scoped", func() bool {
		return policyNewestCheck(e.Ctx(), e, scoped, head, "atoll/policy: guarded") == "failure" &&
			policyNewestCheck(e.Ctx(), e, scoped, head, "atoll/policy: open") == "neutral"
	})

	last := e.Comment(scoped, n, "alice", "atoll apply")
	cm = e.Wait(scoped, n, last, "Apply refused", "`policies_passed`")
	for _, s := range []string{"`guarded`", "policy set `strict` failed"} {
		if !strings.Contains(cm.Body, s) {
			t.Errorf("refusal lacks %q:\n%s", s, cm.Body)
		}
	}
	// open meets its requirements: it is named as such, never as refused.
	for _, s := range []string{"- `open`", "`advice`"} {
		if strings.Contains(cm.Body, s) {
			t.Errorf("refusal names %q as refused, which meets its requirements:\n%s", s, cm.Body)
		}
	}
	if !strings.Contains(cm.Body, "`open` meets its requirements but is not applied either") {
		t.Errorf("refusal does not say that open met its requirements:\n%s", cm.Body)
	}
	last = e.Comment(scoped, n, "alice", "atoll apply -p open")
	e.Wait(scoped, n, last, "Apply complete!")

	// acme/other is outside strict's repos: its guarded applies, advice
	// reported.
	n = e.PR(other, "publish", "alice", map[string]*string{"guarded/main.tf": S(policyTF(e, "other-guarded", "x", "public"))})
	cm = e.Wait(other, n, 0, "Plan: 1 to add", "advice: terraform_data.x should not be public")
	if strings.Contains(cm.Body, "`strict`") || strings.Contains(cm.Body, policyMessage) {
		t.Errorf("acme/other is judged by strict, which is restricted to acme/scoped*:\n%s", cm.Body)
	}
	last = e.Comment(other, n, "alice", "atoll apply")
	e.Wait(other, n, last, "Apply complete!")

	// No repository configuration turns policies_passed off.
	relaxed := e.Repo("scoped-relaxed", map[string]string{
		"atoll.yaml":      "version: 1\napply_requirements: [\"!policies_passed\"]\n",
		"guarded/main.tf": e.Backend("relaxed-guarded"),
	}, perms)
	n = e.PR(relaxed, "publish", "alice", map[string]*string{"guarded/main.tf": S(policyTF(e, "relaxed-guarded", "x", "public"))})
	e.Wait(relaxed, n, 0, "`atoll.yaml` is not valid", "policies_passed can never be removed")
}
