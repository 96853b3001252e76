package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/atollhq/atoll/runner/safefs"
)

// configFiles lists the root-module files of dir the distribution reads,
// sorted: *.tf and *.tf.json, and for OpenTofu also *.tofu and *.tofu.json,
// which hide a .tf file of the same name.
func configFiles(dir string, dist Distribution) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "#") || strings.HasSuffix(n, "~") {
			continue // editor files, as terraform skips them
		}
		switch {
		case strings.HasSuffix(n, ".tf"), strings.HasSuffix(n, ".tf.json"):
			names[n] = true
		case dist == OpenTofu && (strings.HasSuffix(n, ".tofu") || strings.HasSuffix(n, ".tofu.json")):
			names[n] = true
		}
	}
	var files []string
	for n := range names {
		if dist == OpenTofu {
			if base, ok := strings.CutSuffix(n, ".tf"); ok && names[base+".tofu"] {
				continue
			}
			if base, ok := strings.CutSuffix(n, ".tf.json"); ok && names[base+".tofu.json"] {
				continue
			}
		}
		files = append(files, filepath.Join(dir, n))
	}
	sort.Strings(files)
	return files, nil
}

// isOverrideFile reports terraform's override files (override.tf,
// x_override.tf and their JSON and .tofu forms).
func isOverrideFile(path string) bool {
	n := filepath.Base(path)
	for _, ext := range []string{".tf.json", ".tofu.json", ".tf", ".tofu"} {
		if base, ok := strings.CutSuffix(n, ext); ok {
			return base == "override" || strings.HasSuffix(base, "_override")
		}
	}
	return false
}

// requiredVersion reads the required_version constraints of the
// terraform blocks in the root module in dir, with hashicorp/hcl. Several
// blocks all apply; a required_version in an override file replaces the
// others, as in terraform. It returns nil when no block sets one. A file
// that does not parse is skipped: terraform itself rejects it at init,
// with its own diagnostics, which say more to the user than a failure to
// pick a binary would.
func requiredVersion(dir string, dist Distribution) (version.Constraints, error) {
	files, err := configFiles(dir, dist)
	if err != nil {
		return nil, fmt.Errorf("reading required_version: %w", err)
	}
	parser := hclparse.NewParser()
	var base, override version.Constraints
	for _, path := range files {
		f, diags := parseFile(parser, path)
		if diags.HasErrors() {
			continue // a syntax error: terraform init reports it
		}
		cs, err := fileRequiredVersion(f)
		if err != nil {
			return nil, fmt.Errorf("reading required_version in %s: %w", filepath.Base(path), err)
		}
		if isOverrideFile(path) && cs != nil {
			override = cs
		} else {
			base = append(base, cs...)
		}
	}
	if override != nil {
		return override, nil
	}
	return base, nil
}

// fileRequiredVersion reads required_version from the terraform blocks of
// one parsed file.
func fileRequiredVersion(f *hcl.File) (version.Constraints, error) {
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}},
	})
	if diags.HasErrors() {
		return nil, diags
	}
	var out version.Constraints
	for _, block := range content.Blocks {
		attrs, _, diags := block.Body.PartialContent(&hcl.BodySchema{
			Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
		})
		if diags.HasErrors() {
			return nil, diags
		}
		attr, ok := attrs.Attributes["required_version"]
		if !ok {
			continue
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diags
		}
		if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			return nil, fmt.Errorf("%s: required_version must be a string", attr.Range)
		}
		cs, err := version.NewConstraint(v.AsString())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", attr.Range, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// exactVersion returns the version a constraint pins, when it allows
// exactly one ("1.5.7" or "= 1.5.7").
func exactVersion(cs version.Constraints) (*version.Version, bool) {
	if len(cs) != 1 {
		return nil, false
	}
	s := strings.TrimSpace(cs[0].String())
	s = strings.TrimSpace(strings.TrimPrefix(s, "="))
	if s == "" || strings.ContainsAny(s, "<>!~=") {
		return nil, false
	}
	v, err := version.NewVersion(s)
	if err != nil {
		return nil, false
	}
	return v, true
}

// parseFile parses the HCL or (by its .json name) JSON configuration file
// at path, read with safefs.ReadRegular: a file the pull request made a
// symlink to a device or a FIFO fails with a diagnostic instead of
// blocking atoll.
func parseFile(parser *hclparse.Parser, path string) (*hcl.File, hcl.Diagnostics) {
	src, err := safefs.ReadRegular(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to read file", Detail: err.Error()}}
	}
	if strings.HasSuffix(path, ".json") {
		return parser.ParseJSON(src, path)
	}
	return parser.ParseHCL(src, path)
}
