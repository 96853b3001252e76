package terraform

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"
)

// Summary is what a plan would do, counted and listed by address. It
// never holds a value: only addresses, names and actions, so values marked
// sensitive (or not) cannot leak through it.
type Summary struct {
	// Counts of managed resources by action. A replacement counts once,
	// in Replace, not in Create or Delete; an import or a move may also
	// appear under another action (an imported object being updated).
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
	Import  int `json:"import"`
	Move    int `json:"move"`
	// Forget counts objects removed from state without being destroyed
	// (Terraform 1.7+ "removed" blocks).
	Forget int `json:"forget,omitempty"`

	// Addresses grouped by action, in the plan's order. A deposed object
	// is listed as "ADDRESS (deposed KEY)".
	Creates  []string `json:"creates,omitempty"`
	Updates  []string `json:"updates,omitempty"`
	Deletes  []string `json:"deletes,omitempty"`
	Replaces []string `json:"replaces,omitempty"`
	Imports  []string `json:"imports,omitempty"`
	Forgets  []string `json:"forgets,omitempty"`
	Moves    []Move   `json:"moves,omitempty"`

	// Outputs that change, by name (never their values), sorted.
	Outputs []OutputChange `json:"outputs,omitempty"`
	// Drifted lists the addresses of objects that changed outside
	// terraform (the plan's resource_drift).
	Drifted []string `json:"drifted,omitempty"`

	// Provisioned lists the addresses of resources the plan changes whose
	// configuration has provisioners: applying the plan may run their
	// commands, which act outside Terraform's state.
	Provisioned []string `json:"provisioned,omitempty"`

	// HasChanges is true when applying the plan would change a resource
	// (any count above is non-zero) or an output. Drift alone does not
	// count: a refresh-only plan's findings are in Drifted.
	HasChanges bool `json:"has_changes"`
}

// Move is a resource whose address changes (a "moved" block).
type Move struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// OutputChange is an output that a plan changes: Action is "create",
// "update" or "delete".
type OutputChange struct {
	Name   string `json:"name"`
	Action string `json:"action"`
}

// Summarize parses "show -json" output of a saved plan (Terraform or
// OpenTofu) with terraform-json and summarizes it. It fails on JSON that is
// not a plan in a supported format version.
func Summarize(planJSON []byte) (*Summary, error) {
	var p tfjson.Plan
	if err := json.Unmarshal(planJSON, &p); err != nil {
		return nil, fmt.Errorf("parsing plan JSON: %w", err)
	}
	return summarizePlan(&p), nil
}

// summarizePlan summarizes a plan parsed by terraform-json.
func summarizePlan(p *tfjson.Plan) *Summary {
	s := &Summary{}
	provisioned := map[string]bool{}
	if p.Config != nil {
		provisionedIn(p.Config.RootModule, "", provisioned)
	}
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		s.addResource(rc)
		if provisioned[configAddress(rc)] && !rc.Change.Actions.NoOp() && !rc.Change.Actions.Read() {
			s.Provisioned = append(s.Provisioned, rc.Address)
		}
	}
	for name, ch := range p.OutputChanges {
		if ch == nil {
			continue
		}
		if a := outputAction(ch.Actions); a != "" {
			s.Outputs = append(s.Outputs, OutputChange{Name: name, Action: a})
		}
	}
	sort.Slice(s.Outputs, func(i, j int) bool { return s.Outputs[i].Name < s.Outputs[j].Name })
	for _, rc := range p.ResourceDrift {
		if rc != nil {
			s.Drifted = append(s.Drifted, rc.Address)
		}
	}
	s.HasChanges = s.Create+s.Update+s.Delete+s.Replace+s.Import+s.Move+s.Forget > 0 || len(s.Outputs) > 0
	return s
}

// addResource counts one managed resource change.
func (s *Summary) addResource(rc *tfjson.ResourceChange) {
	addr := rc.Address
	if rc.DeposedKey != "" {
		addr = fmt.Sprintf("%s (deposed %s)", rc.Address, rc.DeposedKey)
	}
	a := rc.Change.Actions
	switch {
	case a.Replace():
		s.Replace++
		s.Replaces = append(s.Replaces, addr)
	case a.Create():
		s.Create++
		s.Creates = append(s.Creates, addr)
	case a.Update():
		s.Update++
		s.Updates = append(s.Updates, addr)
	case a.Delete():
		s.Delete++
		s.Deletes = append(s.Deletes, addr)
	case len(a) == 1 && a[0] == tfjson.ActionForget:
		s.Forget++
		s.Forgets = append(s.Forgets, addr)
	}
	if rc.Change.Importing != nil {
		s.Import++
		s.Imports = append(s.Imports, addr)
	}
	if rc.PreviousAddress != "" && rc.PreviousAddress != rc.Address {
		s.Move++
		s.Moves = append(s.Moves, Move{From: rc.PreviousAddress, To: rc.Address})
	}
}

// outputAction names an output's change, or "" for none.
func outputAction(a tfjson.Actions) string {
	switch {
	case a.Create():
		return "create"
	case a.Update():
		return "update"
	case a.Delete():
		return "delete"
	case a.Replace():
		return "update"
	}
	return ""
}

// provisionedIn adds to out the configuration addresses (module path
// without instance keys, then TYPE.NAME) of the managed resources of m and
// its child modules that have provisioners.
func provisionedIn(m *tfjson.ConfigModule, prefix string, out map[string]bool) {
	if m == nil {
		return
	}
	for _, r := range m.Resources {
		if r != nil && r.Mode == tfjson.ManagedResourceMode && len(r.Provisioners) > 0 {
			out[prefix+r.Type+"."+r.Name] = true
		}
	}
	for name, call := range m.ModuleCalls {
		if call != nil {
			provisionedIn(call.Module, prefix+"module."+name+".", out)
		}
	}
}

// instanceKey matches an instance key in an address: [0], ["a"].
var instanceKey = regexp.MustCompile(`\[[^\]]*\]`)

// configAddress is the configuration address of a resource change, as
// provisionedIn names it.
func configAddress(rc *tfjson.ResourceChange) string {
	mod := instanceKey.ReplaceAllString(rc.ModuleAddress, "")
	if mod != "" {
		mod += "."
	}
	return mod + rc.Type + "." + rc.Name
}
