//go:build !unix

package process

import (
	"os"
	"os/exec"
)

func setGroup(c *exec.Cmd) {}

// killGroup kills the program; on this system, not what it started.
func killGroup(c *exec.Cmd) {
	if c.Process != nil {
		c.Process.Kill()
	}
}

func exitSignal(ps *os.ProcessState) (string, bool) { return "", false }
