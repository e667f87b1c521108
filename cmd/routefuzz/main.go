// Command routefuzz hunts for order-dependent bugs in how a network stack
// keeps its addresses and routes, and shrinks each to a minimal failing
// order of operations.
//
// Usage:
//
//	routefuzz check -sut NAME [flags]   search one stack; exit 1 on divergence
//	routefuzz hunt [flags]              reproduce KB287032 on the legacy stack
//	routefuzz replay [-sut NAME] [FILE|DIR...]
//	routefuzz minimize -sut NAME FILE
//	routefuzz promote FILE
//	routefuzz stacks                    list the stacks
//
// Run `routefuzz CMD -h` for a command's flags.
package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// Exit codes.
const (
	exitOK       = 0
	exitDiverged = 1 // a stack diverged from the model (or hunt found nothing)
	exitError    = 2 // bad usage, bad input, or a harness failure
)

var commands = map[string]func(args []string) int{
	"check":    cmdCheck,
	"hunt":     cmdHunt,
	"stacks":   cmdStacks,
	"replay":   cmdReplay,
	"minimize": cmdMinimize,
	"promote":  cmdPromote,
}

func main() {
	// rapid reads testing.Short and its own flags from the process-wide
	// flag set.
	testing.Init()
	flag.CommandLine.Parse(nil)
	if len(os.Args) < 2 {
		usage()
		os.Exit(exitError)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "routefuzz: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(exitError)
	}
	os.Exit(cmd(os.Args[2:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  routefuzz check -sut NAME [-checks N] [-seed N] [-steps N] [-adapters N] [-promote on|off] [-save DIR]
  routefuzz hunt [-seed N] [-save DIR]
  routefuzz replay [-sut NAME] [FILE|DIR ...]
  routefuzz minimize -sut NAME [-o FILE] FILE
  routefuzz promote [-corpus DIR] FILE
  routefuzz stacks
`)
}

func errorf(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "routefuzz: "+format+"\n", args...)
	return exitError
}
