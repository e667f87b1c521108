// Package interrupt is the process's one signal path: on SIGINT or
// SIGTERM it runs every registered cleanup, newest first, and then exits
// with status 128+signal, as the shell reports a process the signal
// killed.
//
// Everything that must not outlive the process registers here: the
// namespaces the kernel stack created, the process groups of external
// programs, the summary line a command promises to print last. Nothing
// else in routefuzz calls signal.Notify.
//
// A SIGINT inherited as ignored (a background job of a non-interactive
// shell, `nohup`) is handled too, once anything has registered: the
// cleanups run and the process exits just the same. Go's signal.Notify
// un-ignores the signal, and that is what routefuzz wants: a cleanup has
// by then removed what the run depends on (its namespaces, its external
// program), so the run cannot go on as if the signal had been ignored.
//
// A second SIGINT or SIGTERM while the cleanups run exits at once, with
// the second signal's status, so that a stuck cleanup cannot make the
// process unkillable from the terminal.
package interrupt

import (
	"fmt"
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
	handling bool      // a signal arrived: the cleanups are running
	caught   int       // 128+the signal, once one arrived
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
	if handling {
		// The cleanups have been listed already: this one would never
		// run, and what it cleans up would outlive the process.
		mu.Unlock()
		runOne(f)
		mu.Lock()
		return func() {}
	}
	if !started {
		started = true
		c := make(chan os.Signal, 2)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := (<-c).(syscall.Signal)
			go func() { exitFunc(128 + int((<-c).(syscall.Signal))) }()
			handle(sig)
		}()
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
	outMu.Lock() // held until the exit: Exclusive output is whole, or not at all
	mu.Lock()
	handling = true
	caught = 128 + int(sig)
	var run []func()
	for i := len(order) - 1; i >= 0; i-- {
		if f, ok := funcs[order[i]]; ok {
			run = append(run, f)
		}
	}
	mu.Unlock()
	for _, f := range run {
		runOne(f)
	}
	exitFunc(128 + int(sig))
}

// runOne runs f, and reports a panic in it rather than let it skip the
// cleanups after it.
func runOne(f func()) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "routefuzz: cleanup on signal failed: %v\n", r)
		}
	}()
	f()
}

// Handling reports whether a signal has arrived and its cleanups are
// running, so that the process is about to exit. A stack that sees its
// program killed then knows why: the program has no bug to report.
func Handling() bool {
	mu.Lock()
	defer mu.Unlock()
	return handling
}

// Status returns the status the process exits with once the signal's
// cleanups are done (128+signal: 130 for SIGINT, 143 for SIGTERM), or 0
// when no signal has arrived. A cleanup calls it to record why the run
// ended.
func Status() int {
	mu.Lock()
	defer mu.Unlock()
	return caught
}

// Wait blocks for good once a signal has arrived, so that the cleanups
// finish and decide the exit status; otherwise it returns at once. A
// command calls it before it exits with a status of its own.
func Wait() {
	if Handling() {
		select {}
	}
}

// outMu orders a command's final output (Exclusive) with the cleanups.
var outMu sync.Mutex

// Exclusive runs f, a command's final output, apart from the signal
// cleanups: if a signal's cleanups have begun, it blocks until they end
// the process, and a signal that arrives while f runs is handled once f
// returns. So the summary line a cleanup prints is never followed by the
// command's own output, and the command's own summary is never followed
// by a cleanup's.
func Exclusive(f func()) {
	outMu.Lock()
	defer outMu.Unlock()
	if Handling() {
		select {}
	}
	f()
}
