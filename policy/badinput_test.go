package policy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// goodPolicy is the set evaluated beside every bad one: it must keep
// working.
const goodPolicy = `package atoll

deny contains "good set ran" if { input.plan.format_version }
`

// TestBadPolicies compiles and evaluates the Rego bad-input corpus
// (testdata/badinput/rego, one set per directory) beside a good set.
// A set that does not compile is refused at compile time with its file,
// line and problem; one that fails at evaluation (runaway loops, memory,
// huge or malformed output, built-in errors) gets a Result with an error
// naming the problem, within the time bound, while the good set's result is
// unchanged; huge outputs are capped.
func TestBadPolicies(t *testing.T) {
	const timeout = 2 * time.Second
	opts := Options{Timeout: timeout, MaxMemoryBytes: 256 << 20}
	tests := []struct {
		dir        string
		compileErr []string // each in Compile's error; nil: it compiles
		evalErr    string   // in Result.Err
		check      func(t *testing.T, r Result)
	}{
		{dir: "syntax_error", compileErr: []string{"syntax_error/policy.rego:5: rego_parse_error: unexpected eof token"}},
		{dir: "v0_syntax", compileErr: []string{"policy.rego:3", "rego_parse_error", "`if` keyword is required before rule body"}},
		{dir: "wrong_package", compileErr: []string{"no rule defines data.atoll.deny or data.atoll.warn", "is the package `atoll`?"}},
		{dir: "recursion", compileErr: []string{"policy.rego", "rego_recursion_error", "recursion"}},
		{dir: "mutual_recursion", compileErr: []string{"rego_recursion_error"}},
		{dir: "unsafe_var", compileErr: []string{"policy.rego:4", "undefined_thing"}},
		{dir: "unsafe_builtin", compileErr: []string{"http.send"}},
		{dir: "no_rego_files", compileErr: []string{"no_rego_files"}},
		{dir: "runaway_loop", evalErr: "policy evaluation timed out after 2s"},
		{dir: "memory_blowup", evalErr: "policy evaluation"},
		{dir: "huge_set", check: func(t *testing.T, r Result) {
			if len(r.Deny) == 0 {
				t.Fatal("no messages")
			}
			if last := r.Deny[len(r.Deny)-1]; len(r.Deny) != maxMessages+1 || last.More != 4900 || last.Msg != "" {
				t.Errorf("%d messages, last %+v; want %d and a count of the rest (4900)", len(r.Deny), last, maxMessages+1)
			}
		}},
		{dir: "huge_message", check: func(t *testing.T, r Result) {
			if len(r.Deny) != 1 {
				t.Fatalf("%d messages, want 1", len(r.Deny))
			}
			if len(r.Deny[0].Msg) > maxMessageBytes+len("…") || !strings.HasSuffix(r.Deny[0].Msg, "…") {
				t.Errorf("message of %d bytes, want it cut to %d", len(r.Deny[0].Msg), maxMessageBytes)
			}
		}},
		{dir: "decision_not_set", evalErr: "must be a set of messages, got string"},
		{dir: "message_number", evalErr: "a message must be a string or an object with \"msg\", got number (42)"},
		{dir: "message_empty", evalErr: "message is empty"},
		{dir: "message_no_msg", evalErr: "message object has no \"msg\""},
		{dir: "builtin_error", evalErr: "to_number"},
	}
	dirs, _ := os.ReadDir(filepath.Join("testdata", "badinput", "rego"))
	if len(dirs) != len(tests) {
		t.Errorf("%d sets in testdata/badinput/rego, %d cases: every set needs a case", len(dirs), len(tests))
	}
	// Leave no garbage behind for the memory guard of later tests.
	t.Cleanup(debug.FreeOSMemory)
	good := writePolicies(t, map[string]string{"policy.rego": goodPolicy})
	in := planInput(t, "create.json")
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			bad, err := filepath.Abs(filepath.Join("testdata", "badinput", "rego", tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			sets := []SetConfig{{Name: "bad", Path: bad}, {Name: "good", Path: good}}
			e, err := Compile(ctx, sets, opts)
			if tt.compileErr != nil {
				if err == nil {
					t.Fatal("compiled; want an error")
				}
				for _, w := range tt.compileErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("compile error does not say %q:\n%v", w, err)
					}
				}
				if strings.Contains(err.Error(), `"good"`) {
					t.Errorf("the good set is blamed: %v", err)
				}
				// The server refuses to start with it; without it, the good set works.
				e, err = Compile(ctx, sets[1:], opts)
				if err != nil {
					t.Fatal(err)
				}
				checkGood(t, e.Evaluate(ctx, "acme/infra", "app", in), 0)
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			start := time.Now()
			results := e.Evaluate(ctx, "acme/infra", "app", in)
			if took := time.Since(start); took > timeout+cancelGrace+15*time.Second { // slack for -race on shared cores
				t.Errorf("evaluation took %s, over the bound", took)
			}
			if len(results) != 2 {
				t.Fatalf("%d results", len(results))
			}
			r := results[0]
			if tt.evalErr != "" {
				t.Logf("bad set: %s", r.Err)
				if !strings.Contains(r.Err, tt.evalErr) || len(r.Deny) > 0 || !r.Failed() || !r.Blocking() {
					t.Errorf("bad set: Err %q, %d denies; want a blocking failure saying %q", r.Err, len(r.Deny), tt.evalErr)
				}
			} else if r.Err != "" {
				t.Errorf("bad set: unexpected error %q", r.Err)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			checkGood(t, results, 1)
			// And again: one bad evaluation leaves nothing behind.
			checkGood(t, e.Evaluate(ctx, "acme/infra", "app", in), 1)
		})
	}
}

func checkGood(t *testing.T, results []Result, i int) {
	t.Helper()
	if len(results) <= i {
		t.Fatalf("no result for the good set: %+v", results)
	}
	r := results[i]
	if r.Set != "good" || r.Err != "" || len(r.Deny) != 1 || r.Deny[0].Msg != "good set ran" {
		t.Errorf("good set: %+v", r)
	}
}

// TestBadPlanInput evaluates a good set on bad plan JSON: each is a failed
// Result saying what is wrong with the input, never a pass.
func TestBadPlanInput(t *testing.T) {
	e := compileOne(t, goodPolicy, Options{Timeout: 2 * time.Second})
	for name, tt := range map[string]struct {
		plan string
		want string
	}{
		"empty":     {"", "invalid policy input: plan is empty"},
		"array":     {`[1, 2]`, "invalid policy input: plan is not a JSON object"},
		"string":    {`"plan"`, "invalid policy input: plan is not a JSON object"},
		"truncated": {`{"format_version": "1.2", "resource_changes": [`, "invalid policy input"},
	} {
		t.Run(name, func(t *testing.T) {
			in := planInput(t, "create.json")
			in.Plan = json.RawMessage(tt.plan)
			rs := e.Evaluate(context.Background(), "acme/infra", "app", in)
			if len(rs) != 1 || !strings.Contains(rs[0].Err, tt.want) || !rs[0].Failed() {
				t.Errorf("results %+v, want a failure saying %q", rs, tt.want)
			}
		})
	}
}
