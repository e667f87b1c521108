//go:build !linux

package process

import "os/exec"

// tree is everything one program started; on this system, only its
// process group is known (see tree_linux.go).
type tree struct{}

func newTree(c *exec.Cmd, cgroup bool) *tree { return &tree{} }
func (t *tree) started(err error) bool       { return false }
func (t *tree) kill()                        {}
func (t *tree) reap()                        {}
func (t *tree) remember()                    {}
