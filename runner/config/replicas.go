package config

import "time"

// Replicas are the settings of atoll running as several replicas on one
// database (see the README's scaling section).
type Replicas struct {
	// JobLease is how long a replica's claim of a job, a webhook
	// delivery or the lead lasts without renewal (default 2m). Replicas
	// renew their claims every third of it; when a replica dies, its
	// work is taken over once its leases have expired.
	JobLease time.Duration `yaml:"job_lease"`
}

// MinJobLease is the shortest job_lease accepted.
const MinJobLease = time.Second

func (s Server) validateReplicas(c checker) {
	if s.JobLease < MinJobLease {
		c.errorf("job_lease", "must be at least %s, got %s", MinJobLease, s.JobLease)
	}
}
