// Package drift is atoll's drift detection: it decides when each
// repository is checked and keeps a repository's checks from
// overlapping, and turns a finished check into the project's drift issue
// and check run.
//
// The parts: the Timetable says, for each repository's cron schedule,
// when its next check falls due (it reads no clock: time is passed in);
// the Sweep knows the served repositories and their schedules; the
// Scheduler ticks the timetable on the leader, claims each scheduled
// check once across replicas, starts it through the engine (Starter),
// bounds the drift jobs running at once (Admit), and carries schedule
// changes seen by other replicas to the leader (ShareChange,
// FollowSignal); the Checker starts a check's jobs through the engine,
// launches checks under the runner's lifetime and recovers them at
// start-up, with Checks keeping one check under way per repository; the
// Reporter (Report, Tracker) turns a finished check into the project's
// issue, check run and DriftRecord; Remediations handles the commands on
// a drift issue and auto-remediation, every apply cleared by gate.Decide;
// Status and the labels (LabelDrift, IssueLabel) say what a check found
// and how its issue is found again. The drift job's plan itself is a job
// body the engine runs (execute.Drift).
// What it needs of the runner it reaches through the small interfaces it
// declares (Starter, Engine, Repos, Source, Views, Applier, Permissions,
// Replier); it never imports the root runner package.
//
// Guarantees: a repository fires at most once per due time, however late
// the caller asks and whichever replica leads; a check missed while atoll
// was down fires once when it is back (from the remembered last check,
// MemoryBucket); jitter delays a check by a random duration in [0,
// jitter), never before its due time; at most drift.concurrency drift
// jobs run at once.
package drift
