// Package teststacks holds stacks with seeded bugs, for the tests of the
// packages that must find them (corpus, exhaust).
package teststacks

import (
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// Stale is the model as a stack, with one seeded bug: the user routes
// that an address or adapter op (del, down, unplug) takes away stay in
// its table, as in a stack that never flushes the routes of an adapter
// whose last IPv4 address goes. It answers no lookups: only results,
// routes and addresses are compared.
type Stale struct {
	st    *model.State
	stale []model.Route
}

// Reset implements sut.Stack.
func (s *Stale) Reset(cfg model.Config) error {
	st, err := model.New(cfg)
	s.st, s.stale = st, nil
	return err
}

// Apply implements sut.Stack.
func (s *Stale) Apply(op model.Op) error {
	before := s.st.UserRoutes()
	err := s.st.Apply(op)
	if !op.Kind.Spec().Routes() {
		for _, r := range before {
			if !slices.Contains(s.st.UserRoutes(), r) && !slices.Contains(s.stale, r) {
				s.stale = append(s.stale, r)
			}
		}
	}
	return err
}

// Routes implements sut.Stack.
func (s *Stale) Routes() (model.Table, error) {
	return model.SortRoutes(append(s.st.Routes(), s.stale...)), nil
}

// Addrs implements sut.Stack.
func (s *Stale) Addrs() ([]model.Addr, error) { return s.st.Addrs(), nil }

// Close implements sut.Stack.
func (s *Stale) Close() error { return nil }
