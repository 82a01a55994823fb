//go:build linux

package suite

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel send SIGTERM to the child when this
// process dies, so a killed `wedge bench` leaves no servers behind.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
