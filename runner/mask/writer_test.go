package mask_test

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/mask"
)

// A secret split across writes is still masked: a job's log gets a custom
// step's output in pipe-sized chunks.
func TestWriterJoinsSplitSecrets(t *testing.T) {
	var out strings.Builder
	w := mask.New("hunter22", "hunter22TAIL").NewWriter(&out)
	for _, chunk := range []string{"pass: hun", "ter22TA", "IL\nnext hunter", "22"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "pass: ***\nnext ***"; out.String() != want {
		t.Errorf("log = %q, want %q", out.String(), want)
	}
}
