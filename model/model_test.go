package model

import (
	"errors"
	"strings"
	"testing"
)

// run applies ops (one per line) to a fresh model and returns its table.
func run(t *testing.T, promote bool, adapters string, ops string) *State {
	t.Helper()
	return runCfg(t, Config{Adapters: strings.Fields(adapters), Promote: promote}, ops)
}

func wantTable(t *testing.T, s *State, want string) {
	t.Helper()
	w, err := ParseTable(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Routes(); !got.Equal(w) {
		t.Errorf("routes:\n%s\nwant:\n%s", got, w)
	}
}

// The cases follow KERNEL-NOTES.md (Linux 6.18).
func TestRoutes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		promote bool
		ops     string
		want    string
	}{
		{"ipv4 /24", false, "add a0 10.1.0.1/24", `
			10.1.0.0/24 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`},
		{"ipv4 /31: no broadcast", false, "add a0 10.1.0.1/31", `
			10.1.0.0/31 dev a0 src 10.1.0.1
			local 10.1.0.1/32 dev a0 src 10.1.0.1`},
		{"ipv4 /32: local only", false, "add a0 10.1.0.1/32", `
			local 10.1.0.1/32 dev a0 src 10.1.0.1`},
		{"ipv4 /8", false, "add a0 11.0.0.1/8", `
			11.0.0.0/8 dev a0 src 11.0.0.1
			local 11.0.0.1/32 dev a0 src 11.0.0.1
			broadcast 11.255.255.255/32 dev a0 src 11.0.0.1`},
		{"masked prefix 0.0.0.0: local only", false, "add a0 0.0.0.1/8\nadd a1 0.0.0.1/24", `
			local 0.0.0.1/32 dev a0 src 0.0.0.1
			local 0.0.0.1/32 dev a1 src 0.0.0.1`},
		{"elsewhere in 0.0.0.0/8: all routes (Linux >= 5.3)", false, "add a0 0.1.0.1/16\nadd a1 0.0.0.2/31", `
			0.0.0.2/31 dev a1 src 0.0.0.2
			0.1.0.0/16 dev a0 src 0.1.0.1
			local 0.0.0.2/32 dev a1 src 0.0.0.2
			local 0.1.0.1/32 dev a0 src 0.1.0.1
			broadcast 0.1.255.255/32 dev a0 src 0.1.0.1`},
		{"0.0.0.0 is accepted and kept nowhere", false, "add a0 0.0.0.0/24\nadd a0 0.0.0.0/24", ""},
		{"network address itself", false, "add a0 10.0.0.0/24", `
			10.0.0.0/24 dev a0 src 10.0.0.0
			local 10.0.0.0/32 dev a0 src 10.0.0.0
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.0`},
		{"secondary: local only, src the primary", false, "add a0 10.0.0.1/24\nadd a0 10.0.0.2/24", `
			10.0.0.0/24 dev a0 src 10.0.0.1
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			local 10.0.0.2/32 dev a0 src 10.0.0.1
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1`},
		{"different mask: another primary", false, "add a0 10.0.0.1/24\nadd a0 10.0.0.2/16", `
			10.0.0.0/16 dev a0 src 10.0.0.2
			10.0.0.0/24 dev a0 src 10.0.0.1
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			local 10.0.0.2/32 dev a0 src 10.0.0.2
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1
			broadcast 10.0.255.255/32 dev a0 src 10.0.0.2`},
		{"same address two lengths: one local route", false, "add a0 10.0.0.1/24\nadd a0 10.0.0.1/16", `
			10.0.0.0/16 dev a0 src 10.0.0.1
			10.0.0.0/24 dev a0 src 10.0.0.1
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1
			broadcast 10.0.255.255/32 dev a0 src 10.0.0.1`},
		{"same subnet on two adapters", false, "add a0 10.0.0.1/24\nadd a1 10.0.0.2/24", `
			10.0.0.0/24 dev a0 src 10.0.0.1
			10.0.0.0/24 dev a1 src 10.0.0.2
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			local 10.0.0.2/32 dev a1 src 10.0.0.2
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1
			broadcast 10.0.0.255/32 dev a1 src 10.0.0.2`},
		{"delete primary without promotion takes secondaries", false, "add a0 10.0.0.1/24\nadd a0 10.0.0.2/24\nadd a0 10.0.0.3/16\ndel a0 10.0.0.1/24", `
			10.0.0.0/16 dev a0 src 10.0.0.3
			local 10.0.0.3/32 dev a0 src 10.0.0.3
			broadcast 10.0.255.255/32 dev a0 src 10.0.0.3`},
		{"delete primary with promotion", true, "add a0 10.0.0.1/24 metric 5\nadd a0 10.0.0.2/24 metric 7\nadd a0 10.0.0.3/24\ndel a0 10.0.0.1/24", `
			10.0.0.0/24 dev a0 src 10.0.0.2 metric 7
			local 10.0.0.2/32 dev a0 src 10.0.0.2
			local 10.0.0.3/32 dev a0 src 10.0.0.2
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.2`},
		{"ipv4 metric on the prefix route only", false, "add a0 10.0.0.1/24 metric 9", `
			10.0.0.0/24 dev a0 src 10.0.0.1 metric 9
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1`},
		{"ipv6", false, "add a0 2001:db8:1::1/64", `
			2001:db8:1::/64 dev a0 metric 256
			local 2001:db8:1::1/128 dev a0`},
		{"ipv6 /128 has a prefix route", false, "add a0 2001:db8:1::1/128", `
			2001:db8:1::1/128 dev a0 metric 256
			local 2001:db8:1::1/128 dev a0`},
		{"ipv6 shared prefix route", false, "add a0 2001:db8:1::1/64\nadd a0 2001:db8:1::2/64", `
			2001:db8:1::/64 dev a0 metric 256
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:1::2/128 dev a0`},
		{"ipv6 one prefix route per metric", false, "add a0 2001:db8:1::1/64 metric 100\nadd a0 2001:db8:1::2/64", `
			2001:db8:1::/64 dev a0 metric 100
			2001:db8:1::/64 dev a0 metric 256
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:1::2/128 dev a0`},
		{"ipv6 same address on two adapters", false, "add a0 2001:db8:1::1/64\nadd a1 2001:db8:1::1/64", `
			2001:db8:1::/64 dev a0 metric 256
			2001:db8:1::/64 dev a1 metric 256
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:1::1/128 dev a1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantTable(t, run(t, tc.promote, "a0 a1", tc.ops), tc.want)
		})
	}
}

func TestResults(t *testing.T) {
	s := run(t, false, "a0 a1", "add a0 10.0.0.1/24\nadd a0 2001:db8::1/64")
	for _, tc := range []struct {
		op   string
		want error
	}{
		{"add a0 10.0.0.1/24", ErrExists},
		{"add a0 10.0.0.1/24 metric 3", ErrExists},
		{"add a0 10.0.0.1/16", nil},
		{"add a1 10.0.0.1/24", nil},
		{"add a0 2001:db8::1/48", ErrExists},
		{"add a1 2001:db8::1/48", nil},
		{"del a0 10.0.0.1/25", ErrNotFound},
		{"del a0 10.0.0.9/24", ErrNotFound},
		{"del a0 2001:db8::1/48", ErrNotFound},
		{"add eth9 10.0.0.1/24", ErrInvalid},
		{"del eth9 10.0.0.1/24", ErrInvalid},
		{"del a0 10.0.0.1/24", nil},
	} {
		err := s.Apply(MustParseOp(tc.op))
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: got %v, want %v", tc.op, err, tc.want)
		}
	}
	if err := s.Apply(Op{Kind: Add, Adapter: "a0"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero prefix: got %v, want invalid", err)
	}
	err := s.Apply(MustParseOp("add eth9 10.0.0.1/24"))
	if !strings.Contains(err.Error(), `unknown adapter "eth9"`) {
		t.Errorf("message does not name the adapter: %v", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Result != Invalid {
		t.Errorf("want *OpError with Result invalid, got %#v", err)
	}
}

func TestFailedOpChangesNothing(t *testing.T) {
	s := run(t, false, "a0", "add a0 10.0.0.1/24")
	before := s.Routes()
	s.Apply(MustParseOp("add a0 10.0.0.1/24"))
	s.Apply(MustParseOp("del a0 10.0.0.2/24"))
	if !s.Routes().Equal(before) || s.Len() != 1 {
		t.Fatal("a failed op changed the model")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Adapters: []string{"a0", "a0"}}, {Adapters: []string{"bad name"}}, {Adapters: []string{""}}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%v) accepted a bad config", c)
		}
	}
}
