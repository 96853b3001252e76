package terraform

import (
	"strings"
	"sync"
	"testing"

	"github.com/atollhq/atoll/runner/mask"
)

func TestMasker(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{name: "none", in: "a secret", want: "a secret"},
		{name: "empty secret ignored", secrets: []string{""}, in: "abc", want: "abc"},
		{name: "every occurrence", secrets: []string{"s3cr3t"}, in: "s3cr3t and s3cr3t", want: "*** and ***"},
		{name: "longest first", secrets: []string{"abcd", "abcdef"}, in: "x abcdef y abcd", want: "x *** y ***"},
		{name: "shorter than mask.MinLen left", secrets: []string{"abc"}, in: "abc", want: "abc"},
		{name: "shared masker", secrets: []string{"abcd"}, in: "abcdTAIL", want: "***"},
		{name: "pem lines", secrets: []string{"-----BEGIN KEY-----\nMIIEpAIBAAKCAQEA\nshort\n-----END KEY-----"}, in: "key: MIIEpAIBAAKCAQEA short", want: "key: *** short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var shared *mask.Masker
			if strings.HasPrefix(tt.name, "shared") {
				shared = mask.New("abcdTAIL")
			}
			if got := newMasker(tt.secrets, shared).mask(tt.in); got != tt.want {
				t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLineWriterMasksAcrossWrites(t *testing.T) {
	var out strings.Builder
	sink := &lineSink{mu: &sync.Mutex{}, out: &out}
	w := &lineWriter{sink: sink, mask: newMasker([]string{"hunter22"}, nil), keep: true}
	for _, chunk := range []string{"pass: hun", "ter22\r\nnext", " line\nlast"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	w.flush()
	if want := "pass: ***\nnext line\nlast\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if got := sink.tail.String(); got != "pass: ***\nnext line\nlast" {
		t.Errorf("tail %q", got)
	}
}

func TestTailKeepsLastLines(t *testing.T) {
	var tl tail
	line := strings.Repeat("x", 1000)
	for i := 0; i < 100; i++ {
		tl.add(line)
	}
	tl.add("the end")
	s := tl.String()
	if len(s) > maxTail || !strings.HasSuffix(s, "the end") {
		t.Errorf("tail of %d bytes ending %q", len(s), s[len(s)-10:])
	}
}

func TestStripANSI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[1m\x1b[32m+\x1b[0m\x1b[0m create", "+ create"},
		{"\x1b[31mError:\x1b[0m x", "Error: x"},
		{"a\x1b]0;title\x07b", "ab"},
		{"a\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"\x1b[2K\x1b[1Gdone", "done"},
	}
	for _, tt := range tests {
		if got := StripANSI(tt.in); got != tt.want {
			t.Errorf("StripANSI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
