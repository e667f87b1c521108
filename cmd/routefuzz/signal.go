package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut/process"
)

// closeOnSignal makes SIGINT and SIGTERM kill an external program's
// process group, so that a program that ignores the end of its input does
// not outlive the run, before the process exits as the signal asks. The kernel stack cleans up after itself on these signals. The
// returned function undoes it.
func closeOnSignal(name string) (stop func()) {
	if !stacks.External(name) {
		return func() {}
	}
	c := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-c:
			// Not stack.Close: the main goroutine may be mid-request.
			process.KillAll()
			os.Exit(128 + int(sig.(syscall.Signal)))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(c)
		close(done)
	}
}
