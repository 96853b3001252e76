package policy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A conftest policy as Atlantis users write them: package main, Rego v0
// syntax, the bare plan as input.
const conftestV0 = `package main

deletes[address] {
	rc := input.resource_changes[_]
	rc.change.actions[_] == "delete"
	address := rc.address
}

deny[msg] {
	count(deletes) > 0
	msg := sprintf("%d resources would be deleted", [count(deletes)])
}

warn[msg] {
	input.terraform_version != "1.9.0"
	msg := sprintf("planned with terraform %s", [input.terraform_version])
}
`

// The same in Rego v1, with conftest's violation rule (objects with msg)
// and a deny_ prefixed rule, in a namespace of its own.
const conftestV1 = `package terraform.files

import rego.v1

violation contains {"msg": sprintf("%s is world-writable", [rc.address]), "details": {"mode": mode}} if {
	some rc in input.resource_changes
	mode := rc.change.after.file_permission
	mode == "0777"
}

deny_local_files contains msg if {
	some rc in input.resource_changes
	rc.type == "local_file"
	"delete" in rc.change.actions
	msg := sprintf("%s is deleted", [rc.address])
}

helper_not_a_rule := true
`

func conftestEngine(t *testing.T, files map[string]string, namespaces ...string) *Engine {
	t.Helper()
	dir := writePolicies(t, files)
	e, err := Compile(context.Background(), []SetConfig{{Name: "conftest", Path: dir, Format: FormatConftest,
		Namespaces: namespaces, Owners: []string{"acme/security"}}}, Options{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

func TestConftestFormat(t *testing.T) {
	ctx := context.Background()
	create, replace := readFile(t, "plans/create.json"), readFile(t, "plans/replace_world_writable.json")

	v0 := conftestEngine(t, map[string]string{"policy.rego": conftestV0})
	res := v0.Evaluate(ctx, "acme/infra", "app", Input{Plan: replace, Repo: "acme/infra"})
	if len(res) != 1 || len(res[0].Deny) != 1 || res[0].Deny[0].Msg != "2 resources would be deleted" {
		t.Fatalf("v0 deny over the bare plan: %+v", res)
	}
	if !res[0].Blocking() || res[0].Owners[0] != "acme/security" || len(res[0].Warn) != 1 || !strings.HasPrefix(res[0].Warn[0].Msg, "planned with terraform") {
		t.Errorf("results, owners and blocking as atoll's format: %+v", res[0])
	}
	if res := v0.Evaluate(ctx, "acme/infra", "app", Input{Plan: create}); res[0].Failed() {
		t.Errorf("a plan without deletes passes: %+v", res[0])
	}

	v1 := conftestEngine(t, map[string]string{"policy.rego": conftestV1}, "terraform.files")
	res = v1.Evaluate(ctx, "acme/infra", "app", Input{Plan: replace})
	var msgs []string
	for _, m := range res[0].Deny {
		msgs = append(msgs, m.Msg)
	}
	got := strings.Join(msgs, "|")
	if !strings.Contains(got, "local_file.config is world-writable") || !strings.Contains(got, "is deleted") {
		t.Errorf("violation and deny_ rules both deny: %q", got)
	}

	// package main is the default namespace: a set listing other
	// namespaces finds no rule in main.
	dir := writePolicies(t, map[string]string{"policy.rego": conftestV1})
	_, err := Compile(ctx, []SetConfig{{Name: "x", Path: dir, Format: FormatConftest}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "no rule deny, violation or warn") || !strings.Contains(err.Error(), "package main") {
		t.Errorf("want a clear error for a set with no rules in main, got %v", err)
	}
	// The same Rego as an atoll set is refused with a hint.
	_, err = Compile(ctx, []SetConfig{{Name: "x", Path: writePolicies(t, map[string]string{"p.rego": conftestV1})}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "format: conftest") {
		t.Errorf("want a hint at format conftest, got %v", err)
	}
	// Rego v0 is only accepted for conftest sets.
	_, err = Compile(ctx, []SetConfig{{Name: "x", Path: writePolicies(t, map[string]string{"p.rego": strings.Replace(conftestV0, "package main", "package atoll", 1)})}}, Options{})
	if err == nil {
		t.Error("an atoll set in Rego v0 compiled")
	}
}

func TestCheckConftest(t *testing.T) {
	dir := writePolicies(t, map[string]string{"policy.rego": conftestV0})
	plan := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(plan, readFile(t, "plans/replace_world_writable.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := Check(context.Background(), dir, CheckOptions{Format: FormatConftest}, []string{plan}, &out)
	if code != ExitFail || !strings.Contains(out.String(), "DENY: 2 resources would be deleted") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := Check(context.Background(), dir, CheckOptions{}, []string{plan}, &out); code != ExitError {
		t.Errorf("the same policies as an atoll set: exit %d, want %d:\n%s", code, ExitError, out.String())
	}
}
