package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadPlanJSON summarizes the plan JSON bad-input corpus
// (testdata/badinput/planjson): each is refused with an error naming the
// problem, and a good plan still summarizes afterwards.
func TestBadPlanJSON(t *testing.T) {
	tests := []struct {
		file string
		want string // in the error; "" for a plan that reads
	}{
		{"empty.json", "parsing plan JSON: unexpected end of JSON input"},
		{"not_json.json", "invalid character 'T' looking for beginning of value"},
		{"truncated.json", "unexpected end of JSON input"},
		{"array.json", "cannot unmarshal array"},
		{"null.json", "format version is missing"},
		{"no_format_version.json", "format version is missing"},
		{"future_format.json", `unsupported plan format version: "2.0.0"`},
		{"format_number.json", "cannot unmarshal number into Go struct field rawPlan.format_version"},
		{"resource_changes_object.json", "cannot unmarshal object into Go struct field rawPlan.resource_changes"},
		{"actions_string.json", "cannot unmarshal string into Go struct field Change.resource_changes.change.actions"},
		{"address_number.json", "cannot unmarshal number into Go struct field ResourceChange.resource_changes.address"},
		{"outputs_list.json", "cannot unmarshal array into Go struct field rawPlan.output_changes"},
		{"deep_nesting.json", "exceeded max depth"},
		{"trailing_garbage.json", "invalid character '{' after top-level value"},
		// Invalid UTF-8 reads, as U+FFFD: the address is shown, not trusted.
		{"invalid_utf8_address.json", ""},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "badinput", "planjson", "*.json"))
	if len(files) != len(tests) {
		t.Errorf("%d files in testdata/badinput/planjson, %d cases: every file needs a case", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "badinput", "planjson", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Summarize(b)
			if tt.want == "" {
				if err != nil || s.Create != 1 || s.Creates[0] != "a.\uFFFD" {
					t.Fatalf("Summarize = %+v, %v", s, err)
				}
				return
			}
			if err == nil || s != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Summarize = %+v, %v; want an error with %q", s, err, tt.want)
			}
		})
	}
	t.Run("huge plan", func(t *testing.T) {
		const n = 30000
		var b strings.Builder
		b.WriteString(`{"format_version":"1.2","resource_changes":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"address":"terraform_data.r[%d]","mode":"managed","change":{"actions":["delete"]}}`, i)
		}
		b.WriteString(`]}`)
		start := time.Now()
		s, err := Summarize([]byte(b.String()))
		if err != nil || s.Delete != n || len(s.Deletes) != n {
			t.Fatalf("Summarize of %d deletes: %v", n, err)
		}
		if took := time.Since(start); took > 60*time.Second { // generous: -race on shared cores
			t.Errorf("took %s", took)
		}
	})
	s, err := Summarize([]byte(`{"format_version":"1.2","resource_changes":[{"address":"a.b","mode":"managed","change":{"actions":["create"]}}]}`))
	if err != nil || s.Create != 1 {
		t.Fatalf("a good plan after the bad ones: %+v, %v", s, err)
	}
}
