//go:build unix

package discovery

import (
	"errors"
	"syscall"
)

// readRegular reads a file already known to be regular with raw system
// calls: open, read, close. os.Open costs about three times as many calls on
// Linux (poller registration and fcntl dances), which dominated discovery of
// large repositories. O_NONBLOCK keeps a file swapped for a FIFO since the
// directory was listed from blocking the read. A file that vanished reads as
// empty; one larger than maxFileSize reads as empty. The data lives in
// *bufp, grown as needed.
func readRegular(name string, bufp *[]byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil, nil
		}
		return nil, err
	}
	defer syscall.Close(fd)
	buf := *bufp
	defer func() { *bufp = buf }()
	n := 0
	for {
		if n == len(buf) {
			if len(buf) >= maxFileSize {
				return nil, nil
			}
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return nil, nil // not a regular file after all
		case err != nil:
			return nil, err
		case m == 0:
			return buf[:n], nil
		}
		n += m
		if n < len(buf) {
			// A short read of a regular file is its end.
			return buf[:n], nil
		}
	}
}
