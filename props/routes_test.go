package props

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// routeStack is a stack whose user routes are a model's: route ops are
// answered by a model fed every op, and its table is its inner stack's
// with the model's user routes added. With no inner stack it is the
// model itself.
type routeStack struct {
	inner sut.Stack
	m     *model.State
}

func (s *routeStack) Reset(cfg model.Config) error {
	var err error
	if s.m, err = model.New(cfg); err != nil {
		return err
	}
	if s.inner != nil {
		return s.inner.Reset(cfg)
	}
	return nil
}

func (s *routeStack) Apply(op model.Op) error {
	err := s.m.Apply(op)
	if s.inner != nil && !op.Kind.Spec().Routes() {
		err = s.inner.Apply(op)
	}
	return err
}

func (s *routeStack) Routes() (model.Table, error) {
	if s.inner == nil {
		return s.m.Routes(), nil
	}
	t, err := s.inner.Routes()
	if err != nil {
		return nil, err
	}
	for _, r := range s.m.Routes() {
		if r.Proto == model.ProtoBoot {
			t = append(t, r)
		}
	}
	return model.SortRoutes(t), nil
}

func (s *routeStack) Addrs() ([]model.Addr, error) {
	if s.inner == nil {
		return s.m.Addrs(), nil
	}
	return s.inner.Addrs()
}

func (s *routeStack) Close() error {
	if s.inner != nil {
		return s.inner.Close()
	}
	return nil
}

// The generator draws route ops that collide with addresses: every result
// a route op can give comes up, and route del mostly finds its route.
func TestRouteOpsDrawn(t *testing.T) {
	res, err := Hunt(&routeStack{}, Config{Name: "model", Attrs: true}, Budget{Seed: 1, Checks: 300})
	require.NoError(t, err)
	require.Nil(t, res.Minimal, "the model diverges from itself")
	s := res.Generated
	t.Logf("\n%s", s)
	byResult := map[string]int{}
	for _, r := range s.Results {
		byResult[r.Result] = r.Ops
	}
	for _, r := range []string{"unreachable", "badsrc", "netdown"} {
		require.Greater(t, byResult[r], 0, "result %s", r)
	}
	for _, k := range []model.OpKind{model.RouteAdd, model.RouteDel} {
		kc := s.Kinds[k-1]
		require.Greater(t, kc.Ops, 100, "ops of %s", kc.Kind)
		require.Greater(t, kc.IPv4, 0, "IPv4 ops of %s", kc.Kind)
		require.Greater(t, kc.IPv6, 0, "IPv6 ops of %s", kc.Kind)
	}
}

// A stack that keeps an IPv4 route whose src left every adapter (the
// kernel deletes it) is found, and shrunk to the three ops that show it.
func TestRouteBugShrunk(t *testing.T) {
	stack := &leakySrc{}
	res, err := Hunt(stack, Config{Name: "leaky", IPv4: true, Attrs: true}, Budget{Seed: 3, Checks: 2000})
	require.NoError(t, err)
	require.NotNil(t, res.Minimal, "a kept route whose src went not found in %d checks", res.Checks)
	require.Len(t, res.Minimal.Ops, 3, res.Minimal.Report())
	ops := res.Minimal.Ops
	require.Equal(t, model.Add, ops[0].Kind, res.Minimal.Report())
	require.Equal(t, model.RouteAdd, ops[1].Kind, res.Minimal.Report())
	require.Equal(t, model.Del, ops[2].Kind, res.Minimal.Report())
	require.Equal(t, ops[0].Prefix.Addr(), ops[1].Src, res.Minimal.Report())
	require.NotZero(t, res.Minimal.Aspects()&check.RoutesAspect, res.Minimal.Report())
}

// leakySrc is the model, except that a del keeps the IPv4 user routes
// whose src it took away (the kernel deletes them: fib_sync_down_addr).
type leakySrc struct {
	routeStack
	kept []model.Route
}

func (s *leakySrc) Reset(cfg model.Config) error {
	s.kept = nil
	return s.routeStack.Reset(cfg)
}

func (s *leakySrc) Apply(op model.Op) error {
	before := s.m.UserRoutes()
	err := s.routeStack.Apply(op)
	if op.Kind == model.Del && err == nil {
		after := s.m.UserRoutes()
		for _, r := range before {
			if r.Src == op.Prefix.Addr() && !slices.Contains(after, r) {
				s.kept = append(s.kept, r)
			}
		}
	}
	if op.Kind.Spec().Routes() || op.Kind != model.Add && op.Kind != model.Del {
		s.kept = nil // keep the bug to adds and dels
	}
	return err
}

func (s *leakySrc) Routes() (model.Table, error) {
	t, _ := s.routeStack.Routes()
	return model.NewTable(append(slices.Clone(t), s.kept...)), nil
}
