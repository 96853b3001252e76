package terraform

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
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
		{name: "TF_LOG", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_LOG": "TRACE"}}, wantErr: "terraform-exec manages it"},
		{name: "TF_REATTACH_PROVIDERS", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_REATTACH_PROVIDERS": "{}"}}, wantErr: "terraform-exec manages it"},
		{name: "run id", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{runIDEnv: "x"}}, wantErr: "atoll sets it"},
		{name: "TF_VAR_ alone", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_VAR_": "x"}}, wantErr: "names no variable"},
		{name: "TF_VAR and TF_INPUT", cfg: Config{Binary: bin, Dir: dir, Env: map[string]string{"TF_VAR_x": "1", "TF_INPUT": "1", "TF_IN_AUTOMATION": "0"}}},
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
	env, vars, err := buildEnv(Config{
		Env:            map[string]string{"TF_VAR_region": "eu", "TF_IN_AUTOMATION": "0", "HOME": "/job"},
		PluginCacheDir: "/cache",
		CLIConfigFile:  "/rc",
	}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"CHECKPOINT_DISABLE":  "1",
		"HOME":                "/job",
		"PATH":                "/usr/bin",
		"TF_CLI_CONFIG_FILE":  "/rc",
		"TF_PLUGIN_CACHE_DIR": "/cache",
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": "1",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env:\n got  %v\n want %v", env, want)
	}
	if !reflect.DeepEqual(vars, map[string]string{"region": "eu"}) {
		t.Errorf("vars %v", vars)
	}
	if p := tfexec.ProhibitedEnv(env); len(p) > 0 {
		t.Errorf("terraform-exec refuses %v", p)
	}
}
