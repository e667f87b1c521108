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
	if err := sf.only(); err != nil {
		return errorf("%v", err)
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"corpus"}
	}
	cases, err := corpus.LoadFiles(paths)
	var errs []error
	// A directory with no cases would replay nothing and pass: a wrong
	// path in CI would go green.
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if m, _ := filepath.Glob(filepath.Join(p, "*.txtar")); len(m) == 0 {
				errs = append(errs, fmt.Errorf("%s: no cases (no *.txtar files) in the directory", p))
			}
		}
	}
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
	pairs := pairNames(cases, sf.name) // pair cases are replayed on their pairs only (vs.go)
	if _, _, ok := corpus.SplitPair(sf.name); ok {
		names, pairs = nil, []string{sf.name}
	}
	failed, harness := replayPairs(sf, cases, pairs)
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
		t := replayOn(name, stack, cases, func(c *corpus.Case) bool { return !c.IsPair() })
		stack.Close()
		failed, harness = failed+t.failed, harness+t.harness
		fmt.Printf("replay %-8s %d cases held, %d skipped, %d flaky, %d steps\n", name, t.ok, t.skipped, t.flaky, t.stats.Steps)
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
	if err := sf.only(); err != nil {
		return errorf("%v", err)
	}
	if fs.NArg() != 1 {
		return errorf("minimize: want one case file")
	}
	cases, err := corpus.LoadFiles(fs.Args())
	if err != nil {
		return errorf("%v", err)
	}
	c := cases[0]
	if named := c.Named(); sf.name == "" && len(named) == 1 {
		sf.name = named[0]
	}
	stack, err := openCaseStack(sf, sf.name) // a stack, or a pair (vs.go)
	if err != nil {
		return errorf("%v", err)
	}
	defer stack.Close()
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
	// Only a failure that reproduces is minimized and given a verdict.
	if ok, err := check.Confirm(stack, d, props.Confirmations, nil); err != nil {
		return nil, errorf("%v", err)
	} else if !ok {
		fmt.Print(d.Report())
		fmt.Printf("routefuzz: %s diverged on %s once, but not the same way each of %d times it was replayed: it did not reproduce, so it gets no verdict\n",
			c.Path, name, props.Confirmations)
		return nil, exitFlaky
	}
	final, tries := props.Polish(stack, d, nil, nil)
	if final != nil {
		if ok, err := check.Confirm(stack, final, props.Confirmations, nil); err != nil || !ok {
			final = nil
		}
	}
	if final == nil {
		final = d // nothing simpler fails the same way, each time
	}
	fmt.Print(final.Report())
	fmt.Printf("(%d orders tried)\n", tries)
	return corpus.FromDivergence(final, fmt.Sprintf("# Minimized by routefuzz minimize -sut %s from %s (%d ops).", name, filepath.Base(c.Path), len(c.Ops))), exitOK
}

// cmdPromote moves a found case into the corpus with the right
// expectation: it replays the case on every stack that can run here,
// refuses it when a stack it names as diverging, crashing or hanging
// agrees (or cannot be run here to tell), records what every stack
// routefuzz ships does (diverges, crashes, hangs), and writes the model's
// final table. The user's own program (exec) is recorded as a stack that
// must agree once its bug is fixed, whatever it did. A flaky case is
// refused: it must be re-checked first.
func cmdPromote(args []string) int {
	fs := newFlagSet("promote")
	dir := fs.String("corpus", "corpus", "corpus directory")
	var sf stackFlags
	sf.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if err := sf.only(); err != nil {
		return errorf("%v", err)
	}
	if fs.NArg() != 1 {
		return errorf("promote: want one case file")
	}
	cases, err := corpus.LoadFiles(fs.Args())
	if err != nil {
		return errorf("%v", err)
	}
	c := cases[0]
	if len(c.Flaky) > 0 {
		s := c.Flaky[0]
		return errorf("not promoted: %s is flaky on %s: its failure did not reproduce when it was found, so it is no regression case yet. "+
			"Re-check it first: `%s minimize %s %s` replays it and, if it fails the same way each time, writes it with a firm verdict to promote instead",
			c.Path, strings.Join(c.Flaky, " "), progName(), (&stackFlags{name: s, exec: sf.exec, timeout: sf.timeout, bounds: sf.bounds}).stackArgs(), c.Path)
	}
	if err := c.CheckStacks(stacks.Names()); err != nil {
		return errorf("not promoted: %v", err)
	}
	if c.IsPair() {
		return promotePair(sf, c, *dir)
	}
	// What each shipped stack did, by verdict.
	var diverging, crashing, hanging, breaking []string
	for _, name := range stacks.Names() {
		sf.name = name
		// A stack the case names must show it here, unless it is the
		// user's own program, which is recorded as must-agree anyway.
		named := c.Expect(name) != corpus.ExpectAgree && !stacks.External(name)
		stack, err := sf.open()
		if err != nil {
			if named {
				return errorf("not promoted: %s says %s on %s, which cannot run here to confirm it: %v", c.Path, verdictOf(c, name), name, err)
			}
			fmt.Printf("skip     %-8s %v\n", name, err)
			continue
		}
		why := corpus.Unsupported(c, stack)
		var d *check.Divergence
		if why == "" {
			d, err = corpus.Replay(c, name, stack, nil)
			if errors.Is(err, sut.ErrUnsupported) {
				why, err = err.Error(), nil
			}
		}
		stack.Close()
		switch {
		case why != "" && named:
			return errorf("not promoted: %s says %s on %s, which cannot run it to confirm it: %s", c.Path, verdictOf(c, name), name, why)
		case why != "":
			fmt.Printf("skip     %-8s %s\n", name, why)
		case err != nil:
			return errorf("not promoted: %v", err)
		case d != nil && stacks.External(name):
			fmt.Printf("%-8s %-8s at %s: recorded as a regression case that %s must agree on once its bug is fixed\n", outcome(d), name, c.Where(len(d.Ops)), name)
		case d != nil:
			switch d.Failed {
			case "crash":
				crashing = append(crashing, name)
			case "hang":
				hanging = append(hanging, name)
			default:
				if d.Relation != "" {
					breaking = append(breaking, name+":"+d.Relation)
					break
				}
				diverging = append(diverging, name)
			}
			fmt.Printf("%-8s %-8s at %s\n", outcome(d), name, c.Where(len(d.Ops)))
		case named:
			return errorf("not promoted: %s says %s on %s, but %s agrees with the model", c.Path, verdictOf(c, name), name, name)
		default:
			fmt.Printf("agrees   %s\n", name)
		}
	}
	c.Diverges, c.Crashes, c.Hangs, c.Breaks = diverging, crashing, hanging, breaking
	if c.Want, err = corpus.ModelWant(c); err != nil {
		return errorf("%v", err)
	}
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
	var expect []string
	for _, v := range []struct {
		key    string
		stacks []string
	}{{"diverges", diverging}, {"crashes", crashing}, {"hangs", hanging}, {"breaks", breaking}} {
		if len(v.stacks) > 0 {
			expect = append(expect, v.key+": "+strings.Join(v.stacks, " "))
		}
	}
	if len(expect) == 0 {
		expect = []string{"every stack agrees"}
	}
	fmt.Printf("routefuzz: promoted %s to %s (%s)\n", src, path, strings.Join(expect, "; "))
	return exitOK
}

// verdictOf says what c expects of stack: "it diverges", "it crashes".
func verdictOf(c *corpus.Case, stack string) string {
	switch c.Expect(stack) {
	case corpus.ExpectCrash:
		return "it crashes"
	case corpus.ExpectHang:
		return "it hangs"
	case corpus.ExpectFlaky:
		return "it is flaky"
	}
	return "it diverges"
}

// outcome names what a stack did: diverges, crashes, hangs.
func outcome(d *check.Divergence) string {
	switch d.Failed {
	case "crash":
		return "crashes"
	case "hang":
		return "hangs"
	}
	if d.Relation != "" {
		return "breaks"
	}
	return "diverges"
}

func sameFile(a, b string) bool {
	x, _ := filepath.Abs(a)
	y, _ := filepath.Abs(b)
	return x == y
}

// replayTally counts one stack's replay of a corpus.
type replayTally struct {
	cases, ok, skipped, flaky, failed, harness int
	stats                                      check.Stats
}

// replayOn verifies on stack each case that take keeps, printing a line
// for each that does not simply hold. A harness failure stops it: the
// stack may be unusable.
func replayOn(name string, stack sut.Stack, cases []*corpus.Case, take func(*corpus.Case) bool) replayTally {
	var t replayTally
	for _, c := range cases {
		if !take(c) {
			continue
		}
		t.cases++
		if op, ex, ok := props.KnownOp(c, name); ok && c.BrokenBy(name) == "" {
			t.skipped++
			fmt.Printf("skip  %s on %s: %s is a known divergence of %s (exclusion %s)\n", c.Path, name, op, name, ex)
			continue
		}
		switch err := corpus.Verify(c, name, stack, &t.stats); {
		case errors.Is(err, corpus.ErrSkip):
			t.skipped++
			fmt.Printf("skip  %v\n", err)
		case errors.Is(err, corpus.ErrFlaky):
			// A report, not a failure: the case is not a regression
			// case until it is re-checked.
			t.flaky++
			fmt.Printf("FLAKY %v\n", err)
		case errors.Is(err, corpus.ErrHarness):
			// Not a divergence, and the stack may be unusable now.
			t.harness++
			fmt.Printf("HARNESS FAILURE (not a divergence; %s stops here) %v\n", name, err)
			return t
		case err != nil:
			t.failed++
			fmt.Printf("FAIL %v\n", err)
		default:
			t.ok++
		}
	}
	return t
}
