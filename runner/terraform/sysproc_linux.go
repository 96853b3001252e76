package terraform

import "syscall"

// sysProcAttr puts terraform in its own process group (so that a kill
// reaches its providers and provisioner children too) and, as
// terraform-exec does, asks the kernel to kill it if atoll dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
