package runner

import (
	"reflect"
	"testing"

	"github.com/atollhq/atoll/templates"
)

func TestQuietPolicies(t *testing.T) {
	in := []templates.PolicyResult{{Set: "ok", Status: templates.PolicyPassed}, {Set: "warn", Status: templates.PolicyWarned},
		{Set: "bad", Status: templates.PolicyFailed}, {Set: "err", Status: templates.PolicyError}, {Set: "appr", Status: templates.PolicyApproved}}
	var got []string
	for _, p := range quietPolicies(in) {
		got = append(got, p.Set)
	}
	if !reflect.DeepEqual(got, []string{"warn", "bad", "err", "appr"}) {
		t.Fatalf("quiet policies = %v: only the sets that passed without a warning go", got)
	}
}
