package props

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"pgregory.net/rapid"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/sut"
)

// Budget is how much rapid searches.
type Budget struct {
	Checks int    // sequences to try before giving up; rapid's default (100) if 0
	Steps  int    // average ops per sequence; rapid's default (30) if 0
	Seed   uint64 // first seed; 0 picks one at random
}

// Result is what a hunt found.
type Result struct {
	Checks      int               // sequences run before the first failure, or in all
	Steps       int               // ops applied in those sequences
	Retries     int               // route re-reads while waiting for a lagging stack
	Settled     int               // differences that went away on re-reading
	GaveUp      int               // differences that outlasted the wait (divergences, mostly while shrinking)
	Shrinks     int               // sequences run while shrinking
	Divergences int               // 1 when a divergence was found, else 0
	Minimal     *check.Divergence // the shortest divergence found, nil if none
	FoundAfter  time.Duration     // time until the first divergence was found
	HarnessErr  string            // the first harness failure, if any
	Log         string            // rapid's own output
	Elapsed     time.Duration
}

// Summary returns the one-line summary that `make check` ends with.
func (r Result) Summary(name string) string {
	return fmt.Sprintf("routefuzz: sut=%s checks=%d steps=%d divergences=%d elapsed=%v",
		name, r.Checks, r.Steps, r.Divergences, r.Elapsed.Round(time.Millisecond))
}

var huntMu sync.Mutex // rapid's settings are global

// Hunt runs rapid's search for a divergence of stack from the model,
// outside `go test`, and shrinks what it finds. rapid's settings are
// process-wide, so hunts run one at a time. c.OnDivergence still sees
// every divergence as it is found, so a caller can save the first one
// before shrinking starts.
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
	var (
		res     Result
		stats   check.Stats
		failing bool
	)
	c.Stats = &stats
	user := c.OnDivergence
	var start time.Time
	c.OnDivergence = func(d *check.Divergence) {
		if !failing {
			res.FoundAfter = time.Since(start)
		}
		failing = true
		if res.Minimal == nil || len(d.Ops) <= len(res.Minimal.Ops) {
			res.Minimal = d
		}
		if user != nil {
			user(d)
		}
	}
	c.OnHarnessError = func(err error) {
		failing = true
		if res.HarnessErr == "" {
			res.HarnessErr = err.Error()
		}
	}
	prop := Property(stack, c)
	start = time.Now()
	tb := &logTB{}
	rapid.Check(tb, func(t *rapid.T) {
		shrinking := failing
		if shrinking {
			res.Shrinks++
		} else {
			res.Checks++
		}
		before := stats.Steps
		defer func() {
			if !shrinking {
				res.Steps += stats.Steps - before
			}
		}()
		prop(t)
	})
	res.Elapsed = time.Since(start)
	res.Retries, res.Settled, res.GaveUp = stats.Retries, stats.Settled, stats.GaveUp
	res.Log = tb.b.String()
	if res.Minimal != nil {
		res.Divergences = 1
		res.HarnessErr = ""
	} else if tb.failed && res.HarnessErr == "" {
		res.HarnessErr = "rapid failed:\n" + res.Log
	}
	if res.Minimal == nil && res.HarnessErr != "" {
		return res, errors.New(res.HarnessErr)
	}
	return res, nil
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

func (t *logTB) Helper()                      {}
func (t *logTB) Name() string                 { return "routefuzz" }
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
