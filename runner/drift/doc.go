// Package drift holds the parts of drift detection that need no runner:
// the Timetable that says, for each repository's cron schedule, when its
// next check falls due and which checks fall due now; the status a
// check's outcome reports (Status); and the labels drift issues are
// found by (LabelDrift, IssueLabel).
// It reads no clock (time is passed in), starts nothing and stores
// nothing: the runner's scheduler lists repositories, reads their
// schedules, asks the timetable what is due, remembers the last check in
// its records, and starts the checks (on one replica only, the leader's).
//
// Guarantees: a repository fires at most once per due time, however late
// the caller asks; a check missed while atoll was down fires once when it
// is back (from the remembered last check); jitter delays a check by a
// random duration in [0, jitter), never before its due time.
package drift
