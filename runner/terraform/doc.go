// Package terraform runs Terraform and OpenTofu for atoll: it finds or
// installs the binary (Resolve, with hc-install), runs init, workspace
// selection, plan, show and apply in one project directory (Workdir), and
// turns a plan's JSON into a summary (Summarize) and a drift fingerprint
// (ResourceChangesHash).
//
// It knows nothing about pull requests. Its guarantees:
//
//   - Every line terraform prints is written to Config.Output while the
//     command runs, with every Config.Secrets value replaced by "***"; the
//     same masking applies to the text of every error this package returns.
//   - Cancelling the context of a running command sends terraform an
//     interrupt, waits Config.KillGrace for it to stop (releasing its state
//     lock), and only then kills its process group.
//   - Inits that share a plugin cache directory never run at the same time,
//     in this process or in any other that uses this package (an in-process
//     lock plus flock(2) on a file in the cache), and they never rewrite an
//     entry another project may be executing: plans and applies stay
//     parallel.
//   - Arguments from users reach terraform only through an allowlist
//     (ValidateExtraArgs).
//
// Commands are built as *exec.Cmd values by one function and run by
// another, in the manner of hashicorp/terraform-exec, whose cancellation
// scheme (cmd.Cancel sends an interrupt, cmd.WaitDelay bounds the wait) this
// package reuses. It runs terraform itself rather than through tfexec's
// Terraform type because that type refuses TF_VAR_* and TF_INPUT in its
// environment, hides the argv it builds, returns no raw "show -json" bytes
// and embeds unmasked stderr in its errors.
//
// The package targets Unix systems (process groups and flock).
package terraform
