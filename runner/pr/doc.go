// Package pr is the pull request's life as the runner keeps it, one part
// at a time as they leave the engine: so far the labels a plan run earns
// (Labels) and setting them on the pull request (SetPlanLabels). Events,
// comment commands, the PR's locks and apply after merge are still the
// root runner's.
//
// Contract: labels say what the latest plan run found (a destroy, other
// changes, no changes, a plan error); a run that planned nothing (every
// project locked or skipped) leaves the labels as they were.
package pr
