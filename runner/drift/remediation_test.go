package drift

import "testing"

func TestAutoRemediateAllowed(t *testing.T) {
	globs := []string{"acme/prod-*", "Ops/Infra"}
	for repo, want := range map[string]bool{
		"acme/prod-db": true, "ACME/Prod-Net": true, "ops/infra": true,
		"acme/staging": false, "acme/prod-db/x": false, "other/prod-db": false,
	} {
		if got := AutoRemediateAllowed(globs, repo); got != want {
			t.Errorf("%s: %v, want %v", repo, got, want)
		}
	}
	if AutoRemediateAllowed(nil, "acme/prod-db") {
		t.Error("no globs allowed a repository")
	}
}
