package terraform

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/atollhq/atoll/runner/mask"
)

// masker masks secrets through atoll's one masker (runner/mask). The zero
// value masks nothing.
type masker struct {
	m *mask.Masker
}

// newMasker masks secrets, through shared when it is set (secrets are
// then added to it, so they are masked in every other text atoll writes
// too).
func newMasker(secrets []string, shared *mask.Masker) masker {
	if shared == nil {
		return masker{m: mask.New(secrets...)}
	}
	shared.Add(secrets...)
	return masker{m: shared}
}

// mask returns s with every secret replaced.
func (m masker) mask(s string) string {
	return m.m.Mask(s)
}

// ansiRE matches ANSI escape sequences: CSI (colours, cursor moves), OSC
// (titles, hyperlinks) and two-byte escapes.
var ansiRE = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]`)

// StripANSI returns s without ANSI escape sequences (colours, cursor
// movement, OSC titles and links). atoll runs terraform with -no-color, so
// this is for text from elsewhere (hooks, older logs) before it reaches a
// comment or a page.
func StripANSI(s string) string {
	if !strings.ContainsRune(s, '\x1b') {
		return s
	}
	return ansiRE.ReplaceAllString(s, "")
}

// maxLine bounds a line held back while waiting for its newline; a longer
// one is written out in pieces.
const maxLine = 1 << 20

// lineSink receives whole, masked lines, from one or more lineWriters,
// and keeps the last lines of the ones marked for errors.
type lineSink struct {
	mu   *sync.Mutex // shared by every sink writing to out
	out  io.Writer   // nil: discard
	tail tail        // guarded by mu
}

// emit writes one line (without its newline) to out and, if keep, to the
// tail. Errors from out are ignored: a broken log reader must not abort a
// running apply.
func (s *lineSink) emit(line string, keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out != nil {
		_, _ = io.WriteString(s.out, line+"\n")
	}
	if keep {
		s.tail.add(line)
	}
}

// lineWriter splits what a process writes into lines, masks them and
// hands them to a sink. It is the io.Writer given to exec.Cmd.
type lineWriter struct {
	sink *lineSink
	mask masker
	keep bool // also keep lines for the error text (stderr)
	buf  []byte
}

// Write implements io.Writer; it never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.sink.emit(w.mask.mask(strings.TrimSuffix(string(w.buf[:i]), "\r")), w.keep)
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.flush()
	}
	return len(p), nil
}

// flush writes a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.sink.emit(w.mask.mask(string(w.buf)), w.keep)
		w.buf = w.buf[:0]
	}
}

// tail keeps the last maxTail bytes of lines, whole lines only.
type tail struct {
	lines []string
	size  int
}

const maxTail = 16 << 10

func (t *tail) add(line string) {
	t.lines = append(t.lines, line)
	t.size += len(line) + 1
	for t.size > maxTail && len(t.lines) > 1 {
		t.size -= len(t.lines[0]) + 1
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string {
	return strings.TrimSpace(strings.Join(t.lines, "\n"))
}
