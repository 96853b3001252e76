// Package policy judges Terraform and OpenTofu plans with policy sets written
// in Rego (Open Policy Agent, Rego v1 syntax).
//
// A policy set is a directory of .rego files (see [SetConfig]). [Compile]
// parses and compiles every set once, at start-up; a syntax or compile error
// is returned as a [*CompileError] naming the file and line, and the server
// must not start. [Engine.Evaluate] then judges one project's plan against
// every set that applies to the repository and project, and returns one
// [Result] per set.
//
// # Writing a policy
//
// A policy set defines two decisions in package atoll:
//
//   - data.atoll.deny: a set of messages. Any message fails the set; a
//     mandatory set blocks the apply until its owners approve.
//   - data.atoll.warn: a set of messages shown on the pull request; it never
//     blocks.
//
// A message is a string, or an object {"msg": "...", "resource": "address"}
// whose optional resource names the Terraform address it is about (other keys
// are ignored). Anything else, such as a number or an empty message, is an
// evaluation error, and an error fails the set (fails closed). Either decision
// may be left undefined, which means no messages; but a set that defines
// neither is a compile error, because it is most likely written in the wrong
// package and would silently pass every plan.
//
// A set of format conftest ([FormatConftest]) is read as conftest reads
// policies instead: every rule named deny, violation or warn, or starting
// with deny_, violation_ or warn_, in the set's namespaces (default main),
// evaluated with the bare `terraform show -json` plan as input; deny and
// violation fail the set, warn is shown. Such a rule may also be an array,
// a single message or a boolean, and files in Rego v0 syntax are accepted.
//
// The input document is [Input] encoded as JSON; testdata/input.json is a
// complete example:
//
//	package atoll
//
//	deny contains {"msg": sprintf("%s is world-writable", [rc.change.after.filename]), "resource": rc.address} if {
//		some rc in input.plan.resource_changes
//		rc.type == "local_file"
//		endswith(rc.change.after.file_permission, "7")
//	}
//
//	warn contains sprintf("%s will be destroyed", [rc.address]) if {
//		some rc in input.plan.resource_changes
//		"delete" in rc.change.actions
//	}
//
// Rego unit tests (rules named test_*) live beside the policies, in any
// package; [Test] runs them like `opa test`, and [Check] evaluates a policy
// directory against plan files, both for policy authors at their desk.
//
// # Safety
//
// Policies never reach the network or the local file system: http.send,
// net.lookup_ip_addr, opa.runtime, json.verify_schema and json.match_schema
// (whose schemas may load remote or file references) are rejected at compile
// time, and the capabilities allow no network host. Print statements are
// ignored by the engine. Built-in errors (for example to_number("x")) halt the
// evaluation instead of making a rule silently undefined.
//
// An evaluation is bounded by [Options.Timeout] and, approximately, by
// [Options.MaxMemoryBytes]; a policy that exceeds either fails with an error
// Result (it never passes). At most 100 messages per decision are kept (the
// rest are summarised in one extra message) and each message is cut at 4 KiB.
package policy
