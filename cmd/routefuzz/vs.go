package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
)

// `check -sut A -vs B` compares stack A with stack B after every op, on
// everything both support, with no model in between (check.Pair). The
// model still runs beside them, uncompared, for the generator (which
// draws deletes of present addresses from it) and for -exclude. -exec,
// -timeout and the answer bounds serve whichever side is exec (both, if
// both are).

// label names what a check runs on: the stack, or the pair "A-vs-B".
func (f *checkFlags) label() string {
	if f.vs == "" {
		return f.name
	}
	return check.PairName(f.name, f.vs)
}

// vsArgs returns the -vs flag that runs the same pair again.
func (f *checkFlags) vsArgs() string {
	if f.vs == "" {
		return ""
	}
	return " -vs " + f.vs
}

// onlyVs is stackFlags.only for a check that may have a -vs side: the
// flags of an external program are for it as well.
func (f *checkFlags) onlyVs() error {
	if f.vs != "" {
		if f.name == "" {
			return errors.New("-vs needs -sut: the stack to compare with it")
		}
		if !slices.Contains(stacks.Names(), f.vs) {
			return fmt.Errorf("-vs: unknown stack %q (have %s)", f.vs, strings.Join(stacks.Names(), ", "))
		}
		if stacks.External(f.vs) {
			return nil // -exec and the rest are the -vs side's
		}
	}
	return f.only()
}

// pairWith opens the -vs stack and pairs stack with it; without -vs it
// returns stack. On an error it closes stack.
func (f *checkFlags) pairWith(stack sut.Stack) (sut.Stack, error) {
	if f.vs == "" {
		return stack, nil
	}
	rf := f.stackFlags
	rf.name = f.vs
	ref, err := rf.open()
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("-vs: %w", err)
	}
	p, err := check.Vs(f.name, stack, f.vs, ref)
	if err != nil {
		stack.Close()
		ref.Close()
		return nil, err
	}
	return p, nil
}

// describeRun says what a check compares, for its first line.
func (f *checkFlags) describeRun() string {
	if f.vs == "" {
		return fmt.Sprintf("%s (%s)", f.name, stacks.Doc(f.name))
	}
	return fmt.Sprintf("%s (%s) against %s (%s), no model compared", f.name, stacks.Doc(f.name), f.vs, stacks.Doc(f.vs))
}

// openCaseStack opens what a corpus case names: a stack, or a pair
// "A-vs-B" (both opened with sf's flags for an external program).
func openCaseStack(sf stackFlags, name string) (sut.Stack, error) {
	s, ref, ok := corpus.SplitPair(name)
	if !ok {
		sf.name = name
		return sf.open()
	}
	f := checkFlags{stackFlags: sf, vs: ref}
	f.name = s
	stack, err := f.open()
	if err != nil {
		return nil, err
	}
	return f.pairWith(stack)
}

// pairNames lists the pairs the cases name, in order of first mention;
// with only, just those with only on either side.
func pairNames(cases []*corpus.Case, only string) []string {
	var ps []string
	for _, c := range cases {
		for _, n := range c.Named() {
			s, ref, ok := corpus.SplitPair(n)
			if !ok || only != "" && s != only && ref != only || slices.Contains(ps, n) {
				continue
			}
			ps = append(ps, n)
		}
	}
	return ps
}

// replayPairs replays the pair cases on each pair in pairs, as cmdReplay
// replays the others on each stack, and returns the failures and the
// harness failures.
func replayPairs(sf stackFlags, cases []*corpus.Case, pairs []string) (failed, harness int) {
	for _, name := range pairs {
		stack, err := openCaseStack(sf, name)
		if err != nil {
			fmt.Printf("skip %-8s %v\n", name, err)
			continue
		}
		// A pair is held only to the cases that name it.
		t := replayOn(name, stack, cases, func(c *corpus.Case) bool { return slices.Contains(c.Named(), name) })
		stack.Close()
		failed, harness = failed+t.failed, harness+t.harness
		fmt.Printf("replay %-8s %d of %d pair cases held, %d skipped, %d flaky, %d steps\n", name, t.ok, t.cases, t.skipped, t.flaky, t.stats.Steps)
	}
	return failed, harness
}

// promotePair moves a pair case into the corpus at dir once every pair it
// names still fails as it says (a pair case is held only to its own
// pairs; see corpus.SplitPair).
func promotePair(sf stackFlags, c *corpus.Case, dir string) int {
	for _, name := range c.Named() {
		stack, err := openCaseStack(sf, name)
		if err != nil {
			return errorf("not promoted: %s names %s, which cannot run here to confirm it: %v", c.Path, name, err)
		}
		err = corpus.Verify(c, name, stack, nil)
		stack.Close()
		if err != nil {
			return errorf("not promoted: %v", err)
		}
		fmt.Printf("%-8s %s\n", outcomeName(c.Expect(name)), name)
	}
	var err error
	if c.Want, err = corpus.ModelWant(c); err != nil {
		return errorf("%v", err)
	}
	src := c.Path
	path, err := corpus.Save(dir, c)
	if err != nil {
		return errorf("%v", err)
	}
	if !sameFile(src, path) {
		os.Remove(src)
		os.Remove(htmlPath(src))
	}
	fmt.Printf("routefuzz: promoted %s to %s (%s)\n", src, path, strings.Join(c.Named(), " "))
	return exitOK
}

func outcomeName(e corpus.Expectation) string {
	switch e {
	case corpus.ExpectCrash:
		return "crashes"
	case corpus.ExpectHang:
		return "hangs"
	}
	return "diverges"
}
