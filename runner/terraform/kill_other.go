//go:build !linux

package terraform

// canKillRun: killRun needs /proc, so on other systems terraform-exec's
// kill of terraform alone, at KillGrace, is all there is.
const canKillRun = false

// killRun does nothing outside Linux; see the Linux version.
func killRun(id string) int { return 0 }

// killMarked does nothing outside Linux; see the Linux version.
func killMarked(entry string) int { return 0 }
