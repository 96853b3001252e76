package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/atollhq/atoll/policy"
)

// Compile a policy set once at start-up, then judge a plan with it.
// testdata/input.json is the input document the policies see.
func Example() {
	ctx := context.Background()
	engine, err := policy.Compile(ctx, []policy.SetConfig{{
		Name:        "example",
		Path:        "testdata/policies/example",
		Owners:      []string{"acme/security"},
		Enforcement: policy.Mandatory,
		Repos:       []string{"acme/*"},
	}}, policy.Options{})
	if err != nil {
		log.Fatal(err) // a syntax error names file and line; the server must not start
	}

	doc, err := os.ReadFile("testdata/input.json")
	if err != nil {
		log.Fatal(err)
	}
	var in policy.Input
	if err := json.Unmarshal(doc, &in); err != nil {
		log.Fatal(err)
	}

	for _, r := range engine.Evaluate(ctx, in.Repo, in.Project.Name, in) {
		fmt.Printf("%s (%s): failed=%v blocking=%v, %d approval from %v\n",
			r.Set, r.Enforcement, r.Failed(), r.Blocking(), r.Approvals, r.Owners)
		for _, m := range r.Deny {
			fmt.Printf("  deny %s: %s\n", m.Resource, m.Msg)
		}
		for _, m := range r.Warn {
			fmt.Printf("  warn %s: %s\n", m.Resource, m.Msg)
		}
	}
	// Output:
	// example (mandatory): failed=true blocking=true, 1 approval from [acme/security]
	//   deny local_file.config: ./out/config.txt would be world-writable (mode 0777)
	//   warn terraform_data.build: will be destroyed
}
