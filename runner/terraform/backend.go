package terraform

import (
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// backendSchema finds the blocks of a terraform block that choose where
// state lives: backend "TYPE" { … } and cloud { … }.
var backendSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "backend", LabelNames: []string{"type"}},
	{Type: "cloud"},
}}

// HasBackend reports whether the root module in dir names a backend: a
// backend or cloud block inside a terraform block of any configuration
// file the distribution reads (configFiles: *.tf and *.tf.json, and for
// OpenTofu *.tofu and *.tofu.json), override files included, since a
// backend there sets the module's backend as well. The files are parsed
// with hashicorp/hcl, as terraform parses them, so a block in a comment,
// in a string or in a heredoc does not count, and a JSON file's
// {"terraform": {"backend": {…}}} does.
//
// Files whose base names are in skip are not read (atoll's own backend
// file, so that the answer is the same each time a job asks).
//
// A file that does not parse is skipped, not reported: terraform itself
// rejects it at init with its own diagnostics, which say more to the user
// than an error here would, and nothing is planned or applied before that.
// The error is for a dir that cannot be read.
func HasBackend(dir string, dist Distribution, skip ...string) (bool, error) {
	files, err := configFiles(dir, dist)
	if err != nil {
		return false, err
	}
	parser := hclparse.NewParser()
	for _, path := range files {
		if slices.Contains(skip, filepath.Base(path)) {
			continue
		}
		f, diags := parseFile(parser, path)
		if diags.HasErrors() || f == nil {
			continue // a syntax error: terraform init reports it
		}
		if fileHasBackend(f) {
			return true, nil
		}
	}
	return false, nil
}

// fileHasBackend reports whether one parsed file has a backend or cloud
// block in one of its terraform blocks.
func fileHasBackend(f *hcl.File) bool {
	content, _, _ := f.Body.PartialContent(&hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}},
	})
	if content == nil {
		return false
	}
	for _, tb := range content.Blocks {
		inner, _, _ := tb.Body.PartialContent(backendSchema)
		if inner != nil && len(inner.Blocks) > 0 {
			return true
		}
	}
	return false
}
