package main

import (
	"errors"
	"io"
	"testing"
)

// --redeliver-each takes 1 to 100; anything else is a usage error.
func TestTestdriveRedeliverEachFlag(t *testing.T) {
	tests := []struct {
		args []string
		want int
		bad  bool
	}{
		{nil, 1, false},
		{[]string{"--redeliver-each", "3"}, 3, false},
		{[]string{"--redeliver-each", "0"}, 0, true},
		{[]string{"--redeliver-each=101"}, 0, true},
	}
	for _, tc := range tests {
		m := &testdriveMain{Stderr: io.Discard}
		err := m.ParseFlags(tc.args)
		switch {
		case tc.bad && !errors.Is(err, errUsage):
			t.Errorf("%q: got %v, want a usage error", tc.args, err)
		case !tc.bad && (err != nil || m.RedeliverEach != tc.want):
			t.Errorf("%q: got %d, %v; want %d", tc.args, m.RedeliverEach, err, tc.want)
		}
	}
}
