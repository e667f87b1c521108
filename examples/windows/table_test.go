package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// Interfaces of the tests: two the user named, one not.
var (
	eth2  = Iface{Alias: "Ethernet 2", Luid: 0x100, Index: 12}
	eth3  = Iface{Alias: "Ethernet 3", Luid: 0x200, Index: 13}
	wifi  = Iface{Alias: "Wi-Fi", Luid: 0x300, Index: 4}
	bound = Bound{eth2.Luid: "a0", eth3.Luid: "a1"}
)

// addr is an address row: manual unless origin is given.
func addr(ifc Iface, p string, created int64, origin ...uint32) AddrRow {
	pp := netip.MustParsePrefix(p)
	o := uint32(prefixOriginManual)
	if len(origin) > 0 {
		o = origin[0]
	}
	return AddrRow{Luid: ifc.Luid, Index: ifc.Index, Addr: pp.Addr(), Bits: pp.Bits(), Origin: o, Created: created}
}

// route is an on-link route row with Windows' default metric, or through
// a gateway when via is given.
func route(ifc Iface, dst string, via ...string) RouteRow {
	d := netip.MustParsePrefix(dst)
	r := RouteRow{Luid: ifc.Luid, Index: ifc.Index, Dst: d, NextHop: unspecified(d.Addr()), Metric: defaultRouteMetric, Protocol: routeProtocolLocal}
	if len(via) > 0 {
		r.NextHop = netip.MustParseAddr(via[0])
		r.Protocol = routeProtocolNetMgmt
	}
	return r
}

// baseline is what Windows shows on an interface with no address of
// ours: its multicast and limited broadcast routes, its link-local
// address with its routes, and an APIPA address.
func baseline(ifc Iface) ([]AddrRow, []RouteRow) {
	return []AddrRow{
			addr(ifc, "fe80::5c1a:2bff:fe3c:4d5e/64", 1, prefixOriginWellKnown),
			addr(ifc, "169.254.7.9/16", 1, prefixOriginWellKnown),
		}, []RouteRow{
			route(ifc, "224.0.0.0/4"), route(ifc, "255.255.255.255/32"),
			route(ifc, "ff00::/8"), route(ifc, "fe80::/64"), route(ifc, "fe80::5c1a:2bff:fe3c:4d5e/128"),
			route(ifc, "169.254.0.0/16"), route(ifc, "169.254.7.9/32"), route(ifc, "169.254.255.255/32"),
		}
}

func lines(t model.Table) string { return strings.TrimSpace(t.String()) }

func TestMapRoutesGolden(t *testing.T) {
	var addrs []AddrRow
	var routes []RouteRow
	for _, ifc := range []Iface{eth2, eth3, wifi} {
		a, r := baseline(ifc)
		addrs, routes = append(addrs, a...), append(routes, r...)
	}
	addrs = append(addrs,
		addr(eth2, "10.0.0.2/24", 20), // older than 10.0.0.1: the primary
		addr(eth2, "10.0.0.1/24", 30),
		addr(eth2, "10.1.0.255/16", 40), // its own broadcast address
		addr(eth2, "10.0.1.1/32", 50),
		addr(eth3, "10.0.0.3/24", 10), // the same subnet on the other adapter
		addr(eth3, "2001:db8:0:1::1/64", 60),
		addr(eth3, "2001:db8:0:2::1/128", 70),
		addr(wifi, "192.168.1.10/24", 5), // not named: never shown
	)
	routes = append(routes,
		route(eth2, "10.0.0.0/24"), route(eth2, "10.0.0.1/32"), route(eth2, "10.0.0.2/32"), route(eth2, "10.0.0.255/32"),
		route(eth2, "10.1.0.0/16"), route(eth2, "10.1.255.255/32"), route(eth2, "10.1.0.255/32"),
		route(eth2, "10.0.1.1/32"),
		route(eth2, "0.0.0.0/0", "10.0.0.254"), // through a gateway: not an address's
		route(eth3, "10.0.0.0/24"), route(eth3, "10.0.0.3/32"), route(eth3, "10.0.0.255/32"),
		route(eth3, "2001:db8:0:1::/64"), route(eth3, "2001:db8:0:1::1/128"),
		route(eth3, "2001:db8:0:2::1/128"),
		route(wifi, "192.168.1.0/24"), route(wifi, "192.168.1.10/32"), route(wifi, "0.0.0.0/0", "192.168.1.1"),
	)
	got := lines(MapRoutes(addrs, routes, bound))
	want := lines(model.NewTable([]model.Route{
		model.MustParseRoute("10.0.0.0/24 dev a0 src 10.0.0.2"),
		model.MustParseRoute("local 10.0.0.1/32 dev a0 src 10.0.0.2"),
		model.MustParseRoute("local 10.0.0.2/32 dev a0 src 10.0.0.2"),
		model.MustParseRoute("broadcast 10.0.0.255/32 dev a0 src 10.0.0.2"),
		model.MustParseRoute("10.1.0.0/16 dev a0 src 10.1.0.255"),
		model.MustParseRoute("local 10.1.0.255/32 dev a0 src 10.1.0.255"),
		model.MustParseRoute("broadcast 10.1.255.255/32 dev a0 src 10.1.0.255"),
		model.MustParseRoute("local 10.0.1.1/32 dev a0 src 10.0.1.1"),
		model.MustParseRoute("10.0.0.0/24 dev a1 src 10.0.0.3"),
		model.MustParseRoute("local 10.0.0.3/32 dev a1 src 10.0.0.3"),
		model.MustParseRoute("broadcast 10.0.0.255/32 dev a1 src 10.0.0.3"),
		model.MustParseRoute("2001:db8:0:1::/64 dev a1 metric 256"),
		model.MustParseRoute("local 2001:db8:0:1::1/128 dev a1"),
		model.MustParseRoute("2001:db8:0:2::1/128 dev a1 metric 256"), // one row, two of the model's routes
		model.MustParseRoute("local 2001:db8:0:2::1/128 dev a1"),
	}))
	if got != want {
		t.Errorf("MapRoutes:\n%s\nwant:\n%s", got, want)
	}

	// The model gives the same table for these addresses, added in the
	// order of their timestamps.
	st, err := model.New(model.Config{Adapters: []string{"a0", "a1"}, Promote: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"add a1 10.0.0.3/24", "add a0 10.0.0.2/24", "add a0 10.0.0.1/24", "add a0 10.1.0.255/16",
		"add a0 10.0.1.1/32", "add a1 2001:db8:0:1::1/64", "add a1 2001:db8:0:2::1/128"} {
		if err := st.Apply(model.MustParseOp(op)); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	if m := lines(st.Routes()); m != got {
		t.Errorf("the model's table:\n%s\ndiffers from the mapped one:\n%s", m, got)
	}

	if got, want := MapAddrs(addrs, bound), "[a0 10.0.0.1/24 a0 10.0.0.2/24 a0 10.0.1.1/32 a0 10.1.0.255/16 a1 10.0.0.3/24 a1 2001:db8:0:1::1/64 a1 2001:db8:0:2::1/128]"; fmtAddrs(got) != want {
		t.Errorf("MapAddrs = %s\nwant %s", fmtAddrs(got), want)
	}
}

func fmtAddrs(as []model.Addr) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}

// TestMapRoutesOrphans: routes Windows keeps when no address needs them
// (the kind of bug KB287032 is) are shown, without src, so that they
// are extra routes to the model.
func TestMapRoutesOrphans(t *testing.T) {
	addrs := []AddrRow{addr(eth2, "10.0.0.2/24", 1)}
	routes := []RouteRow{
		route(eth2, "10.0.0.0/24"), route(eth2, "10.0.0.2/32"), route(eth2, "10.0.0.255/32"),
		route(eth2, "10.0.0.1/32"),   // the host route of a deleted address
		route(eth2, "10.9.0.0/16"),   // a subnet route no address needs
		route(eth3, "2001:db8::/64"), // on a1, which has no address
		route(eth3, "2001:db8::1/128"),
	}
	routes[1].Metric = 5 // not the default: shown as it is
	got := lines(MapRoutes(addrs, routes, bound))
	want := lines(model.NewTable([]model.Route{
		model.MustParseRoute("10.0.0.0/24 dev a0 src 10.0.0.2"),
		model.MustParseRoute("local 10.0.0.2/32 dev a0 src 10.0.0.2 metric 5"),
		model.MustParseRoute("broadcast 10.0.0.255/32 dev a0 src 10.0.0.2"),
		model.MustParseRoute("local 10.0.0.1/32 dev a0"),
		model.MustParseRoute("10.9.0.0/16 dev a0"),
		model.MustParseRoute("2001:db8::/64 dev a1 metric 256"),
		model.MustParseRoute("local 2001:db8::1/128 dev a1"),
	}))
	if got != want {
		t.Errorf("MapRoutes:\n%s\nwant:\n%s", got, want)
	}
	// Unbound, nothing shows.
	if got := MapRoutes(addrs, routes, Bound{}); len(got) != 0 {
		t.Errorf("MapRoutes with nothing bound:\n%s", got)
	}
}

func TestIsNoise(t *testing.T) {
	for dst, want := range map[string]bool{
		"224.0.0.0/4": true, "239.255.255.250/32": true, "255.255.255.255/32": true, "ff00::/8": true, "ff02::1:2/128": true,
		"fe80::/64": true, "fe80::1/128": true, "169.254.0.0/16": true, "169.254.255.255/32": true,
		"10.0.0.0/24": false, "10.0.0.255/32": false, "2001:db8::/64": false, "0.0.0.0/8": false,
		"128.0.0.0/1": false, "::/0": false, // they contain link-local space but are not in it
	} {
		if got := IsNoise(route(eth2, dst)); got != want {
			t.Errorf("IsNoise(%s) = %v, want %v", dst, got, want)
		}
	}
	if !IsNoise(route(eth2, "10.0.0.0/24", "10.0.0.254")) {
		t.Errorf("a route through a gateway is not noise")
	}
}

func TestLastAddr(t *testing.T) {
	for p, want := range map[string]string{"10.0.0.1/24": "10.0.0.255", "10.1.0.0/16": "10.1.255.255", "10.0.0.1/8": "10.255.255.255", "10.0.0.4/30": "10.0.0.7"} {
		if got := lastAddr(netip.MustParsePrefix(p)).String(); got != want {
			t.Errorf("lastAddr(%s) = %s, want %s", p, got, want)
		}
	}
}
