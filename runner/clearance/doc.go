// Package clearance gathers what runner/gate decides from, and asks it:
// whether an apply may happen. For a pull request it reads, once per
// decision round, the reviews that count (with their authors'
// permissions), the memberships of the teams the rules name, the changed
// files, the base branch's CODEOWNERS and rules, whether the PR is
// mergeable and undiverged, and the policy approvals that count now; it
// then hands gate.Decide plain values and returns its decision, its
// clearances and its reasons rendered.
//
// The decision itself stays pure in runner/gate; the facts every part
// shares (changed files, membership, the reviews that count) come from
// runner/facts, and CODEOWNERS from runner/codeowners. What the package
// asks of the code host, git and the engine it declares as small
// interfaces (Host, Git, Configs, Engine, Renderer, PolicySets).
package clearance
