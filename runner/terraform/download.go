package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
)

// installer is what hc-install's releases sources have in common.
type installer interface {
	Install(ctx context.Context) (string, error)
}

// downloadTimeout bounds one download.
const downloadTimeout = 10 * time.Minute

// releaseSource returns the hc-install source that downloads terraform
// into dir: ExactVersion when cs pins one version, else LatestVersion (the
// newest release, prereleases excluded, that satisfies cs).
func releaseSource(opts ResolveOptions, cs version.Constraints, dir string) installer {
	baseURL := strings.TrimRight(opts.ReleasesURL, "/")
	if v, ok := exactVersion(cs); ok {
		return &releases.ExactVersion{
			Product:          product.Terraform,
			Version:          v,
			InstallDir:       dir,
			Timeout:          downloadTimeout,
			ApiBaseURL:       baseURL,
			ArmoredPublicKey: opts.ArmoredPublicKey,
			HTTPClient:       opts.HTTPClient,
		}
	}
	return &releases.LatestVersion{
		Product:          product.Terraform,
		Constraints:      cs,
		InstallDir:       dir,
		Timeout:          downloadTimeout,
		ApiBaseURL:       baseURL,
		ArmoredPublicKey: opts.ArmoredPublicKey,
		HTTPClient:       opts.HTTPClient,
	}
}

// download installs terraform into DATADIR/terraform/VERSION: into a
// temporary directory first, renamed once its version is known, so that a
// half-done download is never found and two concurrent downloads of one
// version both succeed.
func download(ctx context.Context, vr *versionReader, opts ResolveOptions, cs version.Constraints) (Binary, error) {
	root := filepath.Join(opts.DataDir, string(Terraform))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Binary{}, err
	}
	tmp, err := os.MkdirTemp(root, ".download-")
	if err != nil {
		return Binary{}, err
	}
	defer os.RemoveAll(tmp)

	path, err := releaseSource(opts, cs, tmp).Install(ctx)
	if err != nil {
		return Binary{}, err
	}
	v, err := vr.read(ctx, path)
	if err != nil {
		return Binary{}, fmt.Errorf("checking the downloaded binary: %w", err)
	}
	if len(cs) > 0 && !cs.Check(v.Core()) {
		return Binary{}, fmt.Errorf("the release downloaded reports version %s, which does not satisfy %s", v, cs)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Binary{}, err
	}
	final := filepath.Join(root, v.String())
	bin := filepath.Join(final, Terraform.binaryName())
	if err := os.Rename(tmp, final); err != nil {
		// Another download of this version won the race: use it.
		if _, serr := os.Stat(bin); serr != nil {
			return Binary{}, errors.Join(fmt.Errorf("installing into %s: %w", final, err), serr)
		}
	}
	return Binary{Path: bin, Version: v.Original(), Distribution: Terraform}, nil
}
