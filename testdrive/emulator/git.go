package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Git plumbing on the bare repositories. Every write runs with
// repo.gitMu held; commits carry the author and dates they are given, so
// nothing depends on the machine's git configuration.

func findGit() (string, error) {
	p, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("emulator: git is required: %w", err)
	}
	return p, nil
}

// gitEnv isolates git from the machine's and user's configuration.
func gitEnv(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"HOME=" + os.TempDir(),
		"LC_ALL=C",
		"GIT_TERMINAL_PROMPT=0",
	}
	return append(env, extra...)
}

// run runs git in the bare repository dir and returns its stdout.
func (s *Server) run(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.git, args...)
	cmd.Dir = dir
	cmd.Env = gitEnv("GIT_DIR=" + dir)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

func (s *Server) initBare(ctx context.Context, dir, branch string) error {
	if err := os.MkdirAll(path.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create repository dir: %w", err)
	}
	cmd := exec.CommandContext(ctx, s.git, "init", "--bare", "--quiet", "--initial-branch="+branch, dir)
	cmd.Env = gitEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %w: %s", err, out)
	}
	for _, kv := range [][2]string{
		{"uploadpack.allowReachableSHA1InWant", "true"},
		{"uploadpack.allowFilter", "true"},
		{"http.receivepack", "false"},
	} {
		if _, err := s.run(ctx, dir, nil, "config", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// signature is a commit's author or committer.
type signature struct {
	name, email string
	when        time.Time
}

func (s *Server) signatureFor(login string) signature {
	return signature{name: login, email: login + "@users.noreply.github.com", when: s.now().Truncate(time.Second)}
}

func (g signature) fastImport() string {
	return fmt.Sprintf("%s <%s> %d +0000", g.name, g.email, g.when.Unix())
}

func (g signature) env(prefix string) []string {
	date := strconv.FormatInt(g.when.Unix(), 10) + " +0000"
	return []string{"GIT_" + prefix + "_NAME=" + g.name, "GIT_" + prefix + "_EMAIL=" + g.email, "GIT_" + prefix + "_DATE=" + date}
}

// cleanPath checks a file path given through the control API.
func cleanPath(p string) (string, error) {
	c := path.Clean(strings.TrimPrefix(p, "/"))
	if c == "." || c == "" || strings.HasPrefix(c, "../") || c == ".." || strings.ContainsAny(c, "\n\x00") || strings.HasPrefix(c, "\"") || strings.HasPrefix(c, ".git/") {
		return "", fmt.Errorf("invalid path %q", p)
	}
	return c, nil
}

// commitFiles writes one commit on refs/heads/branch with parent (empty for
// a root commit) and the changes (nil content deletes; links are
// symbolic links, path -> target), through git fast-import, and returns
// its sha.
func (s *Server) commitFiles(ctx context.Context, dir, branch, parent string, author signature, message string, files map[string]*string, links map[string]string) (string, error) {
	names := make([]string, 0, len(files)+len(links))
	for p := range files {
		names = append(names, p)
	}
	for p := range links {
		if _, ok := files[p]; !ok {
			names = append(names, p)
		}
	}
	// Deletions first: a commit may replace a dir by a file or link of
	// the same name.
	sort.Slice(names, func(i, j int) bool {
		di, dj := files[names[i]] == nil && !hasKey(links, names[i]), files[names[j]] == nil && !hasKey(links, names[j])
		if di != dj {
			return di
		}
		return names[i] < names[j]
	})
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "commit refs/heads/%s\nauthor %s\ncommitter %s\ndata %d\n%s", branch, author.fastImport(), author.fastImport(), len(message), message)
	if parent != "" {
		fmt.Fprintf(&b, "from %s\n", parent)
	}
	for _, n := range names {
		p, err := cleanPath(n)
		if err != nil {
			return "", err
		}
		if target, ok := links[n]; ok {
			fmt.Fprintf(&b, "M 120000 inline %s\ndata %d\n%s\n", p, len(target), target)
		} else if c := files[n]; c == nil {
			fmt.Fprintf(&b, "D %s\n", p)
		} else {
			fmt.Fprintf(&b, "M 100644 inline %s\ndata %d\n%s\n", p, len(*c), *c)
		}
	}
	b.WriteString("done\n")
	if _, err := s.run(ctx, dir, b.Bytes(), "fast-import", "--quiet", "--done", "--force"); err != nil {
		return "", err
	}
	return s.revParse(ctx, dir, "refs/heads/"+branch)
}

func (s *Server) revParse(ctx context.Context, dir, rev string) (string, error) {
	out, err := s.run(ctx, dir, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", rev, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (s *Server) updateRef(ctx context.Context, dir, ref, sha string) error {
	_, err := s.run(ctx, dir, nil, "update-ref", ref, sha)
	return err
}

// mergeTree merges head into base without a worktree: the tree and
// whether it conflicts.
func (s *Server) mergeTree(ctx context.Context, dir, base, head string) (tree string, conflict bool, err error) {
	out, err := s.run(ctx, dir, nil, "merge-tree", "--write-tree", "--no-messages", base, head)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return "", false, err
	}
	if err != nil && ee.ExitCode() != 1 {
		return "", false, err
	}
	tree, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	return tree, err != nil, nil
}

func (s *Server) commitTree(ctx context.Context, dir, tree string, parents []string, g signature, message string) (string, error) {
	args := []string{"commit-tree", tree, "-m", message}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	cmd := exec.CommandContext(ctx, s.git, args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv("GIT_DIR="+dir), append(g.env("AUTHOR"), g.env("COMMITTER")...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git commit-tree: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (s *Server) isAncestor(ctx context.Context, dir, a, b string) bool {
	_, err := s.run(ctx, dir, nil, "merge-base", "--is-ancestor", a, b)
	return err == nil
}

// fileChange is one file of a diff, in the REST "diff-entry" vocabulary.
type fileChange struct {
	name, prev, status   string
	additions, deletions int
	blob                 string
}

// changedFiles lists the files changed between base and head; threeDot
// diffs from their merge base, as pull requests do.
func (s *Server) changedFiles(ctx context.Context, dir, base, head string, threeDot bool) ([]fileChange, error) {
	rng := base + ".." + head
	if threeDot {
		rng = base + "..." + head
	}
	raw, err := s.run(ctx, dir, nil, "diff", "--raw", "-z", "--no-renames", "--no-abbrev", rng)
	if err != nil {
		return nil, err
	}
	num, err := s.run(ctx, dir, nil, "diff", "--numstat", "-z", "--no-renames", rng)
	if err != nil {
		return nil, err
	}
	counts := map[string][2]int{}
	for _, rec := range strings.Split(string(num), "\x00") {
		f := strings.SplitN(rec, "\t", 3)
		if len(f) == 3 {
			a, _ := strconv.Atoi(f[0])
			d, _ := strconv.Atoi(f[1])
			counts[f[2]] = [2]int{a, d}
		}
	}
	var out []fileChange
	parts := strings.Split(string(raw), "\x00")
	for i := 0; i+1 < len(parts); i += 2 {
		meta := strings.Fields(strings.TrimPrefix(parts[i], ":"))
		if len(meta) < 5 {
			continue
		}
		fc := fileChange{name: parts[i+1], blob: meta[3]}
		switch meta[4][0] {
		case 'A':
			fc.status = "added"
		case 'D':
			fc.status, fc.blob = "removed", meta[2]
		default:
			fc.status = "modified"
		}
		c := counts[fc.name]
		fc.additions, fc.deletions = c[0], c[1]
		out = append(out, fc)
	}
	return out, nil
}

// treeEntry is one object under a path at a revision.
type treeEntry struct {
	mode, kind, sha, path string
	size                  int
}

// lsTree lists path at rev: the entry itself (dir=false) or a
// directory's children.
func (s *Server) lsTree(ctx context.Context, dir, rev, p string, children bool) ([]treeEntry, error) {
	args := []string{"ls-tree", "-z", "--long", rev}
	switch {
	case p == "" || p == ".":
	case children:
		args = append(args, "--", strings.TrimSuffix(p, "/")+"/")
	default:
		args = append(args, "--", strings.TrimSuffix(p, "/"))
	}
	out, err := s.run(ctx, dir, nil, args...)
	if err != nil {
		return nil, err
	}
	var es []treeEntry
	for _, rec := range strings.Split(string(out), "\x00") {
		meta, name, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) < 4 {
			continue
		}
		size, _ := strconv.Atoi(f[3])
		es = append(es, treeEntry{mode: f[0], kind: f[1], sha: f[2], size: size, path: name})
	}
	return es, nil
}

func (s *Server) catBlob(ctx context.Context, dir, sha string) ([]byte, error) {
	return s.run(ctx, dir, nil, "cat-file", "blob", sha)
}

// commitMeta is what the REST commit objects and push payloads show.
type commitMeta struct {
	sha, tree         string
	parents           []string
	author, committer signature
	message           string
	added, removed    []string
	modified          []string
}

func (s *Server) commitInfo(ctx context.Context, dir, sha string) (commitMeta, error) {
	out, err := s.run(ctx, dir, nil, "show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B", sha)
	if err != nil {
		return commitMeta{}, err
	}
	f := strings.SplitN(string(out), "\x00", 10)
	if len(f) < 10 {
		return commitMeta{}, fmt.Errorf("git show %s: unexpected output", sha)
	}
	at, _ := strconv.ParseInt(f[5], 10, 64)
	ct, _ := strconv.ParseInt(f[8], 10, 64)
	return commitMeta{
		sha: f[0], tree: f[1], parents: strings.Fields(f[2]),
		author:    signature{name: f[3], email: f[4], when: time.Unix(at, 0).UTC()},
		committer: signature{name: f[6], email: f[7], when: time.Unix(ct, 0).UTC()},
		message:   strings.TrimRight(f[9], "\n"),
	}, nil
}

// commitsBetween lists the commits in (from, to], oldest first, at most
// max, with the files each one changed.
func (s *Server) commitsBetween(ctx context.Context, dir, from, to string, max int) ([]commitMeta, error) {
	args := []string{"rev-list", "--reverse", "--topo-order", to}
	if from != "" {
		args = append(args, "^"+from)
	}
	out, err := s.run(ctx, dir, nil, args...)
	if err != nil {
		return nil, err
	}
	shas := strings.Fields(string(out))
	if len(shas) > max {
		shas = shas[len(shas)-max:]
	}
	var cs []commitMeta
	for _, sha := range shas {
		c, err := s.commitInfo(ctx, dir, sha)
		if err != nil {
			return nil, err
		}
		d, err := s.run(ctx, dir, nil, "diff-tree", "--no-commit-id", "-r", "--name-status", "-z", "--root", "-m", "--first-parent", sha)
		if err != nil {
			return nil, err
		}
		parts := strings.Split(string(d), "\x00")
		for i := 0; i+1 < len(parts); i += 2 {
			switch parts[i] {
			case "A":
				c.added = append(c.added, parts[i+1])
			case "D":
				c.removed = append(c.removed, parts[i+1])
			default:
				c.modified = append(c.modified, parts[i+1])
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
