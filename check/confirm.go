package check

import (
	"fmt"
	"slices"

	"github.com/routefuzz/routefuzz/sut"
)

// Same reports whether d and e are the same failure: the same stack fails
// after the same ops in the same way (the same result and the same value
// of every observable, or the same crash or hang).
func (d *Divergence) Same(e *Divergence) bool {
	if d == nil || e == nil {
		return d == e
	}
	if d.SUT != e.SUT || d.Ref != e.Ref || d.Relation != e.Relation || !sameSides(d.Sides, e.Sides) || d.FailedBy != e.FailedBy || !slices.Equal(d.Ops, e.Ops) || d.Config.String() != e.Config.String() || d.Failed != e.Failed {
		return false
	}
	if d.Failed != "" {
		return true // the message may hold a pid or a time
	}
	return d.GotResult == e.GotResult && sameGot(d.Observed, e.Observed)
}

// sameGot reports whether two comparisons read the same values from the
// stack, observable by observable: what a replay must show to fail the
// same way.
func sameGot(a, b []Observed) bool {
	if len(a) != len(b) {
		return false
	}
	for i, o := range a {
		if o.Of != b[i].Of || !o.Of.equal(o.Got, b[i].Got) {
			return false
		}
	}
	return true
}

// Confirm replays d's ops on stack from a fresh Reset, n times, and
// reports whether each replay failed exactly as d did (Same). It stops at
// the first replay that does not. An error is a harness failure during a
// replay. A divergence is reported only once it is confirmed: one that
// is not came from timing, not from the order of ops.
func Confirm(stack sut.Stack, d *Divergence, n int, stats *Stats) (bool, error) {
	for i := range n {
		e, err := Replay(d.SUT, stack, d.Config, d.Ops, stats)
		if err != nil {
			return false, fmt.Errorf("replaying a divergence to confirm it (%d of %d): %w", i+1, n, err)
		}
		if !d.Same(e) {
			return false, nil
		}
	}
	return true, nil
}
