// Package pr is the pull request's life as the runner keeps it, one part
// at a time as they leave the engine: so far who may run a comment
// command (Lacks, PermissionFor), the labels a plan run earns (Labels)
// and setting them on the pull request (SetPlanLabels). Events, the
// comment commands themselves, the PR's locks and apply after merge are
// still the root runner's.
//
// Contract: a command needs its permissions entry (write by default) and,
// when the entry names teams, membership of one of them; what a user
// lacks is a typed templates.Need, rendered at the edge. Labels say what the latest plan run found (a destroy, other
// changes, no changes, a plan error); a run that planned nothing (every
// project locked or skipped) leaves the labels as they were.
package pr
