// Package drift holds the clock-free part of drift detection's
// scheduling: the Timetable that says, for each repository's cron
// schedule, when its next check falls due and which checks fall due now.
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
