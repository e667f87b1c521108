package model

import (
	"errors"
	"testing"
)

// The rules of docs/lifecycle-semantics.md §2, §4, §5 and §6 (carrier,
// change, noprefixroute, lifetimes), each seen on Linux 6.18 except where
// a case says the kernel differs (a known divergence).
func TestLifecycleOps(t *testing.T) {
	for _, tc := range []struct {
		name          string
		promote, keep bool
		ops, want     string
	}{
		{"carrier off marks all but local routes linkdown", false, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.2.0.1/32
			add a0 2001:db8:1::1/64 metric 100
			carrier a0 off`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 5 linkdown
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1 linkdown
			local 10.2.0.1/32 dev a0 src 10.2.0.1
			2001:db8:1::/64 dev a0 metric 100 linkdown
			local 2001:db8:1::1/128 dev a0`},
		{"routes added without carrier are linkdown at once", false, false, `
			carrier a0 off
			carrier a0 off
			add a0 10.3.0.1/24`, `
			10.3.0.0/24 dev a0 src 10.3.0.1 linkdown
			local 10.3.0.1/32 dev a0 src 10.3.0.1
			broadcast 10.3.0.255/32 dev a0 src 10.3.0.1 linkdown`},
		{"carrier on clears linkdown", false, false, `
			add a0 10.1.0.1/24
			carrier a0 off
			carrier a0 on`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"a down adapter shows no linkdown; up without carrier does", false, true, `
			add a0 10.1.0.1/24 metric 5
			add a0 2001:db8:1::1/64 metric 100
			down a0
			carrier a0 off`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1`},
		{"down, carrier off, up", false, true, `
			add a0 10.1.0.1/24 metric 5
			add a0 2001:db8:1::1/64 metric 100
			down a0
			carrier a0 off
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 5 linkdown
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1 linkdown
			2001:db8:1::/64 dev a0 metric 100 linkdown
			local 2001:db8:1::1/128 dev a0`},
		{"plug brings carrier back", false, false, `
			carrier a0 off
			unplug a0
			plug a0
			add a0 10.1.0.1/32`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1`},
		{"ipv4 noprefixroute: broadcast but no connected route", false, false, `
			add a0 10.2.0.1/16 noprefixroute`, `
			local 10.2.0.1/32 dev a0 src 10.2.0.1
			broadcast 10.2.255.255/32 dev a0 src 10.2.0.1`},
		{"ipv4 connected route follows the primary's flag", false, false, `
			add a0 10.1.0.1/24 noprefixroute
			add a0 10.1.0.2/24 metric 7`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.2/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"ipv4 promoted secondary brings its route", true, false, `
			add a0 10.1.0.1/24 noprefixroute
			add a0 10.1.0.2/24 metric 7
			del a0 10.1.0.1/24`, `
			10.1.0.0/24 dev a0 src 10.1.0.2 metric 7
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`},
		{"ipv4 promoted noprefixroute secondary", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24 noprefixroute
			del a0 10.1.0.1/24`, `
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`},
		{"ipv6 noprefixroute: local route only", false, false, `
			add a0 2001:db8:1::1/64 noprefixroute`, `
			local 2001:db8:1::1/128 dev a0`},
		{"ipv4 change replaces the metric, none meaning none", false, false, `
			add a0 10.1.0.1/24 metric 7
			change a0 10.1.0.1/24 metric 9
			change a0 10.1.0.1/24`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"ipv4 change of a secondary's metric shows at promotion", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24
			change a0 10.1.0.2/24 metric 3
			del a0 10.1.0.1/24`, `
			10.1.0.0/24 dev a0 src 10.1.0.2 metric 3
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`},
		{"ipv4 change while down shows at up", false, false, `
			add a0 10.1.0.1/24 metric 5
			down a0
			change a0 10.1.0.1/24 metric 8
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 8
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"ipv4 change sets noprefixroute (the kernel ignores it: linux-ipv4-change-noprefixroute)", false, false, `
			add a0 10.1.0.1/24
			change a0 10.1.0.1/24 noprefixroute`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"ipv6 change keeps the metric when it gives none", false, false, `
			add a0 2001:db8:1::1/64 metric 100
			change a0 2001:db8:1::1/64 metric 200
			change a0 2001:db8:1::1/64`, `
			2001:db8:1::/64 dev a0 metric 200
			local 2001:db8:1::1/128 dev a0`},
		{"ipv6 change to noprefixroute and back", false, false, `
			add a0 2001:db8:1::1/64 metric 100
			change a0 2001:db8:1::1/64 noprefixroute
			change a0 2001:db8:1::1/64 metric 300`, `
			2001:db8:1::/64 dev a0 metric 300
			local 2001:db8:1::1/128 dev a0`},
		{"lifetimes change no route", false, false, `
			add a0 10.1.0.1/24 valid_lft 600 preferred_lft 300
			add a0 2001:db8:3::1/64 valid_lft 600 preferred_lft 300`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1
			2001:db8:3::/64 dev a0 metric 256
			local 2001:db8:3::1/128 dev a0`},
		{"keep_addr_on_down keeps permanent addresses only", false, true, `
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:2::1/64 noprefixroute
			add a0 2001:db8:3::1/64 valid_lft 600 preferred_lft 300
			add a0 10.1.0.1/24 valid_lft 600 preferred_lft 300
			down a0
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1
			2001:db8:1::/64 dev a0 metric 100
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:2::1/128 dev a0`},
		{"a change to lifetimes while down is kept (the kernel loses its routes: linux-ipv6-nonpermanent)", false, true, `
			add a0 2001:db8:3::1/64 metric 100
			down a0
			change a0 2001:db8:3::1/64 metric 100 valid_lft 600 preferred_lft 300
			up a0`, `
			2001:db8:3::/64 dev a0 metric 100
			local 2001:db8:3::1/128 dev a0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runCfg(t, Config{Adapters: []string{"a0", "a1"}, Promote: tc.promote, KeepAddrOnDown: tc.keep}, tc.ops)
			wantTable(t, s, tc.want)
		})
	}
}

func TestLifecycleResults(t *testing.T) {
	for _, tc := range []struct {
		ops  string
		op   string
		want error
	}{
		{"", "change a0 10.1.0.1/24", ErrNotFound},
		{"add a0 10.1.0.1/24", "change a0 10.1.0.1/16", ErrNotFound},
		{"add a0 2001:db8::1/64", "change a0 2001:db8::1/80 metric 200", ErrNotFound},
		{"add a0 10.1.0.1/24", "change a1 10.1.0.1/24", ErrNotFound},
		{"add a0 10.1.0.1/24\nunplug a0", "change a0 10.1.0.1/24", ErrInvalid},
		{"unplug a0", "carrier a0 on", ErrInvalid},
		{"", "carrier a0 on", nil},
		{"", "carrier x9 off", ErrInvalid},
		{"", "add a0 10.1.0.1/24 valid_lft 100 preferred_lft 100", ErrInvalid},
	} {
		s := runCfg(t, Config{Adapters: []string{"a0", "a1"}}, tc.ops)
		before := s.Routes().String() + s.Config().String()
		err := s.Apply(MustParseOp(tc.op))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("after %q, %s = %v; want %v", tc.ops, tc.op, err, tc.want)
		}
		if tc.want != nil && s.Routes().String()+s.Config().String() != before {
			t.Errorf("%s failed but changed the routes", tc.op)
		}
	}
}
