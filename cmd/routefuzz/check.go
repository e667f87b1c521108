package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/exhaust"
	"github.com/routefuzz/routefuzz/internal/interrupt"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/relations"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
)

// stackFlags are the flags that choose and open a stack.
type stackFlags struct {
	name    string
	exec    string
	timeout time.Duration
	bounds  stacks.Options // the bounds of an external program's answers
}

func (s *stackFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&s.name, "sut", def, "stack to test: "+strings.Join(stacks.Names(), ", "))
	fs.StringVar(&s.exec, "exec", "", "command line of the external program (with -sut exec; default $ROUTEFUZZ_EXEC)")
	fs.DurationVar(&s.timeout, "timeout", 0, "per-request timeout for an external program (0: the stack's default)")
	fs.IntVar(&s.bounds.MaxAnswerLines, "max-answer-lines", 0, "most lines in one answer of an external program (0: the default, 100000)")
	fs.IntVar(&s.bounds.MaxAnswerBytes, "max-answer-bytes", 0, "most bytes in one answer of an external program (0: the default, 16 MiB)")
	fs.IntVar(&s.bounds.MaxLineBytes, "max-line-bytes", 0, "most bytes in one line from an external program (0: the default, 1 MiB)")
}

// stackArgs returns the flags that open the same stack again.
func (s *stackFlags) stackArgs() string {
	a := "-sut " + s.name
	if s.exec != "" {
		a += " -exec " + shellQuote(s.exec)
	}
	if s.timeout != 0 {
		a += " -timeout " + s.timeout.String()
	}
	for _, b := range []struct {
		flag string
		n    int
	}{{"max-answer-lines", s.bounds.MaxAnswerLines}, {"max-answer-bytes", s.bounds.MaxAnswerBytes}, {"max-line-bytes", s.bounds.MaxLineBytes}} {
		if b.n != 0 {
			a += fmt.Sprintf(" -%s %d", b.flag, b.n)
		}
	}
	return a
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (s *stackFlags) open() (sut.Stack, error) {
	if s.name == "" {
		return nil, fmt.Errorf("-sut is required (one of %s)", strings.Join(stacks.Names(), ", "))
	}
	exec := s.exec
	if exec == "" && stacks.External(s.name) {
		exec = os.Getenv("ROUTEFUZZ_EXEC")
	}
	o := s.bounds
	o.Exec, o.Timeout = exec, s.timeout
	return stacks.Open(s.name, o)
}

// only checks that -exec and -timeout, which only an external program
// takes, are not given with another stack, where they would be ignored.
func (s *stackFlags) only() error {
	if s.name == "" || stacks.External(s.name) {
		return nil
	}
	if s.exec != "" {
		return fmt.Errorf("-exec is for -sut exec only, not -sut %s", s.name)
	}
	if s.timeout != 0 {
		return fmt.Errorf("-timeout is for -sut exec only, not -sut %s", s.name)
	}
	if s.bounds != (stacks.Options{}) {
		return fmt.Errorf("-max-answer-lines, -max-answer-bytes and -max-line-bytes are for -sut exec only, not -sut %s", s.name)
	}
	return nil
}

type checkFlags struct {
	stackFlags
	checks, steps, adapters int
	seed                    uint64
	promote                 string
	keep                    string
	families                string
	attrs                   bool
	exclude                 string
	save                    string
	verbose                 bool
	rep                     reportRun // -report
	vs                      string    // the reference stack that takes the model's place (vs.go)
	exhaustConfirm          bool      // -exhaust-confirm
	oracle                  string    // -oracle: model, relations or both (oracle.go)
	relations               string    // -relations: the relations checked, comma-separated; all if empty
	twin                    sut.Stack // the relations' second stack, once opened
}

func (f *checkFlags) register(fs *flag.FlagSet, defSUT string) {
	f.stackFlags.register(fs, defSUT)
	fs.IntVar(&f.checks, "checks", 100, "random sequences to try")
	fs.IntVar(&f.steps, "steps", 30, "average operations per sequence")
	fs.Uint64Var(&f.seed, "seed", 0, "first seed (0: random, printed)")
	fs.IntVar(&f.adapters, "adapters", 3, "adapters per sequence")
	fs.StringVar(&f.promote, "promote", "auto", "IPv4 promote_secondaries: on, off, or auto (the stack's only setting, else off)")
	fs.StringVar(&f.keep, "keep-addr-on-down", "auto", "IPv6 keep_addr_on_down: on, off, or auto (the stack's only setting, else off)")
	fs.StringVar(&f.families, "families", "4,6", "address families to draw: 4, 6 or 4,6")
	fs.BoolVar(&f.attrs, "attrs", true, "draw attributes: metric (of addresses and routes), noprefixroute, lifetimes (those the stack supports)")
	fs.BoolVar(&f.attrs, "metrics", true, "the old name of -attrs")
	fs.StringVar(&f.exclude, "exclude", "", "comma-separated known divergences to skip, or known for those of the stack checked (-sut): "+strings.Join(props.ExclusionNames(), ", "))
	fs.StringVar(&f.save, "save", "", "directory to write the minimal failing order to, as a corpus case")
	fs.BoolVar(&f.verbose, "v", false, "print rapid's log")
	f.rep.register(fs)
	fs.BoolVar(&f.exhaustConfirm, "exhaust-confirm", false, "after a shrink, run every shorter order of the found case's addresses, kinds and values (routefuzz exhaust) to confirm none diverges")
	fs.StringVar(&f.oracle, "oracle", "model", "what judges the stack: model (compared after every op), relations (undo, history independence, reachability: no model compared; see docs/relations.md), or both")
	fs.StringVar(&f.relations, "relations", "", "with -oracle relations or both, the relations checked, comma-separated: "+strings.Join(relations.Names(), ", ")+" (default all)")
	fs.StringVar(&f.vs, "vs", "", "compare -sut with this stack instead of the model, after every op, on what both support: "+strings.Join(stacks.Names(), ", "))
}

func cmdCheck(args []string) int {
	fs := newFlagSet("check")
	var f checkFlags
	f.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() > 0 {
		return f.rep.write(errorf("check: unexpected argument %q (flags only; see routefuzz check -h)", fs.Arg(0)))
	}
	res, code := runCheck(&f)
	switch {
	case code == exitError:
	case res.Flaky:
		code = exitFlaky
	case res.Minimal != nil:
		code = exitDiverged
	}
	return f.rep.write(code)
}

// runCheck runs one hunt as f says and prints what it found, ending with
// the summary line. A divergence is saved (with -save) or printed as soon
// as it is found, before shrinking can fail.
func runCheck(f *checkFlags) (props.Result, int) {
	for _, v := range []struct {
		name string
		n    int
	}{{"-checks", f.checks}, {"-steps", f.steps}, {"-adapters", f.adapters}} {
		if v.n <= 0 {
			return props.Result{}, errorf("%s must be at least 1, not %d", v.name, v.n)
		}
	}
	if err := f.onlyVs(); err != nil {
		return props.Result{}, errorf("%v", err)
	}
	rels, err := f.oracleRelations()
	if err != nil {
		return props.Result{}, errorf("%v", err)
	}
	// Every flag is checked before the stack is opened: a bad one must
	// not start a program or create a namespace first.
	var progress props.Progress
	c := props.Config{Name: f.name, Adapters: f.adapters, Attrs: f.attrs, Progress: &progress, Generated: f.rep.begin(f.name, &progress)}
	switch f.promote {
	case "on":
		c.Promote = true
	case "off", "auto":
	default:
		return props.Result{}, errorf("-promote: want on, off or auto, not %q", f.promote)
	}
	switch f.keep {
	case "on":
		c.KeepAddrOnDown = true
	case "off", "auto":
	default:
		return props.Result{}, errorf("-keep-addr-on-down: want on, off or auto, not %q", f.keep)
	}
	for _, fam := range strings.Split(f.families, ",") {
		switch strings.TrimSpace(fam) {
		case "4":
			c.IPv4 = true
		case "6":
			c.IPv6 = true
		default:
			return props.Result{}, errorf("-families: want 4, 6 or 4,6, not %q", f.families)
		}
	}
	if f.exclude != "" {
		var err error
		if c.Exclude, err = props.ExclusionsFor(f.name, strings.Split(f.exclude, ",")); err != nil {
			return props.Result{}, errorf("%v", err)
		}
	}
	// Where the run writes is checked before it starts: a search must not
	// run in full to find at its end that its results cannot be kept.
	if err := f.checkOutputs(); err != nil {
		errorf("%v", err)
		fmt.Println(props.Result{}.Summary(f.label()))
		return props.Result{}, exitError
	}
	// On SIGINT or SIGTERM the summary is still the last line, after the
	// stack's own cleanups (registered later, so run first).
	start := time.Now()
	unregister := interrupt.Register(func() {
		fmt.Printf("routefuzz: interrupted; the counts below are those of the checks that completed\n")
		fmt.Println(props.Result{
			Checks:      int(progress.Checks.Load()),
			Steps:       int(progress.Steps.Load()),
			Divergences: int(progress.Divergences.Load()),
			Elapsed:     time.Since(start),
		}.Summary(f.label()))
	})
	defer unregister()
	stack, err := f.open()
	if err == nil {
		stack, err = f.pairWith(stack)
	}
	if err == nil {
		stack, err = f.judge(stack, rels, c.Exclude)
	}
	if err != nil {
		errorf("%v", err)
		fmt.Println(props.Result{}.Summary(f.label()))
		return props.Result{}, exitError
	}
	defer stack.Close()
	if f.twin != nil {
		defer f.twin.Close()
	}
	if l := sut.LimitsOf(stack); f.promote == "auto" && len(l.Promote) == 1 {
		c.Promote = l.Promote[0]
	}
	if l := sut.LimitsOf(stack); f.keep == "auto" && len(l.KeepAddrOnDown) == 1 {
		c.KeepAddrOnDown = l.KeepAddrOnDown[0]
	}
	// What the stack supports, so that the command line below asks for
	// what was really drawn.
	if c, err = c.Restrict(stack); err != nil {
		return props.Result{}, errorf("%v", err)
	}
	seed := f.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	keep := ""
	if c.KeepAddrOnDown {
		keep = " -keep-addr-on-down on"
	}
	reproduce := fmt.Sprintf("%s check %s -seed %d -checks %d -steps %d -adapters %d -promote %s%s -families %s -attrs=%v%s",
		progName(), f.stackArgs()+f.vsArgs()+f.oracleArgs(), seed, f.checks, f.steps, f.adapters, onOff(c.Promote), keep, families(c), c.Attrs, excludeNote(f.exclude))
	saver := caseSaver{dir: f.save, reproduce: reproduce, seed: seed, stack: stack}
	c.OnDivergence = saver.found
	f.rep.started(f, c, seed, reproduce, &saver)
	fmt.Printf("routefuzz: checking %s%s seed=%d checks=%d\n", f.describeRun(), f.describeOracle(), seed, f.checks)
	res, err := props.Hunt(stack, c, props.Budget{Checks: f.checks, Steps: f.steps, Seed: seed})
	f.rep.finished(res, err)
	code := exitOK
	// The rest is printed whole, apart from a signal's cleanups, so the
	// summary stays the last line whenever the signal comes.
	interrupt.Exclusive(func() {
		unregister()
		code = printHunt(f, res, err, reproduce, &saver)
	})
	return res, code
}

// checkOutputs checks -report and -save (see checkOutputFile and
// checkOutputDir). A -report refused is not written to.
func (f *checkFlags) checkOutputs() error {
	if f.rep.path != "" {
		if err := checkOutputFile("-report", f.rep.path); err != nil {
			f.rep.refused = true
			return err
		}
	}
	if f.save != "" {
		return checkOutputDir("-save", f.save)
	}
	return nil
}

// printHunt prints what a hunt found, ending with the summary line, and
// returns the exit status.
func printHunt(f *checkFlags, res props.Result, err error, reproduce string, saver *caseSaver) int {
	if f.verbose {
		fmt.Print(res.Log)
	}
	if err != nil {
		errorf("harness failure (not a divergence): %v", err)
		printGenerated(res.Generated)
		fmt.Println(res.Summary(f.label()))
		return exitError
	}
	switch {
	case res.Flaky:
		fmt.Printf("\nDID NOT REPRODUCE: %d divergence(s) seen in %d checks did not fail the same way each time their order was replayed from a fresh reset, so none is reported as a divergence: they depend on timing or on state the order does not set. The shortest:\n",
			max(res.Unconfirmed, 1), res.Checks)
		fmt.Print(res.Minimal.Report())
		saver.flaky(res.Minimal)
		saver.printSaved(res.Minimal)
	case res.Minimal != nil:
		dd := ""
		if res.Polished > 0 && len(res.Minimal.Ops) != res.RapidOps {
			dd = fmt.Sprintf(", then by delta debugging (%d orders) to %d", res.Polished, len(res.Minimal.Ops))
		}
		fmt.Printf("\nfound after %d checks (%v); shrunk by rapid (%d runs) to %d ops%s; reproduced from a fresh reset each time it was replayed:\n",
			res.Checks, res.FoundAfter.Round(time.Microsecond), res.Shrinks, res.RapidOps, dd)
		fmt.Print(res.Minimal.Report())
		saver.printSaved(res.Minimal)
		if f.exhaustConfirm {
			confirmShortest(saver.stack, res.Minimal)
		}
	}
	if res.Minimal != nil {
		fmt.Printf("reproduce: %s\n", reproduce)
	}
	if res.Retries > 0 {
		fmt.Printf("routefuzz: %d route re-reads while waiting for the stack to settle: %d differences went away, %d outlasted the wait (real divergences, mostly while shrinking)\n",
			res.Retries, res.Settled, res.GaveUp)
	}
	printGenerated(res.Generated)
	fmt.Println(res.Summary(f.label()))
	return exitOK
}

// progName returns how the user ran this program, for command lines to
// copy: the binary's path, or `go run ./cmd/routefuzz` under go run.
func progName() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "go run ./cmd/routefuzz"
	}
	return os.Args[0]
}

// families returns the -families value that draws what c draws.
func families(c props.Config) string {
	var fs []string
	if c.IPv4 {
		fs = append(fs, "4")
	}
	if c.IPv6 {
		fs = append(fs, "6")
	}
	return strings.Join(fs, ",")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// caseSaver keeps a hunt's failing order on disk: the first divergence
// as soon as it has reproduced, then each shorter or simpler one in its
// place, so that the file always holds the best order so far. Without a
// directory it prints the first one's ops instead. A save that fails is
// said at once, with the order printed in full.
type caseSaver struct {
	dir       string            // "" prints instead of saving
	reproduce string            // the command line that finds it again
	seed      uint64            // the run's seed, for the HTML report
	stack     sut.Stack         // if not nil, traced step by step for the HTML report
	path      string            // the file holding the last order saved
	held      *check.Divergence // what path holds
	err       error             // why the last save failed, if it did
	printed   bool              // without dir: the first order was printed
	warned    bool              // a failed save was said

	// The last divergence traced, and its trace, which the HTML and the
	// JSON report share: a hanging program's op is not replayed twice.
	traced   *check.Divergence
	steps    []check.Step
	traceErr error
}

// trace returns d's steps, traced on s.stack from a fresh reset (once per
// divergence), or nothing when s has no stack.
func (s *caseSaver) trace(d *check.Divergence) ([]check.Step, error) {
	if s.stack == nil {
		return nil, nil
	}
	if s.traced != d {
		s.steps, s.traceErr = check.Trace(d.SUT, s.stack, d.Config, d.Ops)
		s.traced = d
	}
	return s.steps, s.traceErr
}

// found saves a divergence that reproduced.
func (s *caseSaver) found(d *check.Divergence) {
	s.save(corpus.FromDivergence(d, "# Found by: "+s.reproduce), d)
}

// flaky saves an order that diverged once but did not reproduce, under a
// name that says so, in place of anything saved before.
func (s *caseSaver) flaky(d *check.Divergence) {
	if s.dir == "" {
		return // the report above shows it
	}
	s.save(corpus.FromFlaky(d, "# Seen by: "+s.reproduce), d)
}

func (s *caseSaver) save(c *corpus.Case, d *check.Divergence) {
	if s.dir == "" {
		if !s.printed {
			s.printed = true
			fmt.Printf("found a divergence after %d ops; shrinking it. The order as found:\n%s", len(d.Ops), check.FormatOps(d.Ops))
		}
		return
	}
	path, err := corpus.Save(s.dir, c)
	if err != nil {
		// Nothing is lost: say so now, with the order in full, once (the
		// report shows the shortest order, and saved: says it was not
		// saved).
		s.err = err
		if s.warned {
			return
		}
		s.warned = true
		fmt.Fprintf(os.Stderr, "routefuzz: cannot save the failing order (%v); here it is, %d ops:\n%s", err, len(d.Ops), check.FormatOps(d.Ops))
		return
	}
	if s.path != "" && s.path != path {
		os.Remove(s.path)
		os.Remove(htmlPath(s.path))
	}
	s.path, s.held, s.err = path, d, nil
}

// printSaved writes the HTML report of d beside its saved case and prints
// the `saved:` line, which names the file only when it holds d.
func (s *caseSaver) printSaved(d *check.Divergence) {
	switch {
	case s.dir == "":
		return
	case s.held != d || s.err != nil:
		also := ""
		if s.path != "" {
			also = fmt.Sprintf("; %s holds an earlier, longer order", s.path)
		}
		fmt.Printf("saved: nothing: saving the order shown failed (%v)%s\n", s.err, also)
		return
	}
	html := htmlPath(s.path)
	if err := corpus.WriteFile(html, s.html(d)); err != nil {
		fmt.Printf("saved: %s (no HTML report: %v)\n", s.path, err)
		return
	}
	fmt.Printf("saved: %s (report: %s)\n", s.path, html)
}

// html returns d's HTML report, every step traced on s.stack from a fresh
// reset.
func (s *caseSaver) html(d *check.Divergence) []byte {
	o := check.HTMLOptions{Seed: s.seed, Command: s.reproduce}
	if s.stack != nil {
		o.Steps, o.TraceErr = s.trace(d)
	}
	return d.HTMLWith(o)
}

func htmlPath(txtar string) string { return strings.TrimSuffix(txtar, ".txtar") + ".html" }

func excludeNote(ex string) string {
	if ex == "" {
		return ""
	}
	return " -exclude " + ex
}

func cmdStacks(args []string) int {
	fs := newFlagSet("stacks")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() > 0 {
		return errorf("stacks: unexpected argument %q", fs.Arg(0))
	}
	for _, n := range stacks.Names() {
		fmt.Printf("%-8s %s\n", n, stacks.Doc(n))
	}
	return exitOK
}

// confirmShortest runs every order of d's universe shorter than d
// (exhaust.Shorter, with symmetry and pruning of repeated failures) and
// says what that proved, or prints the shorter divergence it found.
func confirmShortest(stack sut.Stack, d *check.Divergence) {
	r, err := exhaust.Shorter(stack, d, exhaust.Options{Symmetry: true, Prune: exhaust.PruneRepeats})
	switch {
	case err != nil:
		fmt.Printf("exhaust-confirm: could not search the shorter orders: %v\n", err)
	case r.Divergence != nil && !r.Flaky:
		fmt.Printf("exhaust-confirm: a shorter order of the same universe diverges (%d sequences run):\n", r.Run())
		fmt.Print(r.Divergence.Report())
	default:
		fmt.Printf("exhaust-confirm: %d sequences run in %v; proved: %s\n", r.Run(), r.Elapsed.Round(time.Millisecond), r.Proved())
	}
}
