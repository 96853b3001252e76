package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"reflect"
	"strings"
	"sync"
	"time"
)

//go:embed pages/*.html.tmpl
var pageFS embed.FS

var (
	pagesOnce sync.Once
	pagesT    *template.Template
	pagesErr  error
)

// Page renders a web UI page (pages/NAME, html/template, so every value is
// escaped). Pages are not overridable: they are atoll's own UI.
func (r *Renderer) Page(name string, data any) ([]byte, error) {
	pagesOnce.Do(func() {
		pagesT, pagesErr = template.New("pages").Funcs(template.FuncMap{
			"short": short,
			"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
			"lower": strings.ToLower,
			"dict": func(kv ...any) map[string]any {
				m := map[string]any{}
				for i := 0; i+1 < len(kv); i += 2 {
					m[fmt.Sprint(kv[i])] = kv[i+1]
				}
				return m
			},
			"last": func(v any) any {
				rv := reflect.ValueOf(v)
				if rv.Kind() != reflect.Slice || rv.Len() == 0 {
					return nil
				}
				return rv.Index(rv.Len() - 1).Interface()
			},
		}).ParseFS(pageFS, "pages/*.html.tmpl")
	})
	if pagesErr != nil {
		return nil, fmt.Errorf("templates: pages: %w", pagesErr)
	}
	var b bytes.Buffer
	if err := pagesT.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("templates: page %s: %w", name, err)
	}
	return b.Bytes(), nil
}
