// Command routefuzz hunts for order-dependent bugs in how a network stack
// keeps its addresses and routes, and shrinks each to a minimal failing
// order of operations.
//
// Usage:
//
//	routefuzz check -sut NAME [flags]   search one stack; exit 1 on divergence
//	routefuzz check -sut NAME -vs REF   the same, compared with stack REF instead of the model
//	routefuzz hunt [flags]              reproduce KB287032 on the legacy stack
//	routefuzz replay [-sut NAME] [FILE|DIR...]
//	routefuzz minimize -sut NAME FILE
//	routefuzz promote FILE
//	routefuzz exhaust -sut NAME [-depth K] [-case FILE]
//	                                    every order of a small universe, shortest first
//	routefuzz stacks                    list the stacks
//	routefuzz help [COMMAND]            every command's flags, or one's
//
// Run `routefuzz help CMD` or `routefuzz CMD -h` for a command's flags.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/routefuzz/routefuzz/internal/interrupt"
)

// Exit codes.
const (
	exitOK       = 0
	exitDiverged = 1 // a stack diverged from the model (or hunt found nothing)
	exitError    = 2 // bad usage, bad input, or a harness failure
	exitFlaky    = 3 // a divergence was seen but did not reproduce
)

// command is one subcommand: how it is called, and what it does.
type command struct {
	name, args, doc string
	run             func(args []string) int
}

// commands, in the order usage lists them.
var commands = []command{
	{"check", "-sut NAME [-vs REF] [flags]", "search one stack for a divergence from the model (with -vs, from stack REF, on what both support); exit 0 agrees, 1 diverges, 2 harness error, 3 did not reproduce", cmdCheck},
	{"hunt", "[flags]", "reproduce KB287032 on the simulated legacy stack; exit 0 when found", cmdHunt},
	{"replay", "[-sut NAME] [FILE|DIR ...]", "replay corpus cases on every stack that can run here, or one", cmdReplay},
	{"minimize", "-sut NAME [-o DIR] FILE", "shrink a failing case by delta debugging", cmdMinimize},
	{"promote", "[-corpus DIR] FILE", "record which stacks diverge on a found case and move it into the corpus", cmdPromote},
	{"exhaust", "-sut NAME [-depth K] [-case FILE] [flags]", "run every op sequence of a small universe up to K ops, shortest first; exit 0 none diverges, 1 the shortest divergence found, 2 harness error, 3 did not reproduce", cmdExhaust},
	{"stacks", "", "list the stacks", cmdStacks},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// flagOutput is where flag sets print their usage: stderr, except for an
// explicit request for help.
var flagOutput io.Writer = os.Stderr

// newFlagSet returns a command's flag set.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(flagOutput)
	return fs
}

func main() {
	// rapid reads testing.Short and its own flags from the process-wide
	// flag set.
	testing.Init()
	flag.CommandLine.Parse(nil)
	code := runMain(os.Args[1:])
	interrupt.Wait() // a signal's cleanups decide the status
	os.Exit(code)
}

func runMain(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return exitError
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		flagOutput = os.Stdout
		if len(args) > 1 {
			c, ok := lookup(args[1])
			if !ok {
				return errorf("help: unknown command %q", args[1])
			}
			c.run([]string{"-h"})
			return exitOK
		}
		usage(os.Stdout)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(os.Stderr, "routefuzz: unknown command %q\n", args[0])
		usage(os.Stderr)
		return exitError
	}
	return c.run(args[1:])
}

// usage lists every command with all its flags, from the commands' own
// flag sets, so it cannot drift from them.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: routefuzz COMMAND [flags]\n\ncommands:")
	saved := flagOutput
	defer func() { flagOutput = saved }()
	for _, c := range commands {
		fmt.Fprintf(w, "\n  routefuzz %s %s\n      %s\n", c.name, c.args, c.doc)
		var b strings.Builder
		flagOutput = &b
		c.run([]string{"-h"})
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if !strings.HasPrefix(l, "Usage of ") && l != "" {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	fmt.Fprintln(w, "\n`routefuzz help COMMAND` prints one command's flags.")
}

// errorf prints an error to the standard error, keeps it for the JSON
// report's error field (lastError), and returns exitError.
func errorf(format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	lastErr.Store(&msg)
	fmt.Fprintf(os.Stderr, "routefuzz: %s\n", msg)
	return exitError
}

var lastErr atomic.Pointer[string]

// lastError returns the message errorf printed last, or "".
func lastError() string {
	if p := lastErr.Load(); p != nil {
		return *p
	}
	return ""
}
