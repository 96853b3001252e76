// Package terraform runs Terraform and OpenTofu for atoll: it finds or
// installs the binary (Resolve, with hc-install), runs init, workspace
// selection, plan, show and apply in one project directory (Workdir), and
// turns a plan's JSON into a summary (Summarize) and a drift fingerprint
// (ResourceChangesHash).
//
// It knows nothing about pull requests. Its guarantees:
//
//   - Every line terraform prints is written to Config.Output while the
//     command runs, with every Config.Secrets value (and every secret of
//     Config.Masker) replaced by "***", through atoll's one masker
//     (runner/mask: longest and overlapping secrets hidden whole, each line
//     of a multi-line secret too); the same masking applies to the text of
//     every error this package returns.
//   - Cancelling the context of a running command sends terraform an
//     interrupt, waits Config.KillGrace for it to stop (releasing its state
//     lock), and only then kills it with its providers and the commands of
//     its provisioners.
//   - Inits that share a plugin cache directory never run at the same time,
//     in this process or in any other that uses this package (an in-process
//     lock plus flock(2) on a file in the cache), and they never rewrite an
//     entry another project may be executing: plans and applies stay
//     parallel.
//   - Arguments from users reach terraform only through an allowlist
//     (ValidateExtraArgs).
//   - atoll's own environment does not reach terraform, bar a short list of
//     system variables (Config.Env), and TF_VAR_ values never reach its
//     command line.
//   - With Config.Wrapper set, terraform-exec starts the wrapper (atoll's
//     sandbox, runner/sandbox) in terraform's place, with terraform's
//     arguments and environment plus Wrapper.Env; the wrapper execs
//     terraform under the same pid, so the interrupt, the kill and the
//     exit code behave as without it. terraform-exec cannot put arguments
//     before terraform's, hence the environment. Config.TempDir is
//     terraform's TMPDIR and holds the TF_VAR_ var file.
//
// # terraform-exec
//
// Every terraform command goes through hashicorp/terraform-exec (tfexec):
// version detection (Resolve and every Workdir), init, workspace list,
// select and new, plan (refresh-only, destroy, var files and the
// allowlisted extra arguments as tfexec options), show -json
// (ShowPlanFile, parsed with terraform-json), show as text
// (ShowPlanFileRaw) and apply of a saved plan. A Workdir owns one
// tfexec.Terraform and runs one command at a time on it, setting its
// environment, its stdout and stderr writers and its wait delay for each;
// terraform-exec builds each *exec.Cmd, starts terraform in a process
// group of its own, interrupts it when the context ends and kills it
// after the wait delay.
//
// Own code remains where terraform-exec cannot do the job:
//
//   - Streaming and masking (mask.go): terraform-exec hands terraform's
//     output to any io.Writer; the line-splitting, masking writers are
//     atoll's.
//   - Errors (cmd.go): terraform-exec's error for a failed command embeds
//     terraform's whole stderr, unmasked. Only the *exec.ExitError it wraps
//     is kept, in an Error whose text is the masked tail of stderr.
//   - Raw "show -json" bytes: ShowPlanFile returns a parsed plan only, but
//     also writes terraform's stdout to the Terraform's stdout writer; Show
//     sets that writer to a buffer and returns those bytes, exactly as
//     terraform printed them (re-marshalling the parsed plan would drop
//     fields terraform-json does not know).
//   - TF_VAR_ values (vars.go): tfexec's SetEnv refuses TF_VAR_*, and -var
//     would put values on the command line, so Plan writes them to a
//     temporary var file with the meaning they have in the environment.
//     tfexec has no -var option for init, so OpenTofu's early evaluation
//     of variables does not see them.
//   - The kill after the grace period (kill_linux.go): tfexec kills
//     terraform alone, and does not say which process it started, so its
//     providers and the commands of its provisioners would live on. Every
//     command carries a random mark in its environment, which those
//     processes inherit, and on Linux they are found in /proc and killed
//     with their process groups. Elsewhere only tfexec's kill remains.
//   - The plugin cache lock (cachelock.go), the allowlist of extra
//     arguments (extraargs.go) and the -var-file check: policies of
//     atoll's, before terraform-exec runs anything.
//   - Only the extra arguments tfexec has an option for are allowed:
//     -compact-warnings and OpenTofu's -exclude are refused. tfexec puts
//     every -var after every -var-file, so a -var wins whatever the order.
//
// terraform-exec runs "version -json" once per tfexec.Terraform before
// most commands, to check which flags the binary supports; a Workdir has
// it run first, with its output discarded, so that it does not reach
// Config.Output. Unlike atoll's former exec layer, terraform-exec reads
// terraform's output until every writer has closed it: a child that kept
// terraform's stdout would hold a command up, but terraform gives its
// providers and provisioners pipes of its own.
//
// The package targets Unix systems (process groups and flock).
package terraform
