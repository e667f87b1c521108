package linux

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/internal/routerules"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
)

// Every rule of user routes (internal/routerules, which the model's tests
// check the model against) holds on the kernel: each sequence's ops give
// the kernel the model's results, routes, addresses and lookups after
// every op, and its own lookups are what the kernel answers; each single
// op gives the kernel the rule's result.
func TestRouteRulesOnKernel(t *testing.T) {
	s := open(t)
	for _, rc := range routerules.Sequences {
		t.Run(rc.Name, func(t *testing.T) {
			p := resetPair(t, s, rc.Config())
			if p.doUnlessKnown(lines(rc.Ops)...) {
				return
			}
			p.sameLookups()
			for _, line := range lines(rc.Lookups) {
				want := model.MustParseLookup(line)
				got, err := s.Lookup(want.Dst)
				if err != nil {
					t.Fatal(err)
				}
				if !want.Accepts(got.Hop) {
					t.Errorf("lookup %s: kernel %s; the rule says %s", want.Dst, got, want)
				}
			}
		})
	}
	for _, rc := range routerules.Results {
		t.Run(rc.Op, func(t *testing.T) {
			ops := lines(routerules.ResultSetup + rc.Ops)
			p := resetPair(t, s, model.Config{Adapters: routerules.ResultAdapters})
			p.do(ops...)
			err := s.Apply(model.MustParseOp(rc.Op))
			if rc.Want == nil && err != nil || rc.Want != nil && !errors.Is(err, rc.Want) {
				t.Errorf("after %q: kernel %v; the rule says %v", ops, err, rc.Want)
			}
			if err := p.m.Apply(model.MustParseOp(rc.Op)); rc.Want == nil && err != nil || rc.Want != nil && !errors.Is(err, rc.Want) {
				t.Errorf("the model says %v; the rule says %v", err, rc.Want)
			}
			p.same(rc.Op)
			p.sameLookups()
		})
	}
}

// lines returns the non-blank lines of s.
func lines(s string) []string {
	return slices.DeleteFunc(strings.Split(s, "\n"), func(l string) bool { return strings.TrimSpace(l) == "" })
}

// doUnlessKnown is do, except that an op a known kernel divergence
// (props' exclusions) matches must make the kernel's routes differ from
// the model's, as recorded; then it stops and returns true.
func (p *pair) doUnlessKnown(lines ...string) bool {
	p.t.Helper()
	for i, line := range lines {
		op := model.MustParseOp(line)
		for _, name := range props.ExclusionNamesFor("linux") {
			ex, _ := props.LookupExclusion(name)
			if !ex.Match(p.m, op) {
				continue
			}
			if err := p.s.Apply(op); err != nil {
				p.t.Fatalf("%s: %v", op, err)
			}
			p.m.Apply(op)
			rs, err := p.s.Routes()
			if err != nil {
				p.t.Fatal(err)
			}
			if rs.Equal(p.m.Routes()) {
				p.t.Fatalf("%s: known divergence %s matches, but the kernel agrees with the model", op, name)
			}
			p.t.Logf("%s: known divergence %s, as recorded", op, name)
			return true
		}
		p.do(lines[i])
	}
	return false
}

// resetPair resets s to cfg and pairs it with a new model.
func resetPair(t *testing.T, s *Stack, cfg model.Config) *pair {
	t.Helper()
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{t, s, m}
}

// sameLookups checks the kernel's answers to the model's probes.
func (p *pair) sameLookups() {
	p.t.Helper()
	want := p.m.Lookups(true, true)
	got, err := p.s.LookupAll(p.m.Probes())
	if err != nil {
		p.t.Fatal(err)
	}
	for i := range want {
		if !want[i].Accepts(got[i].Hop) {
			p.t.Errorf("lookup %s: kernel %s, model %s", want[i].Dst, got[i], want[i])
		}
	}
}

// Reset restores the order the kernel lists the adapters in (creation
// order, which picks the source of a route whose adapter has no IPv4
// address) after ops unplugged and plugged one in again: the model starts
// over in the configured order.
func TestResetRestoresAdapterOrder(t *testing.T) {
	s := open(t)
	for _, ops := range [][]string{{"unplug a0", "plug a0"}, {"unplug a1"}, {"unplug a0", "unplug a2", "plug a2"}} {
		p := resetPair(t, s, abc)
		p.do(ops...)
		p = resetPair(t, s, abc)
		p.do("add a2 10.2.0.1/24", "add a1 10.1.0.1/24", "add a0 10.0.0.1/24", "route add 192.0.2.0/24 dev a1",
			"del a1 10.1.0.1/24", "route add 198.51.100.0/24 dev a1")
		p.sameLookups()
		if got, err := s.Lookup(netip.MustParseAddr("198.51.100.1")); err != nil || got.Hop.Src != netip.MustParseAddr("10.0.0.1") {
			t.Errorf("after %q and a reset: lookup %v, %v; want src 10.0.0.1 (a0's, the first adapter's)", ops, got, err)
		}
	}
}

// The near misses of the recorded route divergences: orders that look
// like them but on which the kernel keeps to the model. No known
// exclusion may match any of their ops (an exclusion that did would be
// broader than its bug), and the kernel agrees after every op.
func TestRouteNearMissesAgree(t *testing.T) {
	s := open(t)
	known, err := props.ExclusionsFor("linux", []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		keep bool
		ops  []string
	}{
		// linux-ipv6-prefix-route-user: an IPv6 user's route of a higher
		// metric than the address's route (the fib6 leaf is sorted by
		// metric: addrconf_get_prefix_route finds the address's first),
		// one through a gateway (no_gw skips it), and an IPv4 user's
		// route of the connected route's key (fib_magic deletes with
		// RTPROT_KERNEL).
		{"prefix routes", false, []string{"add a0 2001:db8:2::1/64 metric 2000", "route add 2001:db8:2::/64 dev a0 metric 3000",
			"route add 2001:db8:2::/64 via 2001:db8:2::9 dev a0", "change a0 2001:db8:2::1/64 metric 2500",
			"route add 10.1.0.0/24 dev a0", "add a0 10.1.0.1/24", "add a0 10.2.0.1/24", "del a0 2001:db8:2::1/64", "del a0 10.1.0.1/24",
			"add a1 2001:db8:3::1/64 noprefixroute", "route add 2001:db8:3::/64 dev a1", "del a1 2001:db8:3::1/64",
			"add a2 2001:db8:0:2::2/48", "route add 2001:db8::/48 dev a2", "change a2 2001:db8:0:2::2/48 metric 1000"}},
		// D-R3 (docs/routes-semantics.md §6), not a divergence: an
		// address's kernel route that joins an older user's route of the
		// same (destination, metric) is in both tables, and the model
		// accepts either route's answer to a lookup.
		{"key collisions", false, []string{"add a0 10.9.0.1/24", "add a1 10.2.0.1/24", "route add 10.1.0.0/24 dev a1",
			"add a0 10.1.0.1/24", "route add 10.7.0.0/24 dev a0", "add a0 10.7.0.1/24",
			"route add 2001:db8:1::/64 dev a1 metric 256", "add a0 2001:db8:1::1/64"}},
		// linux-ipv6-prefsrc-stale: keep_addr_on_down keeps the address
		// over down, so the src stays; del then clears it.
		{"src kept over down", true, []string{"add a0 2001:db8:1::1/64", "add a1 2001:db8:2::1/64",
			"route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "route add 2001:db8:98::/64 dev a0", "down a0", "up a0",
			"del a0 2001:db8:1::1/64"}},
		// ... and another adapter still holds the address.
		{"src held elsewhere", false, []string{"add a0 2001:db8:1::1/64", "add a2 2001:db8:1::1/64", "add a1 2001:db8:2::1/64",
			"route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "down a0", "up a0", "add a0 2001:db8:1::1/64", "unplug a0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := resetPair(t, s, model.Config{Adapters: abc.Adapters, KeepAddrOnDown: c.keep})
			for _, line := range c.ops {
				if known(p.m, model.MustParseOp(line)) {
					t.Fatalf("%s: a known exclusion matches a near miss", line)
				}
				p.do(line)
			}
			p.sameLookups()
		})
	}
}
