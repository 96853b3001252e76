// Package pr is the pull request's life as atoll keeps it (Life): its
// events (opened, pushed, ready, closed, merged, reviewed), the comment
// commands (plan, apply, unlock, approve_policies, help, version) with
// their refusals, the locks and plans a pull request holds, `atoll
// apply` and apply after merge (each through the gate), the labels a
// plan run earns, automerge, and what a finished run leaves to do. It
// also says who may run a comment command (Lacks, PermissionFor).
//
// Life is built from Deps: small interfaces it declares for what it asks
// of the runner's engine (starting runs, the per-PR mutex, plan states),
// the repository's configuration and projects, replies, the gate, policy
// sets, issues (drift's commands and runs) and the code host. The root
// runner implements them (runner/bridge_pr.go) and dispatches its inbox's
// pull request, comment and review events here.
//
// Contract: every apply job this package builds is started through
// Engine.StartApply with the gate's clearances (an `atoll apply` checks
// the base branch's requirements first; a merge and a retry ask
// Gate.GateMerged). A comment's command runs once per comment id,
// whatever delivery brings it; a comment older than the inbox retention
// never runs. A fork's pull request is neither planned nor applied unless
// forks are allowed, and then a command runs only on the head the comment
// saw. A command needs its permissions entry (write by default) and, when
// the entry names teams, membership of one of them; what a user lacks is
// a typed templates.Need, rendered at the edge. Labels say what the latest
// plan run found (a destroy, other changes, no changes, a plan error); a
// run that planned nothing (every project locked or skipped) leaves the
// labels as they were.
package pr
