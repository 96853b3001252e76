package terraform

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
)

func TestInitOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    InitOptions
		want    []tfexec.InitOption
		wantErr bool
	}{
		{name: "defaults", want: nil},
		{name: "backend config", opts: InitOptions{BackendConfig: []string{"path=/s/terraform.tfstate", "backend.hcl"}},
			want: []tfexec.InitOption{tfexec.BackendConfig("path=/s/terraform.tfstate"), tfexec.BackendConfig("backend.hcl")}},
		{name: "empty backend config", opts: InitOptions{BackendConfig: []string{" "}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := initOptions(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestInitArgvAndEnv checks what reaches terraform: the argv
// terraform-exec builds and an environment with atoll's variables and
// nothing else of atoll's own.
func TestInitArgvAndEnv(t *testing.T) {
	t.Setenv("ATOLL_WEBHOOK_SECRET", "do-not-leak")
	t.Setenv("TF_LOG", "TRACE")
	cache := filepath.Join(t.TempDir(), "cache")
	rc := filepath.Join(t.TempDir(), "terraformrc")
	w, rec := newRecorder(t, "exit 0\n", Config{PluginCacheDir: cache, CLIConfigFile: rc,
		Env: map[string]string{"AWS_REGION": "eu-west-1", "TF_VAR_token": "hunter22", "TF_INPUT": "1"}})
	if err := w.Init(context.Background(), InitOptions{BackendConfig: []string{"path=/s/x.tfstate"}}); err != nil {
		t.Fatal(err)
	}
	calls := rec.calls(t)
	if len(calls) != 1 {
		t.Fatalf("calls %q", calls)
	}
	assertArgs(t, calls[0], []string{"init", "-no-color", "-input=false", "-backend=true", "-get=true", "-upgrade=false",
		"-backend-config=path=/s/x.tfstate"})
	env := rec.env(t, 0)
	for k, want := range map[string]string{
		"TF_PLUGIN_CACHE_DIR":                            cache,
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": "1",
		"TF_CLI_CONFIG_FILE":                             rc,
		"TF_IN_AUTOMATION":                               "1",
		"CHECKPOINT_DISABLE":                             "1",
		"AWS_REGION":                                     "eu-west-1",
		"TF_LOG":                                         "",
	} {
		if got, _ := envValue(env, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"ATOLL_WEBHOOK_SECRET", "TF_VAR_token", "TF_INPUT"} {
		if v, ok := envValue(env, k); ok {
			t.Errorf("%s=%s reached terraform", k, v)
		}
	}
	if id, ok := envValue(env, runIDEnv); !ok || len(id) != 32 {
		t.Errorf("%s = %q", runIDEnv, id)
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
