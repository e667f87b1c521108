// Package check drives a stack and the model side by side, one op at a
// time, and compares everything observable after every op: the op's
// result, then each of Observables (the route table, the address list).
// A difference is a *Divergence, whose Report is written for a person.
//
// It knows nothing of how ops are chosen, nor of what they mean: the
// rapid state machine, the corpus replayer and the minimizer all use it,
// so they check exactly the same things.
package check

import (
	"errors"
	"fmt"
	"slices"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Run is one sequence of ops applied to a model and a stack.
type Run struct {
	name    string
	model   *model.State
	stack   sut.Stack
	ref     sut.Stack // the reference stack of a Pair, compared instead of the model; nil: the model
	refName string
	limits  sut.Limits
	readers []reader // one per observable
	ops     []model.Op
	want    model.Result // the expected side's result of the last op: the model's, or the reference's
	modelRe model.Result // the model's result of the last op
	stats   *Stats
	results []model.Result // the stack's result of every op
	oracle  Oracle         // judges the run (a Judged stack); nil: none
	noModel bool           // the model is not compared (a Judged stack without Model)
}

// Stats counts work across runs.
type Stats struct {
	Steps   int // ops applied
	Retries int // route re-reads while waiting for a lagging stack
	Settled int // comparisons that agreed only after re-reading
	GaveUp  int // comparisons still different when the wait ran out: real divergences
}

// Start resets stack to cfg and returns a run that compares it with the
// model, after checking that both start out equal. name names the stack in
// reports. stats, if not nil, accumulates counts. When stack is a *Pair,
// the run compares its stack with its reference stack instead of the
// model (see Pair).
func Start(name string, stack sut.Stack, cfg model.Config, stats *Stats) (*Run, *Divergence, error) {
	m, err := model.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("bad configuration: %w", err)
	}
	var oracle Oracle
	noModel := false
	if j, ok := stack.(*Judged); ok {
		if _, pair := j.Stack.(*Pair); pair {
			return nil, nil, fmt.Errorf("%s: an oracle cannot judge a pair of stacks", name)
		}
		stack, oracle, noModel = j.Stack, j.Oracle, !j.Model
	}
	if p, ok := stack.(*Pair); ok {
		if err := p.reset(cfg); err != nil {
			return nil, nil, err
		}
	} else if err := stack.Reset(cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: reset to %s: %w", name, cfg, err)
	}
	if stats == nil {
		stats = new(Stats)
	}
	r := &Run{name: name, model: m, stack: stack, limits: sut.LimitsOf(stack), stats: stats, oracle: oracle, noModel: noModel}
	if p, ok := stack.(*Pair); ok {
		r.stack, r.ref, r.refName = p.Stack, p.Ref, p.RefName
	}
	r.readers = make([]reader, len(Observables))
	for i, o := range Observables {
		r.readers[i] = o.reader(r.stack, r.ref)
	}
	d, err := r.compare(model.OK, model.OK, nil)
	if d == nil && err == nil {
		d, err = r.judge()
	}
	return r, d, err
}

// judge asks the run's Oracle, if it has one, to judge it as it is.
func (r *Run) judge() (*Divergence, error) {
	if r.oracle == nil {
		return nil, nil
	}
	return r.oracle.Judge(r)
}

// Model returns the model's state. Callers must not change it.
func (r *Run) Model() *model.State { return r.model }

// ModelResult returns the model's result of the last op Step applied.
func (r *Run) ModelResult() model.Result { return r.modelRe }

// Ops returns the ops applied so far.
func (r *Run) Ops() []model.Op { return r.ops }

// Step applies op to the model and the stack and compares them. It returns
// a *Divergence when they differ or when the stack crashed or hung on op
// (an error wrapping sut.ErrCrash or sut.ErrHang: the stack's own bug),
// and an error when the stack failed for a reason outside its semantics
// (which is never a divergence).
func (r *Run) Step(op model.Op) (*Divergence, error) {
	r.ops = append(r.ops, op)
	r.stats.Steps++
	want, _ := model.ResultOf(r.model.Apply(op))
	r.modelRe = want
	if r.ref != nil {
		var d *Divergence
		var err error
		if want, d, err = r.applyRef(op); d != nil || err != nil {
			return d, err
		}
	}
	r.want = want
	gerr := r.stack.Apply(op)
	got, ok := model.ResultOf(gerr)
	if !ok {
		return r.failed(want, fmt.Errorf("%s: op %d (%s): %w", r.name, len(r.ops), op, gerr))
	}
	r.results = append(r.results, got)
	d, err := r.compare(want, got, gerr)
	if d == nil && err == nil {
		d, err = r.judge()
	}
	return d, err
}

// failed turns a stack's crash or hang into a divergence, and returns any
// other error as it is.
func (r *Run) failed(want model.Result, err error) (*Divergence, error) {
	var kind string
	switch {
	case errors.Is(err, sut.ErrCrash):
		kind = "crash"
	case errors.Is(err, sut.ErrHang):
		kind = "hang"
	default:
		return nil, err
	}
	for _, x := range r.readers {
		x.wanted(r)
	}
	d := r.divergence(want, 0)
	d.Failed, d.GotMsg = kind, err.Error()
	if re := (*refError)(nil); errors.As(err, &re) {
		d.FailedBy = r.refName
	}
	return d, nil
}

// compare reads every observable of the model and the stack, in order,
// and returns a divergence when they or the results differ.
func (r *Run) compare(want, got model.Result, gerr error) (*Divergence, error) {
	if r.noModel {
		return nil, nil
	}
	same := want == got
	for _, x := range r.readers {
		ok, err := x.read(r)
		if err != nil {
			return r.failed(want, err)
		}
		same = same && ok
	}
	if same {
		return nil, nil
	}
	d := r.divergence(want, got)
	if gerr != nil {
		d.GotMsg = gerr.Error()
	}
	return d, nil
}

// divergence returns the run as a divergence, with the last values read.
func (r *Run) divergence(want, got model.Result) *Divergence {
	d := &Divergence{
		SUT:        r.name,
		Ref:        r.refName,
		Config:     r.model.Config(),
		Ops:        slices.Clone(r.ops),
		WantResult: want, GotResult: got,
		Observed: make([]Observed, len(r.readers)),
	}
	for i, x := range r.readers {
		d.Observed[i] = x.observed()
	}
	return d
}

// Replay starts a run and applies ops in order, stopping at the first
// divergence or error.
func Replay(name string, stack sut.Stack, cfg model.Config, ops []model.Op, stats *Stats) (*Divergence, error) {
	r, d, err := Start(name, stack, cfg, stats)
	if d != nil || err != nil {
		return d, err
	}
	for _, op := range ops {
		if d, err := r.Step(op); d != nil || err != nil {
			return d, err
		}
	}
	return nil, nil
}

// when says where the run is: "after op N", or "after the reset".
func (r *Run) when() string {
	if len(r.ops) == 0 {
		return "after the reset"
	}
	return fmt.Sprintf("after op %d", len(r.ops))
}
