package main

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// Iface is a Windows network interface the user named: its alias (the
// name "Get-NetAdapter" and "ncpa.cpl" show, such as "Ethernet 2"), its
// LUID and its index.
type Iface struct {
	Alias string
	Luid  uint64
	Index uint32
}

// AddrRow is one row of GetUnicastIpAddressTable, the fields this program
// reads.
type AddrRow struct {
	Luid    uint64
	Index   uint32
	Addr    netip.Addr
	Bits    int    // OnLinkPrefixLength
	Origin  uint32 // PrefixOrigin: prefixOriginManual for the addresses routefuzz adds
	Created int64  // CreationTimeStamp
}

// Prefix returns the address with its on-link prefix length, host bits
// kept: the form of the protocol's addrs answer.
func (a AddrRow) Prefix() netip.Prefix { return netip.PrefixFrom(a.Addr, a.Bits) }

// RouteRow is one row of GetIpForwardTable2, the fields this program reads.
type RouteRow struct {
	Luid     uint64
	Index    uint32
	Dst      netip.Prefix // masked
	NextHop  netip.Addr   // unspecified (0.0.0.0, ::) for an on-link route
	Metric   uint32       // the route's own metric; Windows adds the interface metric when it chooses
	Protocol uint32       // routeProtocolLocal for the routes the stack derives
}

// defaultRouteMetric is the metric Windows gives the routes it derives
// from an address (Get-NetRoute's RouteMetric 256). The model writes no
// metric (0) for IPv4 routes and local routes, and 256 for an IPv6 prefix
// route, the Linux defaults; routefuzz sends no metric to this program
// (metrics=0), so 256 is translated to the model's default of the route's
// kind and family and any other metric is written as it is, to show.
const defaultRouteMetric = 256

var (
	linkLocal4 = netip.MustParsePrefix("169.254.0.0/16")
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
	limitedBc  = netip.MustParsePrefix("255.255.255.255/32")
)

// IsNoise reports whether a route row is part of every Windows interface's
// baseline rather than something an address routefuzz added can create,
// so that it is never reported nor deleted:
//
//   - routes through a gateway (a next hop that is not unspecified): an
//     address creates only on-link routes;
//   - multicast destinations: 224.0.0.0/4 and ff00::/8, which Windows puts
//     on every interface (Linux keeps those in no table routefuzz reads);
//   - the limited broadcast 255.255.255.255/32, on every IPv4 interface;
//   - link-local destinations, 169.254.0.0/16 and fe80::/10, with their
//     host and broadcast routes: the automatic (APIPA, link-local)
//     addresses' own, which routefuzz never draws from.
func IsNoise(r RouteRow) bool {
	if !r.Dst.IsValid() {
		return true
	}
	if r.NextHop.IsValid() && !r.NextHop.IsUnspecified() {
		return true
	}
	a := r.Dst.Addr()
	return a.IsMulticast() || r.Dst == limitedBc ||
		linkLocal4.Contains(a) && r.Dst.Bits() >= linkLocal4.Bits() ||
		linkLocal6.Contains(a) && r.Dst.Bits() >= linkLocal6.Bits()
}

// Ours reports whether an address row is one this program manages: a
// manual address (PrefixOrigin manual, as CreateUnicastIpAddressEntry
// makes it here). Link-local, DHCP and router-advertised addresses are
// the interface's own and are left alone.
func Ours(a AddrRow) bool { return a.Origin == prefixOriginManual && a.Addr.IsValid() }

// Bound maps the LUIDs of the interfaces a reset bound to the protocol's
// adapter names.
type Bound map[uint64]string

// MapAddrs returns the addrs answer: every address of ours on a bound
// interface, as "ADAPTER PREFIX", sorted.
func MapAddrs(rows []AddrRow, b Bound) []model.Addr {
	var out []model.Addr
	for _, a := range rows {
		if name, ok := b[a.Luid]; ok && Ours(a) {
			out = append(out, model.Addr{Adapter: name, Prefix: a.Prefix()})
		}
	}
	slices.SortFunc(out, model.Addr.Compare)
	return out
}

// groupKey names one IPv4 group of the model: the addresses of one
// adapter with one masked prefix (the oldest is the primary), or, for
// IPv6, one masked prefix of an adapter.
type groupKey struct {
	luid uint64
	net  netip.Prefix
}

// primaries returns, for each IPv4 group of our addresses on bound
// interfaces, its primary: its oldest address by CreationTimeStamp (the
// earlier row on a tie).
//
// Windows has no primary address and its routes no preferred source:
// every address of a subnet is equal, and deleting one leaves the rest
// and their routes, as Linux does with promote_secondaries=1. The model's
// src is the primary's, so this program derives it from the address
// table. A route's src therefore says nothing about Windows' routes; the
// route itself does.
func primaries(rows []AddrRow, b Bound) map[groupKey]netip.Addr {
	var v4 []AddrRow
	for _, a := range rows {
		if _, ok := b[a.Luid]; ok && Ours(a) && a.Addr.Is4() {
			v4 = append(v4, a)
		}
	}
	slices.SortStableFunc(v4, func(x, y AddrRow) int { return cmp.Compare(x.Created, y.Created) })
	p := map[groupKey]netip.Addr{}
	for _, a := range v4 {
		k := groupKey{a.Luid, a.Prefix().Masked()}
		if _, ok := p[k]; !ok {
			p[k] = a.Addr
		}
	}
	return p
}

// MapRoutes translates Windows' route table into the routes of the model's
// grammar, for the bound interfaces. Rows of other interfaces and noise
// (IsNoise) are left out; every other row is written, once for each role
// it plays for the addresses now on its interface, or, when it plays none,
// once as an orphan, so that a route Windows keeps after the address
// that needed it is gone shows as an extra route.
//
// Windows keeps one route per destination, interface and next hop; Linux
// keeps the prefix route in the main table and the local and broadcast
// routes in the local table. So one Windows row can be several of the
// model's routes:
//
//   - a host row (/32, /128) whose destination is one of our addresses on
//     the interface is its local route ("local A/32 dev D src P", P the
//     primary of A's group; IPv6 "local A/128 dev D");
//   - an IPv4 host row whose destination is the last address of the
//     network of one of our groups shorter than /31, with a network other
//     than 0.0.0.0, is that group's broadcast route;
//   - a row whose destination is the network and length of one of our
//     addresses is that address's prefix (connected) route, except for an
//     IPv4 /32 and the IPv4 network 0.0.0.0, which have none in the model
//     (a /32 host row is then the address's local route only); an IPv6
//     /128 address's host row is both its local and its connected route.
//
// An orphan is written as a connected route when it is shorter than a
// host route and as a local one otherwise, without src: the model has no
// such route, so it shows as extra. Metrics are translated as
// defaultRouteMetric says.
func MapRoutes(addrs []AddrRow, routes []RouteRow, b Bound) model.Table {
	prim := primaries(addrs, b)
	type key struct {
		luid uint64
		a    netip.Addr
	}
	local := map[key]netip.Prefix{} // our address → its prefix
	v6nets := map[groupKey]bool{}   // our IPv6 masked prefixes
	bcast := map[key]netip.Addr{}   // IPv4 broadcast → its group's primary (lowest network on a tie)
	for _, a := range addrs {
		if _, ok := b[a.Luid]; !ok || !Ours(a) {
			continue
		}
		p := a.Prefix()
		local[key{a.Luid, a.Addr}] = p
		if a.Addr.Is6() {
			v6nets[groupKey{a.Luid, p.Masked()}] = true
			continue
		}
		if p.Bits() < 31 && !p.Masked().Addr().IsUnspecified() {
			k := key{a.Luid, lastAddr(p)}
			if _, ok := bcast[k]; !ok {
				bcast[k] = prim[groupKey{a.Luid, p.Masked()}]
			}
		}
	}
	var out []model.Route
	for _, r := range routes {
		dev, ok := b[r.Luid]
		if !ok || IsNoise(r) {
			continue
		}
		dst := r.Dst.Masked()
		a := dst.Addr()
		host := dst.IsSingleIP()
		var roles []model.Route
		add := func(kind model.RouteKind, src netip.Addr) {
			roles = append(roles, model.Route{Kind: kind, Dst: dst, Dev: dev, Src: src, Metric: metric(r.Metric, kind, a.Is6())})
		}
		if host {
			if p, ok := local[key{r.Luid, a}]; ok {
				if a.Is4() {
					add(model.Local, prim[groupKey{r.Luid, p.Masked()}])
				} else {
					add(model.Local, netip.Addr{})
				}
			}
			if src, ok := bcast[key{r.Luid, a}]; ok && a.Is4() {
				add(model.Broadcast, src)
			}
		}
		if a.Is4() {
			if src, ok := prim[groupKey{r.Luid, dst}]; ok && !host && !a.IsUnspecified() {
				add(model.Connected, src)
			}
		} else if v6nets[groupKey{r.Luid, dst}] {
			add(model.Connected, netip.Addr{})
		}
		if len(roles) == 0 { // an orphan
			if host {
				add(model.Local, netip.Addr{})
			} else {
				add(model.Connected, netip.Addr{})
			}
		}
		out = append(out, roles...)
	}
	return model.SortRoutes(out)
}

// metric translates a Windows route metric for a route of kind and family.
func metric(m uint32, kind model.RouteKind, v6 bool) uint32 {
	if m != defaultRouteMetric {
		return m
	}
	if v6 && kind == model.Connected {
		return 256
	}
	return 0
}

// lastAddr returns the last address of p's network: its broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= ^uint32(0) >> p.Bits()
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// Reportable reports whether a route row on a named interface is one
// MapRoutes would write: the rows reset deletes when no address is left
// to need them.
func Reportable(r RouteRow) bool { return !IsNoise(r) }
