package git

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/atollhq/atoll/vcs"
)

// ErrNeedsCheckout is returned by TreeFiles when the files asked for
// cannot be read from the objects as a checkout would show them: one is a
// symbolic link, which a checkout follows.
var ErrNeedsCheckout = errors.New("git: the files need a checkout")

// TreeFiles returns the files of commit sha (already in the mirror) whose
// slash-separated path want accepts, by path, read from the mirror's
// objects with one `git ls-tree` and one `git cat-file --batch`, without a
// checkout. A file larger than maxSize is returned empty. Submodules are
// left out, as a worktree leaves them empty; a symbolic link want accepts
// fails with ErrNeedsCheckout.
func (m *Mirrors) TreeFiles(ctx context.Context, repo vcs.Repo, sha string, want func(path string) bool, maxSize int64) (map[string][]byte, error) {
	if err := checkSHA("sha", sha); err != nil {
		return nil, err
	}
	path, err := m.MirrorPath(repo)
	if err != nil {
		return nil, err
	}
	out, err := m.run(ctx, command{dir: path, args: []string{"ls-tree", "-r", "-l", "-z", "--full-tree", sha}})
	if err != nil {
		return nil, fmt.Errorf("git: files of %s at %s: %w", repo.FullName(), sha, err)
	}
	files := map[string][]byte{}
	var oids []string
	var names []string
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		// "<mode> <type> <object> <size>\t<path>"
		meta, name, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("git: files of %s at %s: unexpected ls-tree line %q", repo.FullName(), sha, rec)
		}
		if f[1] != "blob" || !want(name) {
			continue // a submodule (commit) or a file nobody asked for
		}
		if f[0] == "120000" {
			return nil, fmt.Errorf("%w: %s is a symbolic link", ErrNeedsCheckout, name)
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("git: files of %s at %s: size of %s: %w", repo.FullName(), sha, name, err)
		}
		if size > maxSize {
			files[name] = nil
			continue
		}
		oids = append(oids, f[2])
		names = append(names, name)
	}
	if len(oids) == 0 {
		return files, nil
	}
	blobs, err := m.run(ctx, command{dir: path, args: []string{"cat-file", "--batch"}, stdin: strings.NewReader(strings.Join(oids, "\n") + "\n")})
	if err != nil {
		return nil, fmt.Errorf("git: files of %s at %s: %w", repo.FullName(), sha, err)
	}
	r := bufio.NewReader(bytes.NewReader(blobs))
	for i, name := range names {
		head, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git: files of %s at %s: reading %s: %w", repo.FullName(), sha, name, err)
		}
		f := strings.Fields(head)
		if len(f) != 3 || f[0] != oids[i] || f[1] != "blob" {
			return nil, fmt.Errorf("git: files of %s at %s: unexpected cat-file header %q for %s", repo.FullName(), sha, head, name)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git: files of %s at %s: size of %s: %w", repo.FullName(), sha, name, err)
		}
		data := make([]byte, n+1) // the content and its newline
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("git: files of %s at %s: reading %s: %w", repo.FullName(), sha, name, err)
		}
		files[name] = data[:n]
	}
	return files, nil
}
