// Package templates renders everything atoll writes for people to read: the
// comment of each command run, short replies (help, errors, notices), drift
// issues and their comments, and check run summaries.
//
// Every text lives in an embedded text/template file (*.tmpl in this
// directory). An operator may replace any of them by putting a file of the
// same name in an override directory; New parses and test-renders every
// template at start, so a broken override fails the start-up and names the
// file, instead of failing on the first pull request.
//
// Each template gets one typed value, documented on its Go type, and may
// call the methods of that value and the functions listed in Funcs. Every
// reply, refusal and notice is a Message: a small struct per kind whose
// Template method names its own template (notice_*.tmpl and the others), so
// no sentence is assembled in Go and each can be overridden on its own;
// RenderMessage renders any of them. The Renderer also has one method per
// composite text (RenderCommandComment, RenderCheckSummary, ...) and the
// generic Render. Tests render every template with sample data (samples.go)
// and fail when a Message kind has no sample or a template is used by
// nothing.
//
// The package only formats. It never adds a secret, and it masks nothing:
// the caller masks secrets before it fills the data. It imports nothing of
// atoll's.
//
// Split cuts a rendered body into parts that each fit in one GitHub comment,
// on markdown boundaries, closing and reopening code fences and <details>
// blocks at every break.
package templates
