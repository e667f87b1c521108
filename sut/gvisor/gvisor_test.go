package gvisor

import (
	"errors"
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

func TestResultMapping(t *testing.T) {
	op := model.MustParseOp("add a0 10.0.0.1/24")
	for _, tc := range []struct {
		err  tcpip.Error
		want model.Result
	}{
		{nil, model.OK},
		{&tcpip.ErrDuplicateAddress{}, model.Exists},
		{&tcpip.ErrDuplicateNICID{}, model.Exists},
		{&tcpip.ErrBadLocalAddress{}, model.NotFound},
		{&tcpip.ErrUnknownNICID{}, model.Invalid},
		{&tcpip.ErrInvalidNICID{}, model.Invalid},
	} {
		err := Result(op, tc.err)
		if r, ok := model.ResultOf(err); !ok || r != tc.want {
			t.Errorf("%v: got %v (%v), want %v", tc.err, r, err, tc.want)
		}
	}
	// Anything else is a harness failure, not a result.
	err := Result(op, &tcpip.ErrUnknownProtocol{})
	if _, ok := model.ResultOf(err); ok || !errors.Is(err, ErrGVisor) {
		t.Errorf("ErrUnknownProtocol: got %v, want a harness error wrapping ErrGVisor", err)
	}
}

// TestOps checks each op's mapping by its result and by what gVisor
// then shows.
func TestOps(t *testing.T) {
	type step struct {
		op   string
		want model.Result
	}
	for _, tc := range []struct {
		name  string
		steps []step
		addrs string
		looks map[string]string // dst: answer
	}{
		{"add", []step{{"add a0 10.0.0.1/24", model.OK}, {"add a0 2001:db8::1/64", model.OK}},
			"a0 10.0.0.1/24, a0 2001:db8::1/64",
			map[string]string{"10.0.0.1": "10.0.0.1 local src 10.0.0.1", "10.0.0.2": "10.0.0.2 unreachable"}},
		{"add twice", []step{{"add a0 10.0.0.1/24", model.OK}, {"add a0 10.0.0.1/24", model.Exists}},
			"a0 10.0.0.1/24", nil},
		{"add unknown adapter", []step{{"add zz 10.0.0.1/24", model.Invalid}}, "", nil},
		{"del", []step{{"add a0 10.0.0.1/24", model.OK}, {"del a0 10.0.0.1/24", model.OK}}, "", nil},
		{"del missing", []step{{"del a0 10.0.0.1/24", model.NotFound}}, "", nil},
		{"del at another length", []step{{"add a0 10.0.0.1/24", model.OK}, {"del a0 10.0.0.1/16", model.OK}}, "", nil},
		{"down keeps addresses", []step{{"add a0 10.0.0.1/24", model.OK}, {"add a0 2001:db8::1/64", model.OK},
			{"route add 10.0.0.0/24 dev a0", model.OK}, {"down a0", model.OK}, {"down a0", model.OK}},
			"a0 10.0.0.1/24, a0 2001:db8::1/64",
			map[string]string{"10.0.0.2": "10.0.0.2 unreachable"}},
		{"up", []step{{"add a0 10.0.0.1/24", model.OK}, {"route add 10.0.0.0/24 dev a0", model.OK},
			{"down a0", model.OK}, {"up a0", model.OK}, {"up a0", model.OK}},
			"a0 10.0.0.1/24",
			map[string]string{"10.0.0.2": "10.0.0.2 dev a0 src 10.0.0.1"}},
		{"unplug", []step{{"add a0 10.0.0.1/24", model.OK}, {"unplug a0", model.OK}, {"unplug a0", model.Invalid},
			{"add a0 10.0.0.1/24", model.Invalid}, {"down a0", model.Invalid}},
			"", map[string]string{"10.0.0.1": "10.0.0.1 unreachable"}},
		{"plug", []step{{"plug a0", model.Exists}, {"add a0 10.0.0.1/24", model.OK}, {"unplug a0", model.OK},
			{"plug a0", model.OK}, {"add a0 10.0.0.2/24", model.OK}},
			"a0 10.0.0.2/24", nil},
		{"unplug drops the NIC's routes", []step{{"add a0 10.0.0.1/24", model.OK}, {"route add 10.0.0.0/24 dev a0", model.OK},
			{"unplug a0", model.OK}, {"plug a0", model.OK}, {"add a0 10.0.0.1/24", model.OK}},
			"a0 10.0.0.1/24", map[string]string{"10.0.0.2": "10.0.0.2 unreachable"}},
		{"route add", []step{{"add a0 10.0.0.1/24", model.OK}, {"route add default via 10.0.0.9 dev a0", model.OK},
			{"route add 2001:db8:99::/64 dev a0", model.OK}},
			"a0 10.0.0.1/24",
			map[string]string{"192.0.2.1": "192.0.2.1 via 10.0.0.9 dev a0 src 10.0.0.1", "2001:db8:99::1": "2001:db8:99::1 unreachable"}},
		{"route add anything", []step{{"route add 198.51.100.0/24 via 10.9.9.9 dev a0 src 10.7.7.7", model.OK},
			{"route add 198.51.100.0/24 via 10.9.9.9 dev a0 src 10.7.7.7", model.OK}}, "", nil},
		{"route del", []step{{"add a0 10.0.0.1/24", model.OK}, {"route add default via 10.0.0.9 dev a0", model.OK},
			{"route del default via 10.0.0.8 dev a0", model.NotFound}, {"route del default dev a0", model.NotFound},
			{"route del default via 10.0.0.9 dev a1", model.NotFound},
			{"route del default via 10.0.0.9 dev a0", model.OK}, {"route del default via 10.0.0.9 dev a0", model.NotFound}},
			"a0 10.0.0.1/24", map[string]string{"192.0.2.1": "192.0.2.1 unreachable"}},
		{"broadcast", []step{{"add a0 10.0.0.1/24", model.OK}, {"route add 10.0.0.0/24 dev a0", model.OK}},
			"a0 10.0.0.1/24", map[string]string{"10.0.0.255": "10.0.0.255 broadcast dev a0 src 10.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, Raw, "a0", "a1")
			for _, st := range tc.steps {
				if got := result(s.Apply(model.MustParseOp(st.op))); got != st.want {
					t.Fatalf("%s: %v, want %v", st.op, got, st.want)
				}
			}
			if got := addrs(t, s); got != tc.addrs {
				t.Errorf("addresses: %q, want %q", got, tc.addrs)
			}
			for dst, want := range tc.looks {
				if got := lookup(t, s, dst); got != want {
					t.Errorf("lookup %s: %q, want %q", dst, got, want)
				}
			}
		})
	}
}

func TestSentryRoutes(t *testing.T) {
	s := newStack(t, Sentry, "a0")
	apply(t, s, "add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a0 2001:db8::1/64")
	want := []string{"2001:db8::/64 dev a0", "10.0.0.0/24 dev a0"}
	if got := s.Table(); !equal(got, want) {
		t.Errorf("table %q, want %q", got, want)
	}
	apply(t, s, "del a0 10.0.0.2/24")
	if got := s.Table(); !equal(got, want[:1]) {
		t.Errorf("after del: table %q, want %q", got, want[:1])
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLimitsAndReset(t *testing.T) {
	s := New(Raw)
	defer s.Close()
	for _, cfg := range []model.Config{
		{Adapters: []string{"a0"}, Promote: false, KeepAddrOnDown: true},
		{Adapters: []string{"a0"}, Promote: true, KeepAddrOnDown: false},
	} {
		if err := s.Reset(cfg); !errors.Is(err, sut.ErrUnsupported) {
			t.Errorf("Reset(%s): %v, want ErrUnsupported", cfg, err)
		}
	}
	if err := s.Reset(model.Config{Adapters: []string{"a0"}, Promote: true, KeepAddrOnDown: true}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"carrier a0 off", "add a0 10.0.0.1/24 metric 5", "change a0 10.0.0.1/24"} {
		if err := s.Apply(model.MustParseOp(o)); !errors.Is(err, sut.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", o, err)
		}
	}
	if !s.Limits().Shows("lookups") || s.Limits().Shows("routes") {
		t.Errorf("observables %v", s.Limits().Observables)
	}
	// A reset forgets addresses, routes and held routes.
	apply(t, s, "add a0 10.0.0.1/24", "route add 10.0.0.0/24 dev a0")
	if _, err := s.Hold(netip.MustParseAddr("10.0.0.9")); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(model.Config{Adapters: []string{"a0", "a1"}, Promote: true, KeepAddrOnDown: true}); err != nil {
		t.Fatal(err)
	}
	if got := addrs(t, s); got != "" || len(s.Table()) != 0 || len(s.held) != 0 {
		t.Errorf("after reset: addresses %q, table %q, %d held", got, s.Table(), len(s.held))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
