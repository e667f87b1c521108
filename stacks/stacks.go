// Package stacks opens an implementation under test by name, so that every
// command and test chooses stacks the same way.
package stacks

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// Options configures the stacks that need more than a name.
type Options struct {
	// Exec is the command line of the external program for "exec".
	Exec string
	// Timeout bounds each request to an external program.
	Timeout time.Duration
	// Dir is the external program's working directory (default: ours).
	Dir string
	// MaxAnswerLines, MaxAnswerBytes and MaxLineBytes bound one answer of
	// the external program (see process.Options); zero means the default.
	MaxAnswerLines int
	MaxAnswerBytes int
	MaxLineBytes   int
}

type opener struct {
	doc  string
	open func(Options) (sut.Stack, error)
}

var registry = map[string]opener{
	"legacy": {"simulated stack with the KB287032 route bookkeeping bug", func(Options) (sut.Stack, error) { return legacy.New(), nil }},
	"fixed":  {"simulated correct incremental stack", func(Options) (sut.Stack, error) { return fixed.New(), nil }},
}

// Register adds a stack to the registry; packages that wrap a stack which
// needs more than the standard library (the kernel, an external program)
// call it from an init function in this package. It panics on a
// duplicate name.
func Register(name, doc string, open func(Options) (sut.Stack, error)) {
	if _, dup := registry[name]; dup {
		panic("stacks: " + name + " registered twice")
	}
	registry[name] = opener{doc, open}
}

// Names lists the stacks Open knows, sorted.
func Names() []string {
	var ns []string
	for n := range registry {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// Doc returns a one-line description of the named stack.
func Doc(name string) string { return registry[name].doc }

// Open returns a new instance of the named stack. Close it when done.
func Open(name string, o Options) (sut.Stack, error) {
	op, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown stack %q (have %s)", name, strings.Join(Names(), ", "))
	}
	s, err := op.open(o)
	if err != nil {
		return nil, fmt.Errorf("opening stack %q: %w", name, err)
	}
	return s, nil
}
