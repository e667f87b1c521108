package check

import (
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// A Step is one point of a traced run: the reset (N == 0) or op N, its two
// results, and the model's and the stack's value of every one of
// Observables after it.
type Step struct {
	N                     int      // 0 for the reset, else the op's number from 1
	Op                    model.Op // the zero Op for the reset
	WantResult, GotResult model.Result
	GotMsg                string     // the stack's error text when the results differ
	Failed                string     // "crash" or "hang": the stack's values are unknown
	Observed              []Observed // in the order of Observables
}

// Differs reports whether the stack and the model disagree after s: on
// the result, on any observable, or because the stack failed.
func (s Step) Differs() bool {
	if s.Failed != "" || s.WantResult != s.GotResult {
		return true
	}
	for _, o := range s.Observed {
		if o.Differs() {
			return true
		}
	}
	return false
}

// FirstDivergence returns the index in steps of the first step that
// differs, or -1.
func FirstDivergence(steps []Step) int {
	for i, s := range steps {
		if s.Differs() {
			return i
		}
	}
	return -1
}

// Trace resets stack to cfg and applies ops beside the model (on a Pair,
// beside the reference, whose results and values a step's Want fields
// then hold), as Replay does, but records every step, the reset first: steps[i] is after op i.
// It goes on past a divergence, so that every op has its step, and stops
// after a crash or a hang, the stack's state being gone. An error is a
// harness failure (as Replay's); the steps recorded so far are returned
// with it.
func Trace(name string, stack sut.Stack, cfg model.Config, ops []model.Op) ([]Step, error) {
	r, d, err := Start(name, stack, cfg, nil)
	if err != nil {
		return nil, err
	}
	steps := []Step{r.step(0, model.Op{}, model.OK, d)}
	if d != nil && d.Failed != "" {
		return steps, nil
	}
	for i, op := range ops {
		d, err := r.Step(op)
		if err != nil {
			return steps, err
		}
		// The expected side's result: the model's, or on a Pair the
		// reference's, which the model need not share.
		steps = append(steps, r.step(i+1, op, r.want, d))
		if d != nil && d.Failed != "" {
			break
		}
	}
	return steps, nil
}

// step records the run's last comparison: d's when they differed, else
// the readers' values, the results being want on both sides.
func (r *Run) step(n int, op model.Op, want model.Result, d *Divergence) Step {
	s := Step{N: n, Op: op, WantResult: want, GotResult: want}
	if d != nil {
		s.WantResult, s.GotResult, s.GotMsg, s.Failed = d.WantResult, d.GotResult, d.GotMsg, d.Failed
		s.Observed = d.Observed
		return s
	}
	s.Observed = make([]Observed, len(r.readers))
	for i, x := range r.readers {
		s.Observed[i] = x.observed()
	}
	return s
}
