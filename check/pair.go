package check

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// A Pair is a stack under test together with a reference stack that takes
// the model's place as the expected side: a run started on a Pair (Start,
// Replay, Confirm, and so everything built on them: the rapid property,
// Hunt, Polish, corpus replay) applies every op to both stacks and
// compares the stack with the reference, on every observable, with the
// op's result. The model still runs alongside, for the generator to draw
// present addresses and for exclusions to look at, but it is not
// compared.
//
// A Pair is itself a sut.Stack whose Limits are what both stacks support
// (sut.Limits intersected), so that the generator draws, and the corpus
// gates on, only what both take. Used directly, its Apply applies an op to
// both and returns the stack's result, and Routes and Addrs are the
// stack's.
type Pair struct {
	Name, RefName string
	Stack, Ref    sut.Stack
	limits        sut.Limits
}

// PairName names a pair in corpus verdicts and file names:
// "legacy-vs-fixed" is legacy compared with fixed.
func PairName(stack, ref string) string { return stack + "-vs-" + ref }

// Vs pairs stack (named name) with the reference stack ref (named
// refName). It fails when the two have nothing in common to compare: no
// family, op kind, route kind or setting both support.
func Vs(name string, stack sut.Stack, refName string, ref sut.Stack) (*Pair, error) {
	l, err := Intersect(sut.LimitsOf(stack), sut.LimitsOf(ref))
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", name, refName, err)
	}
	return &Pair{Name: name, RefName: refName, Stack: stack, Ref: ref, limits: l}, nil
}

// Intersect returns what two stacks with limits a and b both support, or
// an error when it is nothing along one of the limits' dimensions.
func Intersect(a, b sut.Limits) (sut.Limits, error) {
	var errs []error
	both := func(what string, x, y []model.OpKind) []model.OpKind {
		switch {
		case len(x) == 0:
			return y
		case len(y) == 0:
			return x
		}
		r := slices.DeleteFunc(slices.Clone(x), func(k model.OpKind) bool { return !slices.Contains(y, k) })
		if len(r) == 0 {
			errs = append(errs, fmt.Errorf("no %s in common", what))
		}
		return r
	}
	setting := func(what string, x, y []bool) []bool {
		switch {
		case len(x) == 0:
			return y
		case len(y) == 0:
			return x
		}
		r := slices.DeleteFunc(slices.Clone(x), func(v bool) bool { return !slices.Contains(y, v) })
		if len(r) == 0 {
			errs = append(errs, fmt.Errorf("no %s setting in common", what))
		}
		return r
	}
	l := sut.Limits{
		IPv4:           a.IPv4 && b.IPv4,
		IPv6:           a.IPv6 && b.IPv6,
		Ops:            both("op kind", a.Ops, b.Ops),
		Promote:        setting("promote", a.Promote, b.Promote),
		KeepAddrOnDown: setting("keep_addr_on_down", a.KeepAddrOnDown, b.KeepAddrOnDown),
		Attrs:          slices.DeleteFunc(slices.Clone(a.Attrs), func(c string) bool { return !slices.Contains(b.Attrs, c) }),
	}
	switch {
	case len(a.Kinds) == 0:
		l.Kinds = b.Kinds
	case len(b.Kinds) == 0:
		l.Kinds = a.Kinds
	default:
		l.Kinds = slices.DeleteFunc(slices.Clone(a.Kinds), func(k model.RouteKind) bool { return !slices.Contains(b.Kinds, k) })
		if len(l.Kinds) == 0 {
			errs = append(errs, errors.New("no route kind in common"))
		}
	}
	if !l.IPv4 && !l.IPv6 {
		errs = append(errs, errors.New("no address family in common"))
	}
	return l, errors.Join(errs...)
}

// String names the pair: "legacy-vs-fixed".
func (p *Pair) String() string { return PairName(p.Name, p.RefName) }

// Limits implements sut.Limiter: what both stacks support.
func (p *Pair) Limits() sut.Limits { return p.limits }

// Reset resets the reference, then the stack; an error names the side.
func (p *Pair) Reset(cfg model.Config) error {
	if err := p.Ref.Reset(cfg); err != nil {
		return fmt.Errorf("%s (the reference): %w", p.RefName, err)
	}
	if err := p.Stack.Reset(cfg); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	return nil
}

// reset resets the pair for a run, an error naming the pair and the side.
func (p *Pair) reset(cfg model.Config) error {
	if err := p.Reset(cfg); err != nil {
		return fmt.Errorf("%s: reset to %s: %w", p, cfg, err)
	}
	return nil
}

// Apply applies op to the reference, then to the stack, and returns the
// stack's result. A run does not call it: it applies and compares each
// side itself.
func (p *Pair) Apply(op model.Op) error {
	if err := p.Ref.Apply(op); err != nil {
		if _, ok := model.ResultOf(err); !ok {
			return fmt.Errorf("%s (the reference): %w", p.RefName, err)
		}
	}
	return p.Stack.Apply(op)
}

// Routes returns the stack's routes.
func (p *Pair) Routes() (model.Table, error) { return p.Stack.Routes() }

// Addrs returns the stack's addresses.
func (p *Pair) Addrs() ([]model.Addr, error) { return p.Stack.Addrs() }

// Close closes both stacks.
func (p *Pair) Close() error { return errors.Join(p.Stack.Close(), p.Ref.Close()) }

// Lag implements sut.Lagger: the longer of the two stacks' lags.
func (p *Pair) Lag() time.Duration { return max(lagOf(p.Stack), lagOf(p.Ref)) }

func lagOf(s sut.Stack) time.Duration {
	if l, ok := s.(sut.Lagger); ok {
		return l.Lag()
	}
	return 0
}

// A refError is an error of the reference stack of a Pair: a crash or hang
// in it is the reference's, and is reported as such.
type refError struct{ err error }

func (e *refError) Error() string { return e.err.Error() }
func (e *refError) Unwrap() error { return e.err }

// applyRef applies op to the reference stack and returns its result, which
// the stack's is compared with. A crash or hang of the reference is a
// divergence whose FailedBy names it; any other failure is a harness
// error naming it.
func (r *Run) applyRef(op model.Op) (model.Result, *Divergence, error) {
	err := r.ref.Apply(op)
	if res, ok := model.ResultOf(err); ok {
		return res, nil, nil
	}
	d, herr := r.failed(model.OK, &refError{fmt.Errorf("%s (the reference): op %d (%s): %w", r.refName, len(r.ops), op, err)})
	return model.OK, d, herr
}

// Reference names what d's stack was compared with: "the model", or the
// reference stack of a Pair.
func (d *Divergence) Reference() string {
	if d.Ref == "" {
		return "the model"
	}
	return d.Ref
}

// RefColumn heads the reference's column in a report and names its
// result: "model", or the reference stack.
func (d *Divergence) RefColumn() string {
	if d.Ref == "" {
		return "model"
	}
	return d.Ref
}

// failedName names the side that crashed or hung.
func (d *Divergence) failedName() string {
	if d.FailedBy != "" {
		return d.FailedBy + " (the reference)"
	}
	return d.SUT
}
