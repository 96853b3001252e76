package terraform

import (
	"os"
	"path/filepath"
	"sort"
)

// Environ is the environment terraform runs with, as sorted "KEY=value"
// entries: the inherited variables, Config.Env (its TF_VAR_ entries
// included, as terraform would read them), the plugin cache and CLI
// configuration, with the binary's directory first on PATH. It is what a
// workflow's custom steps see, so that `terraform` in a run step is the
// binary atoll runs, with the same providers and credentials.
func (w *Workdir) Environ() []string {
	env := make(map[string]string, len(w.env)+len(w.vars))
	for k, v := range w.env {
		env[k] = v
	}
	for k, v := range w.vars {
		env["TF_VAR_"+k] = v
	}
	env["TF_IN_AUTOMATION"] = "1"
	env["TF_INPUT"] = "0"
	bin := filepath.Dir(w.cfg.Binary.Path)
	if p := env["PATH"]; p != "" {
		env["PATH"] = bin + string(os.PathListSeparator) + p
	} else {
		env["PATH"] = bin
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Binary is the binary the Workdir runs.
func (w *Workdir) Binary() Binary { return w.cfg.Binary }
