// Package records is the runner's durable state as typed records over a
// key-value Store: runs, jobs, plans, policy and remediation approvals,
// pull request state and drift. It knows the buckets, the keys and the
// JSON shape of each record, and every change of a plan's state goes
// through it (SetPlanState), so the transitions of a record are found in
// one place. It holds no lock, speaks to no code host and runs nothing.
//
// Records are JSON: a field added to a type reads as its zero value from
// a record stored before, and a record is never renamed, so a database
// written by an older atoll keeps working. Keys sort as the listings need:
// a pull request's records share PRKey's prefix (number zero-padded), so
// PlansOf is one prefix scan.
//
// Errors are the Store's, wrapped with the bucket and key; a record that
// does not decode is an error naming both.
package records
