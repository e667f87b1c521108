package props

import (
	"fmt"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// glitchy is the fixed stack, except that the first route table read from
// number glitchAt on (counting from 1 over the stack's life) that holds a
// route drops one: a
// difference that comes from timing, not from the order of ops, as a
// stale kernel notification once made.
type glitchy struct {
	sut.Stack
	reads, glitchAt int
	glitched        bool
}

func (g *glitchy) Routes() (model.Table, error) {
	t, err := g.Stack.Routes()
	g.reads++
	if g.reads >= g.glitchAt && !g.glitched && len(t) > 0 {
		t, g.glitched = t[1:], true
	}
	return t, err
}

// A difference that does not reproduce when its order is replayed from a
// fresh reset is never reported as a divergence: the hunt says flaky, and
// shows the order.
func TestGlitchIsFlakyNotADivergence(t *testing.T) {
	g := &glitchy{Stack: fixed.New(), glitchAt: 200}
	res, err := Hunt(g, Config{Name: "glitchy"}, Budget{Seed: 7, Checks: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergences != 0 || !res.Flaky || res.Minimal == nil {
		t.Fatalf("divergences=%d flaky=%v minimal=%v, want 0, true and the order", res.Divergences, res.Flaky, res.Minimal != nil)
	}
	if res.Unconfirmed == 0 {
		t.Fatalf("no divergence counted as unconfirmed")
	}
	if res.Checks < 50 {
		t.Fatalf("the search stopped after %d of 50 checks: a glitch must not end it", res.Checks)
	}
}

// A glitch does not hide a real bug found later in the same run: the
// legacy stack's KB287032 bug is still found, confirmed and shrunk.
func TestGlitchDoesNotHideABug(t *testing.T) {
	g := &glitchy{Stack: legacy.New(), glitchAt: 3}
	res, err := Hunt(g, Config{Name: "glitchy"}, Budget{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergences != 1 || res.Flaky || res.Minimal == nil || len(res.Minimal.Ops) != 3 {
		t.Fatalf("divergences=%d flaky=%v unconfirmed=%d, want the 3-op legacy bug", res.Divergences, res.Flaky, res.Unconfirmed)
	}
}

// failing is the fixed stack, except that it fails (crash or hang) on
// every add of an address in 10.0.1.0/24, and counts how often.
type failing struct {
	*fixed.Stack
	err   error
	fails int
}

func (f *failing) Apply(op model.Op) error {
	if op.Kind == model.Add && op.Prefix.Addr().Is4() && op.Prefix.Addr().As4()[2] == 1 && op.Prefix.Addr().As4()[1] == 0 {
		f.fails++
		return fmt.Errorf("program died on %s: %w", op, f.err)
	}
	return f.Stack.Apply(op)
}

// A crash is a finding: found, confirmed, shrunk to the one op that
// crashes, and never a harness error.
func TestCrashIsShrunk(t *testing.T) {
	f := &failing{Stack: fixed.New(), err: sut.ErrCrash}
	res, err := Hunt(f, Config{Name: "crashy", IPv4: true}, Budget{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergences != 1 || res.Flaky || res.Minimal == nil || res.Minimal.Failed != "crash" {
		t.Fatalf("got %+v, want one confirmed crash", res)
	}
	if n := len(res.Minimal.Ops); n != 1 {
		t.Fatalf("shrunk to %d ops, want 1:\n%s", n, res.Minimal.Report())
	}
	if res.Minimal.Aspects() != check.CrashAspect {
		t.Fatalf("aspects %s", res.Minimal.Aspects())
	}
}

// A hang costs the stack's whole timeout each time it runs, so a hunt
// runs it a bounded number of times: once when found, HangConfirmations
// times to confirm it, at most HangShrinks times while shrinking, and
// rapid never runs it again.
func TestHangCostsBoundedRuns(t *testing.T) {
	f := &failing{Stack: fixed.New(), err: sut.ErrHang}
	res, err := Hunt(f, Config{Name: "hangy", IPv4: true}, Budget{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergences != 1 || res.Minimal == nil || res.Minimal.Failed != "hang" {
		t.Fatalf("got %+v, want one confirmed hang", res)
	}
	if max := 1 + HangConfirmations + HangShrinks + HangConfirmations; f.fails > max {
		t.Fatalf("the hang ran %d times, want at most %d", f.fails, max)
	}
	if n := len(res.Minimal.Ops); n > 3 {
		t.Fatalf("shrunk to %d ops:\n%s", n, res.Minimal.Report())
	}
	t.Logf("hang ran %d times; minimal:\n%s", f.fails, res.Minimal.Report())
}
