package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/internal/interrupt"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/stats"
)

// ReportSchema names the version of the JSON report. A change that
// renames or removes a field, or changes its meaning, is a new version.
const ReportSchema = "routefuzz-report/1"

// The verdicts of a report: what the run found. For `check` each is one
// exit status; `hunt` exits 0 when it found KB287032 (see Report.KB287032).
const (
	verdictPassed      = "passed"            // exit 0: the stack agreed with the model in every check
	verdictDiverged    = "diverged"          // exit 1: a divergence (or crash, or hang) that reproduced
	verdictError       = "error"             // exit 2: bad usage or a harness failure, never a finding
	verdictNotRepro    = "did-not-reproduce" // exit 3: a divergence was seen but did not reproduce
	verdictInterrupted = "interrupted"       // exit 130 or 143: SIGINT or SIGTERM stopped the run
)

// Report is the JSON that `check -report FILE` and `hunt -report FILE`
// write, for a CI system to parse (the text output is for people).
type Report struct {
	Schema  string `json:"schema"`  // ReportSchema
	Command string `json:"command"` // "check" or "hunt"
	// Verdict is one of passed, diverged, error, did-not-reproduce,
	// interrupted; Exit is the process's exit status.
	Verdict string `json:"verdict"`
	Exit    int    `json:"exit"`
	// Error says what went wrong when Verdict is error, else "".
	Error string `json:"error"`
	// KB287032 is, for hunt, whether the divergence found has
	// KB287032's shape; null for check.
	KB287032 *bool `json:"kb287032"`
	// Stack is the stack under test: its name (-sut) and what it is.
	Stack ReportStack `json:"stack"`
	// Config is what was drawn, after the stack's limits narrowed it.
	Config ReportConfig `json:"config"`
	// Seed is rapid's first seed; Reproduce the command line that runs
	// the same search again.
	Seed      uint64 `json:"seed"`
	Reproduce string `json:"reproduce"`
	// Counts are the summary line's.
	Counts ReportCounts `json:"counts"`
	// Statistics is what the search generated (stats.Stats): the
	// checks in Counts.Checks, not rapid's shrinking runs nor replays.
	Statistics stats.Stats `json:"statistics"`
	// Divergence is the minimal failing order and its replay, or null
	// when none was seen.
	Divergence *ReportDivergence `json:"divergence"`
	// Saved names the files the order shown was saved to (-save), or is
	// null when it was not saved.
	Saved *ReportSaved `json:"saved"`
}

// ReportStack names the stack under test.
type ReportStack struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
	Exec string `json:"exec"` // the external program's command line (-sut exec), else ""
	// Vs is the reference stack that took the model's place (-vs), else "".
	Vs string `json:"vs"`
}

// ReportConfig is the run's configuration.
type ReportConfig struct {
	Checks         int      `json:"checks"`
	Steps          int      `json:"steps"`
	Adapters       int      `json:"adapters"`
	Promote        bool     `json:"promote"`
	KeepAddrOnDown bool     `json:"keep_addr_on_down"`
	Families       []string `json:"families"` // "ipv4", "ipv6"
	Attrs          bool     `json:"attrs"`
	Ops            []string `json:"ops"`     // the op kinds drawn
	Exclude        []string `json:"exclude"` // the exclusions, as given
}

// ReportCounts are the summary line's counts.
type ReportCounts struct {
	Checks      int   `json:"checks"`
	Steps       int   `json:"steps"`
	Divergences int   `json:"divergences"`
	Flaky       int   `json:"flaky"`
	Shrinks     int   `json:"shrinks"`
	ElapsedMS   int64 `json:"elapsed_ms"`
}

// ReportDivergence is the minimal failing order, replayed from a fresh
// reset on the model and the stack.
type ReportDivergence struct {
	// Reproduced is false when the order did not fail the same way each
	// time it was replayed (verdict did-not-reproduce).
	Reproduced bool `json:"reproduced"`
	// Reference is the expected side the stack was compared with:
	// "model", or the reference stack's name (-vs), whose results the
	// steps' Model fields then hold.
	Reference string `json:"reference"`
	// Failed is "crash" or "hang" when the stack failed on the last op
	// instead of answering, else "".
	Failed string `json:"failed"`
	// Aspects are what differs after the last op: "result", each
	// observable's name ("routes", "addresses"), "crash", "hang".
	Aspects []string `json:"aspects"`
	// Adapters and Promote and KeepAddrOnDown are the case's
	// configuration (shrinking may drop adapters).
	Adapters       []string `json:"adapters"`
	Promote        bool     `json:"promote"`
	KeepAddrOnDown bool     `json:"keep_addr_on_down"`
	// Ops are the ops in the op grammar.
	Ops []string `json:"ops"`
	// Steps are the replay, one per op (and first one with op "" when
	// the stack differed right after the reset). ReplayError says why
	// the replay stopped early, if it did.
	Steps       []ReportStep `json:"steps"`
	ReplayError string       `json:"replay_error"`
}

// ReportStep is one op of the replay: each side's result, and how each
// observable (check.Observables) differed after it.
type ReportStep struct {
	Op string `json:"op"`
	// Model and Stack are the results: ok, exists, notfound, invalid;
	// Stack is "crash" or "hang" when the stack failed instead. Model
	// is the expected side's: the reference stack's under -vs (see
	// ReportDivergence.Reference).
	Model string `json:"model"`
	Stack string `json:"stack"`
	// StackMessage is the stack's error text, if any.
	StackMessage string `json:"stack_message"`
	// Differences lists the observables that differed after the op,
	// empty when none did.
	Differences []ReportDifference `json:"differences"`
}

// ReportDifference is how one observable differed: the lines (in the
// one grammar, as a corpus want section writes them) the model showed
// and the stack did not, and those the stack showed and the model did
// not.
type ReportDifference struct {
	Observable string   `json:"observable"`
	Missing    []string `json:"missing"`
	Extra      []string `json:"extra"`
}

// ReportSaved names the saved case and its HTML report.
type ReportSaved struct {
	Case string `json:"case"`
	HTML string `json:"html"`
}

// reportRun gathers, while a check or hunt runs, what its report needs.
// The fields set before the search are read by the interrupt cleanup too,
// so they are set under mu.
type reportRun struct {
	path    string // -report FILE; "" writes nothing
	refused bool   // path was refused before the run: nothing is written
	command string // "hunt"; "" is check

	mu       sync.Mutex
	rep      Report
	start    time.Time
	progress *props.Progress
	gen      *stats.Collector
	res      *props.Result
	saver    *caseSaver
	kb       *bool
	errMsg   string
	remove   func() // unregisters the interrupt cleanup
}

// registerReport adds -report to a command's flags.
func (r *reportRun) register(fs *flag.FlagSet) {
	fs.StringVar(&r.path, "report", "", "write a JSON report (schema "+ReportSchema+") to this file at the end, and when interrupted")
}

// begin starts gathering: it returns the collector that the search's
// statistics go to, and writes an interrupted report on SIGINT or
// SIGTERM. Registered before the summary's cleanup, it runs after it.
func (r *reportRun) begin(name string, progress *props.Progress) *stats.Collector {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start, r.progress, r.gen = time.Now(), progress, stats.NewCollector()
	r.rep.Stack = ReportStack{Name: name}
	if r.path != "" {
		r.remove = interrupt.Register(r.interrupted)
	}
	return r.gen
}

// started records the configuration of a search about to start.
func (r *reportRun) started(f *checkFlags, c props.Config, seed uint64, reproduce string, saver *caseSaver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Stack = ReportStack{Name: f.name, Doc: stacks.Doc(f.name), Exec: f.exec, Vs: f.vs}
	cfg := ReportConfig{Checks: f.checks, Steps: f.steps, Adapters: f.adapters, Promote: c.Promote, KeepAddrOnDown: c.KeepAddrOnDown,
		Attrs: c.Attrs, Families: []string{}, Ops: []string{}, Exclude: []string{}}
	if c.IPv4 {
		cfg.Families = append(cfg.Families, "ipv4")
	}
	if c.IPv6 {
		cfg.Families = append(cfg.Families, "ipv6")
	}
	for _, k := range c.Ops {
		cfg.Ops = append(cfg.Ops, k.String())
	}
	if f.exclude != "" {
		cfg.Exclude = strings.Split(f.exclude, ",")
	}
	r.rep.Config, r.rep.Seed, r.rep.Reproduce, r.saver = cfg, seed, reproduce, saver
}

// finished records a search's result, with the trace of its minimal
// order (caseSaver.trace: the stack must still be open), for every
// step's differences.
func (r *reportRun) finished(res props.Result, err error) {
	if r.path == "" {
		return
	}
	var d *ReportDivergence
	if res.Minimal != nil {
		var steps []check.Step
		var terr error
		if r.saver != nil {
			steps, terr = r.saver.trace(res.Minimal)
		}
		d = reportDivergence(res.Minimal, !res.Flaky, steps, terr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res, r.rep.Divergence = &res, d
	if err != nil {
		r.errMsg = "harness failure (not a divergence): " + err.Error()
	}
}

// interrupted writes the report of a run stopped by a signal: the counts
// of the checks that completed, and their statistics.
func (r *reportRun) interrupted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.rep
	rep.Schema, rep.Command = ReportSchema, cmp.Or(r.command, "check")
	rep.Verdict, rep.Exit = verdictInterrupted, interrupt.Status()
	rep.Counts = ReportCounts{ElapsedMS: time.Since(r.start).Milliseconds()}
	if p := r.progress; p != nil {
		rep.Counts.Checks, rep.Counts.Steps, rep.Counts.Divergences = int(p.Checks.Load()), int(p.Steps.Load()), int(p.Divergences.Load())
	}
	rep.Statistics = r.gen.Stats()
	rep.Divergence, rep.Saved = nil, nil // being shrunk: not settled
	if err := writeReport(r.path, rep); err != nil {
		fmt.Fprintf(os.Stderr, "routefuzz: %v\n", err)
	}
}

// write writes the report of a run that ended with exit status code, and
// returns code, or exitError when the report cannot be written.
func (r *reportRun) write(code int) int {
	if r.path == "" || r.refused {
		return code
	}
	out := code
	interrupt.Exclusive(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.remove != nil {
			r.remove()
		}
		rep := r.rep
		rep.Schema, rep.Command = ReportSchema, cmp.Or(r.command, "check")
		rep.Exit, rep.KB287032 = code, r.kb
		if rep.Command == "hunt" && rep.KB287032 == nil {
			no := false
			rep.KB287032 = &no
		}
		if r.gen != nil {
			rep.Statistics = r.gen.Stats()
		}
		if res := r.res; res != nil {
			flaky := res.Unconfirmed
			if res.Flaky && flaky == 0 {
				flaky = 1
			}
			rep.Counts = ReportCounts{Checks: res.Checks, Steps: res.Steps, Divergences: res.Divergences, Flaky: flaky,
				Shrinks: res.Shrinks, ElapsedMS: res.Elapsed.Milliseconds()}
			rep.Statistics = res.Generated
			if s := r.saver; s != nil && s.dir != "" && s.err == nil && s.held == res.Minimal && s.held != nil {
				rep.Saved = &ReportSaved{Case: s.path, HTML: htmlPath(s.path)}
			}
		} else if !r.start.IsZero() {
			rep.Counts.ElapsedMS = time.Since(r.start).Milliseconds()
		}
		switch {
		case code == exitError:
			rep.Verdict, rep.Error = verdictError, cmp.Or(r.errMsg, lastError())
			if rep.Error == "" {
				rep.Error = "bad usage or setup (see the standard error)"
			}
		case r.res != nil && r.res.Flaky:
			rep.Verdict = verdictNotRepro
		case r.res != nil && r.res.Minimal != nil:
			rep.Verdict = verdictDiverged
		default:
			rep.Verdict = verdictPassed
		}
		if err := writeReport(r.path, rep); err != nil {
			errorf("%v", err)
			out = exitError
		}
	})
	return out
}

// writeReport writes rep as indented JSON, whole (corpus.WriteFile).
func writeReport(path string, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// Checked again: what a run began with may have been replaced since,
	// and a bad command line is not checked before it is reported.
	if err := checkOutputFile("-report", path); err != nil {
		return err
	}
	return corpus.WriteFile(path, append(b, '\n'))
}

// reportDivergence is d's report: steps is its trace (check.Trace, the
// HTML report's too), traceErr why the trace stopped early.
func reportDivergence(d *check.Divergence, reproduced bool, steps []check.Step, traceErr error) *ReportDivergence {
	rd := &ReportDivergence{Reproduced: reproduced, Reference: cmp.Or(d.Ref, "model"), Failed: d.Failed, Aspects: []string{}, Adapters: d.Config.Adapters,
		Promote: d.Config.Promote, KeepAddrOnDown: d.Config.KeepAddrOnDown, Ops: []string{}, Steps: []ReportStep{}}
	for _, a := range strings.Split(d.Aspects().String(), "+") {
		if a != "none" {
			rd.Aspects = append(rd.Aspects, a)
		}
	}
	for _, op := range d.Ops {
		rd.Ops = append(rd.Ops, op.String())
	}
	for _, st := range steps {
		if st.N == 0 && !st.Differs() {
			continue // the reset is shown only when it already differed
		}
		rd.Steps = append(rd.Steps, stepOf(st))
	}
	if traceErr != nil {
		rd.ReplayError = traceErr.Error()
	}
	return rd
}

// stepOf records one traced step.
func stepOf(s check.Step) ReportStep {
	st := ReportStep{Model: s.WantResult.String(), Stack: s.GotResult.String(), StackMessage: s.GotMsg, Differences: []ReportDifference{}}
	if s.N > 0 {
		st.Op = s.Op.String()
	}
	if s.Failed != "" {
		st.Stack = s.Failed
		return st
	}
	for _, o := range s.Observed {
		if !o.Differs() {
			continue
		}
		missing, extra := o.Of.Differences(o.Want, o.Got)
		if missing == nil {
			missing = []string{}
		}
		if extra == nil {
			extra = []string{}
		}
		st.Differences = append(st.Differences, ReportDifference{Observable: o.Of.String(), Missing: missing, Extra: extra})
	}
	return st
}

// printGenerated prints the statistics block, before the summary line.
func printGenerated(s stats.Stats) {
	if s.Sequences > 0 {
		fmt.Print(s.String())
	}
}
