// Package crashpoint stops atoll at a named point of its work, so that a
// test can kill (SIGKILL) or stop (SIGTERM) the server exactly there and
// check what a restart makes of it.
//
// It is compiled in only with the build tag atoll_crashpoints, which the
// end-to-end tests and `make chaos` build atoll with; in every other build
// Hit is an empty function the compiler removes. With the tag, and only
// when the environment asks for it, Hit:
//
//   - ATOLL_TEST_CRASHPOINT is a comma-separated list of NAME or NAME@N:
//     the point NAME is armed for its Nth hit in the process (default 1).
//   - On an armed hit, Hit writes "atoll crashpoint reached: NAME" on
//     stderr and blocks until ctx ends (a graceful stop then goes on with
//     a cancelled context, as a SIGTERM at that instant would) or until
//     the file ATOLL_TEST_CRASHPOINT_RELEASE exists (a test that only
//     wanted to hold the server there, to race something against it).
//
// The names of the points are the constants of this package.
package crashpoint

// Points atoll can be stopped at.
const (
	// OpenCheck: a job is about to open its check run (startRun).
	OpenCheck = "open-check"
	// JobClaimed: a job was claimed (running), before its work starts.
	JobClaimed = "job-claimed"
	// BeforeApply: an apply job is about to run terraform apply.
	BeforeApply = "before-apply"
	// JobFinishing: a job's work is done and its outcome not yet stored.
	JobFinishing = "job-finishing"
	// MergeClaimed: a merge was claimed for its apply, before the run starts.
	MergeClaimed = "merge-claimed"
	// LockReleased: a PR's lock was released (closed, unlocked, or applied
	// after merge), before the plan queue is told.
	LockReleased = "lock-released"
)

// Reached is the line Hit writes on stderr when it stops at a point,
// followed by the point's name.
const Reached = "atoll crashpoint reached: "
