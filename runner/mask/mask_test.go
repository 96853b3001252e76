package mask

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

const pemKey = `-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
-----END RSA PRIVATE KEY-----
`

func TestMask(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"longest first", []string{"abcd", "abcdTAIL"}, "token=abcdTAIL.", "token=***."},
		{"longest first, added in the other order", []string{"abcdTAIL", "abcd"}, "abcd abcdTAIL", "*** ***"},
		{"overlapping secrets are hidden whole", []string{"abc1", "c1TAIL"}, "xabc1TAILx", "x***x"},
		{"overlapping occurrences of one secret", []string{"aaaa"}, "aaaaaa", "***"},
		{"every occurrence", []string{"s3cr3t"}, "s3cr3t and s3cr3t", "*** and ***"},
		{"short secrets are left", []string{"abc", ""}, "abc", "abc"},
		{"a multi-line secret whole", []string{pemKey}, "key: " + pemKey, "key: ***"},
		{"a later line of a multi-line secret alone", []string{pemKey},
			"line 2 is VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK here",
			"line 2 is *** here"},
		{"lines of a multi-line secret shown one by one", []string{"first-line-secret\r\n  second-line-secret  \n"},
			"> second-line-secret\n> first-line-secret\n", "> ***\n> ***\n"},
		{"no secret", nil, "plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.secrets...).Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNilMasker(t *testing.T) {
	var m *Masker
	m.Add("secret")
	if got := m.Mask("secret"); got != "secret" {
		t.Errorf("nil Masker changed the text: %q", got)
	}
}

func TestAddLater(t *testing.T) {
	m := New("first-secret")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Add("ghs_minted_token")
			_ = m.Mask("ghs_minted_token")
		}()
	}
	wg.Wait()
	if got := m.Mask("a ghs_minted_token and first-secret"); got != "a *** and ***" {
		t.Errorf("got %q", got)
	}
}

func TestMaskError(t *testing.T) {
	m := New("hunter22")
	cause := errors.New("git fetch https://x:hunter22@host/repo: denied")
	err := m.MaskError(cause)
	if strings.Contains(err.Error(), "hunter22") || errors.Unwrap(err) != nil {
		t.Errorf("MaskError = %v (unwrap %v)", err, errors.Unwrap(err))
	}
	plain := errors.New("nothing secret")
	if m.MaskError(plain) != plain || m.MaskError(nil) != nil {
		t.Error("MaskError changed an error without a secret")
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	m := New("webhook-secret-value")
	log := slog.New(m.Handler(slog.NewTextHandler(&buf, nil)))
	log.With("pre", "webhook-secret-value").WithGroup("g").Info("saw webhook-secret-value",
		"s", "x webhook-secret-value", "err", errors.New("e webhook-secret-value"),
		"str", stringer{"webhook-secret-value"}, "b", []byte("webhook-secret-value"),
		slog.Group("inner", "v", "webhook-secret-value"), "m", map[string]string{"k": "webhook-secret-value"}, "n", 3)
	if out := buf.String(); strings.Contains(out, "webhook-secret-value") || !strings.Contains(out, "n=3") {
		t.Errorf("log line = %s", out)
	}
}

func TestEphemeralAndPatterns(t *testing.T) {
	m := New("static-secret")
	for i := 0; i < MaxEphemeral+10; i++ {
		m.AddEphemeral(fmt.Sprintf("tok-%04d", i))
	}
	if got := m.Mask("tok-0000 tok-0265 static-secret"); got != "tok-0000 *** ***" {
		t.Errorf("got %q: the oldest ephemeral secrets are forgotten, the latest and the static ones kept", got)
	}
	if m.Len() != MaxEphemeral+1 {
		t.Errorf("Len = %d, want %d", m.Len(), MaxEphemeral+1)
	}
	m.AddPattern(GitHubToken)
	tok := "ghs_" + strings.Repeat("aB3", 13)
	if got := m.Mask("Authorization: token " + tok + "."); got != "Authorization: token ***." {
		t.Errorf("got %q: a token of GitHub's shape is masked", got)
	}
	if got := m.Mask("ghs_short and tok-0000"); got != "ghs_short and tok-0000" {
		t.Errorf("got %q: what is not a token stays", got)
	}
}
