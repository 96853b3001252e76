//go:build !unix

package discovery

import (
	"errors"
	"io/fs"
	"os"
)

// readRegular reads a file already known to be regular. A file that vanished
// reads as empty; one larger than maxFileSize reads as empty.
func readRegular(name string, _ *[]byte) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxFileSize {
		return nil, nil
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
