//go:build unix

package process

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// setGroup puts the program in a process group of its own, so that
// killGroup also ends whatever it started.
func setGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the program's process group.
func killGroup(c *exec.Cmd) {
	if c.Process != nil {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}

// exitSignal returns the signal that ended the program, if one did.
func exitSignal(ps *os.ProcessState) (string, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	return fmt.Sprintf("%d (%v)", int(ws.Signal()), ws.Signal()), true
}
