package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestDecodeMessages(t *testing.T) {
	long := strings.Repeat("é", maxMessageBytes) // 2 bytes per rune
	var many []string
	for i := range maxMessages + 5 {
		many = append(many, fmt.Sprintf("%q", fmt.Sprintf("m%03d", i)))
	}
	tests := []struct {
		name string
		term string // a Rego term
		want []Message
		err  string
	}{
		{name: "empty set", term: "set()", want: []Message{}},
		{name: "strings sorted", term: `{"b", "a"}`, want: []Message{{Msg: "a"}, {Msg: "b"}}},
		{name: "objects sort by resource", term: `{{"msg": "z"}, {"msg": "a", "resource": "b.x"}, {"msg": "b", "resource": "a.x"}}`,
			want: []Message{{Msg: "z"}, {Msg: "b", Resource: "a.x"}, {Msg: "a", Resource: "b.x"}}},
		{name: "extra keys and null resource", term: `{{"msg": "m", "resource": null, "severity": 3}}`, want: []Message{{Msg: "m"}}},
		{name: "long message cut at a rune", term: fmt.Sprintf("{%q}", long),
			want: []Message{{Msg: long[:maxMessageBytes] + "…"}}},
		{name: "too many messages", term: "{" + strings.Join(many, ",") + "}"},
		{name: "array", term: `["a"]`, err: "must be a set of messages, got array"},
		{name: "boolean", term: `true`, err: "must be a set of messages, got boolean (true)"},
		{name: "number member", term: `{"a", 1}`, err: `a message must be a string or an object with "msg", got number (1)`},
		{name: "blank string", term: `{"  "}`, err: "message is empty"},
		{name: "msg not a string", term: `{{"msg": ["x"]}}`, err: `message "msg" must be a string, got array`},
		{name: "resource not a string", term: `{{"msg": "x", "resource": 1}}`, err: `message "resource" must be a string, got number`},
		{name: "blank msg", term: `{{"msg": ""}}`, err: `message "msg" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeMessages(ast.MustParseTerm(tt.term).Value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "too many messages" {
				if len(got) != maxMessages+1 || got[0].Msg != "m000" || got[maxMessages] != (Message{More: 5}) {
					t.Fatalf("got %d messages, last %+v", len(got), got[len(got)-1])
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzDecodeMessages feeds arbitrary Rego terms to the decision decoder: it
// must never panic, and what it accepts must respect the caps.
func FuzzDecodeMessages(f *testing.F) {
	for _, seed := range []string{
		`{"a", {"msg": "b", "resource": "x.y"}}`,
		`{1}`, `["a"]`, `set()`, `{{"msg": null}}`, `{{"msg": "x", "resource": {"a": 1}}}`,
		`{"\xff\xfe"}`, `{x | x := 1}`, `{input.foo}`, `{{"msg": "é"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		term, err := ast.ParseTerm(s)
		if err != nil {
			return
		}
		msgs, err := decodeMessages(term.Value)
		if err != nil {
			return
		}
		if len(msgs) > maxMessages+1 {
			t.Fatalf("%d messages", len(msgs))
		}
		for _, m := range msgs {
			if strings.TrimSpace(m.Msg) == "" {
				t.Fatalf("empty message accepted from %q", s)
			}
			for _, v := range []string{m.Msg, m.Resource} {
				if !utf8.ValidString(v) || len(v) > maxMessageBytes+len("…") {
					t.Fatalf("bad message %q", v)
				}
			}
		}
	})
}
