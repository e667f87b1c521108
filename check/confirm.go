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
	if d.SUT != e.SUT || d.Ref != e.Ref || d.FailedBy != e.FailedBy || !slices.Equal(d.Ops, e.Ops) || d.Config.String() != e.Config.String() || d.Failed != e.Failed {
		return false
	}
	if d.Failed != "" {
		return true // the message may hold a pid or a time
	}
	if d.GotResult != e.GotResult || len(d.Observed) != len(e.Observed) {
		return false
	}
	for i, o := range d.Observed {
		if o.Of != e.Observed[i].Of || !o.Of.equal(o.Got, e.Observed[i].Got) {
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
