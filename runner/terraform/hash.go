package terraform

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// redacted replaces a sensitive value before hashing.
const redacted = "(sensitive)"

// hashPlan is the part of a plan JSON that ResourceChangesHash reads.
type hashPlan struct {
	FormatVersion   string         `json:"format_version"`
	ResourceChanges []hashResource `json:"resource_changes"`
	ResourceDrift   []hashResource `json:"resource_drift"`
}

type hashResource struct {
	Address         string     `json:"address"`
	PreviousAddress string     `json:"previous_address"`
	Mode            string     `json:"mode"`
	Deposed         string     `json:"deposed"`
	Change          hashChange `json:"change"`
}

type hashChange struct {
	Actions        []string        `json:"actions"`
	After          json.RawMessage `json:"after"`
	AfterSensitive json.RawMessage `json:"after_sensitive"`
	Importing      json.RawMessage `json:"importing"`
}

// hashRecord is one hashed entry, in canonical form.
type hashRecord struct {
	Kind     string   `json:"k"` // "change" or "drift"
	Address  string   `json:"a"`
	Deposed  string   `json:"d,omitempty"`
	Previous string   `json:"p,omitempty"`
	Actions  []string `json:"x"`
	Import   bool     `json:"i,omitempty"`
	After    any      `json:"v"`
}

// ResourceChangesHash fingerprints what a plan would change, for drift
// detection: a hex SHA-256 over the sorted list of (address, actions,
// after-values) of every resource change that is not a no-op and of every
// resource_drift entry, with values marked sensitive replaced by a
// placeholder before hashing. No-op entries and data source reads are left
// out, so the hash does not move when unrelated, unchanged resources are
// added. Two plans of the same drift hash the same (the JSON is decoded
// and re-encoded canonically: sorted keys, numbers as written); a
// different drift, or a different change to undo it, hashes differently.
// A change only in a sensitive value does not change the hash.
func ResourceChangesHash(planJSON []byte) (string, error) {
	var p hashPlan
	if err := json.Unmarshal(planJSON, &p); err != nil {
		return "", fmt.Errorf("parsing plan JSON: %w", err)
	}
	if p.FormatVersion == "" {
		return "", fmt.Errorf("parsing plan JSON: no format_version: not a plan")
	}
	var recs []hashRecord
	add := func(kind string, rs []hashResource) error {
		for _, r := range rs {
			imported := len(r.Change.Importing) > 0 && string(r.Change.Importing) != "null"
			moved := r.PreviousAddress != "" && r.PreviousAddress != r.Address
			if r.Mode == "data" || (isNoop(r.Change.Actions) && !imported && !moved) {
				continue
			}
			after, err := redactedValue(r.Change.After, r.Change.AfterSensitive)
			if err != nil {
				return fmt.Errorf("%s: %w", r.Address, err)
			}
			recs = append(recs, hashRecord{
				Kind: kind, Address: r.Address, Deposed: r.Deposed, Previous: r.PreviousAddress,
				Actions: r.Change.Actions, Import: imported, After: after,
			})
		}
		return nil
	}
	if err := add("change", p.ResourceChanges); err != nil {
		return "", err
	}
	if err := add("drift", p.ResourceDrift); err != nil {
		return "", err
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		return a.Deposed < b.Deposed
	})
	if recs == nil {
		recs = []hashRecord{}
	}
	canon, err := json.Marshal(recs)
	if err != nil {
		return "", fmt.Errorf("encoding plan changes: %w", err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

func isNoop(actions []string) bool {
	return len(actions) == 0 || (len(actions) == 1 && actions[0] == "no-op")
}

// redactedValue decodes a value (numbers kept as written) and replaces the
// parts its sensitivity mirror marks true.
func redactedValue(value, sensitive json.RawMessage) (any, error) {
	v, err := decodeJSON(value)
	if err != nil {
		return nil, err
	}
	s, err := decodeJSON(sensitive)
	if err != nil {
		return nil, err
	}
	return redact(v, s), nil
}

func decodeJSON(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// redact returns v with every part that the mirror sens marks true
// replaced by a placeholder. sens has v's shape: true for a sensitive
// value, an object or array for a value with sensitive parts, false or
// absent otherwise.
func redact(v, sens any) any {
	switch s := sens.(type) {
	case bool:
		if s {
			return redacted
		}
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			if hasSensitive(s) {
				return redacted
			}
			return v
		}
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[k] = redact(val, s[k])
		}
		return out
	case []any:
		a, ok := v.([]any)
		if !ok {
			if hasSensitive(s) {
				return redacted
			}
			return v
		}
		out := make([]any, len(a))
		for i, val := range a {
			var si any
			if i < len(s) {
				si = s[i]
			}
			out[i] = redact(val, si)
		}
		return out
	}
	return v
}

// hasSensitive reports whether a sensitivity mirror marks anything.
func hasSensitive(sens any) bool {
	switch s := sens.(type) {
	case bool:
		return s
	case map[string]any:
		for _, v := range s {
			if hasSensitive(v) {
				return true
			}
		}
	case []any:
		for _, v := range s {
			if hasSensitive(v) {
				return true
			}
		}
	}
	return false
}
