package fixed_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// run applies ops, one per line, to a fixed stack and to the model under
// cfg, requiring the same result of each, and returns the stack and the
// model.
func run(t *testing.T, cfg model.Config, ops string) (*fixed.Stack, *model.State) {
	t.Helper()
	s := fixed.New()
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(ops, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		op := model.MustParseOp(line)
		want, got := m.Apply(op), s.Apply(op)
		w, _ := model.ResultOf(want)
		if g, ok := model.ResultOf(got); !ok || g != w {
			t.Fatalf("%s: fixed says %v, model %v", op, got, want)
		}
	}
	return s, m
}

// wantRoutes requires s's table to be want, and the model's.
func wantRoutes(t *testing.T, s *fixed.Stack, m *model.State, want string) {
	t.Helper()
	w, err := model.ParseTable(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(w) {
		t.Errorf("fixed's routes:\n%swant:\n%s", got, w)
	}
	if !m.Routes().Equal(w) {
		t.Errorf("the model's routes:\n%swant:\n%s", m.Routes(), w)
	}
}

func TestLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name          string
		promote, keep bool
		ops, want     string
	}{
		{"change of a secondary's metric shows when it is promoted", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24
			add a0 10.1.0.3/24 metric 4
			change a0 10.1.0.2/24 metric 3
			change a0 10.1.0.3/24 metric 9`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 5
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.2/32 dev a0 src 10.1.0.1
			local 10.1.0.3/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"... and is the promoted primary's", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24
			add a0 10.1.0.3/24 metric 4
			change a0 10.1.0.2/24 metric 3
			change a0 10.1.0.3/24 metric 9
			del a0 10.1.0.1/24`, `
			10.1.0.0/24 dev a0 src 10.1.0.2 metric 3
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			local 10.1.0.3/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`},
		{"a primary changed to noprefixroute loses its connected route, not its broadcast", false, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24
			change a0 10.1.0.1/24 noprefixroute`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.2/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"a primary changed back from noprefixroute gets it again, with the new metric", false, false, `
			add a0 10.1.0.1/24 noprefixroute
			change a0 10.1.0.1/24 metric 7`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 7
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"a secondary changed to noprefixroute changes nothing while secondary", false, false, `
			add a0 10.1.0.1/24
			add a0 10.1.0.2/24
			change a0 10.1.0.2/24 noprefixroute`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.2/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"change while down shows at up, IPv4 and IPv6", false, true, `
			add a0 10.1.0.1/24 metric 5
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:2::1/64
			down a0
			change a0 10.1.0.1/24 metric 8
			change a0 2001:db8:1::1/64 metric 300
			change a0 2001:db8:2::1/64 noprefixroute`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1`},
		{"... up", false, true, `
			add a0 10.1.0.1/24 metric 5
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:2::1/64
			down a0
			change a0 10.1.0.1/24 metric 8
			change a0 2001:db8:1::1/64 metric 300
			change a0 2001:db8:2::1/64 noprefixroute
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 8
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1
			2001:db8:1::/64 dev a0 metric 300
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:2::1/128 dev a0`},
		{"a change to lifetimes while down is kept, and the next down flushes it", false, true, `
			add a0 2001:db8:3::1/64 metric 100
			down a0
			change a0 2001:db8:3::1/64 metric 100 valid_lft 600 preferred_lft 300
			up a0
			down a0
			up a0`, ``},
		{"IPv6 change keeps the metric when it gives none", false, false, `
			add a0 2001:db8:1::1/64 metric 100
			change a0 2001:db8:1::1/64
			change a0 2001:db8:1::1/64 noprefixroute
			change a0 2001:db8:1::1/64`, `
			2001:db8:1::/64 dev a0 metric 100
			local 2001:db8:1::1/128 dev a0`},
		{"IPv6 prefix routes are shared per (prefix, metric)", false, false, `
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:1::2/64 metric 100
			add a0 2001:db8:1::3/64
			change a0 2001:db8:1::1/64 metric 200
			change a0 2001:db8:1::3/64 metric 100`, `
			2001:db8:1::/64 dev a0 metric 100
			2001:db8:1::/64 dev a0 metric 200
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:1::2/128 dev a0
			local 2001:db8:1::3/128 dev a0`},
		{"carrier off while down shows linkdown at up", false, true, `
			add a0 10.1.0.1/24 metric 5
			add a0 2001:db8:1::1/64
			add a1 10.2.0.1/24
			down a0
			carrier a0 off
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 5 linkdown
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1 linkdown
			10.2.0.0/24 dev a1 src 10.2.0.1
			local 10.2.0.1/32 dev a1 src 10.2.0.1
			broadcast 10.2.0.255/32 dev a1 src 10.2.0.1
			2001:db8:1::/64 dev a0 metric 256 linkdown
			local 2001:db8:1::1/128 dev a0`},
		{"carrier off then on while down: none at up", false, true, `
			add a0 10.1.0.1/24
			down a0
			carrier a0 off
			carrier a0 on
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"routes held twice are re-keyed with their count", false, false, `
			add a0 2001:db8:1::1/64
			add a0 2001:db8:1::2/64
			carrier a0 off
			del a0 2001:db8:1::1/64
			carrier a0 on
			carrier a0 off
			add a0 10.1.0.1/24
			change a0 10.1.0.1/24 metric 3`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 3 linkdown
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1 linkdown
			2001:db8:1::/64 dev a0 metric 256 linkdown
			local 2001:db8:1::2/128 dev a0`},
		{"the last holder deleted without carrier", false, false, `
			add a0 2001:db8:1::1/64
			add a0 2001:db8:1::2/64
			carrier a0 off
			del a0 2001:db8:1::1/64
			del a0 2001:db8:1::2/64
			carrier a0 on`, ``},
		{"unplug forgets carrier", false, false, `
			carrier a0 off
			add a0 10.1.0.1/24
			unplug a0
			plug a0
			add a0 10.1.0.1/24`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"a noprefixroute primary hands a connected route to a promoted secondary", true, false, `
			add a0 10.1.0.1/24 noprefixroute
			add a0 10.1.0.2/24 metric 7
			add a0 10.1.0.3/24
			del a0 10.1.0.1/24`, `
			10.1.0.0/24 dev a0 src 10.1.0.2 metric 7
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			local 10.1.0.3/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`},
		{"a promoted noprefixroute secondary holds no connected route", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24 noprefixroute
			del a0 10.1.0.1/24`, `
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`},
		{"promotion without carrier, and while down", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24 metric 6
			add a0 10.1.0.3/24 noprefixroute
			carrier a0 off
			del a0 10.1.0.1/24
			down a0
			del a0 10.1.0.2/24
			up a0`, `
			local 10.1.0.3/32 dev a0 src 10.1.0.3
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.3 linkdown`},
		{"without promotion a noprefixroute primary takes its secondaries", false, false, `
			add a0 10.1.0.1/24 noprefixroute
			add a0 10.1.0.2/24 metric 7
			del a0 10.1.0.1/24`, ``},
		{"keep_addr_on_down keeps permanent IPv6 addresses only", false, true, `
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:2::1/64 noprefixroute
			add a0 2001:db8:3::1/64 valid_lft 600 preferred_lft 300
			add a0 2001:db8:4::1/64
			change a0 2001:db8:4::1/64 valid_lft 900 preferred_lft 300
			down a0
			up a0`, `
			2001:db8:1::/64 dev a0 metric 100
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:2::1/128 dev a0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, m := run(t, model.Config{Adapters: []string{"a0", "a1"}, Promote: tc.promote, KeepAddrOnDown: tc.keep}, tc.ops)
			wantRoutes(t, s, m, tc.want)
		})
	}
}

func TestLifecycleResults(t *testing.T) {
	for _, tc := range []struct {
		ops, op string
		want    error
	}{
		{"", "change a0 10.1.0.1/24", model.ErrNotFound},
		{"add a0 10.1.0.1/24", "change a0 10.1.0.1/16", model.ErrNotFound},
		{"add a0 2001:db8::1/64", "change a0 2001:db8::1/80 metric 200", model.ErrNotFound},
		{"add a0 10.1.0.1/24", "change a1 10.1.0.1/24", model.ErrNotFound},
		{"add a0 10.1.0.1/24\nunplug a0", "change a0 10.1.0.1/24", model.ErrInvalid},
		{"unplug a0", "carrier a0 on", model.ErrInvalid},
		{"", "carrier a0 on", nil},
		{"carrier a0 off", "carrier a0 off", nil},
		{"", "carrier x9 off", model.ErrInvalid},
	} {
		s, _ := run(t, model.Config{Adapters: []string{"a0", "a1"}}, tc.ops)
		before, _ := s.Routes()
		err := s.Apply(model.MustParseOp(tc.op))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("after %q, %s = %v; want %v", tc.ops, tc.op, err, tc.want)
		}
		if after, _ := s.Routes(); tc.want != nil && !after.Equal(before) {
			t.Errorf("%s failed but changed the routes", tc.op)
		}
	}
}
