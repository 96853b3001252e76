// Package trail says what the runner records in the audit trail
// (locks/audit) for each decision it makes: a job's end, a comment
// command and whether it was allowed, a lock taken, refused or released,
// a refused repository configuration, a drift finding, an approving
// review and whether it counts; and it prunes records past their
// retention.
//
// Recording never fails its caller: a record that cannot be written is
// logged. Every hook in the runner is one call of a Trail method, so it
// stays out of the way of the code it observes.
package trail
