//go:build !linux

package sandbox

import (
	"errors"
	"fmt"
	"runtime"
)

// ErrUnsupported is returned (wrapped) by Probe and Exec when the kernel
// offers no Landlock: on this system, always.
var ErrUnsupported = errors.New("Landlock needs Linux")

// Probe reports that there is no Landlock on this system.
func Probe() (int, error) { return 0, fmt.Errorf("%w (%s)", ErrUnsupported, runtime.GOOS) }

// Restrict fails: there is no Landlock on this system.
func Restrict(Policy) error { _, err := Probe(); return err }

// Exec fails: there is no Landlock on this system.
func Exec(Policy, []string, []string) error { return Restrict(Policy{}) }

// HideSelf does nothing on this system.
func HideSelf() error { return nil }

// Main fails: there is no Landlock on this system.
func Main(args []string) error {
	if _, _, err := ParseCommand(args); err != nil {
		return err
	}
	return Restrict(Policy{})
}
