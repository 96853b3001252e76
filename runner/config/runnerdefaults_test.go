package config

import (
	"testing"
	"time"
)

// TestWithRunnerDefaults: a server configuration built by hand gets the
// defaults a runner needs, the same as DefaultServer's; what it sets is
// kept.
func TestWithRunnerDefaults(t *testing.T) {
	got := Server{}.WithRunnerDefaults()
	def := DefaultServer()
	if got.CheckoutStrategy != def.CheckoutStrategy || got.Workers != def.Workers || got.InboxRetention != def.InboxRetention ||
		got.Terraform.Distribution != def.Terraform.Distribution || got.ApplyMode != ApplyComment || got.Approvals != 1 ||
		got.Automerge.Method != "merge" || got.Drift.Mode != "plan" || got.Drift.Concurrency != 2 {
		t.Errorf("defaults = %+v", got)
	}
	set := Server{Workers: 9, InboxRetention: time.Hour}
	set.Drift.Mode = "check"
	if got := set.WithRunnerDefaults(); got.Workers != 9 || got.InboxRetention != time.Hour || got.Drift.Mode != "check" {
		t.Errorf("set values changed: %+v", got)
	}
}
