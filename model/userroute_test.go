package model

import (
	"errors"
	"testing"
)

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
