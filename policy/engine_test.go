package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEvaluateDecisions(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		deny, warn []Message
		err        string // substring of Result.Err; "" for none
	}{
		{
			name: "string messages",
			src: `package atoll
deny contains "no local files" if { some rc in input.plan.resource_changes; rc.type == "local_file" }
warn contains "plan has changes" if count(input.plan.resource_changes) > 0`,
			deny: []Message{{Msg: "no local files"}},
			warn: []Message{{Msg: "plan has changes"}},
		},
		{
			name: "object messages with and without resource, sorted",
			src: `package atoll
deny contains {"msg": sprintf("%s is created", [rc.address]), "resource": rc.address} if {
	some rc in input.plan.resource_changes
	rc.change.actions == ["create"]
}
deny contains {"msg": "a plan-wide reason", "severity": "high"}`,
			deny: []Message{
				{Msg: "a plan-wide reason"},
				{Msg: "local_file.config is created", Resource: "local_file.config"},
				{Msg: "terraform_data.build is created", Resource: "terraform_data.build"},
			},
		},
		{
			name: "warn only does not fail",
			src: `package atoll
warn contains {"msg": "creates a file", "resource": "local_file.config"}`,
			warn: []Message{{Msg: "creates a file", Resource: "local_file.config"}},
		},
		{
			name: "undefined decisions pass",
			src: `package atoll
deny contains "never" if false`,
		},
		{
			name: "number message is an error",
			src: `package atoll
deny contains 42`,
			err: "data.atoll.deny: a message must be a string or an object with \"msg\", got number (42)",
		},
		{
			name: "object without msg is an error",
			src: `package atoll
warn contains {"message": "typo"}`,
			err: `data.atoll.warn: message object has no "msg"`,
		},
		{
			name: "empty message is an error",
			src: `package atoll
deny contains ""`,
			err: "data.atoll.deny: message is empty",
		},
		{
			name: "decision that is not a set is an error",
			src: `package atoll
deny := ["an array"]`,
			err: "data.atoll.deny: must be a set of messages, got array",
		},
		{
			name: "built-in error fails instead of passing",
			src: `package atoll
deny contains "never" if to_number("not a number") > 1`,
			err: "to_number",
		},
		{
			name: "conflicting complete rule is an error",
			src: `package atoll
deny := {"a"} if true
deny := {"b"} if true`,
			err: "eval_conflict_error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := compileOne(t, tt.src, Options{})
			rs := e.Evaluate(context.Background(), "acme/infra", "app", planInput(t, "create.json"))
			if len(rs) != 1 {
				t.Fatalf("got %d results, want 1", len(rs))
			}
			r := rs[0]
			if tt.err != "" {
				if !strings.Contains(r.Err, tt.err) {
					t.Fatalf("Err = %q, want it to contain %q", r.Err, tt.err)
				}
				if !r.Failed() || len(r.Deny) != 0 || len(r.Warn) != 0 {
					t.Fatalf("an error result must fail with no messages: %+v", r)
				}
				return
			}
			if r.Err != "" {
				t.Fatalf("unexpected Err %q", r.Err)
			}
			if !slices.Equal(r.Deny, tt.deny) || !slices.Equal(r.Warn, tt.warn) {
				t.Fatalf("deny = %+v, warn = %+v\nwant deny = %+v, warn = %+v", r.Deny, r.Warn, tt.deny, tt.warn)
			}
			if got, want := r.Failed(), len(tt.deny) > 0; got != want {
				t.Fatalf("Failed() = %v, want %v", got, want)
			}
		})
	}
}

// TestInputShape pins the input document as a policy sees it.
func TestInputShape(t *testing.T) {
	e := compileOne(t, `package atoll
warn contains json.marshal(object.remove(input, ["plan"]))
warn contains sprintf("plan %s with %d changes", [input.plan.format_version, count(input.plan.resource_changes)])`, Options{})
	rs := e.Evaluate(context.Background(), "acme/infra", "app", planInput(t, "replace_world_writable.json"))
	if len(rs) != 1 || rs[0].Err != "" {
		t.Fatalf("results = %+v", rs)
	}
	if len(rs[0].Warn) != 2 {
		t.Fatalf("warn = %+v", rs[0].Warn)
	}
	// Messages are sorted: "plan ..." before "{...}".
	var doc map[string]any
	if err := json.Unmarshal([]byte(rs[0].Warn[1].Msg), &doc); err != nil {
		t.Fatalf("second warn %q: %v", rs[0].Warn[1].Msg, err)
	}
	got, _ := json.Marshal(doc)
	want := `{"project":{"dir":"infra/app","distribution":"terraform","name":"app","workspace":"default"},` +
		`"pull_request":{"author":"alice","base":"main","changed_files":["infra/app/main.tf"],` +
		`"head_sha":"0123456789abcdef0123456789abcdef01234567","labels":["infra"],"number":7},` +
		`"repo":"acme/infra","user":"bob"}`
	if string(got) != want {
		t.Errorf("input without plan =\n%s\nwant\n%s", got, want)
	}
	if m := rs[0].Warn[0].Msg; m != "plan 1.2 with 2 changes" {
		t.Errorf("plan warn = %q", m)
	}

	// Nil slices reach policies as empty arrays, so count() works on them.
	e = compileOne(t, `package atoll
deny contains "labels are not an array" if not is_array(input.pull_request.labels)
deny contains "changed files are not an array" if not is_array(input.pull_request.changed_files)
deny contains "cannot count labels" if count(input.pull_request.labels) != 0`, Options{})
	in := planInput(t, "create.json")
	in.PullRequest = PullRequestInput{}
	if r := e.Evaluate(context.Background(), "acme/infra", "app", in)[0]; r.Failed() {
		t.Errorf("drift input (no pull request): %+v", r)
	}
}

func TestEvaluateProjectName(t *testing.T) {
	e := compileOne(t, `package atoll
deny contains sprintf("project %q is not x", [input.project.name]) if input.project.name != "x"`, Options{})
	for _, tt := range []struct {
		project string
		failed  bool
	}{{"x", false}, {"y", true}} {
		t.Run(tt.project, func(t *testing.T) {
			in := planInput(t, "create.json")
			in.Project.Name = tt.project
			r := e.Evaluate(context.Background(), "acme/infra", tt.project, in)[0]
			if r.Failed() != tt.failed || r.Err != "" {
				t.Fatalf("result = %+v, want failed=%v", r, tt.failed)
			}
		})
	}
}

func TestEvaluateFailsClosed(t *testing.T) {
	const cpuBound = `package atoll
deny contains "unreachable" if {
	some i in numbers.range(1, 3000)
	some j in numbers.range(1, 3000)
	some k in numbers.range(1, 3000)
	i + j + k < 0
}`
	const memoryBound = `package atoll
deny contains "unreachable" if count(numbers.range(1, 100000000000)) < 0`
	const walkBound = `package atoll
deny contains "unreachable" if {
	walk(numbers.range(1, 100000000000), [_, x])
	x < 0
}`
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		src  string
		opts Options
		ctx  context.Context
		in   func(*testing.T) Input
		err  string
	}{
		{name: "timeout", src: cpuBound, opts: Options{Timeout: 300 * time.Millisecond},
			err: "policy evaluation timed out after 300ms"},
		{name: "memory", src: memoryBound, opts: Options{Timeout: time.Minute, MaxMemoryBytes: 64 << 20},
			err: "memory grew by more than 64 MiB"},
		{name: "walk over a huge array", src: walkBound, opts: Options{Timeout: time.Minute, MaxMemoryBytes: 64 << 20},
			err: "memory grew by more than 64 MiB"},
		{name: "caller cancelled", src: cpuBound, ctx: cancelled, err: "policy evaluation cancelled: context canceled"},
		{name: "empty plan", src: "package atoll\ndeny contains \"x\" if false",
			in: func(*testing.T) Input { return Input{} }, err: "plan is empty"},
		{name: "plan is not an object", src: "package atoll\ndeny contains \"x\" if false",
			in: func(*testing.T) Input { return Input{Plan: json.RawMessage(`null`)} }, err: "plan is not a JSON object"},
		{name: "invalid plan JSON", src: "package atoll\ndeny contains \"x\" if false",
			in: func(*testing.T) Input { return Input{Plan: json.RawMessage(`{"format_version":`)} }, err: "invalid policy input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := compileOne(t, tt.src, tt.opts)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			in := planInput(t, "create.json")
			if tt.in != nil {
				in = tt.in(t)
			}
			// Which bound stopped it is in the error (the memory guard
			// beats the minute's timeout); no wall-clock assertion, since
			// -race on two busy cores makes any such figure flaky.
			r := e.Evaluate(ctx, "acme/infra", "app", in)[0]
			if !r.Failed() || !r.Blocking() {
				t.Fatalf("a runaway policy must fail: %+v", r)
			}
			if !strings.Contains(r.Err, tt.err) {
				t.Fatalf("Err = %q, want it to contain %q", r.Err, tt.err)
			}
		})
	}
}

func TestSetMatching(t *testing.T) {
	dir := writePolicies(t, map[string]string{"p.rego": `package atoll
deny contains "always"`})
	sets := []SetConfig{
		{Name: "all", Path: dir},
		{Name: "acme-only", Path: dir, Repos: []string{"acme/*"}, Owners: []string{"@acme/security", "carol"}, Approvals: 2},
		{Name: "prod-projects", Path: dir, Projects: []string{"prod-*", "billing"}, Enforcement: Advisory},
		{Name: "other-org", Path: dir, Repos: []string{"other/*"}},
	}
	e, err := Compile(context.Background(), sets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		repo, project string
		want          []string
	}{
		{"acme/infra", "app", []string{"all", "acme-only"}},
		{"acme/infra", "prod-eu", []string{"all", "acme-only", "prod-projects"}},
		{"other/x", "billing", []string{"all", "prod-projects", "other-org"}},
		{"acme/infra/extra", "app", []string{"all"}},
	}
	for _, tt := range tests {
		t.Run(tt.repo+" "+tt.project, func(t *testing.T) {
			rs := e.Evaluate(context.Background(), tt.repo, tt.project, planInput(t, "create.json"))
			var got []string
			for _, r := range rs {
				got = append(got, r.Set)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("sets = %v, want %v", got, tt.want)
			}
		})
	}

	rs := e.Evaluate(context.Background(), "acme/infra", "prod-eu", planInput(t, "create.json"))
	if r := rs[0]; r.Enforcement != Mandatory || r.Approvals != 1 || len(r.Owners) != 0 || !r.Blocking() {
		t.Errorf("defaults: %+v", r)
	}
	if r := rs[1]; r.Approvals != 2 || !slices.Equal(r.Owners, []string{"acme/security", "carol"}) {
		t.Errorf("owners and approvals: %+v", r)
	}
	if r := rs[2]; r.Enforcement != Advisory || !r.Failed() || r.Blocking() {
		t.Errorf("advisory: %+v", r)
	}
	if got := e.Sets(); len(got) != 4 || got[1].Owners[0] != "acme/security" || got[0].Enforcement != Mandatory {
		t.Errorf("Sets() = %+v", got)
	}
	if s, ok := e.Set("prod-projects"); !ok || s.Enforcement != Advisory {
		t.Errorf("Set(prod-projects) = %+v, %v", s, ok)
	}
	if rs := e.Evaluate(context.Background(), "nobody/x", "y", Input{}); len(rs) != 1 || rs[0].Set != "all" {
		t.Errorf("unmatched: %+v", rs)
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	e, err := Compile(context.Background(), []SetConfig{{Name: "example", Path: examplePolicies}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := planInput(t, "replace_world_writable.json")
	want := e.Evaluate(context.Background(), "acme/infra", "app", in)
	if len(want) != 1 || len(want[0].Deny) != 1 || len(want[0].Warn) != 1 {
		t.Fatalf("results = %+v", want)
	}
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			got := e.Evaluate(context.Background(), "acme/infra", "app", in)
			if len(got) != 1 || !slices.Equal(got[0].Deny, want[0].Deny) || !slices.Equal(got[0].Warn, want[0].Warn) {
				errs <- fmt.Sprintf("%+v", got)
				return
			}
			errs <- ""
		}()
	}
	for range 8 {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}
