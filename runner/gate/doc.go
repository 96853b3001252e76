// Package gate is atoll's one decision on whether a plan may be applied.
//
// Every path that applies (an `atoll apply` comment, the apply after a
// merge, the retry on a merged pull request, a drift remediation by
// comment, auto_remediate, and automerge's applies, which are comment
// applies) asks Decide. Decide reads plain values only (reviews, team
// memberships, permissions, policy results, the stored plan, the rules of
// the base branch) and returns every unmet requirement as a typed Reason;
// it never speaks to GitHub, never reads a file and never builds a
// sentence: callers render each Reason through its template
// (templates/unmet_CODE.tmpl). runner/clearance gathers those values
// from the code host and the store, and asks Decide.
//
// An apply job can only be started with a Clearance, and only Decide makes
// a valid one: the zero Clearance is refused by the runner. That is what
// makes "no apply path without the gate" checkable.
//
// Rules attach to a project's identity on the base branch: its directory
// and workspace, as the base branch's atoll.yaml defines them
// (BaseRules). A pull request that renames, moves or re-scopes a project
// cannot shed them.
package gate
