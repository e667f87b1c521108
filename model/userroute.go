package model

import (
	"cmp"
	"net/netip"
	"slices"
)

// IPv6RouteMetric is the metric of an IPv6 user's route added without one
// (or with metric 0): the kernel's IP6_RT_PRIO_USER. An IPv4 route's is 0.
const IPv6RouteMetric = 1024

// userRoute is a route a RouteAdd made, as the model keeps it.
type userRoute struct {
	dst    netip.Prefix
	via    netip.Addr
	dev    string
	src    netip.Addr // cleared when an IPv6 source leaves every adapter
	metric uint32     // the family's default already applied
	// self: an IPv4 gateway that was a local address of the adapter
	// when the route was added. The kernel gives such a nexthop scope
	// host (fib_check_nh_v4_gw finds the local route) and uses a
	// gateway only on a nexthop of scope link (rt_set_nexthop), so
	// lookups by the route go on link, without the gateway; the table
	// still shows it. Fixed at the add, as the kernel's nexthop scope.
	self bool
}

// RouteMetric returns the metric a route op means: its own, or the
// family's default when it gives none (IPv4 0; IPv6 IPv6RouteMetric, which
// a metric of 0 also means). Routes of the table carry it applied.
func (o Op) RouteMetric() uint32 {
	if o.Metric == 0 && !o.Prefix.Addr().Is4() {
		return IPv6RouteMetric
	}
	return o.Metric
}

// route returns the route ur shows in the table.
func (s *State) route(ur userRoute) Route {
	return Route{Kind: Connected, Dst: ur.dst, Via: ur.via, Dev: ur.dev, Proto: ProtoBoot, Src: ur.src, Metric: ur.metric, Linkdown: s.nocarrier[ur.dev]}
}

// UserRoutes returns the routes that route add ops made and that are
// still there, oldest first, as the table shows them.
func (s *State) UserRoutes() []Route {
	out := make([]Route, len(s.user))
	for i, ur := range s.user {
		out[i] = s.route(ur)
	}
	return out
}

// DelOf returns the route del op that deletes r, a user's route.
func DelOf(r Route) Op {
	return Op{Kind: RouteDel, Prefix: r.Dst, Via: r.Via, Adapter: r.Dev, Metric: r.Metric}
}

// checkRoute is Check for the route kinds, once the op is well formed and
// its adapter plugged in. The rules, and their order, are the kernel's
// (docs/routes-semantics.md §7), verified on Linux 6.18:
//
// route add:
//  1. With a gateway: IPv6 refuses one that is an address of any adapter
//     (invalid). The gateway must be on link by the adapter: IPv4, a
//     local address of the adapter, or covered by a route of the adapter
//     that has no gateway (an address's subnet route or a user's route;
//     the adapter's subnet broadcast address is invalid); IPv6, the
//     longest route of the adapter covering it has no gateway. Else
//     unreachable. A down adapter has no such routes.
//  2. The adapter is down: netdown.
//  3. A source that no adapter holds (a down one's included): badsrc.
//  4. A route of the main table, the kernel's included, with the same
//     destination and metric: exists.
//
// route del: the user's route of that destination, gateway, adapter and
// metric must be there (notfound); the kernel's routes are the
// addresses' and cannot be deleted by it.
func (s *State) checkRoute(op Op) error {
	if op.Kind == RouteDel {
		// A del names no source: the route's is whatever it is.
		if !slices.ContainsFunc(s.user, s.names(op)) {
			return opErr(op, NotFound, "no such route")
		}
		return nil
	}
	v4 := op.Prefix.Addr().Is4()
	if g := op.Via; g.IsValid() {
		if !v4 && s.holds(g) {
			return opErr(op, Invalid, "gateway %s is a local address", g)
		}
		switch s.onLink(op.Adapter, g) {
		case linkBroadcast:
			return opErr(op, Invalid, "gateway %s is a broadcast address", g)
		case linkNone:
			return opErr(op, GatewayUnreachable, "gateway %s is not on link by %s", g, op.Adapter)
		}
	}
	if s.down[op.Adapter] {
		return opErr(op, NetDown, "%s is down", op.Adapter)
	}
	if op.Src.IsValid() && !s.holds(op.Src) {
		return opErr(op, BadSource, "src %s is no adapter's address", op.Src)
	}
	m := op.RouteMetric()
	for _, r := range s.Routes() {
		if r.Kind == Connected && r.Dst == op.Prefix && r.Metric == m {
			return opErr(op, Exists, "a route to %s with metric %d exists", dstString(op.Prefix, op.Via, op.Src), m)
		}
	}
	return nil
}

// names returns whether a user's route is the one route op names: its
// destination, gateway, adapter and metric (a del names no source).
func (s *State) names(op Op) func(userRoute) bool {
	m := op.RouteMetric()
	return func(u userRoute) bool {
		return u.dst == op.Prefix && u.via == op.Via && u.dev == op.Adapter && u.metric == m
	}
}

// applyRoute is Apply for the route kinds, once checkRoute passed; self
// says that a route add's IPv4 gateway is a local address of its adapter
// (userRoute.self), as the table before the op shows.
func (s *State) applyRoute(op Op, self bool) {
	if op.Kind == RouteAdd {
		s.user = append(s.user, userRoute{dst: op.Prefix, via: op.Via, dev: op.Adapter, src: op.Src, metric: op.RouteMetric(), self: self})
		return
	}
	s.user = slices.DeleteFunc(s.user, s.names(op))
}

// gateway returns the gateway lookups by r, a route of the table, go
// through: none for an IPv4 user's route whose gateway was a local
// address of its adapter when it was added (userRoute.self).
func (s *State) gateway(r Route) netip.Addr {
	if r.Proto == ProtoBoot && r.Via.Is4() && slices.ContainsFunc(s.user, func(u userRoute) bool {
		return u.self && u.dst == r.Dst && u.metric == r.Metric
	}) {
		return netip.Addr{}
	}
	return r.Via
}

// holds reports whether some adapter holds address a (kept IPv6
// addresses of a down adapter included).
func (s *State) holds(a netip.Addr) bool {
	for _, es := range s.addrs {
		if slices.ContainsFunc(es, func(e entry) bool { return e.p.Addr() == a }) {
			return true
		}
	}
	return false
}

type linkState uint8

const (
	linkNone linkState = iota
	linkOK
	linkSelf // IPv4: a local address of the adapter
	linkBroadcast
)

// onLink says whether gateway g is on link by adapter dev, as the
// kernel's insertion check sees it (fib_check_nh_v4_gw,
// ip6_route_check_nh): a lookup of g restricted to dev's routes, gateway
// routes skipped (IPv4) or refusing (IPv6).
func (s *State) onLink(dev string, g netip.Addr) linkState {
	best := -1
	var bestRoute Route
	for _, r := range s.Routes() {
		if r.Dev != dev || !r.Dst.Contains(g) {
			continue
		}
		if g.Is4() {
			switch {
			case r.Kind == Local:
				return linkSelf
			case r.Kind == Broadcast:
				return linkBroadcast
			case !r.Via.IsValid():
				best = 0
			}
			continue
		}
		if r.Kind != Connected {
			continue
		}
		if r.Dst.Bits() > best || r.Dst.Bits() == best && r.Metric < bestRoute.Metric {
			best, bestRoute = r.Dst.Bits(), r
		}
	}
	if best < 0 || !g.Is4() && bestRoute.Via.IsValid() {
		return linkNone
	}
	return linkOK
}

// forget applies what the loss of addresses gone does to user routes:
// gone are addresses that left an adapter (deleted, flushed by down,
// unplugged). A route whose source no adapter holds any more is deleted
// (IPv4, fib_sync_down_addr) or loses its source (IPv6,
// rt6_remove_prefsrc), whichever way the address went.
func (s *State) forget(gone []netip.Addr) {
	for _, a := range gone {
		if s.holds(a) {
			continue
		}
		if a.Is4() {
			s.user = slices.DeleteFunc(s.user, func(u userRoute) bool { return u.src == a })
			continue
		}
		for i := range s.user {
			if s.user[i].src == a {
				s.user[i].src = netip.Addr{}
			}
		}
	}
}

// dropVia deletes the user routes by adapter dev of the family given
// (ipv4, ipv6 both true: all).
func (s *State) dropVia(dev string, ipv4, ipv6 bool) {
	s.user = slices.DeleteFunc(s.user, func(u userRoute) bool {
		return u.dev == dev && (u.dst.Addr().Is4() && ipv4 || !u.dst.Addr().Is4() && ipv6)
	})
}

// source4 returns the IPv4 source the kernel gives a route without src
// (fib_result_prefsrc, inet_select_addr): the first primary address on
// the route's adapter whose subnet holds the gateway, else its first
// primary, else the first primary of the first adapter that has one, in
// the order adapters were made. Primaries are in the order they became
// primary (added, or promoted). None when no adapter has an IPv4 address.
func (s *State) source4(dev string, via netip.Addr) netip.Addr {
	ps := s.primaries4(dev)
	for _, e := range ps {
		if via.IsValid() && e.p.Contains(via) {
			return e.p.Addr()
		}
	}
	if len(ps) > 0 {
		return ps[0].p.Addr()
	}
	for _, a := range s.order {
		if ps := s.primaries4(a); len(ps) > 0 {
			return ps[0].p.Addr()
		}
	}
	return netip.Addr{}
}

// primaries4 returns dev's IPv4 primaries in the kernel's list order.
func (s *State) primaries4(dev string) []entry {
	es := s.addrs[dev]
	var ps []entry
	for i, e := range es {
		if e.p.Addr().Is4() && isPrimary(es, i) {
			ps = append(ps, e)
		}
	}
	slices.SortStableFunc(ps, func(a, b entry) int { return cmp.Compare(a.since, b.since) })
	return ps
}
