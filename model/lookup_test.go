package model

import (
	"net/netip"
	"strings"
	"testing"
)

// The expectations are the kernel's answers (Linux 6.18, `ip route get`,
// docs/routes-semantics.md §4.1 and §4.2, and sut/linux's
// TestLookupScenarios, which replays these same orders on the kernel and
// compares every answer with the model's).
func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ops  string
		want string // lookup lines
	}{
		{"ipv4 §4.1: connected, network, broadcast, local, secondary", Config{Adapters: []string{"a0", "a1"}}, `
			add a0 10.1.0.1/24
			add a0 10.1.0.2/24
			add a1 10.2.0.1/24`, `
			10.1.0.77 dev a0 src 10.1.0.1
			10.1.0.0 dev a0 src 10.1.0.1
			10.1.0.255 broadcast dev a0 src 10.1.0.1
			10.1.0.1 local src 10.1.0.1
			10.1.0.2 local src 10.1.0.1
			10.2.0.9 dev a1 src 10.2.0.1
			8.8.8.8 unreachable`},
		{"ipv4 §4.1: longest prefix, then metric", Config{Adapters: []string{"a0", "a1", "a2"}}, `
			add a0 10.0.0.1/8
			add a1 10.1.0.1/16 metric 5
			add a2 10.1.0.2/16 metric 3`, `
			10.1.9.9 dev a2 src 10.1.0.2
			10.2.9.9 dev a0 src 10.0.0.1`},
		{"ipv4 §4.1: a down adapter's addresses stay local, its subnet is gone", Config{Adapters: []string{"a0"}}, `
			add a0 10.3.0.1/24
			down a0`, `
			10.3.0.1 local src 10.3.0.1
			10.3.0.5 unreachable
			10.3.0.255 unreachable`},
		{"§4.1: linkdown routes are used", Config{Adapters: []string{"a0", "a1"}}, `
			add a0 10.1.0.1/16 metric 3
			add a1 10.1.0.2/16 metric 5
			carrier a0 off`, `
			10.1.7.7 dev a0 src 10.1.0.1`},
		{"ipv4: the same subnet on two adapters is a tie (insertion order)", Config{Adapters: []string{"a0", "a1"}}, `
			add a0 10.0.0.1/24
			add a1 10.0.0.2/24`, `
			10.0.0.9 dev a0 src 10.0.0.1 or dev a1 src 10.0.0.2
			10.0.0.255 broadcast dev a0 src 10.0.0.1 or broadcast dev a1 src 10.0.0.2`},
		{"ipv6 §4.2: local, prefix route, source ties", Config{Adapters: []string{"a0", "a1"}}, `
			add a0 2001:db8:1::1/64
			add a0 2001:db8:1::2/64
			add a1 2001:db8:2::1/64`, `
			2001:db8:1::1 local src 2001:db8:1::1
			2001:db8:1::77 dev a0 src 2001:db8:1::1 or dev a0 src 2001:db8:1::2
			2001:db8:2::5 dev a1 src 2001:db8:2::1
			2001:db8:5::1 unreachable`},
		{"ipv6: rule 5 (outgoing adapter), then rule 8 capped at the prefix length", Config{Adapters: []string{"a0", "a1"}}, `
			add a0 2001:db8:0:1::1/64
			add a0 2001:db8::1/48
			add a1 2001:db8:0:2::1/64`, `
			2001:db8:0:3::5 dev a0 src 2001:db8:0:1::1
			2001:db8:0:2::5 dev a1 src 2001:db8:0:2::1`},
		{"ipv6: rule 5 beats a longer match on another adapter", Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}, `
			add a0 2001:db8:0:1::1/48
			add a1 2001:db8:0:1::2/128
			add a1 2001:db8:1:1::3/64`, `
			2001:db8:0:7::1 dev a0 src 2001:db8:0:1::1`},
		{"ipv6 §4.2: a kept address of a down adapter is not local, but a source", Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}, `
			add a1 2001:db8:7::1/64
			add a0 2001:db8:7::3/64
			down a0`, `
			2001:db8:7::3 dev a1 src 2001:db8:7::3
			2001:db8:7::5 dev a1 src 2001:db8:7::1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runCfg(t, tc.cfg, tc.ops)
			for _, line := range strings.Split(strings.TrimSpace(tc.want), "\n") {
				want := MustParseLookup(strings.TrimSpace(line))
				if got := s.Lookup(want.Dst); got.String() != want.String() {
					t.Errorf("lookup %s:\n got %s\nwant %s", want.Dst, got, want)
				}
			}
		})
	}
}

func TestLookupGrammar(t *testing.T) {
	for _, s := range []string{
		"10.0.0.2 dev a0 src 10.0.0.1",
		"10.0.0.1 local src 10.0.0.1",
		"10.0.0.255 broadcast dev a0 src 10.0.0.1",
		"192.0.2.5 via 10.0.0.9 dev a0 src 10.0.0.1",
		"2001:db8::9 dev a0 src 2001:db8::1 or dev a0 src 2001:db8::2 or dev a1 src 2001:db8::1",
		"192.0.2.1 unreachable",
		"2001:db8::9 dev a0",
	} {
		l, err := ParseLookup(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if l.String() != s {
			t.Errorf("%q round-trips to %q", s, l)
		}
		if l2, _ := ParseLookup(l.String()); !l2.Agrees(l) || l2.String() != l.String() {
			t.Errorf("%q: parse(String) differs", s)
		}
	}
	for _, s := range []string{
		"", "10.0.0.2", "10.0.0.2 dev", "10.0.0.2 src 10.0.0.1", "10.0.0.1 local dev a0 src 10.0.0.1",
		"10.0.0.2 unreachable dev a0", "10.0.0.2 dev a0 src 2001:db8::1", "10.0.0.2 dev a0 dev a1",
		"10.0.0.2 dev a0 or", "10.0.0.2 dev a0 or dev a0", "x dev a0", "10.0.0.2 dev a0 metric 5",
	} {
		if l, err := ParseLookup(s); err == nil {
			t.Errorf("%q parsed as %q", s, l)
		}
	}
}

func FuzzLookupGrammar(f *testing.F) {
	f.Add("2001:db8::9 dev a0 src 2001:db8::1 or dev a0 src 2001:db8::2")
	f.Add("10.0.0.1 local src 10.0.0.1")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLookup(s)
		if err != nil {
			return
		}
		l2, err := ParseLookup(l.String())
		if err != nil || l2.String() != l.String() || !l2.Agrees(l) {
			t.Fatalf("%q → %q → %q, %v", s, l, l2, err)
		}
	})
}

func TestLookupAgrees(t *testing.T) {
	set := MustParseLookup("2001:db8::9 dev a0 src 2001:db8::1 or dev a0 src 2001:db8::2")
	one := MustParseLookup("2001:db8::9 dev a0 src 2001:db8::2")
	other := MustParseLookup("2001:db8::9 dev a1 src 2001:db8::2")
	if !set.Agrees(one) || !one.Agrees(set) || set.Agrees(other) || other.Agrees(set) || one.Agrees(other) {
		t.Error("Agrees")
	}
}

// Probes are derived from the state alone: addresses, neighbours, route
// destinations, and the two outside addresses; special addresses are
// left out.
func TestProbes(t *testing.T) {
	s := runCfg(t, Config{Adapters: []string{"a0", "a1"}}, `
		add a0 10.0.0.1/24
		add a1 10.0.0.2/24
		add a1 0.0.0.1/8
		add a0 2001:db8:0:1::1/64
		add a0 10.1.0.1/32`)
	var got []string
	for _, p := range s.Probes() {
		got = append(got, p.String())
	}
	want := "10.0.0.0 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.255 10.1.0.1 192.0.2.1 2001:db8:0:1:: 2001:db8:0:1::1 2001:db8:0:1::2 2001:db8:ffff:ffff::1"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("probes\n got %s\nwant %s", g, want)
	}
	if Probable(netip.MustParseAddr("255.255.255.255")) || Probable(netip.MustParseAddr("fe80::1")) || !Probable(netip.MustParseAddr("10.0.0.0")) {
		t.Error("Probable")
	}
}
