package execute

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/safefs"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
)

// StepError is a job step that failed: which step, and why.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Step names the step err failed; nil stays nil.
func Step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &StepError{Step: name, Err: err}
}

// Failure is the outcome of a job that failed with err: status, the step
// that failed ("internal" when no step is named) and its error, and the
// last lines of the job's output when tail is not nil.
func Failure(status templates.ProjectStatus, err error, tail *Tail) records.Outcome {
	o := records.Outcome{Status: string(status), Error: err.Error(), FailedStep: "internal"}
	var se *StepError
	if errors.As(err, &se) {
		o.FailedStep, o.Error = se.Step, se.Err.Error()
	}
	if tail != nil {
		o.LogTail = tail.String()
	}
	return o
}

// Space is where one job runs and what it keeps of its output: the
// worktree Dir, the Tail of its output for a failure's comment, and W,
// the writer its steps write to: the job's log, the tail and, for a job
// that applies, Apply (the apply's own text, shown in the comment).
type Space struct {
	Dir   string
	Tail  *Tail
	Apply *strings.Builder // nil unless the job applies
	W     io.Writer
}

// NewSpace is the space of a job checked out at dir that logs to log;
// applies keeps the apply's text apart. Removing dir is the caller's.
func NewSpace(dir string, log io.Writer, applies bool) *Space {
	sp := &Space{Dir: dir, Tail: NewTail(60)}
	sp.W = io.MultiWriter(log, sp.Tail)
	if applies {
		sp.Apply = &strings.Builder{}
		sp.W = io.MultiWriter(log, sp.Tail, sp.Apply)
	}
	return sp
}

// Tail keeps the last n lines written to it.
type Tail struct {
	n     int
	lines []string
	part  string
}

// NewTail keeps the last n lines.
func NewTail(n int) *Tail { return &Tail{n: n} }

// Write keeps p's lines; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
	return len(p), nil
}

// String is the last n lines, the unfinished one included, ANSI stripped.
func (t *Tail) String() string {
	lines := t.lines
	if t.part != "" {
		lines = append(append([]string{}, lines...), t.part)
	}
	if len(lines) > t.n {
		lines = lines[len(lines)-t.n:]
	}
	return terraform.StripANSI(strings.TrimSpace(strings.Join(lines, "\n")))
}

// ErrPlanMismatch is StagePlan's error when the copy is not the plan
// recorded.
var ErrPlanMismatch = errors.New("the staged plan file is not the one recorded")

// StagePlan copies the stored plan file src into tempDir (the job's temp
// dir, where a sandboxed terraform may read it) and returns the copy's
// path, or ErrPlanMismatch when the copy's SHA-256 is not sum. The
// digest is of the bytes written, not of a file a sandboxed command could
// have swapped since.
func StagePlan(src, sum, tempDir string) (string, error) {
	dst := filepath.Join(tempDir, filepath.Base(src))
	if err := os.MkdirAll(tempDir, 0o700); err != nil {
		return "", err
	}
	got, err := copyFile(src, dst)
	if err != nil {
		return "", err
	}
	if got != sum {
		return "", ErrPlanMismatch
	}
	return dst, nil
}

// CopyFile copies src to dst (mode 0600), replacing dst. Either may be in
// a directory a sandboxed command writes (the job's temp dir, the
// checkout), so neither file is followed when it is a symlink out of its
// directory (safefs): src is refused, dst is replaced, never written
// through. Their directories are trusted.
func CopyFile(src, dst string) error {
	_, err := copyFile(src, dst)
	return err
}

// copyFile is CopyFile, returning the hex SHA-256 of what it copied.
func copyFile(src, dst string) (string, error) {
	in, err := safefs.Open(filepath.Dir(src), filepath.Base(src))
	if err != nil {
		return "", err
	}
	defer in.Close()
	root, err := os.OpenRoot(filepath.Dir(dst))
	if err != nil {
		return "", err
	}
	defer root.Close()
	out, err := safefs.Create(root, filepath.Base(dst), 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), out.Close()
}

// FileSHA256 is the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
