package ifaddr

import (
	"fmt"
	"iter"
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// UserRoutes keeps the routes that route add ops made, oldest first, as
// a stack shows them (proto boot, linkdown kept up to date by
// SetLinkdown), and applies to them what each event does, as the kernel
// does (docs/routes-semantics.md §3, §7): it is told of each event and
// changes only the routes the event touches. The zero UserRoutes has no
// routes.
type UserRoutes struct {
	rs []model.Route
	// self is the set of routes (by destination and metric, which
	// identify a user's route) whose IPv4 gateway was a local address
	// of the adapter when they were added: the kernel gives such a
	// nexthop scope host (fib_check_nh_v4_gw finds the local route) and
	// uses a gateway only on a nexthop of scope link (rt_set_nexthop),
	// so lookups by the route go on link. It is fixed at the add, as
	// the kernel's nexthop scope is.
	self map[key]bool
}

// key identifies a user's route: no two have the same destination and
// metric (route add refuses the second).
type key struct {
	dst    netip.Prefix
	metric uint32
}

func keyOf(r model.Route) key { return key{r.Dst, r.Metric} }

// Reset forgets every route.
func (u *UserRoutes) Reset() {
	u.rs = u.rs[:0]
	clear(u.self)
}

// All returns the routes, oldest first. The slice is u's own: do not keep
// it across changes.
func (u *UserRoutes) All() []model.Route { return u.rs }

// Gateway returns the gateway that lookups by r, a route of the table, go
// through: r's, but none for a user's route whose IPv4 gateway was a
// local address of its adapter when it was added.
func (u *UserRoutes) Gateway(r model.Route) netip.Addr {
	if r.Proto == model.ProtoBoot && u.self[keyOf(r)] {
		return netip.Addr{}
	}
	return r.Via
}

func routeErr(op model.Op, r model.Result, format string, args ...any) error {
	return &model.OpError{Op: op, Result: r, Msg: fmt.Sprintf(format, args...)}
}

// Do performs a route op, or returns the error it gives, once Lists.Check
// has passed it (well formed, its adapter plugged in). kernel yields the
// stack's own kernel routes as its table shows them (main and local
// tables); l is its address lists. The rules and their order are the
// kernel's:
//
// route add: a gateway that is an IPv6 address of any adapter is invalid;
// a gateway must be on link by the adapter (onLink), else unreachable, or
// invalid when it is the adapter's subnet broadcast address; the adapter
// must be up (netdown); a source must be some adapter's address (badsrc);
// no main-table route, the kernel's included, may have the destination
// and metric (exists).
//
// route del: the user's route of that destination, gateway, adapter and
// metric must be there (notfound); its source is whatever it is.
//
// A route added on an adapter whose routes are linkdown (Lists.Linkdown)
// is marked so.
func (u *UserRoutes) Do(op model.Op, l *Lists, kernel iter.Seq[model.Route]) error {
	self, err := u.check(op, l, kernel)
	if err != nil {
		return err
	}
	if op.Kind == model.RouteDel {
		r := u.rs[u.index(op)]
		u.deleteFunc(func(x model.Route) bool { return x == r })
		return nil
	}
	r := model.Route{Kind: model.Connected, Dst: op.Prefix, Via: op.Via, Dev: op.Adapter, Proto: model.ProtoBoot,
		Src: op.Src, Metric: op.RouteMetric(), Linkdown: l.Linkdown(op.Adapter)}
	u.rs = append(u.rs, r)
	if self {
		if u.self == nil {
			u.self = map[key]bool{}
		}
		u.self[keyOf(r)] = true
	}
	return nil
}

// check returns the error a route op gives, or nil, and whether the route an add makes has a gateway
// that is a local address of its adapter.
func (u *UserRoutes) check(op model.Op, l *Lists, kernel iter.Seq[model.Route]) (self bool, err error) {
	if op.Kind == model.RouteDel {
		if u.index(op) < 0 {
			return false, routeErr(op, model.NotFound, "no such route")
		}
		return false, nil
	}
	if g := op.Via; g.IsValid() {
		if !g.Is4() && l.Holds(g) {
			return false, routeErr(op, model.Invalid, "gateway %s is a local address", g)
		}
		switch u.onLink(op.Adapter, g, kernel) {
		case linkSelf:
			self = true
		case linkBroadcast:
			return false, routeErr(op, model.Invalid, "gateway %s is a broadcast address", g)
		case linkNone:
			return false, routeErr(op, model.GatewayUnreachable, "gateway %s is not on link by %s", g, op.Adapter)
		}
	}
	if l.IsDown(op.Adapter) {
		return false, routeErr(op, model.NetDown, "%s is down", op.Adapter)
	}
	if op.Src.IsValid() && !l.Holds(op.Src) {
		return false, routeErr(op, model.BadSource, "src %s is no adapter's address", op.Src)
	}
	m := op.RouteMetric()
	same := func(r model.Route) bool { return r.Kind == model.Connected && r.Dst == op.Prefix && r.Metric == m }
	if slices.ContainsFunc(u.rs, same) {
		return false, routeErr(op, model.Exists, "a route to %s with metric %d exists", op.Prefix, m)
	}
	for r := range kernel {
		if same(r) {
			return false, routeErr(op, model.Exists, "a route to %s with metric %d exists", op.Prefix, m)
		}
	}
	return self, nil
}

// index returns the index of the route a route del op names, or -1.
func (u *UserRoutes) index(op model.Op) int {
	m := op.RouteMetric()
	return slices.IndexFunc(u.rs, func(r model.Route) bool {
		return r.Dst == op.Prefix && r.Via == op.Via && r.Dev == op.Adapter && r.Metric == m
	})
}

type linkState uint8

const (
	linkNone linkState = iota
	linkOK
	linkSelf // IPv4: a local address of the adapter
	linkBroadcast
)

// onLink says whether gateway g is on link by dev at insertion, from the
// routes of dev (the kernel's, then the user's): IPv4, g is a local
// address of dev (self), else its subnet broadcast address (broadcast),
// else some route of dev without a gateway holds it (fib_check_nh_v4_gw:
// gateway routes are skipped); IPv6, among the main-table routes of dev
// that hold g, those of the longest prefix, then the lowest metric,
// include one without a gateway (ip6_route_check_nh).
func (u *UserRoutes) onLink(dev string, g netip.Addr, kernel iter.Seq[model.Route]) linkState {
	v4 := g.Is4()
	local, bcast, direct := false, false, false
	bits, metric, bestDirect := -1, uint32(0), false
	see := func(r model.Route) {
		if r.Dev != dev || !r.Dst.Contains(g) {
			return
		}
		switch {
		case v4 && r.Kind == model.Local:
			local = true
		case v4 && r.Kind == model.Broadcast:
			bcast = true
		case r.Kind != model.Connected:
		case v4:
			direct = direct || !r.Via.IsValid()
		case r.Dst.Bits() > bits || r.Dst.Bits() == bits && r.Metric < metric:
			bits, metric, bestDirect = r.Dst.Bits(), r.Metric, !r.Via.IsValid()
		case r.Dst.Bits() == bits && r.Metric == metric:
			bestDirect = bestDirect || !r.Via.IsValid()
		}
	}
	for r := range kernel {
		see(r)
	}
	for _, r := range u.rs {
		see(r)
	}
	switch {
	case local:
		return linkSelf
	case bcast:
		return linkBroadcast
	case v4 && direct, !v4 && bestDirect:
		return linkOK
	}
	return linkNone
}

// Deleted applies what a del op did on dev: gone are the addresses it
// took (the one it names, and the secondaries deleted with a primary).
// When dev has no IPv4 address left after an IPv4 one went, every IPv4
// route by dev goes (fib_disable_ip); then Forget.
func (u *UserRoutes) Deleted(l *Lists, dev string, gone []netip.Addr) {
	if len(gone) > 0 && gone[0].Is4() && !l.HasIPv4(dev) {
		u.drop(dev, true, false)
	}
	u.Forget(l, gone)
}

// DevGone applies what down or unplug of dev did: every route by dev
// goes (and down's never comes back); gone are the addresses dev lost
// (IPv6 ones flushed by down, or every one at unplug), which Forget
// handles.
func (u *UserRoutes) DevGone(l *Lists, dev string, gone []netip.Addr) {
	u.drop(dev, true, true)
	u.Forget(l, gone)
}

// Forget applies the loss of addresses gone, which left an adapter (l is
// the lists after the change): a route whose source no adapter holds any
// more is deleted (IPv4, fib_sync_down_addr) or loses its source (IPv6,
// rt6_remove_prefsrc).
func (u *UserRoutes) Forget(l *Lists, gone []netip.Addr) {
	for _, a := range gone {
		if !slices.ContainsFunc(u.rs, func(r model.Route) bool { return r.Src == a }) || l.Holds(a) {
			continue
		}
		if a.Is4() {
			u.deleteFunc(func(r model.Route) bool { return r.Src == a })
			continue
		}
		for i := range u.rs {
			if u.rs[i].Src == a {
				u.rs[i].Src = netip.Addr{}
			}
		}
	}
}

// drop deletes the routes by dev of the families given.
func (u *UserRoutes) drop(dev string, v4, v6 bool) {
	u.deleteFunc(func(r model.Route) bool {
		return r.Dev == dev && (r.Dst.Addr().Is4() && v4 || !r.Dst.Addr().Is4() && v6)
	})
}

// deleteFunc deletes the routes gone says go.
func (u *UserRoutes) deleteFunc(gone func(model.Route) bool) {
	u.rs = slices.DeleteFunc(u.rs, func(r model.Route) bool {
		if gone(r) {
			delete(u.self, keyOf(r))
			return true
		}
		return false
	})
}

// SetLinkdown marks dev's routes linkdown or not: call it when carrier
// changes whether dev's routes are (Lists.Linkdown).
func (u *UserRoutes) SetLinkdown(dev string, linkdown bool) {
	for i := range u.rs {
		if u.rs[i].Dev == dev {
			u.rs[i].Linkdown = linkdown
		}
	}
}
