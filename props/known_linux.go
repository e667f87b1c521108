package props

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// Known divergences of the Linux kernel (sut/linux) from the model. Each is
// recorded in corpus/ as a case marked "diverges: linux", with the kernel
// source that explains it.
func init() {
	linux := []string{"linux"}
	RegisterExclusion(Exclusion{
		Name: "linux-src-is-broadcast",
		Doc: "IPv4: an address that is already the destination of a broadcast route gets a local route but no subnet routes, " +
			"because fib_valid_prefsrc finds the older broadcast route first; with promotion on, so does a secondary promoted " +
			"when that is what it is (corpus/linux-src-is-broadcast-bad.txtar, linux-src-is-broadcast-promote-bad.txtar)",
		Stacks: linux,
		Match:  srcIsBroadcast,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-prefix-metric",
		Doc: "IPv6: the kernel finds an address's prefix route by prefix and length whatever its metric, so deleting an address " +
			"keeps a route no address needs while another address shares the prefix, and changing the metric of one replaces " +
			"another's route (corpus/linux-ipv6-prefix-metric-bad.txtar, linux-ipv6-change-metric-sibling-bad.txtar)",
		Stacks: linux,
		Match:  v6PrefixMetric,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-noprefixroute-sibling",
		Doc: "IPv6: deleting an address, or changing it to noprefixroute, keeps its prefix route while another address of " +
			"the prefix has noprefixroute, though no address needs the route (check_cleanup_prefix_route; " +
			"corpus/linux-ipv6-noprefixroute-sibling-bad.txtar)",
		Stacks: linux,
		Match:  v6NoPrefixRouteSibling,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-nonpermanent",
		Doc: "IPv6: the kernel keeps the prefix route of an address with lifetimes as SLAAC's, not the address's: deleting the " +
			"address or changing it leaves or leaks routes, one added while down never gets its route, and one changed to " +
			"lifetimes while kept over down loses every route (corpus/linux-ipv6-nonpermanent-*-bad.txtar)",
		Stacks: linux,
		Match:  v6NonPermanent,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-change-expires",
		Doc: "IPv6: changing a permanent address to have lifetimes gives its prefix route an expiry in the past, so the next " +
			"fib6 garbage collection (any adapter going down runs one) deletes the route while the address stays " +
			"(modify_prefix_route → fib6_set_expires with a relative clock_t taken as absolute jiffies; " +
			"corpus/linux-ipv6-change-expires-bad.txtar)",
		Stacks: linux,
		Match:  v6ChangeExpires,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv4-change-noprefixroute",
		Doc: "IPv4: ip addr change cannot set or clear noprefixroute: inet_rtm_newaddr changes only the metric and lifetimes " +
			"of an address that exists (corpus/linux-ipv4-change-noprefixroute-bad.txtar)",
		Stacks: linux,
		Match:  v4ChangeNoPrefixRoute,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-prefsrc-stale",
		Doc: "IPv6: a route keeps as its src an address that no adapter holds any more when the address went by down or " +
			"unplug rather than by del: only ipv6_del_addr calls rt6_remove_prefsrc, addrconf_ifdown does not " +
			"(corpus/linux-ipv6-prefsrc-stale-bad.txtar)",
		Stacks: linux,
		Match:  v6PrefsrcStale,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-prefix-route-user",
		Doc: "IPv6: an address's prefix-route bookkeeping takes the first route to its prefix on its adapter without a " +
			"gateway, a user's route included: deleting or changing the address deletes a user's route of a lower or " +
			"equal metric, and an address whose prefix route has a user route's key gets none " +
			"(addrconf_get_prefix_route, fib6_add_rt2; corpus/linux-ipv6-prefix-route-user-*-bad.txtar)",
		Stacks: linux,
		Match:  v6PrefixRouteUser,
	})
}

// v6PrefsrcStale matches a down (that flushes IPv6 addresses: keep_addr_on_down
// off, or an address with lifetimes) or an unplug that takes away the last
// holder of an IPv6 address that is the src of a user's route by another
// adapter (the routes by the adapter itself go with it).
func v6PrefsrcStale(st *model.State, op model.Op) bool {
	if op.Kind != model.Down && op.Kind != model.Unplug || st.IsUnplugged(op.Adapter) ||
		op.Kind == model.Down && st.IsDown(op.Adapter) {
		return false
	}
	held := func(a netip.Addr) bool {
		for _, x := range st.Addrs() {
			if x.Adapter != op.Adapter && x.Prefix.Addr() == a {
				return true
			}
		}
		return false
	}
	for _, e := range st.On(op.Adapter) {
		a := e.Prefix.Addr()
		if a.Is4() || op.Kind == model.Down && st.Config().KeepAddrOnDown && !e.Dynamic || held(a) {
			continue
		}
		if slices.ContainsFunc(st.UserRoutes(), func(r model.Route) bool { return r.Src == a && r.Dev != op.Adapter }) {
			return true
		}
	}
	return false
}

// v6PrefixRouteUser matches, on IPv6 and an adapter that is up: deleting
// an address with a prefix route, changing it, or changing it to
// noprefixroute, while a user's route to its prefix by the adapter without
// a gateway has a metric no greater than the address's route
// (addrconf_get_prefix_route finds that route first: the fib6 leaf is
// sorted by metric, and the protocol is not looked at); and adding an
// address, or changing one (its metric, or from noprefixroute), so that
// its prefix route would have the key of such a user's route
// (fib6_add_rt2 refuses the duplicate, and addrconf ignores the
// refusal).
func v6PrefixRouteUser(st *model.State, op model.Op) bool {
	if op.Kind != model.Add && op.Kind != model.Del && op.Kind != model.Change ||
		op.Prefix.Addr().Is4() || st.IsDown(op.Adapter) {
		return false
	}
	user := func(metric uint32, below bool) bool {
		return slices.ContainsFunc(st.UserRoutes(), func(r model.Route) bool {
			return r.Dev == op.Adapter && !r.Via.IsValid() && r.Dst == op.Prefix.Masked() &&
				(r.Metric == metric || below && r.Metric < metric)
		})
	}
	if op.Kind == model.Add {
		return !op.NoPrefixRoute && user(v6Metric(op.Metric), false)
	}
	e, _, ok := entryOf(st, op)
	if !ok {
		return false
	}
	if !e.NoPrefixRoute && user(v6Metric(e.Metric), true) {
		return true
	}
	m := e.Metric // the metric after a change (IPv6 keeps it when none is given)
	if op.Metric != 0 {
		m = op.Metric
	}
	return op.Kind == model.Change && !op.NoPrefixRoute && user(v6Metric(m), false)
}

// entryOf returns op's address as it is on its adapter, and its siblings:
// the other addresses of the adapter with the same prefix and length.
func entryOf(st *model.State, op model.Op) (e model.Entry, sibs []model.Entry, ok bool) {
	for _, x := range st.On(op.Adapter) {
		switch {
		case x.Prefix == op.Prefix:
			e, ok = x, true
		case x.Prefix.Masked() == op.Prefix.Masked():
			sibs = append(sibs, x)
		}
	}
	return e, sibs, ok
}

// srcIsBroadcast matches an IPv4 op after which the kernel adds routes with
// a preferred source that is already a broadcast destination: adding such
// an address, or, with promotion on, deleting a primary whose next
// secondary is such an address (the promoted address becomes every src).
func srcIsBroadcast(st *model.State, op model.Op) bool {
	a := op.Prefix.Addr()
	if !a.Is4() {
		return false
	}
	isBroadcast := func(x netip.Addr) bool {
		for _, r := range st.Routes() {
			if r.Kind == model.Broadcast && r.Dst.Addr() == x {
				return true
			}
		}
		return false
	}
	if op.Kind == model.Add {
		// A secondary adds only its local route, whose src is the
		// primary's.
		secondary := slices.ContainsFunc(st.On(op.Adapter), func(e model.Entry) bool { return e.Prefix.Masked() == op.Prefix.Masked() })
		return isBroadcast(a) && !secondary
	}
	if op.Kind != model.Del || !st.Config().Promote {
		return false
	}
	es := st.On(op.Adapter)
	key := op.Prefix.Masked()
	for i, e := range es {
		if e.Prefix.Masked() != key {
			continue
		}
		if e.Prefix != op.Prefix {
			return false // op is not the primary
		}
		for _, s := range es[i+1:] {
			if s.Prefix.Masked() == key {
				return isBroadcast(s.Prefix.Addr())
			}
		}
		return false
	}
	return false
}

// v6PrefixMetric matches, on IPv6, deleting an address with a prefix
// route, or changing it to noprefixroute, while other addresses on the
// adapter share its prefix, none of them with its metric (the model
// removes the address's prefix route, the kernel keeps it); and a change
// of an address with a prefix route, while another address shares the
// prefix, that changes its metric or while another address's route has
// another metric (modify_prefix_route takes the first prefix route it
// finds, whatever its metric, and replaces it if its metric is not the
// changed address's).
func v6PrefixMetric(st *model.State, op model.Op) bool {
	if op.Prefix.Addr().Is4() || op.Kind != model.Del && op.Kind != model.Change {
		return false
	}
	e, sibs, ok := entryOf(st, op)
	if !ok || len(sibs) == 0 || e.NoPrefixRoute || st.IsDown(op.Adapter) {
		return false // (a down adapter has no prefix routes; up restores them right)
	}
	mine := v6Metric(e.Metric)
	if op.Kind == model.Change && !op.NoPrefixRoute {
		// modify_prefix_route replaces the first prefix route of the
		// prefix unless its metric is the changed address's: it takes
		// another address's route when the metric changes, or when
		// another address's route (another metric) may come first.
		now := mine
		if op.Metric != 0 {
			now = v6Metric(op.Metric)
		}
		return now != mine || slices.ContainsFunc(sibs, func(x model.Entry) bool { return !x.NoPrefixRoute && v6Metric(x.Metric) != mine })
	}
	return !slices.ContainsFunc(sibs, func(x model.Entry) bool { return v6Metric(x.Metric) == mine })
}

// v6NoPrefixRouteSibling matches, on IPv6, deleting an address with a
// prefix route, or changing it to noprefixroute, while another address of
// its prefix and length has noprefixroute and none without it has its
// metric: check_cleanup_prefix_route leaves the route to the user when an
// address with IFA_F_NOPREFIXROUTE shares the prefix.
func v6NoPrefixRouteSibling(st *model.State, op model.Op) bool {
	if op.Prefix.Addr().Is4() || !(op.Kind == model.Del || op.Kind == model.Change && op.NoPrefixRoute) {
		return false
	}
	e, sibs, ok := entryOf(st, op)
	if !ok || e.NoPrefixRoute || st.IsDown(op.Adapter) {
		return false
	}
	mine := v6Metric(e.Metric)
	return slices.ContainsFunc(sibs, func(x model.Entry) bool { return x.NoPrefixRoute }) &&
		!slices.ContainsFunc(sibs, func(x model.Entry) bool { return !x.NoPrefixRoute && v6Metric(x.Metric) == mine })
}

// v6NonPermanent matches, on IPv6: adding an address with lifetimes to an
// adapter that is down (its prefix route fails with ENETDOWN and
// addrconf_permanent_addr never restores it); deleting or changing an
// address that has lifetimes (ipv6_del_addr and inet6_addr_modify handle
// the prefix route of IFA_F_PERMANENT addresses only); and giving
// lifetimes to an address of an adapter that is down (an address kept
// over down is restored at up only if permanent).
func v6NonPermanent(st *model.State, op model.Op) bool {
	if op.Prefix.Addr().Is4() {
		return false
	}
	switch op.Kind {
	case model.Add:
		return op.ValidLft != 0 && st.IsDown(op.Adapter)
	case model.Del, model.Change:
		e, _, ok := entryOf(st, op)
		if !ok {
			return false
		}
		return e.Dynamic || op.Kind == model.Change && op.ValidLft != 0 && st.IsDown(op.Adapter)
	}
	return false
}

// v6ChangeExpires matches, on IPv6, a change that gives lifetimes to a
// permanent address with a prefix route on an adapter that is up.
func v6ChangeExpires(st *model.State, op model.Op) bool {
	if op.Kind != model.Change || op.Prefix.Addr().Is4() || op.ValidLft == 0 || op.NoPrefixRoute || st.IsDown(op.Adapter) {
		return false
	}
	e, _, ok := entryOf(st, op)
	return ok && !e.Dynamic && !e.NoPrefixRoute
}

// v4ChangeNoPrefixRoute matches an IPv4 change that sets or clears
// noprefixroute.
func v4ChangeNoPrefixRoute(st *model.State, op model.Op) bool {
	if op.Kind != model.Change || !op.Prefix.Addr().Is4() {
		return false
	}
	e, _, ok := entryOf(st, op)
	return ok && e.NoPrefixRoute != op.NoPrefixRoute
}

func v6Metric(m uint32) uint32 {
	if m == 0 {
		return model.IPv6PrefixMetric
	}
	return m
}
