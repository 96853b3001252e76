package terraform

import (
	"bytes"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// masked replaces a secret in output and errors.
const masked = "***"

// masker replaces secret values by "***". The zero value masks nothing.
type masker struct {
	r *strings.Replacer
}

// newMasker builds a masker for secrets. Empty values are ignored. A
// secret that spans lines (a PEM key) is also masked line by line, for
// every line of at least minLineSecret bytes, because output is masked one
// line at a time.
func newMasker(secrets []string) masker {
	const minLineSecret = 8
	seen := map[string]bool{}
	var all []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			all = append(all, s)
		}
	}
	for _, s := range secrets {
		add(s)
		if strings.ContainsAny(s, "\r\n") {
			for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); len(line) >= minLineSecret {
					add(line)
				}
			}
		}
	}
	if len(all) == 0 {
		return masker{}
	}
	// Longest first: strings.Replacer prefers earlier pairs at a position,
	// so a secret that contains another is masked whole.
	sort.SliceStable(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, masked)
	}
	return masker{r: strings.NewReplacer(pairs...)}
}

// mask returns s with every secret replaced.
func (m masker) mask(s string) string {
	if m.r == nil {
		return s
	}
	return m.r.Replace(s)
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
