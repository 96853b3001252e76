package runner

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/mask"
)

func TestMaskingWriterJoinsSplitSecrets(t *testing.T) {
	var out strings.Builder
	m := mask.New("hunter22", "hunter22TAIL")
	w := &maskingWriter{w: &out, mask: m.Mask}
	for _, chunk := range []string{"pass: hun", "ter22TA", "IL\nnext hunter", "22"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if want := "pass: ***\nnext ***"; out.String() != want {
		t.Errorf("log = %q, want %q", out.String(), want)
	}
}
