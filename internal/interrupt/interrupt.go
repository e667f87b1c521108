// Package interrupt is the process's one signal path: on SIGINT or
// SIGTERM it runs every registered cleanup, newest first, and then exits
// with status 128+signal, as the shell reports a process the signal
// killed.
//
// Everything that must not outlive the process registers here: the
// namespaces the kernel stack created, the process groups of external
// programs, the summary line a command promises to print last. Nothing
// else in routefuzz calls signal.Notify.
package interrupt

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

var (
	mu       sync.Mutex
	next     int
	funcs    = map[int]func(){}
	order    []int
	started  bool
	exitFunc = os.Exit // replaced by tests
)

// Register adds f to the cleanups run on SIGINT or SIGTERM and returns a
// function that removes it again. Cleanups run on the signal goroutine
// while the rest of the program may be in the middle of anything, so f
// must only do what is safe then: kill a process group, remove a file,
// print from counters it reads atomically.
func Register(f func()) (remove func()) {
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() { handle((<-c).(syscall.Signal)) }()
	}
	id := next
	next++
	funcs[id] = f
	order = append(order, id)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		delete(funcs, id)
		for i, o := range order {
			if o == id {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
	}
}

// handle runs the cleanups registered when sig arrived, newest first, and
// exits. Cleanups registered later never run; removing one while it runs
// has no effect.
func handle(sig syscall.Signal) {
	mu.Lock()
	var run []func()
	for i := len(order) - 1; i >= 0; i-- {
		if f, ok := funcs[order[i]]; ok {
			run = append(run, f)
		}
	}
	mu.Unlock()
	for _, f := range run {
		f()
	}
	exitFunc(128 + int(sig))
}
