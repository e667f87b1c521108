//go:build linux

package stacks

import (
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/linux"
)

func init() {
	Register("linux", "the Linux kernel over netlink in a private network namespace", func(Options) (sut.Stack, error) {
		s, err := linux.Open()
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}
