package terraform

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNewValidates(t *testing.T) {
	dir := t.TempDir()
	bin := Binary{Path: "/bin/true"}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "ok", cfg: Config{Binary: bin, Dir: dir}},
		{name: "no binary", cfg: Config{Dir: dir}, wantErr: "Binary.Path"},
		{name: "no dir", cfg: Config{Binary: bin}, wantErr: "Dir"},
		{name: "missing dir", cfg: Config{Binary: bin, Dir: filepath.Join(dir, "nope")}, wantErr: "no such file"},
		{name: "bad distribution", cfg: Config{Binary: Binary{Path: "/bin/true", Distribution: "pulumi"}, Dir: dir}, wantErr: "unknown distribution"},
		{name: "TF_CLI_ARGS", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_CLI_ARGS_plan": "-state=x"}}, wantErr: "allowlist"},
		{name: "TF_WORKSPACE", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_WORKSPACE": "x"}}, wantErr: "SelectWorkspace"},
		{name: "TF_PLUGIN_CACHE_DIR", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_PLUGIN_CACHE_DIR": "/x"}}, wantErr: "PluginCacheDir"},
		{name: "bad name", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"A=B": "x"}}, wantErr: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if w.cfg.KillGrace != DefaultKillGrace || w.cfg.Binary.Distribution != Terraform || w.cfg.RepoDir != dir {
					t.Errorf("defaults not applied: %+v", w.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildEnv(t *testing.T) {
	host := map[string]string{
		"PATH":                  "/usr/bin",
		"HOME":                  "/home/atoll",
		"ATOLL_WEBHOOK_SECRET":  "do-not-leak",
		"AWS_SECRET_ACCESS_KEY": "host-creds",
		"TF_INPUT":              "1",
	}
	lookup := func(k string) (string, bool) { v, ok := host[k]; return v, ok }
	env, err := buildEnv(Config{
		Env:            map[string]string{"TF_VAR_region": "eu", "TF_IN_AUTOMATION": "0", "HOME": "/job"},
		PluginCacheDir: "/cache",
		CLIConfigFile:  "/rc",
	}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CHECKPOINT_DISABLE=1",
		"HOME=/job",
		"PATH=/usr/bin",
		"TF_CLI_CONFIG_FILE=/rc",
		"TF_INPUT=0",
		"TF_IN_AUTOMATION=1",
		"TF_PLUGIN_CACHE_DIR=/cache",
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=1",
		"TF_VAR_region=eu",
	}
	assertArgs(t, env, want)
}
