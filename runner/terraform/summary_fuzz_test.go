package terraform

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzSummarize feeds Summarize arbitrary JSON. Either it fails with an
// error saying the plan JSON could not be read, or its summary is
// consistent: every count equals the length of its address list,
// HasChanges says whether anything changes, outputs are sorted, and the
// summary survives a JSON round trip.
func FuzzSummarize(f *testing.F) {
	for _, s := range []string{
		`{"format_version":"1.2","terraform_version":"1.5.7"}`,
		`{"format_version":"1.2","resource_changes":[{"address":"a.b","mode":"managed","type":"a","name":"b","change":{"actions":["create"]}}]}`,
		`{"format_version":"1.2","resource_changes":[{"address":"a.b","mode":"managed","change":{"actions":["delete","create"]}},{"address":"a.c","previous_address":"a.old","mode":"managed","change":{"actions":["no-op"],"importing":{"id":"x"}}}]}`,
		`{"format_version":"1.2","resource_changes":[{"address":"a.b","deposed":"00ab","mode":"managed","change":{"actions":["delete"]}},{"address":"d.e","mode":"data","change":{"actions":["read"]}},null,{"address":"f.g","mode":"managed"}]}`,
		`{"format_version":"1.2","output_changes":{"z":{"actions":["update"]},"a":{"actions":["create"]},"n":null},"resource_drift":[{"address":"x.y","mode":"managed","change":{"actions":["update"]}},null]}`,
		`{"format_version":"1.2","resource_changes":[{"address":"r.f","mode":"managed","change":{"actions":["forget"]}}]}`,
		`{"format_version":"9.0"}`,
		`{"format_version":1}`,
		`{}`,
		`[]`,
		`{"format_version":"1.2","resource_changes":{}}`,
		`{"format_version":"1.2",`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := Summarize(doc)
		if err != nil {
			if s != nil {
				t.Fatal("a summary and an error")
			}
			if !strings.HasPrefix(err.Error(), "parsing plan JSON: ") {
				t.Fatalf("error %q does not say the plan JSON is unreadable", err)
			}
			return
		}
		for _, c := range []struct {
			name  string
			count int
			n     int
		}{
			{"create", s.Create, len(s.Creates)}, {"update", s.Update, len(s.Updates)},
			{"delete", s.Delete, len(s.Deletes)}, {"replace", s.Replace, len(s.Replaces)},
			{"import", s.Import, len(s.Imports)}, {"move", s.Move, len(s.Moves)},
			{"forget", s.Forget, len(s.Forgets)},
		} {
			if c.count != c.n {
				t.Fatalf("%s: count %d, %d addresses", c.name, c.count, c.n)
			}
		}
		total := s.Create + s.Update + s.Delete + s.Replace + s.Import + s.Move + s.Forget
		if s.HasChanges != (total > 0 || len(s.Outputs) > 0) {
			t.Fatalf("HasChanges %v with %d resource changes and %d outputs", s.HasChanges, total, len(s.Outputs))
		}
		for i, o := range s.Outputs {
			if i > 0 && s.Outputs[i-1].Name > o.Name {
				t.Fatalf("outputs not sorted: %q before %q", s.Outputs[i-1].Name, o.Name)
			}
			if o.Action != "create" && o.Action != "update" && o.Action != "delete" {
				t.Fatalf("output %q: action %q", o.Name, o.Action)
			}
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Summary
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(normalize(back), normalize(*s)) {
			t.Fatalf("JSON round trip changed the summary: %v\n%+v\n%+v", err, back, *s)
		}
	})
}

// normalize makes empty lists nil, as omitempty round-trips them.
func normalize(s Summary) Summary {
	for _, l := range []*[]string{&s.Creates, &s.Updates, &s.Deletes, &s.Replaces, &s.Imports, &s.Forgets, &s.Drifted} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if len(s.Moves) == 0 {
		s.Moves = nil
	}
	if len(s.Outputs) == 0 {
		s.Outputs = nil
	}
	return s
}
