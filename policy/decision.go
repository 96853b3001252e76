package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Caps on one decision, so that a policy cannot flood a comment.
const (
	maxMessages     = 100  // messages kept per decision; the rest are counted in one extra message (More)
	maxMessageBytes = 4096 // longer messages are cut (at a rune boundary) and end with "…"
)

// decodeMessages decodes a deny or warn decision: a set whose members are
// strings or objects with a string "msg" and an optional string
// "resource". Messages are sorted by resource then text, and capped.
func decodeMessages(v ast.Value) ([]Message, error) {
	set, ok := v.(ast.Set)
	if !ok {
		return nil, fmt.Errorf("must be a set of messages, got %s", describe(v))
	}
	msgs := make([]Message, 0, set.Len())
	err := set.Iter(func(t *ast.Term) error {
		m, err := decodeMessage(t.Value)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(msgs, func(a, b Message) int {
		return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Msg, b.Msg))
	})
	msgs = slices.Compact(msgs) // cutting long messages may make two equal
	if n := len(msgs) - maxMessages; n > 0 {
		msgs = append(msgs[:maxMessages:maxMessages], Message{More: n})
	}
	return msgs, nil
}

// decodeDecision decodes a decision as conftest accepts it: a set (as
// decodeMessages) or an array of messages, a single message, or a boolean
// (true: one message naming no more than that the rule held).
func decodeDecision(v ast.Value) ([]Message, error) {
	switch x := v.(type) {
	case ast.Set:
		return decodeMessages(x)
	case *ast.Array:
		set := ast.NewSet()
		x.Foreach(func(t *ast.Term) { set.Add(t) })
		return decodeMessages(set)
	case ast.Boolean:
		if !x {
			return nil, nil
		}
		return []Message{{Msg: "the rule holds (it gives no message)"}}, nil
	case ast.String, ast.Object:
		return decodeMessages(ast.NewSet(ast.NewTerm(x)))
	}
	return decodeMessages(v)
}

// decodeMessage decodes one member of a decision set.
func decodeMessage(v ast.Value) (Message, error) {
	switch x := v.(type) {
	case ast.String:
		s := string(x)
		if strings.TrimSpace(s) == "" {
			return Message{}, fmt.Errorf("message is empty")
		}
		return Message{Msg: clip(s)}, nil
	case ast.Object:
		msgTerm := x.Get(ast.InternedTerm("msg"))
		if msgTerm == nil {
			return Message{}, fmt.Errorf("message object has no \"msg\": %s", short(x.String()))
		}
		msg, ok := msgTerm.Value.(ast.String)
		if !ok {
			return Message{}, fmt.Errorf("message \"msg\" must be a string, got %s", describe(msgTerm.Value))
		}
		if strings.TrimSpace(string(msg)) == "" {
			return Message{}, fmt.Errorf("message \"msg\" is empty: %s", short(x.String()))
		}
		m := Message{Msg: clip(string(msg))}
		if r := x.Get(ast.InternedTerm("resource")); r != nil {
			switch rv := r.Value.(type) {
			case ast.String:
				m.Resource = clip(string(rv))
			case ast.Null:
			default:
				return Message{}, fmt.Errorf("message \"resource\" must be a string, got %s", describe(r.Value))
			}
		}
		return m, nil
	default:
		return Message{}, fmt.Errorf("a message must be a string or an object with \"msg\", got %s", describe(v))
	}
}

// clip makes s valid UTF-8 and at most maxMessageBytes long (plus "…").
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// describe names a value's type with a short rendering, e.g. "number (42)".
func describe(v ast.Value) string {
	return fmt.Sprintf("%s (%s)", ast.ValueName(v), short(v.String()))
}

func short(s string) string {
	const limit = 80
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
