package props

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"pgregory.net/rapid"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stats"
	"github.com/routefuzz/routefuzz/sut"
)

// Budget is how much rapid searches.
type Budget struct {
	Checks int    // sequences to try before giving up; rapid's default (100) if 0
	Steps  int    // average ops per sequence; rapid's default (30) if 0
	Seed   uint64 // first seed; 0 picks one at random
	// ShrinkTime bounds rapid's shrinking of a divergence;
	// DefaultShrinkTime if 0. Delta debugging (Polish) then finishes the
	// job: rapid's shrinker runs thousands of orders, which costs seconds
	// on a stack as slow as the kernel, where delta debugging needs tens.
	ShrinkTime time.Duration
}

// DefaultShrinkTime is rapid's shrinking budget when Budget.ShrinkTime is
// 0. On the simulated stacks rapid is done within milliseconds.
const DefaultShrinkTime = time.Second

// Result is what a hunt found.
type Result struct {
	Checks      int // sequences run before the first failure, or in all
	Steps       int // ops applied in those sequences
	Retries     int // route re-reads while waiting for a lagging stack
	Settled     int // differences that went away on re-reading
	GaveUp      int // differences that outlasted the wait (divergences, mostly while shrinking)
	Shrinks     int // sequences run while shrinking
	Divergences int // 1 when a divergence was found and reproduced, else 0
	// Minimal is the shortest divergence found that reproduced
	// (Confirmations replays from a fresh reset, each failing the same
	// way), simplified by delta debugging; or, when Flaky, the shortest
	// one found, which did not reproduce. nil if none.
	Minimal *check.Divergence
	// Flaky says a divergence was seen but none reproduced (or rapid
	// could not reproduce its own failure): Minimal is then an order to
	// look at, not a finding.
	Flaky       bool
	Unconfirmed int           // divergences seen that did not reproduce
	RapidOps    int           // Minimal's length after rapid's shrinking
	Polished    int           // orders tried by delta debugging after rapid
	FoundAfter  time.Duration // time until the first divergence was found
	HarnessErr  string        // the first harness failure, if any
	Log         string        // rapid's own output
	Elapsed     time.Duration
	// Generated is what the search generated: the checks counted in
	// Checks, not the runs of rapid's shrinking nor the replays that
	// confirm and simplify a divergence (stats.Stats).
	Generated stats.Stats
}

// Summary returns the one-line summary that `make check` ends with:
// divergences is 1 when one reproduced, flaky counts those that did not.
func (r Result) Summary(name string) string {
	flaky := r.Unconfirmed
	if r.Flaky && flaky == 0 {
		flaky = 1 // rapid's own verdict
	}
	return fmt.Sprintf("routefuzz: sut=%s checks=%d steps=%d divergences=%d flaky=%d elapsed=%v",
		name, r.Checks, r.Steps, r.Divergences, flaky, r.Elapsed.Round(time.Millisecond))
}

// Confirmations is how many times a divergence is replayed from a fresh
// reset, and must fail the same way each time, before a hunt reports it.
// A hang costs the stack's whole timeout each time, so it is replayed
// HangConfirmations times, and shrunk with at most HangShrinks more.
const (
	Confirmations     = 3
	HangConfirmations = 1
	HangShrinks       = 3
)

var huntMu sync.Mutex // rapid's settings are global

// Hunt runs rapid's search for a divergence of stack from the model,
// outside `go test`, shrinks what it finds, and reports it only once it
// reproduces.
//
// Every divergence rapid finds that is shorter than the best so far is
// replayed Confirmations times from a fresh reset; only one that fails
// the same way each time becomes the best, and c.OnDivergence sees it
// (so a caller can save the first one before shrinking starts). The best
// is then simplified by delta debugging (corpus.Minimize), and confirmed
// again. A hang stops rapid at once, since each run of it costs the
// stack's timeout, and is shrunk by delta debugging alone, within a
// budget. rapid's settings are process-wide, so hunts run one at a time.
func Hunt(stack sut.Stack, c Config, b Budget) (Result, error) {
	huntMu.Lock()
	defer huntMu.Unlock()
	c, err := c.Restrict(stack)
	if err != nil {
		return Result{}, err
	}
	for k, v := range map[string]string{
		"rapid.checks":     strconv.Itoa(orDefault(b.Checks, 100)),
		"rapid.steps":      strconv.Itoa(orDefault(b.Steps, 30)),
		"rapid.seed":       strconv.FormatUint(b.Seed, 10),
		"rapid.nofailfile": "true",
		"rapid.shrinktime": cmp.Or(b.ShrinkTime, DefaultShrinkTime).String(),
	} {
		f := flag.Lookup(k)
		if f == nil {
			return Result{}, fmt.Errorf("rapid has no flag %s", k)
		}
		old := f.Value.String()
		if err := flag.Set(k, v); err != nil {
			return Result{}, fmt.Errorf("setting %s: %w", k, err)
		}
		defer flag.Set(k, old)
	}
	if c.Generated == nil {
		c.Generated = stats.NewCollector()
	}
	h := &hunt{stack: stack, c: c, user: c.OnDivergence}
	c.Stats = &h.stats
	c.OnDivergence = nil
	c.Accept = h.accept
	c.OnHarnessError = h.harnessError
	prop := Property(stack, c)
	h.start = time.Now()
	tb := &logTB{}
	rapid.Check(tb, func(t *rapid.T) {
		if h.stopped {
			return // rapid is not to run anything more (see accept)
		}
		shrinking := h.failing
		c.Generated.Discard = shrinking // count the search's checks only
		if shrinking {
			h.res.Shrinks++
		} else {
			h.res.Checks++
		}
		before := h.stats.Steps
		defer func() {
			if !shrinking {
				h.res.Steps += h.stats.Steps - before
			}
			if p := h.c.Progress; p != nil {
				p.Checks.Store(int64(h.res.Checks))
				p.Steps.Store(int64(h.res.Steps))
			}
		}()
		prop(t)
	})
	h.res.Log = tb.b.String()
	h.finish(strings.Contains(h.res.Log, "[rapid] flaky test"))
	res := h.res
	res.Elapsed = time.Since(h.start)
	res.Retries, res.Settled, res.GaveUp = h.stats.Retries, h.stats.Settled, h.stats.GaveUp
	res.Generated = c.Generated.Stats()
	if res.Minimal == nil && h.err == nil && tb.failed && !h.stopped && h.flaky == nil {
		h.harnessError(errors.New("rapid failed:\n" + res.Log))
		res.HarnessErr = h.res.HarnessErr
	}
	if h.err != nil && (res.Minimal == nil || res.Flaky) {
		return res, h.err // a run cut short proves nothing either way
	}
	return res, nil
}

// hunt is the state of one Hunt.
type hunt struct {
	stack   sut.Stack
	c       Config
	user    func(*check.Divergence)
	stats   check.Stats // the search's steps and re-reads
	replays check.Stats // the confirmations' and delta debugging's
	res     Result
	start   time.Time
	failing bool              // rapid has a failing check: it is shrinking
	stopped bool              // every later run of the property passes at once
	best    *check.Divergence // the shortest confirmed divergence
	flaky   *check.Divergence // the shortest that did not reproduce
	pending *check.Divergence // a crash or hang that stopped rapid
	err     error             // the first harness failure
}

// accept decides, for rapid, whether a divergence fails its check. One
// shorter than the best so far is replayed Confirmations times first: if
// it does not reproduce it is recorded as flaky and the check passes, so
// that the search goes on past a timing glitch and rapid's shrinker is
// never led by one. A crash or a hang fails at once and stops rapid:
// each run of it restarts the program or waits out a timeout, and rapid's
// shrinker would run it hundreds of times; delta debugging shrinks it
// instead (finish).
func (h *hunt) accept(d *check.Divergence) bool {
	if h.best != nil && len(d.Ops) >= len(h.best.Ops) {
		return true // no shorter: nothing to confirm
	}
	if d.Failed != "" {
		if h.pending == nil || len(d.Ops) < len(h.pending.Ops) {
			h.pending = d
		}
		h.stopped = true
	} else if !h.consider(d, Confirmations) {
		return false
	}
	if !h.failing {
		h.res.FoundAfter = time.Since(h.start)
		h.failing = true
	}
	return true
}

// consider confirms d and makes it the best, or records it as flaky.
func (h *hunt) consider(d *check.Divergence, replays int) bool {
	ok, err := check.Confirm(h.stack, d, replays, &h.replays)
	if err != nil {
		h.harnessError(err)
		return false
	}
	if !ok {
		h.res.Unconfirmed++
		if h.flaky == nil || len(d.Ops) < len(h.flaky.Ops) {
			h.flaky = d
		}
		return false
	}
	h.best = d
	if p := h.c.Progress; p != nil {
		p.Divergences.Store(1)
	}
	if h.user != nil {
		h.user(d)
	}
	return true
}

// harnessError records the first harness failure and stops rapid: a
// failure outside the stack's semantics is not shrunk.
func (h *hunt) harnessError(err error) {
	if h.err == nil {
		h.err = err
		h.res.HarnessErr = err.Error()
	}
	h.stopped = true
}

// finish settles the verdict once rapid is done: it confirms a crash or
// hang that stopped rapid, simplifies the best divergence and confirms the
// result.
func (h *hunt) finish(rapidFlaky bool) {
	if d := h.pending; d != nil && (h.best == nil || len(d.Ops) < len(h.best.Ops)) {
		h.consider(d, replaysOf(d))
	}
	if h.best == nil {
		if h.flaky != nil {
			h.res.Minimal, h.res.Flaky = h.flaky, true
		}
		return
	}
	h.res.HarnessErr = ""
	h.res.RapidOps = len(h.best.Ops)
	if rapidFlaky && !h.stopped {
		// rapid ran its failure again from the same seed and it passed:
		// the divergence depends on more than the order of ops.
		h.res.Minimal, h.res.Flaky = h.best, true
		return
	}
	p, tries := Polish(h.stack, h.best, h.c.Exclude, &h.replays)
	h.res.Polished = tries
	if p != nil {
		h.consider(p, replaysOf(p)) // the best only if it reproduces
	}
	h.res.Minimal, h.res.Divergences = h.best, 1
}

// replaysOf says how many times d is replayed to confirm it.
func replaysOf(d *check.Divergence) int {
	if d.Failed == "hang" {
		return HangConfirmations
	}
	return Confirmations
}

// Polish runs the delta-debugging minimizer (corpus.Minimize) over a
// divergence found by rapid or elsewhere, which
// rapid's shrinker sometimes leaves longer or less plain than it need be
// (repeated duplicate adds, odd addresses and lengths). Orders that an
// exclusion would have skipped do not count. It returns the simplified
// divergence, or nil when it finds nothing simpler, with the number of
// orders tried. Shrinking a hang tries at most HangShrinks orders that
// hang.
func Polish(stack sut.Stack, d *check.Divergence, exclude func(*model.State, model.Op) bool, stats *check.Stats) (*check.Divergence, int) {
	hangs := 0
	var last *check.Divergence
	fails := func(cfg model.Config, ops []model.Op) bool {
		if excluded(cfg, ops, exclude) || hangs >= HangShrinks && d.Failed == "hang" {
			return false
		}
		e, err := check.Replay(d.SUT, stack, cfg, ops, stats)
		if e != nil && e.Failed == "hang" {
			hangs++
		}
		if err != nil || !corpus.FailsAs(d, e) {
			return false
		}
		last = e
		return true
	}
	cfg, ops, tries := corpus.Minimize(d.Config, d.Ops, fails)
	if slices.Equal(ops, d.Ops) && slices.Equal(cfg.Adapters, d.Config.Adapters) {
		return nil, tries
	}
	if last == nil || !slices.Equal(last.Ops, ops) || !slices.Equal(last.Config.Adapters, cfg.Adapters) {
		return nil, tries
	}
	return last, tries
}

// excluded reports whether an exclusion would have skipped one of ops.
func excluded(cfg model.Config, ops []model.Op, exclude func(*model.State, model.Op) bool) bool {
	if exclude == nil {
		return false
	}
	m, err := model.New(cfg)
	if err != nil {
		return true
	}
	for _, op := range ops {
		if exclude(m, op) {
			return true
		}
		m.Apply(op)
	}
	return false
}

func orDefault(n, d int) int {
	if n <= 0 {
		return d
	}
	return n
}

// logTB is a rapid.TB that records output instead of failing a test.
type logTB struct {
	b      strings.Builder
	failed bool
}

func (t *logTB) Helper() {}

// Name is the name rapid looks for failure files under
// (testdata/rapid/NAME/NAME-*.fail) and replays before searching: one of
// this process's own, so that none left by others is replayed.
func (t *logTB) Name() string                 { return "routefuzz-" + strconv.Itoa(os.Getpid()) }
func (t *logTB) Logf(f string, args ...any)   { fmt.Fprintf(&t.b, f+"\n", args...) }
func (t *logTB) Log(args ...any)              { fmt.Fprintln(&t.b, args...) }
func (t *logTB) Skipf(f string, args ...any)  { t.Logf(f, args...) }
func (t *logTB) Skip(args ...any)             { t.Log(args...) }
func (t *logTB) SkipNow()                     {}
func (t *logTB) Errorf(f string, args ...any) { t.failed = true; t.Logf(f, args...) }
func (t *logTB) Error(args ...any)            { t.failed = true; t.Log(args...) }
func (t *logTB) Fatalf(f string, args ...any) { t.Errorf(f, args...) }
func (t *logTB) Fatal(args ...any)            { t.Error(args...) }
func (t *logTB) FailNow()                     { t.failed = true }
func (t *logTB) Fail()                        { t.failed = true }
func (t *logTB) Failed() bool                 { return t.failed }
