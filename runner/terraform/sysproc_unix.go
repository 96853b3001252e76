//go:build unix && !linux

package terraform

import "syscall"

// sysProcAttr puts terraform in its own process group, so that a kill
// reaches its providers and provisioner children too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
