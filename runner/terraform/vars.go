package terraform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// envVarFileName is the name of the var file envVarFile writes; terraform
// reads a var file as JSON when its name ends in .tfvars.json.
const envVarFileName = "atoll-env.tfvars.json"

// envVarFile writes the TF_VAR_ values of Config.Env that terraform would
// have used, as a JSON var file, and returns its path ("" when there are
// none) and a function that removes it. The file lives in a directory of
// its own (mode 0700, under Config.TempDir or os.TempDir, never in the
// checkout) and is
// readable by its owner alone.
//
// terraform-exec refuses TF_VAR_* in terraform's environment, and -var
// would put the values on a command line any local user can read. A var
// file has a higher precedence than the environment and warns about
// undeclared variables, so to keep the environment's meaning the file
// holds only variables the root module declares and that no
// terraform.tfvars, terraform.tfvars.json or *.auto.tfvars(.json) file in
// the project directory sets; and, as terraform does for the environment,
// a value is a string unless its variable has a type that is not
// primitive, in which case it is parsed as an HCL expression.
func (w *Workdir) envVarFile() (path string, cleanup func(), err error) {
	cleanup = func() {}
	if len(w.vars) == 0 {
		return "", cleanup, nil
	}
	declared := rootVariables(w.cfg.Dir, w.cfg.Binary.Distribution)
	set := tfvarsNames(w.cfg.Dir)
	names := make([]string, 0, len(w.vars))
	for name := range w.vars {
		if _, ok := declared[name]; ok && !set[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", cleanup, nil
	}
	sort.Strings(names)
	values := make(map[string]json.RawMessage, len(names))
	for _, name := range names {
		v, err := envVarValue(name, w.vars[name], declared[name])
		if err != nil {
			return "", cleanup, err
		}
		values[name] = v
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "", cleanup, fmt.Errorf("TF_VAR_ values: %w", err)
	}
	dir, err := os.MkdirTemp(w.cfg.TempDir, "atoll-tfvars-")
	if err != nil {
		return "", cleanup, fmt.Errorf("TF_VAR_ values: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	path = filepath.Join(dir, envVarFileName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("TF_VAR_ values: %w", err)
	}
	return path, cleanup, nil
}

// envVarValue returns the JSON of the value raw of TF_VAR_name: a string,
// or when hclMode the value of raw read as an HCL expression, as
// terraform reads the environment. Its errors never quote raw.
func envVarValue(name, raw string, hclMode bool) (json.RawMessage, error) {
	if !hclMode {
		return json.Marshal(raw)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "TF_VAR_"+name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("TF_VAR_%s: the value is not a valid HCL expression, as variable %q's type requires", name, name)
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return nil, fmt.Errorf("TF_VAR_%s: the value must be a literal (no references or functions), as variable %q's type requires", name, name)
	}
	b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("TF_VAR_%s: %w", name, err)
	}
	return b, nil
}

// rootVariables returns the variables the root module in dir declares,
// each with true when terraform parses a value from the environment as
// HCL (its type is not primitive) rather than as a string. Files that do
// not parse are read as far as they do: terraform reports them itself.
func rootVariables(dir string, dist Distribution) map[string]bool {
	out := map[string]bool{}
	files, err := configFiles(dir, dist)
	if err != nil {
		return out
	}
	parser := hclparse.NewParser()
	var overrides []string
	for _, path := range files {
		if isOverrideFile(path) {
			overrides = append(overrides, path)
			continue
		}
		fileVariables(parser, path, out, false)
	}
	for _, path := range overrides {
		fileVariables(parser, path, out, true)
	}
	return out
}

// fileVariables adds the variable blocks of one file to vars. In an
// override file, a block changes the parsing mode of a declared variable
// only when it sets a type.
func fileVariables(parser *hclparse.Parser, path string, vars map[string]bool, override bool) {
	f := parseConfigFile(parser, path)
	if f == nil {
		return
	}
	content, _, _ := f.Body.PartialContent(&hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}},
	})
	for _, block := range content.Blocks {
		name := block.Labels[0]
		attrs, _, _ := block.Body.PartialContent(&hcl.BodySchema{
			Attributes: []hcl.AttributeSchema{{Name: "type"}},
		})
		attr, typed := attrs.Attributes["type"]
		switch {
		case override && !typed:
			if _, ok := vars[name]; !ok {
				vars[name] = false
			}
		case typed:
			vars[name] = typeParsesHCL(attr.Expr)
		default:
			vars[name] = false
		}
	}
}

// typeParsesHCL reports whether terraform reads a variable of type expr
// from the environment as HCL: for every type but string, number and
// bool (and their legacy quoted forms).
func typeParsesHCL(expr hcl.Expression) bool {
	switch hcl.ExprAsKeyword(expr) {
	case "list", "map":
		return true
	}
	if ty, diags := typeexpr.TypeConstraint(expr); !diags.HasErrors() {
		return !ty.IsPrimitiveType()
	}
	if v, diags := expr.Value(nil); !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
		switch v.AsString() {
		case "string", "number", "bool":
			return false
		}
	}
	return true
}

// tfvarsNames returns the variables that terraform.tfvars,
// terraform.tfvars.json and the *.auto.tfvars(.json) files in dir set:
// they win over the environment.
func tfvarsNames(dir string) map[string]bool {
	out := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	parser := hclparse.NewParser()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(n == "terraform.tfvars" || n == "terraform.tfvars.json" ||
			strings.HasSuffix(n, ".auto.tfvars") || strings.HasSuffix(n, ".auto.tfvars.json")) {
			continue
		}
		f := parseConfigFile(parser, filepath.Join(dir, n))
		if f == nil {
			continue
		}
		attrs, _ := f.Body.JustAttributes()
		for name := range attrs {
			out[name] = true
		}
	}
	return out
}

// parseConfigFile parses an HCL or (by its .json name) JSON file; nil
// when it cannot be read at all.
func parseConfigFile(parser *hclparse.Parser, path string) *hcl.File {
	f, _ := parseFile(parser, path)
	if f == nil || f.Body == nil {
		return nil
	}
	return f
}
