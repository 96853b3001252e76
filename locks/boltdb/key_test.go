package boltdb

import (
	"bytes"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks"
)

func TestEncodeKey(t *testing.T) {
	tests := []struct {
		name string
		key  locks.Key
		want string // encoded, "\x00"-separated; "" when invalid
	}{
		{"plain", locks.Key{Repo: "o/r", Dir: "infra/prod", Workspace: "default"}, "o/r\x00infra/prod\x00default"},
		{"root dir", locks.Key{Repo: "o/r", Dir: ".", Workspace: "default"}, "o/r\x00.\x00default"},
		{"empty dir is the root", locks.Key{Repo: "o/r", Dir: "", Workspace: "default"}, "o/r\x00.\x00default"},
		{"dot slash is the root", locks.Key{Repo: "o/r", Dir: "./", Workspace: "default"}, "o/r\x00.\x00default"},
		{"trailing slash cleaned", locks.Key{Repo: "o/r", Dir: "a/b/", Workspace: "ws"}, "o/r\x00a/b\x00ws"},
		{"dot segments cleaned", locks.Key{Repo: "o/r", Dir: "./a//c/../b", Workspace: "ws"}, "o/r\x00a/b\x00ws"},
		{"unicode", locks.Key{Repo: "o/r", Dir: "régions/東京", Workspace: "prod"}, "o/r\x00régions/東京\x00prod"},
		{"empty repo", locks.Key{Repo: "", Dir: "a", Workspace: "default"}, ""},
		{"empty workspace", locks.Key{Repo: "o/r", Dir: "a", Workspace: ""}, ""},
		{"NUL in repo", locks.Key{Repo: "o/\x00r", Dir: "a", Workspace: "default"}, ""},
		{"NUL in dir", locks.Key{Repo: "o/r", Dir: "a\x00b", Workspace: "default"}, ""},
		{"NUL in workspace", locks.Key{Repo: "o/r", Dir: "a", Workspace: "d\x00"}, ""},
		{"too long", locks.Key{Repo: "o/r", Dir: strings.Repeat("d", 40000), Workspace: "default"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeKey(tt.key)
			if tt.want == "" {
				if !errors.Is(err, locks.ErrInvalid) {
					t.Fatalf("encodeKey(%q) = %q, %v; want ErrInvalid", tt.key, got, err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("encodeKey(%q) = %q, %v; want %q", tt.key, got, err, tt.want)
			}
			back, err := decodeKey(got)
			if err != nil || back != tt.key.Canonical() {
				t.Fatalf("decodeKey(%q) = %q, %v; want %q", got, back, err, tt.key.Canonical())
			}
		})
	}
}

func TestDecodeKeyRejects(t *testing.T) {
	for _, raw := range []string{
		"",
		"o/r",
		"o/r\x00dir",
		"o/r\x00dir\x00ws\x00extra",
		"\x00dir\x00ws",
		"o/r\x00dir\x00",
		"o/r\x00\x00ws",
		"o/r\x00a/\x00ws",  // not clean
		"o/r\x00./a\x00ws", // not clean
	} {
		t.Run(raw, func(t *testing.T) {
			if k, err := decodeKey([]byte(raw)); !errors.Is(err, locks.ErrInvalid) {
				t.Errorf("decodeKey(%q) = %q, %v; want ErrInvalid", raw, k, err)
			}
		})
	}
}

// FuzzKeyRoundTrip checks that encoding is injective on canonical keys and
// that decoding accepts exactly the encodings: decode(encode(k)) is k with
// Dir cleaned, and encode(decode(b)) is b.
func FuzzKeyRoundTrip(f *testing.F) {
	f.Add("o/r", "infra/prod", "default")
	f.Add("o/r", "", "ws")
	f.Add("o/r", "../a/./b//", "ws")
	f.Add("a\x00b", "c", "d")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, repo, dir, workspace string) {
		k := locks.Key{Repo: repo, Dir: dir, Workspace: workspace}
		enc, err := encodeKey(k)
		if err != nil {
			if !errors.Is(err, locks.ErrInvalid) {
				t.Fatalf("encodeKey(%q): %v, not ErrInvalid", k, err)
			}
			c := k.Canonical()
			if c.Repo != "" && c.Workspace != "" && !strings.ContainsRune(repo+c.Dir+workspace, 0) &&
				len(c.Repo)+len(c.Dir)+len(c.Workspace)+2 <= 32768 {
				t.Fatalf("encodeKey(%q) rejected a valid key: %v", k, err)
			}
			// The same bytes, read as an encoded key, are rejected too.
			if _, err := decodeKey([]byte(repo + "\x00" + dir + "\x00" + workspace)); err == nil {
				t.Fatalf("decodeKey accepted the parts of an invalid key %q", k)
			}
			return
		}
		dec, err := decodeKey(enc)
		if err != nil {
			t.Fatalf("decodeKey(encodeKey(%q) = %q): %v", k, enc, err)
		}
		if want := (locks.Key{Repo: repo, Dir: path.Clean(dir), Workspace: workspace}); dec != want {
			t.Fatalf("decodeKey(encodeKey(%q)) = %q, want %q", k, dec, want)
		}
		again, err := encodeKey(dec)
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("encodeKey(decodeKey(%q)) = %q, %v", enc, again, err)
		}
	})
}

// FuzzDecodeKey feeds arbitrary bytes to decodeKey: whatever it accepts
// must encode back to the same bytes.
func FuzzDecodeKey(f *testing.F) {
	f.Add([]byte("o/r\x00.\x00default"))
	f.Add([]byte("o/r\x00a/\x00default"))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := decodeKey(b)
		if err != nil {
			return
		}
		enc, err := encodeKey(k)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("decodeKey(%q) = %q, but encodeKey gives %q, %v", b, k, enc, err)
		}
	})
}
