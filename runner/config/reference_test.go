package config

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated tables of README.md")

// TestReference checks that the key tables of README.md match the code;
// `go test ./runner/config -run TestReference -update` rewrites them.
func TestReference(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	got := doc
	for name, table := range map[string]string{"server": serverTable(), "repo": repoTable()} {
		re := regexp.MustCompile(`(?s)(<!-- BEGIN GENERATED: ` + name + ` -->\n).*?(<!-- END GENERATED: ` + name + ` -->)`)
		if !re.MatchString(got) {
			t.Fatalf("README.md lacks the %s markers", name)
		}
		got = re.ReplaceAllLiteralString(got, "<!-- BEGIN GENERATED: "+name+" -->\n"+table+"<!-- END GENERATED: "+name+" -->")
	}
	if got == doc {
		return
	}
	if *update {
		if err := os.WriteFile("../../README.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md is out of date: run go test ./runner/config -run TestReference -update")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func serverTable() string {
	var b strings.Builder
	b.WriteString("| Key | Environment variable / flag | Type | Default | Description |\n|---|---|---|---|---|\n")
	for _, k := range Keys() {
		set := "file only"
		if k.Env != "" {
			set = fmt.Sprintf("`%s`<br>`--%s`", k.Env, k.Flag)
		}
		typ := k.Type
		if k.Secret {
			typ += " (secret)"
		}
		def := ""
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Path, set, typ, cell(def), cell(k.Doc))
	}
	return b.String()
}

func repoTable() string {
	var b strings.Builder
	b.WriteString("| Key | Type | Description |\n|---|---|---|\n")
	for _, k := range repoKeys() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Path, k.Type, cell(k.Doc))
	}
	return b.String()
}

func TestRepoDocsCoverKeys(t *testing.T) {
	found := map[string]bool{}
	for _, k := range repoKeys() {
		found[k.Path] = true
		if k.Doc == "" {
			t.Errorf("atoll.yaml key %s has no documentation in repoDocs", k.Path)
		}
	}
	for path := range repoDocs {
		if !found[path] {
			t.Errorf("repoDocs documents %s, which is not a key", path)
		}
	}
}

// TestReferenceExamples parses the YAML examples of README.md.
func TestReferenceExamples(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- example: (\\w+) -->\n```yaml\n(.*?)```")
	examples := re.FindAllStringSubmatch(string(data), -1)
	if len(examples) < 2 {
		t.Fatalf("found %d examples, want the server's and atoll.yaml's", len(examples))
	}
	for _, ex := range examples {
		kind, body := ex[1], ex[2]
		t.Run(kind, func(t *testing.T) {
			switch kind {
			case "server":
				errs := &errList{}
				s := DefaultServer()
				s.src = sources{}
				root := parseYAML("example.yaml", []byte(body), errs)
				(&decoder{file: "example.yaml", errs: errs, src: s.src}).decode(root, reflect.ValueOf(&s).Elem(), "")
				s.GitHub.PrivateKey, s.GitHub.WebhookSecret = fakePEM, "x" // read from files in real life
				s.fillDerived()
				if err := errs.err(); err != nil {
					t.Fatal(err)
				}
				if err := s.Validate(); err != nil {
					t.Fatal(err)
				}
			case "repo":
				srv := DefaultServer()
				srv.RepoMayRelax = []Requirement{Approved}
				srv.Drift.RepoOverride = true
				if _, err := ParseRepo("atoll.yaml", []byte(body), srv); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("unknown example kind %q", kind)
			}
		})
	}
}
