package sandbox

import (
	"encoding/json"
	"os"
	"slices"
)

// EnvVar carries the arguments of `atoll sandbox-exec` from atoll to the
// copy of itself that terraform-exec starts (see Wrap and Unwrap).
const EnvVar = "ATOLL_SANDBOX_EXEC"

// Wrap returns how to run program under p when the caller can only choose
// the executable and add to its environment (terraform-exec): start path
// (self, atoll's own executable) with the program's arguments and env
// added to the environment. That process's Unwrap turns it into `self
// sandbox-exec ... -- program ARGS...`.
func Wrap(self string, p Policy, program string) (path string, env map[string]string) {
	b, _ := json.Marshal(p.Command(program)) // a []string always marshals
	return self, map[string]string{EnvVar: string(b)}
}

// Unwrap is called first in atoll (cmd/atoll/internal/sandboxexec) with
// its arguments (without the program name). When the environment holds EnvVar, it removes it and
// returns the sandbox-exec arguments it carried followed by args, and
// true. EnvVar is honoured only when it holds a sandbox-exec command;
// otherwise it is removed and the process must exit (ok is true and the
// returned arguments are nil).
func Unwrap(args []string) (_ []string, ok bool) {
	v, ok := os.LookupEnv(EnvVar)
	if !ok {
		return args, false
	}
	os.Unsetenv(EnvVar)
	var prefix []string
	if err := json.Unmarshal([]byte(v), &prefix); err != nil || len(prefix) < 3 || prefix[0] != Subcommand {
		return nil, true
	}
	return append(slices.Clip(prefix), args...), true
}
