package main

import (
	"github.com/routefuzz/routefuzz/internal/interrupt"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut/process"
)

// closeOnSignal makes SIGINT and SIGTERM kill an external program's
// process group before the process exits, through the one signal path
// (internal/interrupt). The returned function undoes it.
func closeOnSignal(name string) (stop func()) {
	if !stacks.External(name) {
		return func() {}
	}
	// Not stack.Close: the main goroutine may be mid-request.
	return interrupt.Register(process.KillAll)
}
