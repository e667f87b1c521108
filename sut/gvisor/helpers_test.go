package gvisor

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// newStack returns a stack in mode m reset to adapters, closed when t
// ends.
func newStack(t *testing.T, m Mode, adapters ...string) *Stack {
	t.Helper()
	s := New(m)
	if err := s.Reset(model.Config{Adapters: adapters, Promote: true, KeepAddrOnDown: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// apply applies ops, each of which must succeed.
func apply(t *testing.T, s *Stack, ops ...string) {
	t.Helper()
	for _, o := range ops {
		if err := s.Apply(model.MustParseOp(o)); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
}

// result returns err's result; it fails the test on a harness error.
func result(err error) model.Result {
	r, ok := model.ResultOf(err)
	if !ok {
		panic(err)
	}
	return r
}

func lookup(t *testing.T, s *Stack, dst string) string {
	t.Helper()
	l, err := s.Lookup(netip.MustParseAddr(dst))
	if err != nil {
		t.Fatal(err)
	}
	return l.String()
}

func addrs(t *testing.T, s *Stack) string {
	t.Helper()
	as, err := s.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	var f []string
	for _, a := range as {
		f = append(f, a.String())
	}
	return strings.Join(f, ", ")
}
