package discovery

import (
	"reflect"
	"testing"
)

func TestModuleSources(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"none", `resource "x" "y" {}`, nil},
		{"simple", "module \"vpc\" {\n  source = \"../modules/vpc\"\n  cidr = \"10.0.0.0/16\"\n}\n", []string{"../modules/vpc"}},
		{"single line", `module "a" { source = "./a" }`, []string{"./a"}},
		{"legacy label", "module vpc {\n source = \"./v\"\n}\n", []string{"./v"}},
		{"two blocks", "module \"a\" {\n source = \"./a\"\n}\nmodule \"b\" {\n  version = \"1\"\n  source  = \"hashicorp/b/aws\"\n}\n", []string{"./a", "hashicorp/b/aws"}},
		{"nested source ignored", "module \"a\" {\n source = \"./a\"\n tags = {\n  source = \"./nope\"\n }\n}\n", []string{"./a"}},
		{"source outside module", "resource \"x\" \"y\" {\n source = \"./nope\"\n}\n", nil},
		{"comments", "# module \"x\" {\n// source = \"./c1\"\n/* module \"y\" { source = \"./c2\" } */\nmodule \"z\" {\n  # source = \"./c3\"\n  source = \"./real\" // trailing\n}\n", []string{"./real"}},
		{"heredoc with braces", "locals {\n  x = <<-EOT\n    module \"fake\" {\n    }\n  EOT\n}\nmodule \"m\" {\n  source = \"./m\"\n}\n", []string{"./m"}},
		{"strings with braces", "locals {\n  a = \"}}}${jsonencode({x = \"}\"})}\"\n}\nmodule \"m\" {\n  source = \"./m\"\n}\n", []string{"./m"}},
		{"interpolated source skipped", "module \"m\" {\n  source = \"./${var.x}\"\n}\nmodule \"n\" {\n source = \"./n\"\n}\n", []string{"./n"}},
		{"equality is not assignment", "module \"m\" {\n  source == \"./x\"\n}\n", nil},
		{"module as attribute in block", "terraform {\n  module = \"x\"\n}\nmodule \"m\" {\n source = \"./ok\"\n}\n", []string{"./ok"}},
		{"unterminated", "module \"m\" {\n  source = \"./m", nil},
		{"crlf", "module \"m\" {\r\n  source = \"./m\"\r\n}\r\n", []string{"./m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := moduleSources([]byte(tt.src))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("moduleSources = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestModuleSourcesJSON(t *testing.T) {
	src := `{"module": {"a": {"source": "./a"}, "b": [{"source": "../b"}]}, "resource": {}}`
	got := moduleSourcesJSON([]byte(src))
	if len(got) != 2 {
		t.Fatalf("got %q, want two sources", got)
	}
	if moduleSourcesJSON([]byte(`{"module": 5}`)) != nil {
		t.Error("bad JSON gave sources")
	}
}

func FuzzModuleSources(f *testing.F) {
	f.Add("module \"a\" {\n source = \"./a\"\n}\n")
	f.Add("x = <<EOT\n}\nEOT\n")
	f.Add("a = \"${\"}\"}\"")
	f.Fuzz(func(t *testing.T, src string) {
		moduleSources([]byte(src)) // must not panic or hang
	})
}
