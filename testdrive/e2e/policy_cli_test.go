package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A policy author checks a policy set against a plan, both outside any
// repository, with the built atoll binary: exit 0 with no denial, 1 with
// one (and its message), 2 when the policy does not compile (with file and
// line); `atoll policy test` runs the set's tests.
func TestPolicyCheckCLI(t *testing.T) {
	work := t.TempDir()
	tf := filepath.Join(work, "tf")
	policies := filepath.Join(work, "policies")
	broken := filepath.Join(work, "broken")
	for dir, files := range map[string]map[string]string{
		tf: {"main.tf": "variable \"input\" {}\n\nresource \"terraform_data\" \"x\" {\n  input = var.input\n}\n"},
		policies: {
			"public.rego": policyPublic,
			"public_test.rego": "package atoll_test\n\nimport rego.v1\n\n" +
				"test_public_denied if {\n\tcount(data.atoll.deny) == 1 with input as " +
				`{"plan": {"resource_changes": [{"address": "terraform_data.x", "type": "terraform_data", "change": {"actions": ["create"], "after": {"input": "public"}}}]}}` +
				"\n}\n",
		},
		broken: {"bad.rego": "package atoll\n\nimport rego.v1\n\ndeny contains msg if {\n"},
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Two real plans, as `terraform show -json` prints them.
	terraform := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command("terraform", args...)
		cmd.Dir = tf
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	terraform("init", "-input=false", "-no-color")
	plans := map[string]string{}
	for _, in := range []string{"public", "private"} {
		terraform("plan", "-input=false", "-no-color", "-var", "input="+in, "-out="+in+".tfplan")
		plans[in] = filepath.Join(work, in+".json")
		if err := os.WriteFile(plans[in], terraform("show", "-json", in+".tfplan"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"deny", []string{"policy", "check", "--policies", policies, plans["public"]}, 1,
			[]string{plans["public"] + ": DENY: terraform_data.x: " + policyMessage, "1 denied"}},
		{"clean", []string{"policy", "check", "--policies", policies, plans["private"]}, 0,
			[]string{"0 denied"}},
		{"both", []string{"policy", "check", "--policies", policies, plans["private"], plans["public"]}, 1,
			[]string{"2 files checked: 1 denied"}},
		{"syntax error", []string{"policy", "check", "--policies", broken, plans["private"]}, 2,
			[]string{"bad.rego:"}},
		{"not a plan", []string{"policy", "check", "--policies", policies, filepath.Join(tf, "main.tf")}, 2,
			[]string{"ERROR"}},
		{"tests", []string{"policy", "test", policies}, 0,
			[]string{"PASS", "test_public_denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(atollBin, tt.args...)
			cmd.Dir = work
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out.String())
			}
			for _, s := range tt.want {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}
