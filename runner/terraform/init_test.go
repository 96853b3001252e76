package terraform

import (
	"context"
	"path/filepath"
	"testing"
)

func TestInitArgs(t *testing.T) {
	tests := []struct {
		name    string
		opts    InitOptions
		want    []string
		wantErr bool
	}{
		{name: "defaults", want: []string{"init", "-input=false", "-no-color"}},
		{name: "backend config", opts: InitOptions{BackendConfig: []string{"path=/s/terraform.tfstate", "backend.hcl"}},
			want: []string{"init", "-input=false", "-no-color", "-backend-config=path=/s/terraform.tfstate", "-backend-config=backend.hcl"}},
		{name: "empty backend config", opts: InitOptions{BackendConfig: []string{" "}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := initArgs(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil {
				assertArgs(t, got, tt.want)
			}
		})
	}
}

func TestInitCmd(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	rc := filepath.Join(t.TempDir(), "terraformrc")
	w := fakeWorkdir(t, "exit 0\n", Config{PluginCacheDir: cache, CLIConfigFile: rc})
	cmd, err := w.initCmd(context.Background(), InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Dir != w.Dir() {
		t.Errorf("Dir = %q", cmd.Dir)
	}
	for k, want := range map[string]string{
		"TF_PLUGIN_CACHE_DIR":                            cache,
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": "1",
		"TF_CLI_CONFIG_FILE":                             rc,
		"TF_IN_AUTOMATION":                               "1",
		"TF_INPUT":                                       "0",
	} {
		if got, _ := envValue(cmd.Env, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if cmd.WaitDelay <= w.cfg.KillGrace || cmd.Cancel == nil || cmd.SysProcAttr == nil || !cmd.SysProcAttr.Setpgid {
		t.Errorf("cancellation not set up: WaitDelay %v, Cancel %v, SysProcAttr %+v", cmd.WaitDelay, cmd.Cancel != nil, cmd.SysProcAttr)
	}
}

func TestInitTakesCacheLock(t *testing.T) {
	cache := t.TempDir()
	w := fakeWorkdir(t, "exit 0\n", Config{PluginCacheDir: cache})
	unlock, err := lockCache(context.Background(), cache)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200e6)
	defer cancel()
	if err := w.Init(ctx, InitOptions{}); err == nil {
		t.Fatal("Init ran while another init held the cache lock")
	}
	unlock()
	if err := w.Init(context.Background(), InitOptions{}); err != nil {
		t.Fatalf("Init after unlock: %v", err)
	}
}
