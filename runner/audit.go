package runner

import "github.com/atollhq/atoll/runner/trail"

// AuditTrail is where the runner records its decisions (trail.Sink);
// *audit.Trail implements it.
type AuditTrail = trail.Sink
