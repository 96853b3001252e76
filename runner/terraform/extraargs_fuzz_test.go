package terraform

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzExtraArgs feeds ValidateExtraArgs argument lists (one argument per
// line of the input). Either the list is refused with an error that starts
// "extra argument" (naming the argument), or every argument normalizes to
// an allowed "-flag" or "-flag=value" token that terraform-exec can pass,
// and normalizing the normalized list changes nothing.
func FuzzExtraArgs(f *testing.F) {
	for _, s := range []string{
		"-target=module.a.b",
		"-var\nregion=eu-west-1",
		"--refresh=false\n-destroy",
		"-parallelism=0",
		"-lock-timeout=-1s",
		"-chdir=/etc",
		"-var-file=/etc/passwd",
		"-state-out\n/tmp/x",
		"plan",
		"-\n--",
		"-target",
		"-var= =x",
		"-no-color=maybe",
		"-refresh=T",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\n")
		out, err := normalizeExtraArgs(args)
		if err != nil {
			if out != nil {
				t.Fatalf("tokens %q and an error %v", out, err)
			}
			if !strings.HasPrefix(err.Error(), "extra argument ") {
				t.Fatalf("error %q does not name the argument", err)
			}
			if ValidateExtraArgs(args) == nil {
				t.Fatal("ValidateExtraArgs accepts what normalizeExtraArgs refuses")
			}
			return
		}
		for _, tok := range out {
			name, _, _ := strings.Cut(strings.TrimPrefix(tok, "-"), "=")
			if !strings.HasPrefix(tok, "-") || strings.HasPrefix(tok, "--") {
				t.Fatalf("token %q is not a single-dash flag", tok)
			}
			if _, ok := allowedArgs[name]; !ok {
				t.Fatalf("token %q is not on the allowlist", tok)
			}
			if _, err := extraPlanOption(tok); err != nil {
				t.Fatalf("token %q has no plan option: %v", tok, err)
			}
		}
		again, err := normalizeExtraArgs(out)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("normalizing %q again gave %q, %v", out, again, err)
		}
		if errors.Is(ValidateExtraArgs(args), ErrArgNotAllowed) {
			t.Fatal("ValidateExtraArgs refuses what normalizeExtraArgs accepts")
		}
	})
}
