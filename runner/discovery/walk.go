package discovery

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// maxFileSize caps the bytes read from one Terraform file when looking for
// module blocks; larger files are counted but not scanned.
const maxFileSize = 8 << 20

// skipDirs are directory names never walked into.
var skipDirs = map[string]bool{".git": true, ".terraform": true, ".terragrunt-cache": true, "node_modules": true}

// dirInfo is what discovery knows of one directory.
type dirInfo struct {
	hasTF bool     // holds .tf, .tf.json, .tofu or .tofu.json files
	calls []string // dirs its local module blocks call, cleaned and sorted
}

// tree is the Terraform directories of a checkout and their module calls.
type tree struct {
	dirs map[string]dirInfo // keyed by repository-relative dir; only hasTF dirs
}

// callers inverts the call graph: callee dir -> the Terraform dirs calling it.
// Calls to directories without Terraform files are dropped.
func (t *tree) callers() map[string][]string {
	out := map[string][]string{}
	for d, info := range t.dirs {
		for _, c := range info.calls {
			if c != d && t.dirs[c].hasTF {
				out[c] = append(out[c], d)
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// reaches reports whether a module that start calls, directly or through
// other local modules, is in dirs. start itself does not count.
func (t *tree) reaches(start string, dirs map[string]bool) bool {
	seen := map[string]bool{start: true}
	queue := append([]string(nil), t.dirs[start].calls...)
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		if dirs[d] {
			return true
		}
		queue = append(queue, t.dirs[d].calls...)
	}
	return false
}

// walk reads every directory under root in parallel, at most workers at a
// time, and returns its Terraform directories.
func walk(ctx context.Context, root string, workers int) (*tree, error) {
	if st, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("discovery: checkout: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("discovery: checkout %s: not a directory", root)
	}
	w := &walker{ctx: ctx, root: root, sem: make(chan struct{}, workers), t: &tree{dirs: map[string]dirInfo{}}}
	w.wg.Add(1)
	go w.visit(".")
	w.wg.Wait()
	if w.err != nil {
		return nil, w.err
	}
	return w.t, nil
}

type walker struct {
	ctx  context.Context
	root string
	sem  chan struct{}
	wg   sync.WaitGroup

	mu  sync.Mutex
	t   *tree
	err error
}

func (w *walker) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *walker) visit(rel string) {
	defer w.wg.Done()
	if err := w.ctx.Err(); err != nil {
		w.fail(err)
		return
	}
	w.sem <- struct{}{}
	info, subdirs, err := readDir(w.root, rel, true)
	<-w.sem
	if err != nil {
		w.fail(err)
		return
	}
	if info.hasTF {
		w.mu.Lock()
		w.t.dirs[rel] = info
		w.mu.Unlock()
	}
	for _, s := range subdirs {
		w.wg.Add(1)
		go w.visit(s)
	}
}

// moduleClosure reads the given dirs and, round by round, every local module
// they call, in parallel. The tree it returns holds only those dirs.
func moduleClosure(ctx context.Context, root string, starts []string, workers int) (*tree, error) {
	t := &tree{dirs: map[string]dirInfo{}}
	done := map[string]bool{}
	frontier := uniq(starts)
	for len(frontier) > 0 {
		infos := make([]dirInfo, len(frontier))
		errs := make([]error, len(frontier))
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for i, d := range frontier {
			done[d] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
				infos[i], _, errs[i] = readDir(root, d, false)
			}()
		}
		wg.Wait()
		var next []string
		for i, d := range frontier {
			if errs[i] != nil {
				return nil, errs[i]
			}
			if !infos[i].hasTF {
				continue
			}
			t.dirs[d] = infos[i]
			for _, c := range infos[i].calls {
				if !done[c] {
					next = append(next, c)
				}
			}
		}
		frontier = uniq(next)
	}
	return t, nil
}

// readDir reads one directory: whether it holds Terraform files, the local
// modules they call and, when wantSubdirs, its subdirectories to walk. A
// directory that does not exist is empty, not an error.
func readDir(root, rel string, wantSubdirs bool) (dirInfo, []string, error) {
	var info dirInfo
	abs := filepath.Join(root, filepath.FromSlash(rel))
	entries, err := os.ReadDir(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return info, nil, nil
		}
		return info, nil, fmt.Errorf("discovery: read dir %s: %w", rel, err)
	}
	var subdirs []string
	var calls []string
	bufp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= 1<<20 { // let the rare huge buffer go
			bufPool.Put(bufp)
		}
	}()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			if wantSubdirs && !skipDirs[name] {
				subdirs = append(subdirs, path.Join(rel, name))
			}
			continue
		}
		if !isConfigFile(name) {
			continue
		}
		info.hasTF = true
		data, err := readSmallFile(abs+string(filepath.Separator)+name, e.Type(), bufp)
		if err != nil {
			return info, nil, fmt.Errorf("discovery: read %s: %w", path.Join(rel, name), err)
		}
		calls = appendCalls(calls, rel, name, data)
	}
	info.calls = uniq(calls)
	return info, subdirs, nil
}

// appendCalls appends to calls the dirs (repository-relative) of the local
// modules that the configuration file name of the dir rel calls.
func appendCalls(calls []string, rel, name string, data []byte) []string {
	var srcs []string
	if strings.HasSuffix(name, ".json") {
		srcs = moduleSourcesJSON(data)
	} else {
		srcs = moduleSources(data)
	}
	for _, s := range srcs {
		if !isLocalSource(s) {
			continue
		}
		target := path.Join(rel, strings.ReplaceAll(s, `\`, "/"))
		if target == ".." || strings.HasPrefix(target, "../") || target == rel {
			continue
		}
		calls = append(calls, target)
	}
	return calls
}

// source is what discovery reads a repository from: a checkout
// (dirSource) or a commit's configuration files (filesSource).
type source interface {
	// all returns every Terraform directory.
	all(ctx context.Context, workers int) (*tree, error)
	// closure returns at least the dirs of starts and every local module
	// they call, directly or not.
	closure(ctx context.Context, starts []string, workers int) (*tree, error)
}

// dirSource is a checkout's root.
type dirSource string

func (d dirSource) all(ctx context.Context, workers int) (*tree, error) {
	return walk(ctx, string(d), workers)
}

func (d dirSource) closure(ctx context.Context, starts []string, workers int) (*tree, error) {
	return moduleClosure(ctx, string(d), starts, workers)
}

// filesSource is every configuration file of a commit, by
// repository-relative path (see WantFile).
type filesSource map[string][]byte

func (f filesSource) all(ctx context.Context, _ int) (*tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := &tree{dirs: map[string]dirInfo{}}
	for p, data := range f {
		if !WantFile(p) {
			continue
		}
		if len(data) > maxFileSize {
			data = nil // as a checkout's huge file: counted, not scanned
		}
		rel, name := path.Dir(p), path.Base(p)
		info := t.dirs[rel]
		info.hasTF = true
		info.calls = appendCalls(info.calls, rel, name, data)
		t.dirs[rel] = info
	}
	for d, info := range t.dirs {
		info.calls = uniq(info.calls)
		t.dirs[d] = info
	}
	return t, nil
}

func (f filesSource) closure(ctx context.Context, _ []string, workers int) (*tree, error) {
	return f.all(ctx, workers)
}

// WantFile reports whether discovery reads the file at p (a clean,
// slash-separated, repository-relative path) of a checkout: a Terraform
// or OpenTofu configuration file outside the directories it never walks
// (.git, .terraform, .terragrunt-cache, node_modules). DiscoverFiles and
// AllFiles need every such file of the commit.
func WantFile(p string) bool {
	if !isConfigFile(path.Base(p)) {
		return false
	}
	for _, part := range strings.Split(path.Dir(p), "/") {
		if skipDirs[part] {
			return false
		}
	}
	return true
}

// readSmallFile reads a regular file (or a symlink to one) of at most
// maxFileSize bytes; anything else (a FIFO, a device, a huge file) reads as
// empty, without being opened when its type says so. A file that vanished
// since the directory was listed reads as empty too.
// The data lives in *buf, which grows as needed, until the next call.
func readSmallFile(name string, typ fs.FileMode, buf *[]byte) ([]byte, error) {
	if typ&fs.ModeSymlink != 0 {
		st, err := os.Stat(name)
		if err != nil || !st.Mode().IsRegular() {
			return nil, nil // dangling or not a file: nothing to scan
		}
	} else if !typ.IsRegular() {
		return nil, nil
	}
	return readRegular(name, buf)
}

// bufPool holds read buffers, so that reading thousands of small files does
// not allocate (and clear) a buffer each.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 16<<10)
	return &b
}}

func uniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}
