package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// fakeWin is the Windows stack as this program expects it to behave (it
// has never been checked against a real one): one row per address, keyed
// by interface and address; for each manual address a host route, an
// on-link route to its prefix and, IPv4 shorter than /31, a route to its
// subnet broadcast, each kept while any address needs it; and the
// interface's baseline (baseline in table_test.go).
type fakeWin struct {
	ifaces []Iface
	addrs  []AddrRow
	extra  []RouteRow // routes left behind
	clock  int64
	calls  []string // every mutation, with the interface's alias
	leak   bool     // leave a deleted address's host route behind
}

func newFake(ifaces ...Iface) *fakeWin {
	f := &fakeWin{ifaces: ifaces}
	for _, ifc := range ifaces {
		a, _ := baseline(ifc)
		f.addrs = append(f.addrs, a...)
	}
	return f
}

func (f *fakeWin) Lookup(alias string) (Iface, error) {
	for _, ifc := range f.ifaces {
		if strings.EqualFold(ifc.Alias, alias) {
			return ifc, nil
		}
	}
	return Iface{}, fmt.Errorf("ConvertInterfaceAliasToLuid: %v", errorInvalidParameter)
}

func (f *fakeWin) Addrs() ([]AddrRow, error) { return slices.Clone(f.addrs), nil }

func (f *fakeWin) Routes() ([]RouteRow, error) {
	var out []RouteRow
	seen := map[RouteRow]bool{}
	put := func(r RouteRow) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, ifc := range f.ifaces {
		_, rs := baseline(ifc)
		for _, r := range rs {
			put(r)
		}
		for _, a := range f.addrs {
			if a.Luid != ifc.Luid || !Ours(a) {
				continue
			}
			put(route(ifc, netip.PrefixFrom(a.Addr, a.Addr.BitLen()).String()))
			put(route(ifc, a.Prefix().Masked().String()))
			if a.Addr.Is4() && a.Bits < 31 {
				put(route(ifc, netip.PrefixFrom(lastAddr(a.Prefix()), 32).String()))
			}
		}
	}
	for _, r := range f.extra {
		put(r)
	}
	return out, nil
}

func (f *fakeWin) alias(luid uint64) string {
	for _, ifc := range f.ifaces {
		if ifc.Luid == luid {
			return ifc.Alias
		}
	}
	return fmt.Sprintf("LUID %#x", luid)
}

func (f *fakeWin) AddAddr(ifc Iface, p netip.Prefix) error {
	f.calls = append(f.calls, fmt.Sprintf("CreateUnicastIpAddressEntry %s %s", f.alias(ifc.Luid), p))
	if p.Addr().IsUnspecified() {
		return errorInvalidParameter
	}
	for _, a := range f.addrs {
		if a.Luid == ifc.Luid && a.Addr == p.Addr() {
			return errorObjectAlreadyExists
		}
	}
	f.clock++
	f.addrs = append(f.addrs, AddrRow{Luid: ifc.Luid, Index: ifc.Index, Addr: p.Addr(), Bits: p.Bits(), Origin: prefixOriginManual, Created: f.clock})
	return nil
}

func (f *fakeWin) DelAddr(ifc Iface, a netip.Addr) error {
	f.calls = append(f.calls, fmt.Sprintf("DeleteUnicastIpAddressEntry %s %s", f.alias(ifc.Luid), a))
	for i, x := range f.addrs {
		if x.Luid == ifc.Luid && x.Addr == a {
			f.addrs = slices.Delete(f.addrs, i, i+1)
			if f.leak {
				f.extra = append(f.extra, route(ifc, netip.PrefixFrom(a, a.BitLen()).String()))
			}
			return nil
		}
	}
	return errorNotFound
}

func (f *fakeWin) DelRoute(ifc Iface, r RouteRow) error {
	f.calls = append(f.calls, fmt.Sprintf("DeleteIpForwardEntry2 %s %s", f.alias(ifc.Luid), r.Dst))
	for i, x := range f.extra {
		if x.Luid == r.Luid && x.Dst == r.Dst {
			f.extra = slices.Delete(f.extra, i, i+1)
			return nil
		}
	}
	return errorNotFound
}

func newTestServer(t *testing.T, f *fakeWin, adapters ...string) *Server {
	t.Helper()
	s, err := NewServer(Args{Adapters: adapters, IPv4: true, IPv6: true}, f, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// converse sends the requests (the lines of script that begin with "> ")
// and checks the answers against the lines that begin with "< ".
func converse(t *testing.T, s *Server, script string) {
	t.Helper()
	var in, want bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(script), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "> "):
			in.WriteString(l[2:] + "\n")
		case strings.HasPrefix(l, "< "):
			want.WriteString(l[2:] + "\n")
		}
	}
	var out bytes.Buffer
	if err := s.Serve(&in, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("answers:\n%s\nwant:\n%s", out.String(), want.String())
	}
}

func TestTranscript(t *testing.T) {
	f := newFake(eth2, eth3, wifi)
	s := newTestServer(t, f, "Ethernet 2", "ethernet 3")
	converse(t, s, `
		> hello routefuzz 1
		< hello routefuzz 1 kinds=connected,local,broadcast promote=1 families=4,6 metrics=0 noprefixroute=0 lifetimes=0 ops=add,del
		> reset a0 a1
		< ok
		> routes
		< .
		> addrs
		< .
		> add a0 10.0.0.1/24
		< ok
		> add a0 10.0.0.2/24
		< ok
		> add a0 10.0.0.1/24
		< err exists ERROR_OBJECT_ALREADY_EXISTS
		> add x3 10.0.0.1/24
		< err invalid no adapter x3 (reset named a0 a1)
		> add a1 2001:db8:0:1::1/64
		< ok
		> routes
		< 10.0.0.0/24 dev a0 src 10.0.0.1
		< local 10.0.0.1/32 dev a0 src 10.0.0.1
		< local 10.0.0.2/32 dev a0 src 10.0.0.1
		< broadcast 10.0.0.255/32 dev a0 src 10.0.0.1
		< 2001:db8:0:1::/64 dev a1 metric 256
		< local 2001:db8:0:1::1/128 dev a1
		< .
		> del a0 10.0.0.1/16
		< err notfound 10.0.0.1/16 is on a0 as 10.0.0.1/24
		> del a0 10.0.0.3/24
		< err notfound 10.0.0.3/24 is not on a0
		> del a0 10.0.0.1/24
		< ok
		> routes
		< 10.0.0.0/24 dev a0 src 10.0.0.2
		< local 10.0.0.2/32 dev a0 src 10.0.0.2
		< broadcast 10.0.0.255/32 dev a0 src 10.0.0.2
		< 2001:db8:0:1::/64 dev a1 metric 256
		< local 2001:db8:0:1::1/128 dev a1
		< .
		> addrs
		< a0 10.0.0.2/24
		< a1 2001:db8:0:1::1/64
		< .
		> down a0
		< err unsupported down is not declared (ops=add,del)
		> add a0 10.0.0.5/24 metric 5
		< err unsupported attributes are not declared (metrics=0 noprefixroute=0 lifetimes=0)
		> lookup 10.0.0.9
		< err unsupported lookup
		> reset b0
		< ok
		> addrs
		< .
		> add a0 10.0.0.1/24
		< err invalid no adapter a0 (reset named b0)
		> quit
		> addrs
	`)
	// The first reset deleted the link-local and APIPA addresses of no
	// interface, and nothing touched Wi-Fi.
	for _, c := range f.calls {
		if strings.Contains(c, "Wi-Fi") || strings.Contains(c, "fe80") || strings.Contains(c, "169.254") {
			t.Errorf("touched what it must not: %s", c)
		}
	}
	want := []string{
		"CreateUnicastIpAddressEntry Ethernet 2 10.0.0.1/24",
		"CreateUnicastIpAddressEntry Ethernet 2 10.0.0.2/24",
		"CreateUnicastIpAddressEntry Ethernet 2 10.0.0.1/24",
		"CreateUnicastIpAddressEntry Ethernet 3 2001:db8:0:1::1/64",
		"DeleteUnicastIpAddressEntry Ethernet 2 10.0.0.1",
		"DeleteUnicastIpAddressEntry Ethernet 2 10.0.0.2", // reset b0 cleans every named interface
		"DeleteUnicastIpAddressEntry Ethernet 3 2001:db8:0:1::1",
	}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
}

// TestResetRefuses: a reset naming more adapters than interfaces were
// named fails, touching nothing, and leaves no adapter bound.
func TestResetRefuses(t *testing.T) {
	f := newFake(eth2, eth3, wifi)
	f.addrs = append(f.addrs, addr(wifi, "192.168.1.10/24", 1), addr(eth2, "10.9.0.1/24", 2))
	s := newTestServer(t, f, "Ethernet 2")
	converse(t, s, `
		> reset a0 a1
		< err invalid reset names 2 adapters (a0 a1) but only 1 interfaces were named with -adapter; name more, or run routefuzz with -adapters 1
		> add a0 10.0.0.1/24
		< err invalid no adapter a0 (no reset has succeeded)
		> reset a0 a0
		< err invalid reset names a0 twice
		> reset a/0
		< err invalid bad adapter name "a/0" in reset
	`)
	if len(f.calls) != 0 {
		t.Errorf("a refused reset touched the stack: %q", f.calls)
	}
	converse(t, s, `
		> reset a0
		< ok
		> addrs
		< .
	`)
	// Ethernet 2's leftover went, Wi-Fi's address stayed.
	if want := []string{"DeleteUnicastIpAddressEntry Ethernet 2 10.9.0.1"}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
	if !slices.ContainsFunc(f.addrs, func(a AddrRow) bool { return a.Luid == wifi.Luid && Ours(a) }) {
		t.Errorf("Wi-Fi lost its address")
	}
}

// TestResetDeletesLeftRoutes: a route a deleted address left behind shows
// in routes (as the bug it is), and the next reset deletes it.
func TestResetDeletesLeftRoutes(t *testing.T) {
	f := newFake(eth2, wifi)
	f.leak = true
	f.extra = append(f.extra, route(wifi, "192.168.9.9/32")) // not ours to delete
	s := newTestServer(t, f, "Ethernet 2")
	converse(t, s, `
		> reset a0
		< ok
		> add a0 10.0.0.1/24
		< ok
		> del a0 10.0.0.1/24
		< ok
		> routes
		< local 10.0.0.1/32 dev a0
		< .
		> reset a0
		< ok
		> routes
		< .
	`)
	if !slices.ContainsFunc(f.calls, func(c string) bool { return c == "DeleteIpForwardEntry2 Ethernet 2 10.0.0.1/32" }) {
		t.Errorf("the left route was not deleted: %q", f.calls)
	}
	if len(f.extra) != 1 || f.extra[0].Luid != wifi.Luid {
		t.Errorf("extra routes now %v, want Wi-Fi's alone", f.extra)
	}
}

func TestNewServerRefuses(t *testing.T) {
	f := newFake(eth2, eth3)
	if _, err := NewServer(Args{Adapters: []string{"Ethernet 9"}}, f, t.Logf); err == nil || !strings.Contains(err.Error(), `-adapter "Ethernet 9"`) {
		t.Errorf("an unknown alias: %v", err)
	}
	f.ifaces = append(f.ifaces, Iface{Alias: "Eth2 again", Luid: eth2.Luid, Index: eth2.Index})
	if _, err := NewServer(Args{Adapters: []string{"Ethernet 2", "Eth2 again"}}, f, t.Logf); err == nil || !strings.Contains(err.Error(), "already named") {
		t.Errorf("two aliases of one interface: %v", err)
	}
}

// TestAnswer maps Win32 errors onto the protocol's results.
func TestAnswer(t *testing.T) {
	for _, c := range []struct {
		kind model.OpKind
		err  error
		want string
	}{
		{model.Add, errorObjectAlreadyExists, "err exists"},
		{model.Add, errorAlreadyExists, "err exists"},
		{model.Add, errorInvalidParameter, "err invalid"},
		{model.Add, errorNotFound, "err invalid"},
		{model.Del, errorNotFound, "err notfound"},
		{model.Del, errorFileNotFound, "err notfound"},
		{model.Add, errorAccessDenied, "err unsupported ERROR_ACCESS_DENIED (run as Administrator)"},
		{model.Del, Errno(1234), "err unsupported Win32 error 1234"},
		{model.Add, fmt.Errorf("odd"), "err unsupported odd"},
	} {
		if got := Answer(c.kind, c.err); !strings.HasPrefix(got, c.want) {
			t.Errorf("Answer(%v, %v) = %q, want %q...", c.kind, c.err, got, c.want)
		}
	}
}

// TestAgreesWithModel drives the server on the fake stack, which behaves
// as Windows is expected to, and the model with random orders of the
// operations routefuzz draws, and compares results, routes and addresses
// after each. It leaves out the operations where Windows is expected to
// differ (docs/windows.md): an IPv4 address at a second length, and
// addresses in the network 0.0.0.0.
func TestAgreesWithModel(t *testing.T) {
	v4 := []string{"10.0.0.", "10.0.1.", "10.1.0."}
	v4Len := []int{24, 16, 8, 31, 32}
	v6 := []string{"2001:db8:0:1::", "2001:db8:0:2::", "2001:db8:1:1::"}
	v6Len := []int{64, 48, 128, 127}
	hosts := []int{1, 2, 3, 0, 255}
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"a0", "a1"}
	for run := 0; run < 100; run++ {
		f := newFake(eth2, eth3, wifi)
		s := newTestServer(t, f, "Ethernet 2", "Ethernet 3")
		if err := s.Reset(names); err != nil {
			t.Fatal(err)
		}
		st, err := model.New(model.Config{Adapters: names, Promote: true})
		if err != nil {
			t.Fatal(err)
		}
		var done []string
		for step := 0; step < 30; step++ {
			var p string
			if rng.IntN(3) < 2 {
				p = fmt.Sprintf("%s%d/%d", v4[rng.IntN(len(v4))], hosts[rng.IntN(len(hosts))], v4Len[rng.IntN(len(v4Len))])
			} else {
				p = fmt.Sprintf("%s%x/%d", v6[rng.IntN(len(v6))], hosts[rng.IntN(4)], v6Len[rng.IntN(len(v6Len))])
			}
			verb := "add"
			if rng.IntN(3) == 0 {
				verb = "del"
			}
			op := model.MustParseOp(fmt.Sprintf("%s %s %s", verb, names[rng.IntN(2)], p))
			if op.Kind == model.Add && op.Prefix.Addr().Is4() && slices.ContainsFunc(st.On(op.Adapter), func(e model.Entry) bool {
				return e.Prefix.Addr() == op.Prefix.Addr() && e.Prefix.Bits() != op.Prefix.Bits()
			}) {
				continue // Windows keys an address without its length
			}
			done = append(done, op.String())
			want := "ok"
			if err := st.Apply(op); err != nil {
				r, _ := model.ResultOf(err)
				want = "err " + r.String()
			}
			got := s.Op(op.String())
			if got != want && !strings.HasPrefix(got, want+" ") {
				t.Fatalf("after\n%s\nresult %q, model %q", strings.Join(done, "\n"), got, want)
			}
			rl, _ := s.RouteLines()
			if g, w := strings.Join(rl, "\n"), strings.TrimSpace(st.Routes().String()); g != w {
				t.Fatalf("after\n%s\nroutes:\n%s\nmodel:\n%s", strings.Join(done, "\n"), g, w)
			}
			al, _ := s.AddrLines()
			var wa []string
			for _, a := range st.Addrs() {
				wa = append(wa, a.String())
			}
			if g, w := strings.Join(al, "\n"), strings.Join(wa, "\n"); g != w {
				t.Fatalf("after\n%s\naddrs:\n%s\nmodel:\n%s", strings.Join(done, "\n"), g, w)
			}
		}
	}
}
