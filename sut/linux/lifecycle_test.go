package linux

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
)

// pair applies ops to the stack and a model together and checks after
// each that results, routes (at once, without re-reading) and addresses
// agree.
type pair struct {
	t *testing.T
	s *Stack
	m *model.State
}

func newPair(t *testing.T, cfg model.Config) *pair {
	t.Helper()
	s := open(t)
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, _ := model.New(cfg)
	return &pair{t, s, m}
}

func (p *pair) do(lines ...string) {
	p.t.Helper()
	for _, line := range lines {
		op := model.MustParseOp(line)
		got, want := p.s.Apply(op), p.m.Apply(op)
		gr, gok := model.ResultOf(got)
		wr, _ := model.ResultOf(want)
		if !gok || gr != wr {
			p.t.Fatalf("%s: linux %v, model %v", op, got, want)
		}
		if p.s.Lag() != 0 {
			p.t.Fatalf("%s left the stack unsettled", op)
		}
		p.same(line)
	}
}

func (p *pair) same(after string) {
	p.t.Helper()
	rs, err := p.s.Routes()
	if err != nil {
		p.t.Fatal(err)
	}
	if want := p.m.Routes(); !rs.Equal(want) {
		p.t.Fatalf("after %s:\n%s\nwant:\n%s", after, rs, want)
	}
	as, err := p.s.Addrs()
	if err != nil {
		p.t.Fatal(err)
	}
	if !slices.Equal(as, p.m.Addrs()) {
		p.t.Fatalf("after %s: addresses %v, want %v", after, as, p.m.Addrs())
	}
}

// has reports whether the routes shown contain line.
func (p *pair) has(line string) bool {
	p.t.Helper()
	return slices.Contains(strings.Split(routes(p.t, p.s), "\n"), line)
}

func TestCarrierLinkdown(t *testing.T) {
	p := newPair(t, abc)
	p.do("add a0 10.0.0.1/24 metric 5", "add a0 10.0.0.2/24", "add a0 10.1.0.1/32",
		"add a0 2001:db8:1::1/64 metric 100", "add a0 2001:db8:3::1/64 valid_lft 600 preferred_lft 300",
		"add a1 10.2.0.1/24", "add a1 2001:db8:2::1/64")
	p.do("carrier a0 off")
	for _, l := range []string{"10.0.0.0/24 dev a0 src 10.0.0.1 metric 5 linkdown", "broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 linkdown",
		"2001:db8:1::/64 dev a0 metric 100 linkdown", "2001:db8:3::/64 dev a0 metric 256 linkdown",
		"local 10.0.0.1/32 dev a0 src 10.0.0.1", "local 2001:db8:1::1/128 dev a0",
		"10.2.0.0/24 dev a1 src 10.2.0.1", "2001:db8:2::/64 dev a1 metric 256"} {
		if !p.has(l) {
			t.Errorf("carrier off: no %q in\n%s", l, routes(t, p.s))
		}
	}
	// Idempotent, and new routes start linkdown.
	p.do("carrier a0 off", "add a0 10.3.0.1/24", "add a0 2001:db8:4::1/64", "del a0 10.0.0.1/24")
	p.do("carrier a0 on")
	if strings.Contains(routes(t, p.s), "linkdown") {
		t.Errorf("linkdown after carrier on:\n%s", routes(t, p.s))
	}
	p.do("carrier a0 on")
	// Every order of down, up and carrier.
	p.do("carrier a0 off", "down a0", "carrier a0 on", "up a0")
	p.do("down a0", "carrier a0 off", "up a0", "carrier a0 on")
	p.do("carrier a0 off", "down a0", "up a0", "carrier a0 on")
	p.do("down a1", "carrier a1 off", "carrier a1 on", "carrier a1 off", "up a1", "carrier a1 on")
}

func TestCarrierKeepAddrOnDown(t *testing.T) {
	p := newPair(t, model.Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true})
	p.do("add a0 10.1.0.1/24 metric 5", "add a0 10.1.0.2/24", "add a0 2001:db8:1::1/64 metric 100", "add a0 2001:db8:1::2/64")
	p.do("carrier a0 off", "down a0", "carrier a0 on", "up a0")
	p.do("down a0", "carrier a0 off", "up a0", "carrier a0 on")
	p.do("carrier a0 off", "down a0", "up a0", "carrier a0 on")
}

// Carrier of an unplugged adapter is invalid (ENODEV); plug and Reset
// give carrier back.
func TestCarrierUnplugReset(t *testing.T) {
	p := newPair(t, abc)
	p.do("carrier a0 off", "unplug a0", "carrier a0 on", "carrier a0 off")
	err := p.s.Apply(model.MustParseOp("carrier a0 on"))
	if !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("carrier on an unplugged adapter: %v, want invalid", err)
	}
	p.do("plug a0", "add a0 10.0.0.1/24")
	p.do("carrier a1 off", "carrier a2 off", "add a1 10.1.0.1/24")
	if err := p.s.Reset(abc); err != nil {
		t.Fatal(err)
	}
	p.m, _ = model.New(abc)
	p.do("add a0 10.0.0.1/24", "add a1 10.1.0.1/24", "add a2 2001:db8::1/64")
	if strings.Contains(routes(t, p.s), "linkdown") {
		t.Errorf("linkdown after Reset:\n%s", routes(t, p.s))
	}
	// Unplugged with carrier off, then Reset (replug).
	p.do("carrier a1 off", "unplug a1")
	if err := p.s.Reset(abc); err != nil {
		t.Fatal(err)
	}
	p.m, _ = model.New(abc)
	p.do("add a1 10.1.0.1/24")
	if strings.Contains(routes(t, p.s), "linkdown") {
		t.Errorf("linkdown after Reset:\n%s", routes(t, p.s))
	}
}

// Carrier changes are applied to the routes by the kernel's linkwatch
// work after the call returns; Apply waits for them, so a read right
// after Apply is settled, every time.
func TestCarrierTiming(t *testing.T) {
	p := newPair(t, abc)
	p.do("add a0 10.0.0.1/24", "add a0 2001:db8::1/64 metric 100", "add a1 10.1.0.1/24")
	start := time.Now()
	var slow time.Duration
	for round := 0; round < 200; round++ {
		for _, l := range []string{"carrier a0 off", "carrier a0 on"} {
			t0 := time.Now()
			op := model.MustParseOp(l)
			if err := p.s.Apply(op); err != nil {
				t.Fatal(err)
			}
			slow = max(slow, time.Since(t0))
			p.m.Apply(op)
			if p.s.Lag() != 0 {
				t.Fatalf("round %d: %s left the stack unsettled", round, l)
			}
			rs, err := p.s.Routes()
			if err != nil {
				t.Fatal(err)
			}
			if want := p.m.Routes(); !rs.Equal(want) {
				t.Fatalf("round %d, after %s:\n%s\nwant:\n%s", round, l, rs, want)
			}
		}
	}
	t.Logf("400 carrier ops in %v, slowest %v", time.Since(start), slow)
}

func TestChange(t *testing.T) {
	p := newPair(t, abc)
	p.do("add a0 10.0.0.1/24 metric 7", "change a0 10.0.0.1/24 metric 9")
	if !p.has("10.0.0.0/24 dev a0 src 10.0.0.1 metric 9") {
		t.Errorf("IPv4 metric not replaced:\n%s", routes(t, p.s))
	}
	p.do("change a0 10.0.0.1/24") // absent metric: 0
	if !p.has("10.0.0.0/24 dev a0 src 10.0.0.1") {
		t.Errorf("IPv4 absent metric is not 0:\n%s", routes(t, p.s))
	}
	p.do("add a0 2001:db8::1/64 metric 100", "change a0 2001:db8::1/64 metric 200")
	if !p.has("2001:db8::/64 dev a0 metric 200") {
		t.Errorf("IPv6 metric not replaced:\n%s", routes(t, p.s))
	}
	p.do("change a0 2001:db8::1/64") // absent metric: kept
	if !p.has("2001:db8::/64 dev a0 metric 200") {
		t.Errorf("IPv6 absent metric not kept:\n%s", routes(t, p.s))
	}
	p.do("change a0 2001:db8::1/64 noprefixroute")
	if p.has("2001:db8::/64 dev a0 metric 200") {
		t.Errorf("IPv6 noprefixroute kept the prefix route:\n%s", routes(t, p.s))
	}
	p.do("change a0 2001:db8::1/64 metric 300")
	if !p.has("2001:db8::/64 dev a0 metric 300") {
		t.Errorf("IPv6 prefix route not back:\n%s", routes(t, p.s))
	}
	p.do("add a0 2001:db8:1::1/64 noprefixroute", "change a0 2001:db8:1::1/64")
	if !p.has("2001:db8:1::/64 dev a0 metric 256") {
		t.Errorf("IPv6 prefix route not added by clearing noprefixroute:\n%s", routes(t, p.s))
	}
	// Lifetimes on and off; nodad is sent again (no tentative address).
	p.do("change a0 2001:db8:1::1/64 metric 500 valid_lft 900 preferred_lft 600", "change a0 10.0.0.1/24 valid_lft 900 preferred_lft 600")
	addrFlags(t, p.s, "2001:db8:1::1", func(m rtnetlink.AddressMessage) {
		if m.Attributes.Flags&unix.IFA_F_PERMANENT != 0 || m.Attributes.CacheInfo.Valid != 900 && m.Attributes.CacheInfo.Valid != 899 ||
			m.Attributes.Flags&unix.IFA_F_NODAD == 0 {
			t.Errorf("after change with lifetimes: flags %#x, cacheinfo %+v", m.Attributes.Flags, m.Attributes.CacheInfo)
		}
	})
	addrFlags(t, p.s, "10.0.0.1", func(m rtnetlink.AddressMessage) {
		if m.Attributes.Flags&unix.IFA_F_PERMANENT != 0 {
			t.Errorf("IPv4 after change with lifetimes: flags %#x", m.Attributes.Flags)
		}
	})
	p.do("change a0 2001:db8:1::1/64 metric 500", "change a0 10.0.0.1/24")
	for _, a := range []string{"2001:db8:1::1", "10.0.0.1"} {
		addrFlags(t, p.s, a, func(m rtnetlink.AddressMessage) {
			if m.Attributes.Flags&unix.IFA_F_PERMANENT == 0 || m.Attributes.CacheInfo.Valid != infinity {
				t.Errorf("%s after change without lifetimes: flags %#x, cacheinfo %+v", a, m.Attributes.Flags, m.Attributes.CacheInfo)
			}
		})
	}
	// Add with attributes.
	p.do("add a1 2001:db8:2::1/64 noprefixroute valid_lft 600 preferred_lft 300", "add a1 10.9.0.1/24 noprefixroute metric 3")
	addrFlags(t, p.s, "2001:db8:2::1", func(m rtnetlink.AddressMessage) {
		if m.Attributes.Flags&unix.IFA_F_NOPREFIXROUTE == 0 || m.Attributes.Flags&unix.IFA_F_PERMANENT != 0 ||
			m.Attributes.CacheInfo.Preferred > 300 || m.Attributes.CacheInfo.Preferred < 299 {
			t.Errorf("added with noprefixroute and lifetimes: flags %#x, cacheinfo %+v", m.Attributes.Flags, m.Attributes.CacheInfo)
		}
	})
}

// addrFlags calls f with the dump of the address a.
func addrFlags(t *testing.T, s *Stack, a string, f func(rtnetlink.AddressMessage)) {
	t.Helper()
	msgs, err := s.c.Address.List()
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddr(a)
	for _, m := range msgs {
		ip := m.Attributes.Address
		if m.Attributes.Local != nil {
			ip = m.Attributes.Local
		}
		if x, ok := netip.AddrFromSlice(ip); ok && x == want {
			f(m)
			return
		}
	}
	t.Fatalf("no address %s", a)
}

// Change of an address that is not there is notfound and creates nothing;
// so is an IPv6 address given at another length. On an unplugged adapter
// it is invalid.
func TestChangeMissing(t *testing.T) {
	p := newPair(t, abc)
	p.do("add a0 2001:db8::1/64 metric 100", "add a0 10.0.0.1/24")
	for _, l := range []string{"change a0 10.0.0.2/24", "change a0 10.0.0.1/16 metric 4", "change a1 10.0.0.1/24",
		"change a0 2001:db8::1/80 metric 200", "change a0 2001:db8::2/64", "change a0 0.0.0.0/24"} {
		err := p.s.Apply(model.MustParseOp(l))
		if !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s: %v, want notfound", l, err)
		}
		p.same(l)
	}
	p.do("unplug a1")
	for _, l := range []string{"change a1 10.0.0.1/24", "change a1 0.0.0.0/24", "change a1 2001:db8::1/64"} {
		if err := p.s.Apply(model.MustParseOp(l)); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", l, err)
		}
		p.same(l)
	}
}

// Kernel bug D3 (docs/lifecycle-semantics.md §8): a change of a permanent
// IPv6 address to lifetimes at the same metric gives its prefix route an
// expiry in the past. With net.ipv6.route.gc_interval at 86400 in the
// namespace the periodic GC does not remove it, even with the GC timer
// armed by a route that expires. (A NETDEV_DOWN in the namespace still
// runs the GC at once: ndisc_netdev_event.)
func TestExpiredPrefixRouteStays(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 35 s")
	}
	p := newPair(t, abc)
	var gc []byte
	err := p.s.ns.do(func() (err error) {
		gc, err = os.ReadFile("/proc/sys/net/ipv6/route/gc_interval")
		return err
	})
	if err != nil || strings.TrimSpace(string(gc)) != "86400" {
		t.Fatalf("gc_interval %q, %v", gc, err)
	}
	p.do("add a0 2001:db8:1::1/64", "change a0 2001:db8:1::1/64 valid_lft 600 preferred_lft 300",
		"add a1 2001:db8:3::1/64 valid_lft 900 preferred_lft 300") // arms the GC timer
	time.Sleep(35 * time.Second) // more than the default gc_interval, 30 s
	p.same("35 s")
	if !p.has("2001:db8:1::/64 dev a0 metric 256") {
		t.Fatal("the D3 route went")
	}
}

func TestLinkdownNotOnLocal(t *testing.T) {
	p := newPair(t, abc)
	p.do("carrier a0 off", "add a0 10.0.0.1/24", "add a0 2001:db8::1/64")
	for _, l := range strings.Split(routes(t, p.s), "\n") {
		if l != "" && strings.HasPrefix(l, "local ") == strings.HasSuffix(l, " linkdown") {
			t.Errorf("route %q", l)
		}
	}
}
