package terraform

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateExtraArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // normalized; nil with wantErr
		// wantErr is a substring of the error; "" means no error.
		wantErr string
	}{
		{name: "none", args: nil, want: nil},
		{name: "target", args: []string{"-target=module.a.aws_s3_bucket.b"}, want: []string{"-target=module.a.aws_s3_bucket.b"}},
		{name: "two token form", args: []string{"-target", "x.y", "-replace", "a.b"}, want: []string{"-target=x.y", "-replace=a.b"}},
		{name: "double dash", args: []string{"--target=x.y"}, want: []string{"-target=x.y"}},
		{name: "var", args: []string{"-var=region=eu-west-1", "-var", "n=3"}, want: []string{"-var=region=eu-west-1", "-var=n=3"}},
		{name: "var file", args: []string{"-var-file=envs/prod.tfvars"}, want: []string{"-var-file=envs/prod.tfvars"}},
		{name: "var file in parent", args: []string{"-var-file=../common.tfvars"}, want: []string{"-var-file=../common.tfvars"}},
		{name: "refresh false", args: []string{"-refresh=false"}, want: []string{"-refresh=false"}},
		{name: "bools", args: []string{"-destroy", "-no-color", "-destroy=false"}, want: []string{"-destroy", "-no-color", "-destroy=false"}},
		{name: "parallelism", args: []string{"-parallelism=4"}, want: []string{"-parallelism=4"}},
		{name: "lock timeout", args: []string{"-lock-timeout=5m"}, want: []string{"-lock-timeout=5m"}},
		{name: "exclude", args: []string{"-exclude=a.b"}, wantErr: "-exclude: argument not allowed"},
		{name: "compact warnings", args: []string{"-compact-warnings"}, wantErr: "-compact-warnings: argument not allowed"},

		{name: "chdir", args: []string{"-chdir=/etc"}, wantErr: "-chdir"},
		{name: "plugin dir", args: []string{"-plugin-dir=/tmp/evil"}, wantErr: "-plugin-dir"},
		{name: "state", args: []string{"-state=/tmp/x"}, wantErr: "-state"},
		{name: "state out", args: []string{"-state-out", "/tmp/x"}, wantErr: "-state-out"},
		{name: "backup", args: []string{"-backup=/tmp/x"}, wantErr: "-backup"},
		{name: "backend config", args: []string{"-backend-config=access_key=AKIASECRET"}, wantErr: "-backend-config"},
		{name: "lock false", args: []string{"-lock=false"}, wantErr: "-lock"},
		{name: "out", args: []string{"-out=x"}, wantErr: "-out"},
		{name: "unknown", args: []string{"-frobnicate"}, wantErr: "-frobnicate"},
		{name: "bare word", args: []string{"plan"}, wantErr: `"plan"`},
		{name: "terminator", args: []string{"--"}, wantErr: "only flags"},
		{name: "missing value", args: []string{"-target"}, wantErr: "needs a value"},
		{name: "empty value", args: []string{"-target="}, wantErr: "needs a value"},
		{name: "bad parallelism", args: []string{"-parallelism=0"}, wantErr: "positive integer"},
		{name: "bad lock timeout", args: []string{"-lock-timeout=soon"}, wantErr: "duration"},
		{name: "bad bool", args: []string{"-refresh=maybe"}, wantErr: "true or false"},
		{name: "var without name", args: []string{"-var=oops"}, wantErr: "NAME=VALUE"},
		{name: "absolute var file", args: []string{"-var-file=/etc/passwd"}, wantErr: "relative"},
		{name: "refused after allowed", args: []string{"-target=a.b", "-chdir=x"}, wantErr: "-chdir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeExtraArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error for %q", tt.args)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not name %q", err, tt.wantErr)
				}
				if ValidateExtraArgs(tt.args) == nil {
					t.Error("ValidateExtraArgs accepted what normalizeExtraArgs refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			assertArgs(t, got, tt.want)
			if err := ValidateExtraArgs(tt.args); err != nil {
				t.Errorf("ValidateExtraArgs: %v", err)
			}
		})
	}
}

func TestValidateExtraArgsNeverQuotesValues(t *testing.T) {
	for _, args := range [][]string{
		{"-backend-config=secret_key=TOPSECRET"},
		{"-state=TOPSECRET"},
		{"-var=TOPSECRET"},
		{"-frobnicate=TOPSECRET"},
	} {
		err := ValidateExtraArgs(args)
		if err == nil {
			t.Fatalf("%q accepted", args)
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("error for %q quotes the value: %v", args, err)
		}
	}
}

func TestValidateExtraArgsWrapsSentinel(t *testing.T) {
	if err := ValidateExtraArgs([]string{"-chdir=x"}); !errors.Is(err, ErrArgNotAllowed) {
		t.Errorf("error %v does not wrap ErrArgNotAllowed", err)
	}
}

// TestEveryAllowedArgMaps: each flag of the allowlist maps onto a
// terraform-exec plan option (or, for -no-color, needs none).
func TestEveryAllowedArgMaps(t *testing.T) {
	samples := map[string]string{"var": "n=1", "parallelism": "2", "lock-timeout": "1s"}
	for name, spec := range allowedArgs {
		tok := "-" + name
		if spec.kind == argValue {
			v, ok := samples[name]
			if !ok {
				v = "x.y"
			}
			tok += "=" + v
		}
		norm, err := normalizeExtraArgs([]string{tok})
		if err != nil {
			t.Fatalf("%s: %v", tok, err)
		}
		opt, err := extraPlanOption(norm[0])
		if err != nil || (opt == nil) != (name == "no-color") {
			t.Errorf("%s: option %#v, %v", tok, opt, err)
		}
	}
	if _, err := extraPlanOption("-chdir=x"); !errors.Is(err, ErrArgNotAllowed) {
		t.Errorf("-chdir: %v", err)
	}
}
