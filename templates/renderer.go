package templates

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
)

// CommentLimit is GitHub's limit on the characters of a comment or issue
// body.
const CommentLimit = 65536

// CheckSummaryLimit is GitHub's limit on a check run's output summary.
// RenderCheckSummary returns summaries strictly shorter.
const CheckSummaryLimit = 65535

//go:embed *.tmpl
var embedded embed.FS

// Renderer renders atoll's texts from the embedded templates and the
// operator's overrides. It is safe for concurrent use.
type Renderer struct {
	t         *template.Template
	overrides []string // paths of the override files in use
}

// New parses the embedded templates. When overrideDir is not empty, each
// *.tmpl file in it replaces the embedded template of the same name (other
// files are ignored). It is an error, naming the file, when an override
// has no embedded counterpart (a typo would otherwise go unnoticed), does
// not parse, or fails to render atoll's sample data.
func New(overrideDir string) (*Renderer, error) {
	sources, err := readEmbedded()
	if err != nil {
		return nil, err
	}
	origin := make(map[string]string, len(sources)) // name -> override path
	if overrideDir != "" {
		entries, err := os.ReadDir(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("templates: reading override directory: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".tmpl") || strings.HasPrefix(name, ".") {
				continue
			}
			path := filepath.Join(overrideDir, name)
			if _, ok := sources[name]; !ok {
				return nil, fmt.Errorf("templates: override %s: no template of that name to replace (known: %s)",
					path, strings.Join(sortedKeys(sources), ", "))
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("templates: reading override: %w", err)
			}
			sources[name] = string(b)
			origin[name] = path
		}
	}

	root := template.New("atoll").Funcs(Funcs()).Option("missingkey=error")
	for _, name := range sortedKeys(sources) {
		if _, err := root.New(name).Parse(sources[name]); err != nil {
			if path, ok := origin[name]; ok {
				return nil, fmt.Errorf("templates: override %s does not parse: %w", path, err)
			}
			return nil, fmt.Errorf("templates: embedded %s does not parse: %w", name, err)
		}
	}
	r := &Renderer{t: root}
	for _, name := range sortedKeys(origin) {
		r.overrides = append(r.overrides, origin[name])
	}
	if err := r.selfTest(origin); err != nil {
		return nil, err
	}
	return r, nil
}

// Overrides lists the override files in use, for the start-up log.
func (r *Renderer) Overrides() []string { return append([]string(nil), r.overrides...) }

// selfTest renders every top-level template with sample data, so a broken
// override fails at start rather than on a pull request.
func (r *Renderer) selfTest(origin map[string]string) error {
	for _, s := range samples() {
		if _, err := r.Render(s.name, s.data); err != nil {
			var files []string
			for _, name := range sortedKeys(origin) {
				if strings.Contains(err.Error(), name) || name == s.name {
					files = append(files, origin[name])
				}
			}
			if len(files) > 0 {
				return fmt.Errorf("templates: override %s fails to render sample data (%s): %w",
					strings.Join(files, ", "), s.label, err)
			}
			if len(origin) > 0 {
				return fmt.Errorf("templates: %s fails to render sample data with overrides %s: %w",
					s.name, strings.Join(r.overrides, ", "), err)
			}
			return fmt.Errorf("templates: embedded %s fails to render sample data (%s): %w", s.name, s.label, err)
		}
	}
	return nil
}

func readEmbedded() (map[string]string, error) {
	entries, err := fs.ReadDir(embedded, ".")
	if err != nil {
		return nil, fmt.Errorf("templates: reading embedded templates: %w", err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		b, err := fs.ReadFile(embedded, e.Name())
		if err != nil {
			return nil, fmt.Errorf("templates: reading embedded templates: %w", err)
		}
		out[e.Name()] = string(b)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrUnknownTemplate is returned (wrapped) by Render for a name that is not
// a template.
var ErrUnknownTemplate = errors.New("no such template")

// Render executes the template name ("help" or "help.tmpl") with data.
// The data types of this package are prepared as their Render method does
// (a CommandComment reaches command_comment.tmpl as a CommentView). Blank
// line runs outside code blocks are collapsed to one.
func (r *Renderer) Render(name string, data any) (string, error) {
	if !strings.HasSuffix(name, ".tmpl") {
		name += ".tmpl"
	}
	t := r.t.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("templates: %q: %w", name, ErrUnknownTemplate)
	}
	var b strings.Builder
	if err := t.Execute(&b, prepare(data)); err != nil {
		return "", fmt.Errorf("templates: rendering %s: %w", name, err)
	}
	return tidy(b.String()), nil
}

// prepare turns a data type into the view its template gets.
func prepare(data any) any {
	switch d := data.(type) {
	case CommandComment:
		return newCommentView(d)
	case *CommandComment:
		return newCommentView(*d)
	case DriftIssue:
		return newDriftIssueView(d, -1)
	case *DriftIssue:
		return newDriftIssueView(*d, -1)
	case CheckSummary:
		return newCheckView(d, -1)
	case *CheckSummary:
		return newCheckView(*d, -1)
	}
	return data
}

// tidy collapses runs of blank lines outside fenced code blocks to one
// blank line, trims trailing blank lines and ends the text with a newline.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	var f fenceState
	blank := 0
	for _, line := range lines {
		inFence := f.open()
		f.feed(line)
		if !inFence && strings.TrimSpace(line) == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
			line = ""
		} else {
			blank = 0
		}
		out = append(out, line)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}

// RenderCommandComment renders the comment of a command run
// (command_comment.tmpl). The body may exceed CommentLimit: pass it to
// Split.
func (r *Renderer) RenderCommandComment(c CommandComment) (string, error) {
	return r.Render("command_comment.tmpl", c)
}

// RenderHelp renders the reply to `atoll help` (help.tmpl).
func (r *Renderer) RenderHelp(h Help) (string, error) { return r.Render("help.tmpl", h) }

// RenderCommandError renders the reply to a malformed command
// (command_error.tmpl).
func (r *Renderer) RenderCommandError(e CommandError) (string, error) {
	return r.Render("command_error.tmpl", e)
}

// RenderPermissionDenied renders the reply to a command the user may not
// run (permission_denied.tmpl).
func (r *Renderer) RenderPermissionDenied(p PermissionDenied) (string, error) {
	return r.Render("permission_denied.tmpl", p)
}

// RenderConfigError renders the reply for a broken atoll.yaml
// (config_error.tmpl).
func (r *Renderer) RenderConfigError(c ConfigError) (string, error) {
	return r.Render("config_error.tmpl", c)
}

// RenderConfigWarnings renders the keys a repository configuration sets
// that atoll does not act on (config_warnings.tmpl).
func (r *Renderer) RenderConfigWarnings(c ConfigWarnings) (string, error) {
	return r.Render("config_warnings.tmpl", c)
}

// RenderApplyRefused renders the reply to a refused apply
// (apply_refused.tmpl).
func (r *Renderer) RenderApplyRefused(a ApplyRefused) (string, error) {
	return r.Render("apply_refused.tmpl", a)
}

// RenderVersion renders the reply to `atoll version` (version.tmpl).
func (r *Renderer) RenderVersion(v Version) (string, error) { return r.Render("version.tmpl", v) }

// RenderDriftComment renders a comment on a drift issue
// (drift_comment.tmpl).
func (r *Renderer) RenderDriftComment(d DriftComment) (string, error) {
	return r.Render("drift_comment.tmpl", d)
}

// RenderDriftIssue renders a drift issue's title (drift_issue_title.tmpl,
// one line) and body (drift_issue.tmpl). The body stays under
// CommentLimit: the plan is cut, then left out (with a link to the job
// page), before the body would be too long.
func (r *Renderer) RenderDriftIssue(d DriftIssue) (IssueText, error) {
	title, err := r.execView("drift_issue_title.tmpl", newDriftIssueView(d, -1))
	if err != nil {
		return IssueText{}, err
	}
	body, err := r.fit("drift_issue.tmpl", CommentLimit-1, func(maxPlan int) any {
		return newDriftIssueView(d, maxPlan)
	})
	if err != nil {
		return IssueText{}, err
	}
	return IssueText{Title: oneline(title), Body: body}, nil
}

// RenderCheckSummary renders a check run's name, title (check_title.tmpl)
// and summary (check_summary.tmpl), the summary shorter than
// CheckSummaryLimit: the plan is cut, then left out, when it would not fit.
func (r *Renderer) RenderCheckSummary(c CheckSummary) (CheckOutput, error) {
	title, err := r.execView("check_title.tmpl", newCheckView(c, 0))
	if err != nil {
		return CheckOutput{}, err
	}
	summary, err := r.fit("check_summary.tmpl", CheckSummaryLimit-1, func(maxPlan int) any {
		return newCheckView(c, maxPlan)
	})
	if err != nil {
		return CheckOutput{}, err
	}
	return CheckOutput{Name: CheckName(c.Stage, c.Project.DisplayName()), Title: oneline(title), Summary: summary}, nil
}

// execView executes a template with a prepared view.
func (r *Renderer) execView(name string, view any) (string, error) {
	var b strings.Builder
	if err := r.t.ExecuteTemplate(&b, name, view); err != nil {
		return "", fmt.Errorf("templates: rendering %s: %w", name, err)
	}
	return tidy(b.String()), nil
}

// fit renders name with views of a shrinking plan cap until the text is at
// most limit characters: the whole plan, then cut plans, then none; as a
// last resort the text is cut with a note (never silently).
func (r *Renderer) fit(name string, limit int, view func(maxPlan int) any) (string, error) {
	out, err := r.execView(name, view(-1))
	if err != nil || len(out) <= limit {
		return out, err
	}
	for maxPlan := limit / 2; maxPlan >= 1024; maxPlan /= 2 {
		if out, err = r.execView(name, view(maxPlan)); err != nil || len(out) <= limit {
			return out, err
		}
	}
	if out, err = r.execView(name, view(0)); err != nil || len(out) <= limit {
		return out, err
	}
	const note = "\n\n… cut to fit GitHub's size limit: see the job page for the rest.\n"
	for room := limit - len(note) - 64; ; room -= 1024 {
		cut := balance(out[:validCut(out, max(room, 0))]) + note
		if len(cut) <= limit || room <= 0 {
			return cut, nil
		}
	}
}
