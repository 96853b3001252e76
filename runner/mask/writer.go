package mask

import (
	"bytes"
	"io"
)

// Writer masks secrets in what it writes to its destination, a whole line
// at a time, so that a secret split across writes (a custom step's output
// arrives in pipe-sized chunks) is still masked. A line longer than 1 MiB
// is written in pieces. Flush writes a last line without its newline; a
// Writer's user calls it once done. Not safe for concurrent use.
type Writer struct {
	w   io.Writer
	m   *Masker
	buf []byte
}

// NewWriter returns a Writer masking m's secrets on their way to w.
func (m *Masker) NewWriter(w io.Writer) *Writer { return &Writer{w: w, m: m} }

// maxLine bounds a line held back while waiting for its newline.
const maxLine = 1 << 20

// Write masks and writes the complete lines of what was written so far,
// holding back the rest. It reports len(p) written unless the
// destination failed.
func (mw *Writer) Write(p []byte) (int, error) {
	mw.buf = append(mw.buf, p...)
	if i := bytes.LastIndexByte(mw.buf, '\n'); i >= 0 {
		if _, err := io.WriteString(mw.w, mw.m.Mask(string(mw.buf[:i+1]))); err != nil {
			return 0, err
		}
		mw.buf = append(mw.buf[:0], mw.buf[i+1:]...)
	}
	if len(mw.buf) > maxLine {
		return len(p), mw.Flush()
	}
	return len(p), nil
}

// Flush masks and writes what is held back.
func (mw *Writer) Flush() error {
	if len(mw.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(mw.w, mw.m.Mask(string(mw.buf)))
	mw.buf = mw.buf[:0]
	return err
}
