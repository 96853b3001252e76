package terraform

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// TestResolveInstalled covers the explicit path and installed binaries on
// PATH and under the data dir, with constraints from config and from
// required_version.
func TestResolveInstalled(t *testing.T) {
	tf := requireBinary(t, Terraform)
	tofu := requireBinary(t, OpenTofu)
	toolsBin := filepath.Dir(tf.Path)

	dataDir := t.TempDir()
	installed := filepath.Join(dataDir, "terraform", "1.5.7", "terraform")
	if err := os.MkdirAll(filepath.Dir(installed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tf.Path, installed); err != nil {
		t.Fatal(err)
	}
	// An older "version" directory that must lose to the newer one.
	if err := os.MkdirAll(filepath.Join(dataDir, "terraform", "1.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	project := writeFiles(t, map[string]string{"versions.tf": `terraform { required_version = "~> 1.5.0" }`})
	tooNew := writeFiles(t, map[string]string{"versions.tf": `terraform { required_version = ">= 99.0" }`})
	emptyPath := t.TempDir()

	tests := []struct {
		name     string
		path     string // PATH for the test
		opts     ResolveOptions
		wantPath string
		wantVer  string
		wantErr  string
	}{
		{name: "explicit path", path: emptyPath, opts: ResolveOptions{ExplicitPath: tf.Path}, wantPath: tf.Path, wantVer: "1.5.7"},
		{name: "explicit path that does not run", path: emptyPath, opts: ResolveOptions{ExplicitPath: "/nonexistent/terraform"}, wantErr: "explicit path"},
		{name: "PATH with required_version", path: toolsBin, opts: ResolveOptions{ProjectDir: project}, wantPath: tf.Path, wantVer: "1.5.7"},
		{name: "PATH any version", path: toolsBin, opts: ResolveOptions{}, wantPath: tf.Path, wantVer: "1.5.7"},
		{name: "data dir", path: emptyPath, opts: ResolveOptions{DataDir: dataDir, VersionConstraint: "1.5.7"}, wantPath: installed, wantVer: "1.5.7"},
		{name: "data dir with required_version", path: emptyPath, opts: ResolveOptions{DataDir: dataDir, ProjectDir: project}, wantPath: installed, wantVer: "1.5.7"},
		{name: "config pin wins over required_version", path: toolsBin, opts: ResolveOptions{ProjectDir: tooNew, VersionConstraint: ">= 1.5"}, wantPath: tf.Path, wantVer: "1.5.7"},
		{name: "nothing satisfies, downloads off", path: toolsBin, opts: ResolveOptions{DataDir: dataDir, ProjectDir: tooNew, NoDownload: true}, wantErr: "downloads are off"},
		{name: "nothing satisfies, no data dir", path: toolsBin, opts: ResolveOptions{ProjectDir: tooNew}, wantErr: "no data dir"},
		{name: "bad constraint", path: toolsBin, opts: ResolveOptions{VersionConstraint: "soon"}, wantErr: "version constraint"},
		{name: "tofu on PATH", path: toolsBin, opts: ResolveOptions{Distribution: OpenTofu}, wantPath: tofu.Path, wantVer: tofu.Version},
		{name: "tofu dev build judged by core version", path: toolsBin, opts: ResolveOptions{Distribution: OpenTofu, VersionConstraint: ">= 1.10.0"}, wantPath: tofu.Path, wantVer: tofu.Version},
		{name: "tofu never downloaded", path: toolsBin, opts: ResolveOptions{Distribution: OpenTofu, DataDir: dataDir, VersionConstraint: ">= 99"}, wantErr: "cannot download OpenTofu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			got, err := Resolve(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Binary{Path: tt.wantPath, Version: tt.wantVer, Distribution: tt.opts.Distribution.orDefault()}
			if got != want {
				t.Errorf("Resolve = %+v, want %+v", got, want)
			}
		})
	}
}

// releasesMirror serves, like releases.hashicorp.com, a terraform release
// made of the binary at bin, with SHA256SUMS signed by signer.
type releasesMirror struct {
	*httptest.Server
	archiveHits atomic.Int32
}

// newReleasesMirror zips bin and serves it as terraform version ver.
func newReleasesMirror(t *testing.T, bin, ver string, signer *openpgp.Entity) *releasesMirror {
	t.Helper()
	zipName := fmt.Sprintf("terraform_%s_%s_%s.zip", ver, runtime.GOOS, runtime.GOARCH)
	zipPath := filepath.Join(t.TempDir(), zipName)
	writeZip(t, zipPath, bin)
	sum := fileSHA256(t, zipPath)
	sums := fmt.Sprintf("%s  %s\n", sum, zipName)
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, signer, strings.NewReader(sums), nil); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/terraform/%s/", ver)
	versionIndex := map[string]any{
		"name": "terraform", "version": ver,
		"shasums":            fmt.Sprintf("terraform_%s_SHA256SUMS", ver),
		"shasums_signature":  fmt.Sprintf("terraform_%s_SHA256SUMS.sig", ver),
		"shasums_signatures": []string{fmt.Sprintf("terraform_%s_SHA256SUMS.sig", ver)},
		"builds": []map[string]string{{
			"name": "terraform", "version": ver, "os": runtime.GOOS, "arch": runtime.GOARCH,
			"filename": zipName, "url": "https://releases.example" + base + zipName,
		}},
	}
	productIndex := map[string]any{"name": "terraform", "versions": map[string]any{ver: versionIndex}}

	m := &releasesMirror{}
	mux := http.NewServeMux()
	serveJSON := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	mux.HandleFunc("/terraform/index.json", serveJSON(productIndex))
	mux.HandleFunc(base+"index.json", serveJSON(versionIndex))
	mux.HandleFunc(base+fmt.Sprintf("terraform_%s_SHA256SUMS", ver), func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sums)
	})
	mux.HandleFunc(base+fmt.Sprintf("terraform_%s_SHA256SUMS.sig", ver), func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(sig.Bytes())
	})
	mux.HandleFunc(base+zipName, func(w http.ResponseWriter, r *http.Request) {
		m.archiveHits.Add(1)
		f, err := os.Open(zipPath)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		// hc-install wants this type, and a Content-Length (ServeContent
		// sets it) to check the size.
		w.Header().Set("Content-Type", "application/zip")
		http.ServeContent(w, r, zipName, time.Time{}, f)
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

// writeZip stores bin (uncompressed: it is only read back) as "terraform".
func writeZip(t *testing.T, zipPath, bin string) {
	t.Helper()
	src, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "terraform", Method: zip.Store})
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newSigningKey makes an OpenPGP key and returns it with its armored
// public key.
func newSigningKey(t *testing.T) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity("atoll test", "", "test@atoll.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return e, b.String()
}

// TestResolveDownload installs the locally built terraform through
// hc-install from a local releases mirror signed by a key made here, then
// finds it again in the data dir without the mirror.
func TestResolveDownload(t *testing.T) {
	tf := requireBinary(t, Terraform)
	signer, pubKey := newSigningKey(t)
	_, otherKey := newSigningKey(t)
	mirror := newReleasesMirror(t, tf.Path, "1.5.7", signer)
	t.Setenv("PATH", t.TempDir()) // nothing installed
	ctx := context.Background()

	t.Run("bad signature", func(t *testing.T) {
		dataDir := t.TempDir()
		_, err := Resolve(ctx, ResolveOptions{DataDir: dataDir, VersionConstraint: "1.5.7", ReleasesURL: mirror.URL, ArmoredPublicKey: otherKey})
		if !errors.Is(err, ErrNoBinary) || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("err = %v", err)
		}
		if dirs := installedDirs(dataDir, Terraform); len(dirs) != 0 {
			t.Errorf("something was installed: %v", dirs)
		}
	})

	for _, constraint := range []string{"1.5.7", "~> 1.5.0"} { // ExactVersion, LatestVersion
		t.Run(constraint, func(t *testing.T) {
			dataDir := t.TempDir()
			before := mirror.archiveHits.Load()
			b, err := Resolve(ctx, ResolveOptions{DataDir: dataDir, VersionConstraint: constraint, ReleasesURL: mirror.URL, ArmoredPublicKey: pubKey})
			if err != nil {
				t.Fatal(err)
			}
			want := Binary{Path: filepath.Join(dataDir, "terraform", "1.5.7", "terraform"), Version: "1.5.7", Distribution: Terraform}
			if b != want {
				t.Errorf("Resolve = %+v, want %+v", b, want)
			}
			if hits := mirror.archiveHits.Load() - before; hits != 1 {
				t.Errorf("archive downloaded %d times", hits)
			}
			entries, _ := os.ReadDir(filepath.Join(dataDir, "terraform"))
			if len(entries) != 1 {
				t.Errorf("data dir holds %d entries, want the version directory alone", len(entries))
			}
			// Found again without downloading.
			again, err := Resolve(ctx, ResolveOptions{DataDir: dataDir, VersionConstraint: constraint, NoDownload: true})
			if err != nil || again != want {
				t.Errorf("second Resolve = %+v, %v", again, err)
			}
		})
	}
}
