package linux

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// lookupScenarios are model.TestLookup's orders (and a few more): the
// kernel's answer to every probe, and to the destinations listed, must
// be one the model accepts. This is what makes model.TestLookup's
// expectations the kernel's.
var lookupScenarios = []struct {
	name  string
	cfg   model.Config
	ops   string
	extra string // destinations probed besides the model's probes
}{
	{"ipv4 connected, network, broadcast, local, secondary", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 10.1.0.1/24
		add a0 10.1.0.2/24
		add a1 10.2.0.1/24`, "10.1.0.77 10.2.0.9 8.8.8.8"},
	{"ipv4 longest prefix, then metric", model.Config{Adapters: []string{"a0", "a1", "a2"}}, `
		add a0 10.0.0.1/8
		add a1 10.1.0.1/16 metric 5
		add a2 10.1.0.2/16 metric 3`, "10.1.9.9 10.2.9.9"},
	{"ipv4 down adapter", model.Config{Adapters: []string{"a0"}}, `
		add a0 10.3.0.1/24
		down a0`, "10.3.0.5"},
	{"linkdown routes are used", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 10.1.0.1/16 metric 3
		add a1 10.1.0.2/16 metric 5
		add a0 2001:db8:1::1/64 metric 3
		add a1 2001:db8:1::2/64 metric 5
		carrier a0 off`, "10.1.7.7 2001:db8:1::77"},
	{"ipv4 same subnet on two adapters", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 10.0.0.1/24
		add a1 10.0.0.2/24`, "10.0.0.9"},
	{"ipv6 local, prefix route, source ties", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 2001:db8:1::1/64
		add a0 2001:db8:1::2/64
		add a1 2001:db8:2::1/64`, "2001:db8:1::77 2001:db8:2::5 2001:db8:5::1"},
	{"ipv6 rule 5, then rule 8 capped", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 2001:db8:0:1::1/64
		add a0 2001:db8::1/48
		add a1 2001:db8:0:2::1/64`, "2001:db8:0:3::5 2001:db8:0:2::5"},
	{"ipv6 rule 5 beats a longer match on another adapter", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 2001:db8:0:1::1/48
		add a1 2001:db8:0:1::2/128
		add a1 2001:db8:1:1::3/64`, "2001:db8:0:7::1"},
	{"ipv6 rule 8 picks among another adapter's addresses", model.Config{Adapters: []string{"a0", "a1"}}, `
		add a0 2001:db8:1::1/64
		add a0 2001:db8:2::1/48 noprefixroute
		add a1 2001:db8:2:5::1/64`, "2001:db8:2:5::9 2001:db8:1::9"},
	{"ipv6 kept address of a down adapter", model.Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}, `
		add a1 2001:db8:7::1/64
		add a0 2001:db8:7::3/64
		down a0`, "2001:db8:7::5"},
	{"ipv6 added on a down adapter", model.Config{Adapters: []string{"a0", "a1"}}, `
		down a0
		add a0 2001:db8:7::3/64
		add a1 2001:db8:7::1/64`, "2001:db8:7::5"},
	{"an address that is its subnet's broadcast address", model.Config{Adapters: []string{"a0"}}, `
		add a0 10.0.0.1/24
		add a0 10.0.0.255/24`, ""},
}

func TestLookupScenarios(t *testing.T) {
	s := open(t)
	for _, sc := range lookupScenarios {
		t.Run(sc.name, func(t *testing.T) {
			if err := s.Reset(sc.cfg); err != nil {
				t.Fatal(err)
			}
			m, err := model.New(sc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(sc.ops), "\n") {
				op := model.MustParseOp(strings.TrimSpace(line))
				if err := m.Apply(op); err != nil {
					t.Fatal(err)
				}
				if err := s.Apply(op); err != nil {
					t.Fatalf("%s: %v", op, err)
				}
			}
			dsts := m.Probes()
			for _, f := range strings.Fields(sc.extra) {
				dsts = append(dsts, netip.MustParseAddr(f))
			}
			var got []model.LookupResult
			eventually(func() bool {
				got, err = s.LookupAll(dsts)
				if err != nil {
					t.Fatal(err)
				}
				for i, d := range dsts {
					if !m.Lookup(d).Agrees(got[i]) {
						return false
					}
				}
				return true
			})
			for i, d := range dsts {
				want := m.Lookup(d)
				if !want.Agrees(got[i]) {
					t.Errorf("kernel: %s\n model: %s", got[i], want)
				} else if testing.Verbose() {
					t.Logf("kernel: %s (model: %s)", got[i], want)
				}
			}
		})
	}
}

// The lookups observable is compared with the kernel: it is a Looker.
func TestLookupsShown(t *testing.T) {
	s := open(t)
	if !check.Lookups.ShownBy(s, sut.LimitsOf(s)) {
		t.Error("the kernel does not show lookups")
	}
}
