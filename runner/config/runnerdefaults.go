package config

// WithRunnerDefaults is s with the runner's defaults in its zero values,
// so that a configuration built by hand (not by LoadServer) still runs:
// DefaultServer's values where the runner needs one. A value s sets is
// kept.
func (s Server) WithRunnerDefaults() Server {
	if s.CheckoutStrategy == "" {
		s.CheckoutStrategy = "merge"
	}
	if s.Workers <= 0 {
		s.Workers = 4
	}
	if s.ApplyMode == "" {
		s.ApplyMode = ApplyComment
	}
	if s.Approvals <= 0 {
		s.Approvals = 1
	}
	if s.Automerge.Method == "" {
		s.Automerge.Method = "merge"
	}
	if s.Terraform.Distribution == "" {
		s.Terraform.Distribution = DistributionTerraform
	}
	if s.InboxRetention <= 0 {
		s.InboxRetention = DefaultServer().InboxRetention
	}
	if s.Drift.Mode == "" {
		s.Drift.Mode = "plan"
	}
	if s.Drift.Concurrency <= 0 {
		s.Drift.Concurrency = 2
	}
	return s
}
