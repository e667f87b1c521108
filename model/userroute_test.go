package model

import (
	"errors"
	"strings"
	"testing"
)

// The rules of docs/routes-semantics.md, each as observed on Linux 6.18.

func TestRouteOps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		ops     string
		want    string // the user's routes (proto boot), one per line
		lookups string // lookups to check, one per line
	}{
		{name: "forms", ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0
route add default via 10.1.0.254 dev a0
route add 203.0.113.0/24 dev a0 src 10.1.0.1 metric 10
route add 2001:db8:99::/64 dev a0
route add default via 2001:db8:1::fe dev a0`,
			want: `192.0.2.0/24 dev a0 proto boot
198.51.100.0/24 via 10.1.0.9 dev a0 proto boot
default via 10.1.0.254 dev a0 proto boot
203.0.113.0/24 dev a0 proto boot src 10.1.0.1 metric 10
2001:db8:99::/64 dev a0 proto boot metric 1024
default via 2001:db8:1::fe dev a0 proto boot metric 1024`,
			lookups: `9.9.9.9 via 10.1.0.254 dev a0 src 10.1.0.1
198.51.100.0 via 10.1.0.9 dev a0 src 10.1.0.1
2001:db8:ffff:ffff::1 via 2001:db8:1::fe dev a0 src 2001:db8:1::1`},
		{name: "last IPv4 address flushes the adapter's IPv4 routes", ops: `add a0 10.1.0.1/24
add a0 10.3.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0
route add 2001:db8:99::/64 dev a0
del a0 10.1.0.1/24`,
			want: `192.0.2.0/24 dev a0 proto boot
198.51.100.0/24 via 10.1.0.9 dev a0 proto boot
2001:db8:99::/64 dev a0 proto boot metric 1024`},
		{name: "last IPv4 address gone", ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 2001:db8:99::/64 dev a0
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64`,
			want: `2001:db8:99::/64 dev a0 proto boot metric 1024`},
		{name: "src held by another adapter", ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
add a1 10.1.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.1
add a0 2001:db8:1::1/64
add a1 2001:db8:1::1/64
route add 2001:db8:90::/64 dev a1 src 2001:db8:1::1
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64`,
			want: `203.0.113.0/24 dev a1 proto boot src 10.1.0.1
2001:db8:90::/64 dev a1 proto boot src 2001:db8:1::1 metric 1024`},
		{name: "src gone: IPv4 deleted, IPv6 cleared", ops: `add a0 10.1.0.1/24
add a0 10.3.0.1/24
add a1 10.2.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.1
add a0 2001:db8:1::1/64
add a1 2001:db8:2::1/64
route add 2001:db8:90::/64 dev a1 src 2001:db8:1::1
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64
add a0 2001:db8:1::1/64`,
			want: `2001:db8:90::/64 dev a1 proto boot metric 1024`},
		{name: "down flushes, up does not restore", cfg: Config{KeepAddrOnDown: true}, ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
add a1 10.2.0.1/24
route add 192.0.2.0/24 dev a0
route add 2001:db8:99::/64 dev a0
route add 203.0.113.0/24 dev a1 src 10.1.0.1
down a0
up a0`,
			want: `203.0.113.0/24 dev a1 proto boot src 10.1.0.1`},
		{name: "down flushes IPv6 src", ops: `add a0 2001:db8:1::1/64
add a1 2001:db8:2::1/64
route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1
down a0`,
			want: `2001:db8:97::/64 dev a1 proto boot metric 1024`},
		{name: "carrier", ops: `add a0 10.1.0.1/24
route add 192.0.2.0/24 dev a0
carrier a0 off
route add 198.51.100.0/24 via 10.1.0.9 dev a0`,
			want: `192.0.2.0/24 dev a0 proto boot linkdown
198.51.100.0/24 via 10.1.0.9 dev a0 proto boot linkdown`,
			lookups: `192.0.2.0 dev a0 src 10.1.0.1`},
		{name: "unplug", ops: `add a0 10.3.0.1/24
add a0 2001:db8:3::1/64
add a1 10.2.0.1/24
route add 203.0.114.0/24 via 10.3.0.9 dev a0
route add 203.0.113.0/24 dev a1 src 10.3.0.1
route add 2001:db8:96::/64 dev a1 src 2001:db8:3::1
unplug a0`,
			want: `2001:db8:96::/64 dev a1 proto boot metric 1024`},
		{name: "promotion deletes src routes of the old primary", cfg: Config{Promote: true}, ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a0 10.1.0.3/24
add a1 10.2.0.1/24
route add 192.0.2.0/24 dev a0
route add 203.0.113.0/24 dev a1 src 10.1.0.1
route add 203.0.114.0/24 dev a0 src 10.1.0.2
del a0 10.1.0.1/24`,
			want: `192.0.2.0/24 dev a0 proto boot
203.0.114.0/24 dev a0 proto boot src 10.1.0.2`,
			lookups: `192.0.2.0 dev a0 src 10.1.0.2`},
		{name: "source: gateway's subnet, promoted primary last", cfg: Config{Promote: true}, ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a0 10.5.0.1/24
route add 192.0.2.0/24 dev a0
route add 198.51.99.0/24 via 10.5.0.9 dev a0
del a0 10.1.0.1/24`,
			want: `192.0.2.0/24 dev a0 proto boot
198.51.99.0/24 via 10.5.0.9 dev a0 proto boot`,
			lookups: `192.0.2.0 dev a0 src 10.5.0.1
198.51.99.0 via 10.5.0.9 dev a0 src 10.5.0.1`},
		{name: "source: another adapter's, in creation order", ops: `add a1 10.2.0.1/24
add a2 10.3.0.1/24
route add 192.0.2.0/24 dev a0`,
			want:    `192.0.2.0/24 dev a0 proto boot`,
			lookups: `192.0.2.0 dev a0 src 10.2.0.1`},
		{name: "source: re-plugged adapter is last", ops: `unplug a1
plug a1
add a1 10.2.0.1/24
add a2 10.3.0.1/24
route add 192.0.2.0/24 dev a0`,
			want:    `192.0.2.0/24 dev a0 proto boot`,
			lookups: `192.0.2.0 dev a0 src 10.3.0.1`},
		{name: "IPv4 user route and kernel route of one key", ops: `add a1 10.2.0.1/24
route add 10.1.0.0/24 dev a1
add a0 10.1.0.1/24`,
			want:    `10.1.0.0/24 dev a1 proto boot`,
			lookups: `10.1.0.2 dev a0 src 10.1.0.1 or dev a1 src 10.2.0.1`},
		{name: "gateway on link by a user's dev route", ops: `add a0 10.1.0.1/24
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 192.0.2.5 dev a0
add a0 2001:db8:1::1/64
route add default dev a0 metric 5`,
			want: `192.0.2.0/24 dev a0 proto boot
198.51.100.0/24 via 192.0.2.5 dev a0 proto boot
default dev a0 proto boot metric 5`},
		{name: "IPv4 gateway that is the adapter's own address: lookups go on link", ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
route add 198.51.100.0/24 via 10.1.0.1 dev a0
route add 198.51.101.0/24 via 10.1.0.9 dev a0
add a0 10.1.0.9/24
add a0 10.3.0.1/24
route add 198.51.102.0/24 via 10.3.0.1 dev a0 src 10.2.0.1
del a0 10.3.0.1/24`,
			want: `198.51.100.0/24 via 10.1.0.1 dev a0 proto boot
198.51.101.0/24 via 10.1.0.9 dev a0 proto boot
198.51.102.0/24 via 10.3.0.1 dev a0 proto boot src 10.2.0.1`,
			lookups: `198.51.100.5 dev a0 src 10.1.0.1
198.51.101.5 via 10.1.0.9 dev a0 src 10.1.0.1
198.51.102.5 dev a0 src 10.2.0.1`},
		{name: "local table first", ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
route add 10.1.0.1/32 dev a1
route add 10.1.0.255/32 dev a1`,
			want: `10.1.0.1/32 dev a1 proto boot
10.1.0.255/32 dev a1 proto boot`,
			lookups: `10.1.0.1 local src 10.1.0.1
10.1.0.255 broadcast dev a0 src 10.1.0.1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Adapters = []string{"a0", "a1", "a2"}
			s := runCfg(t, cfg, tc.ops)
			var got []string
			for _, r := range s.UserRoutes() {
				got = append(got, r.String())
			}
			if g := strings.Join(got, "\n"); g != tc.want {
				t.Errorf("user routes:\n%s\nwant:\n%s", g, tc.want)
			}
			for _, r := range s.UserRoutes() {
				if !tableHas(s.Routes(), r) {
					t.Errorf("user route %s is not in the table", r)
				}
			}
			for _, line := range strings.Split(tc.lookups, "\n") {
				if line == "" {
					continue
				}
				want := MustParseLookup(line)
				if got := s.Lookup(want.Dst); got.String() != want.String() {
					t.Errorf("lookup %s = %s; want %s", want.Dst, got, want)
				}
			}
		})
	}
}

func tableHas(t Table, r Route) bool {
	for _, x := range t {
		if x == r {
			return true
		}
	}
	return false
}

func TestRouteResults(t *testing.T) {
	const setup = `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
add a1 10.2.0.1/24
add a1 2001:db8:2::1/64
`
	for _, tc := range []struct {
		ops  string
		op   string
		want error
	}{
		{"", "route add 198.51.100.0/24 via 10.9.0.1 dev a0", ErrUnreachable},
		{"", "route add 198.51.100.0/24 via 10.2.0.9 dev a0", ErrUnreachable},
		{"", "route add 198.51.100.0/24 via 10.1.0.255 dev a0", ErrInvalid},
		{"", "route add 198.51.100.0/24 via 10.1.0.1 dev a0", nil},
		{"", "route add 2001:db8:98::/64 via 2001:db8:9::1 dev a0", ErrUnreachable},
		{"", "route add 2001:db8:98::/64 via 2001:db8:1::1 dev a0", ErrInvalid},
		{"", "route add 2001:db8:98::/64 via 2001:db8:2::1 dev a0", ErrInvalid},
		{"route add 2001:db8:40::/64 dev a0\nroute add 2001:db8:40::/96 via 2001:db8:1::9 dev a0", "route add 2001:db8:41::/64 via 2001:db8:40::5 dev a0", ErrUnreachable},
		{"route add 192.0.2.0/24 dev a0\nroute add 192.0.2.0/28 via 10.1.0.9 dev a0 metric 1", "route add 198.51.100.0/24 via 192.0.2.5 dev a0", nil},
		{"", "route add 203.0.113.0/24 dev a0 src 10.1.0.77", ErrBadSource},
		{"", "route add 203.0.113.0/24 dev a0 src 10.2.0.1", nil},
		{"", "route add 2001:db8:97::/64 dev a0 src 2001:db8:1::77", ErrBadSource},
		{"route add 192.0.2.0/24 dev a0", "route add 192.0.2.0/24 dev a1", ErrExists},
		{"route add 192.0.2.0/24 dev a0", "route add 192.0.2.0/24 dev a1 metric 3", nil},
		{"", "route add 10.1.0.0/24 dev a0", ErrExists},
		{"", "route add 10.1.0.0/24 dev a0 metric 9", nil},
		{"", "route add 2001:db8:1::/64 dev a0 metric 256", ErrExists},
		{"route add 2001:db8:99::/64 dev a0", "route add 2001:db8:99::/64 dev a0 metric 1024", ErrExists},
		{"down a1", "route add 192.0.2.0/24 dev a1", ErrNetDown},
		{"down a1", "route add 192.0.2.0/24 via 10.2.0.9 dev a1", ErrUnreachable},
		{"down a1", "route add 192.0.2.0/24 via 10.2.0.1 dev a1", ErrNetDown},
		{"down a1", "route add 192.0.2.0/24 dev a1 src 10.9.9.9", ErrNetDown},
		{"carrier a1 off", "route add 192.0.2.0/24 via 10.2.0.9 dev a1", nil},
		{"unplug a1", "route add 192.0.2.0/24 dev a1", ErrInvalid},
		{"unplug a1", "route del 192.0.2.0/24 dev a1", ErrInvalid},
		{"", "route add 192.0.2.0/24 dev x9", ErrInvalid},
		{"", "route del 192.0.2.0/24 dev a0", ErrNotFound},
		{"", "route del 10.1.0.0/24 dev a0", ErrNotFound},
		{"route add 192.0.2.0/24 dev a0 metric 5", "route del 192.0.2.0/24 dev a0", ErrNotFound},
		{"route add 192.0.2.0/24 via 10.1.0.9 dev a0", "route del 192.0.2.0/24 dev a0", ErrNotFound},
		{"route add 192.0.2.0/24 via 10.1.0.9 dev a0 metric 7", "route del 192.0.2.0/24 via 10.1.0.9 dev a0 metric 7", nil},
		{"route add 192.0.2.0/24 dev a0 src 10.1.0.1", "route del 192.0.2.0/24 dev a0", nil},
		{"route add 2001:db8:99::/64 dev a0 src 2001:db8:1::1", "route del 2001:db8:99::/64 dev a0", nil},
		{"route add 2001:db8:99::/64 dev a0", "route del 2001:db8:99::/64 dev a0 metric 1024", nil},
	} {
		s := runCfg(t, Config{Adapters: []string{"a0", "a1"}}, setup+tc.ops)
		before := s.Routes().String()
		err := s.Apply(MustParseOp(tc.op))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("after %q, %s = %v; want %v", tc.ops, tc.op, err, tc.want)
		}
		if tc.want != nil && s.Routes().String() != before {
			t.Errorf("%s failed but changed the routes", tc.op)
		}
	}
}

func TestRouteGrammar(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"route add default via 10.0.0.1 dev a0", "route add default via 10.0.0.1 dev a0"},
		{"route add 0.0.0.0/0 dev a0", "route add default dev a0"},
		{"route add default dev a0 src 2001:db8::1", "route add default dev a0 src 2001:db8::1"},
		{"route add ::/0 dev a0", "route add ::/0 dev a0"},
		{"route  del 10.0.0.0/8 dev a0 metric 5", "route del 10.0.0.0/8 dev a0 metric 5"},
		{"route-add 10.0.0.0/8 dev a0", ""},
		{"route add 10.0.0.1/8 dev a0", ""},
		{"route add 10.0.0.0/8 a0", ""},
		{"route add 10.0.0.0/8 via dev a0", ""},
		{"route del 10.0.0.0/8 dev a0 src 10.0.0.1", ""},
		{"route add 10.0.0.0/8 dev a0 noprefixroute", ""},
		{"route", ""},
	} {
		op, err := ParseOp(tc.in)
		if tc.out == "" {
			if err == nil {
				t.Errorf("ParseOp(%q) = %v; want an error", tc.in, op)
			}
			continue
		}
		if err != nil || op.String() != tc.out {
			t.Errorf("ParseOp(%q) = %v, %v; want %s", tc.in, op, err, tc.out)
		}
	}
	for _, in := range []string{"route add 10.0.0.0/8 via 2001:db8::1 dev a0", "route add 10.0.0.0/8 via 224.0.0.1 dev a0"} {
		if err := MustParseOp(in).Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v; want invalid", in, err)
		}
	}
}

func TestHold(t *testing.T) {
	op, err := ParseOp("hold 10.0.0.5")
	if err != nil || op.String() != "hold 10.0.0.5" || op.Prefix.Bits() != 32 {
		t.Fatalf("ParseOp(hold 10.0.0.5) = %v, %v", op, err)
	}
	for _, bad := range []string{"hold 10.0.0.5/24", "hold a0 10.0.0.5", "hold"} {
		if _, err := ParseOp(bad); err == nil {
			t.Errorf("ParseOp(%q): want an error", bad)
		}
	}
	s := runCfg(t, Config{Adapters: []string{"a0"}}, "add a0 10.0.0.1/24")
	before := s.Routes().String() + s.Lookup(MustParseOp("hold 10.0.0.5").Prefix.Addr()).String()
	for _, h := range []string{"hold 10.0.0.5", "hold 2001:db8::9", "hold 192.0.2.1"} {
		if err := s.Apply(MustParseOp(h)); err != nil {
			t.Errorf("%s = %v; want ok", h, err)
		}
	}
	if after := s.Routes().String() + s.Lookup(MustParseOp("hold 10.0.0.5").Prefix.Addr()).String(); after != before {
		t.Errorf("hold changed the state:\n%s\nwant\n%s", after, before)
	}
	if !Hold.Spec().Declared || Hold.Spec().TakesAdapter() {
		t.Error("hold must be declared and take no adapter")
	}
}
