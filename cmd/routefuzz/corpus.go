package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
)

// cmdReplay replays corpus cases against one stack or every stack that can
// be opened here, holding each case to its expectation.
func cmdReplay(args []string) int {
	fs := newFlagSet("replay")
	var sf stackFlags
	sf.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"corpus"}
	}
	cases, err := corpus.LoadFiles(paths)
	var errs []error
	for _, c := range cases {
		errs = append(errs, c.CheckStacks(stacks.Names()))
	}
	if err := errors.Join(append(errs, err)...); err != nil {
		return errorf("bad corpus:\n%v", err)
	}
	names := []string{sf.name}
	if sf.name == "" {
		names = stacks.Names()
	}
	failed, harness := 0, 0
	for _, name := range names {
		sf.name = name
		stack, err := sf.open()
		if err != nil {
			if len(names) == 1 {
				return errorf("%v", err)
			}
			fmt.Printf("skip %-8s %v\n", name, err)
			continue
		}
		stop := closeOnSignal(name)
		var stats check.Stats
		ok, skipped := 0, 0
	cases:
		for _, c := range cases {
			switch err := corpus.Verify(c, name, stack, &stats); {
			case errors.Is(err, corpus.ErrSkip):
				skipped++
			case errors.Is(err, corpus.ErrHarness):
				// Not a divergence, and the stack may be unusable now:
				// stop replaying on it.
				harness++
				fmt.Printf("HARNESS FAILURE (not a divergence; %s stops here) %v\n", name, err)
				break cases
			case err != nil:
				failed++
				fmt.Printf("FAIL %v\n", err)
			default:
				ok++
			}
		}
		stop()
		stack.Close()
		fmt.Printf("replay %-8s %d cases held, %d skipped, %d steps\n", name, ok, skipped, stats.Steps)
	}
	for _, c := range cases {
		if err := corpus.CheckWant(c); err != nil {
			failed++
			fmt.Printf("FAIL %v\n", err)
		}
	}
	fmt.Printf("routefuzz: replay cases=%d failures=%d harness-failures=%d\n", len(cases), failed, harness)
	switch {
	case harness > 0:
		return exitError
	case failed > 0:
		return exitDiverged
	}
	return exitOK
}

// cmdMinimize shrinks a failing case against a stack by delta debugging
// and writes the shortest order that still fails the same way.
func cmdMinimize(args []string) int {
	fs := newFlagSet("minimize")
	var sf stackFlags
	sf.register(fs, "")
	out := fs.String("o", "", "directory to write the minimal case to (default: beside the input)")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 1 {
		return errorf("minimize: want one case file")
	}
	cases, err := corpus.LoadFiles(fs.Args())
	if err != nil {
		return errorf("%v", err)
	}
	c := cases[0]
	if sf.name == "" && len(c.Diverges) == 1 {
		sf.name = c.Diverges[0]
	}
	stack, err := sf.open()
	if err != nil {
		return errorf("%v", err)
	}
	defer stack.Close()
	defer closeOnSignal(sf.name)()
	min, code := minimizeCase(c, sf.name, stack)
	if code != exitOK {
		return code
	}
	dir := *out
	if dir == "" {
		dir = filepath.Dir(c.Path)
	}
	path, err := corpus.Save(dir, min)
	if err != nil {
		return errorf("saving: %v", err)
	}
	fmt.Printf("routefuzz: minimized %s from %d to %d ops: %s\n", c.Path, len(c.Ops), len(min.Ops), path)
	return exitOK
}

// minimizeCase returns the minimal case that fails on stack the way c does.
func minimizeCase(c *corpus.Case, name string, stack sut.Stack) (*corpus.Case, int) {
	d, err := corpus.Replay(c, name, stack, nil)
	if err != nil {
		return nil, errorf("%v", err)
	}
	if d == nil {
		return nil, errorf("%s does not diverge on %s: nothing to minimize", c.Path, name)
	}
	final, tries := props.Polish(stack, d, nil, nil)
	if final == nil {
		final = d // nothing simpler fails the same way
	}
	fmt.Print(final.Report())
	fmt.Printf("(%d orders tried)\n", tries)
	return corpus.FromDivergence(final, fmt.Sprintf("# Minimized by routefuzz minimize -sut %s from %s (%d ops).", name, filepath.Base(c.Path), len(c.Ops))), exitOK
}

// cmdPromote moves a found case into the corpus with the right
// expectation: it replays the case on every stack that can run here,
// refuses it when a stack it names as diverging agrees (or cannot be run
// here to tell), records every stack that diverges, and writes the model's
// final table.
func cmdPromote(args []string) int {
	fs := newFlagSet("promote")
	dir := fs.String("corpus", "corpus", "corpus directory")
	var sf stackFlags
	sf.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 1 {
		return errorf("promote: want one case file")
	}
	cases, err := corpus.LoadFiles(fs.Args())
	if err != nil {
		return errorf("%v", err)
	}
	c := cases[0]
	var diverging []string
	for _, name := range stacks.Names() {
		sf.name = name
		stack, err := sf.open()
		if err != nil {
			if c.ExpectsDivergence(name) && !stacks.External(name) {
				return errorf("not promoted: %s says it diverges on %s, which cannot run here to confirm it: %v", c.Path, name, err)
			}
			fmt.Printf("skip %-8s %v\n", name, err)
			continue
		}
		why := corpus.Unsupported(c, stack)
		var d *check.Divergence
		if why == "" {
			d, err = corpus.Replay(c, name, stack, nil)
		}
		stack.Close()
		switch {
		case why != "":
			fmt.Printf("skip %-8s %s\n", name, why)
		case err != nil:
			return errorf("not promoted: %v", err)
		case d != nil && stacks.External(name):
			fmt.Printf("diverges %-8s at %s: recorded as a regression case that %s must agree on once its bug is fixed\n", name, c.Where(len(d.Ops)), name)
		case d != nil:
			diverging = append(diverging, name)
			fmt.Printf("diverges %-8s at %s\n", name, c.Where(len(d.Ops)))
		case c.ExpectsDivergence(name) && !stacks.External(name):
			return errorf("not promoted: %s says it diverges on %s, but %s agrees with the model", c.Path, name, name)
		default:
			fmt.Printf("agrees   %s\n", name)
		}
	}
	c.Diverges = diverging
	t, err := corpus.ModelTable(c)
	if err != nil {
		return errorf("%v", err)
	}
	c.Want = &t
	src := c.Path
	path, err := corpus.Save(*dir, c)
	if err != nil {
		return errorf("%v", err)
	}
	if !sameFile(src, path) {
		// The HTML report beside a found case is derived; the corpus
		// keeps only the case.
		os.Remove(src)
		os.Remove(strings.TrimSuffix(src, ".txtar") + ".html")
	}
	expect := "every stack agrees"
	if len(diverging) > 0 {
		expect = "diverges: " + strings.Join(diverging, " ")
	}
	fmt.Printf("routefuzz: promoted %s to %s (%s)\n", src, path, expect)
	return exitOK
}

func sameFile(a, b string) bool {
	x, _ := filepath.Abs(a)
	y, _ := filepath.Abs(b)
	return x == y
}
