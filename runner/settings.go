package runner

import (
	"github.com/atollhq/atoll/runner/config"
)

// withDefaults is srv with the runner's defaults in its zero values, so
// that a configuration built by hand (not by config.LoadServer) still
// runs: config.DefaultServer's values where the runner needs one.
func withDefaults(srv config.Server) config.Server {
	if srv.CheckoutStrategy == "" {
		srv.CheckoutStrategy = "merge"
	}
	if srv.Workers <= 0 {
		srv.Workers = 4
	}
	if srv.ApplyMode == "" {
		srv.ApplyMode = config.ApplyComment
	}
	if srv.Approvals <= 0 {
		srv.Approvals = 1
	}
	if srv.Automerge.Method == "" {
		srv.Automerge.Method = "merge"
	}
	if srv.Terraform.Distribution == "" {
		srv.Terraform.Distribution = config.DistributionTerraform
	}
	if srv.InboxRetention <= 0 {
		srv.InboxRetention = DefaultInboxRetention
	}
	if srv.Drift.Mode == "" {
		srv.Drift.Mode = "plan"
	}
	if srv.Drift.Concurrency <= 0 {
		srv.Drift.Concurrency = 2
	}
	return srv
}
