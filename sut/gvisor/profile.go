package gvisor

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Profiled is a Stack checked against the gVisor profile of the model
// (Ref): it keeps the profile and the model beside the stack, and where
// the stack answers as its profile says (an op's result, the address
// list, a lookup) it reports the model's answer, so that the harness,
// which compares with the model, goes past the documented differences.
// An answer the profile does not predict is reported as the stack gave
// it: a divergence unless it is the model's.
type Profiled struct {
	*Stack
	ref   *Ref
	model *model.State
	// Strict makes an answer the profile does not predict an error
	// wrapping ErrProfile, rather than the stack's answer: for checking
	// the profile itself.
	Strict bool
	// Amended counts the answers reported as the model's that were the
	// profile's and not the model's, by observable: "results",
	// "addresses", "lookups".
	Amended map[string]int
}

// ErrProfile is wrapped by the error of a Strict Profiled stack whose
// answer its profile did not predict.
var ErrProfile = errors.New("gvisor: an answer the profile does not predict")

// NewProfiled returns a profiled stack in mode m.
func NewProfiled(m Mode) *Profiled {
	return &Profiled{Stack: New(m), Amended: map[string]int{}}
}

var _ sut.BatchLooker = (*Profiled)(nil)

// Reset resets the stack, its profile and its model.
func (p *Profiled) Reset(cfg model.Config) error {
	st, err := model.New(cfg)
	if err != nil {
		return err
	}
	if err := p.Stack.Reset(cfg); err != nil {
		return err
	}
	p.model, p.ref = st, NewRef(p.mode, cfg)
	return nil
}

// Apply applies op to the stack, the profile and the model. A result the
// profile predicts is reported as the model's.
func (p *Profiled) Apply(op model.Op) error {
	if p.model == nil || op.Validate() != nil || p.Limits().Unsupported(DefaultMetric(op)) != "" {
		return p.Stack.Apply(op)
	}
	merr := p.model.Apply(op)
	want := p.ref.Apply(op)
	err := p.Stack.Apply(op)
	got, ok := model.ResultOf(err)
	if !ok {
		return err
	}
	if got != want {
		if p.Strict {
			return fmt.Errorf("%w: %s: %s, profile %s", ErrProfile, op, got, want)
		}
		return err
	}
	if m, _ := model.ResultOf(merr); m != got {
		p.Amended["results"]++
	}
	return merr
}

// Addrs returns the model's addresses when the stack's are its
// profile's, else the stack's.
func (p *Profiled) Addrs() ([]model.Addr, error) {
	got, err := p.Stack.Addrs()
	if err != nil || p.model == nil {
		return got, err
	}
	if ref := p.ref.Addrs(); !slices.Equal(got, ref) {
		if p.Strict {
			return nil, fmt.Errorf("%w: addresses %v, profile %v", ErrProfile, got, ref)
		}
		return got, nil
	}
	want := p.model.Addrs()
	if !slices.Equal(got, want) {
		p.Amended["addresses"]++
	}
	return slices.Clone(want), nil
}

// Lookup answers as LookupAll does.
func (p *Profiled) Lookup(dst netip.Addr) (model.LookupResult, error) {
	ls, err := p.LookupAll([]netip.Addr{dst})
	if err != nil {
		return model.LookupResult{}, err
	}
	return ls[0], nil
}

// LookupAll answers as the Stack does, an answer its profile predicts
// replaced by the model's.
func (p *Profiled) LookupAll(dsts []netip.Addr) ([]model.LookupResult, error) {
	ls, err := p.Stack.LookupAll(dsts)
	if err != nil || p.model == nil {
		return ls, err
	}
	for i, l := range ls {
		if ref := p.ref.Lookup(l.Dst); !slices.Contains(ref, l.Hop) {
			if p.Strict {
				return nil, fmt.Errorf("%w: %s, profile %v", ErrProfile, l, ref)
			}
			continue
		}
		want := p.model.Lookup(l.Dst)
		if !want.Accepts(l.Hop) {
			p.Amended["lookups"]++
		}
		ls[i] = want
	}
	return ls, nil
}

// Own returns the stack itself, whose answers are its own: what the
// relations (package relations, check -oracle relations) judge, with no
// model and so no profile.
func (p *Profiled) Own() sut.Stack { return p.Stack }
