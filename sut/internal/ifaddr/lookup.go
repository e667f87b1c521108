package ifaddr

import (
	"net/netip"

	"github.com/routefuzz/routefuzz/model"
)

// Lookup answers a route lookup of dst from a stack's own routes and
// addresses (l), as the simulated stacks do: the routes of the local
// table (local, broadcast) first, then the route with the longest prefix
// containing dst, then the lowest metric, ties going to the first in
// Route.Compare order; its kind, its adapter, its gateway (as u.Gateway
// says: none for a user's route through the adapter's own address), and its
// source: the route's own, else for IPv4 the one Lists.Source4 chooses,
// else for IPv6 the candidate that RFC 6724's rules prefer, as Linux
// applies them, narrowing the candidates rule by rule, the first left
// winning. It is written apart from the model's model.State.Lookup, over
// the stack's own state, so that agreeing with it means something.
func Lookup(routes model.Table, l *Lists, u *UserRoutes, addrs []model.Addr, dst netip.Addr) model.LookupResult {
	var best model.Route
	found := false
	for _, r := range routes {
		if r.Dst.Addr().Is4() != dst.Is4() || !r.Dst.Contains(dst) {
			continue
		}
		if !found || beats(r, best) {
			best, found = r, true
		}
	}
	out := model.LookupResult{Dst: dst}
	switch {
	case !found:
		out.Kind = model.Unreachable
	case best.Kind == model.Local:
		out.Kind, out.Src = model.ToLocal, best.Src
		if dst.Is6() {
			out.Src = dst
		}
	case best.Kind == model.Broadcast:
		out.Kind, out.Dev, out.Src = model.ToBroadcast, best.Dev, best.Src
	default:
		out.Kind, out.Dev, out.Via, out.Src = model.ToUnicast, best.Dev, u.Gateway(best), best.Src
		switch {
		case out.Src.IsValid():
		case dst.Is4():
			out.Src = l.Source4(best.Dev, best.Via)
		default:
			out.Src = source6(addrs, dst, best.Dev)
		}
	}
	return out
}

// beats reports whether r is a better match than b (both contain the
// destination): a route of the local table (local, broadcast) beats one
// of the main table, then a longer prefix wins, then a lower metric.
func beats(r, b model.Route) bool {
	if rl, bl := r.Kind != model.Connected, b.Kind != model.Connected; rl != bl {
		return rl
	}
	if r.Dst.Bits() != b.Dst.Bits() {
		return r.Dst.Bits() > b.Dst.Bits()
	}
	return r.Metric < b.Metric
}

// source6 picks the source address for dst leaving by dev among every
// IPv6 address, by RFC 6724's rules 1 (the destination itself), 2
// (scope), 5 (the outgoing adapter), 6 (label) and 8 (common prefix, at
// most the candidate's length), in that order.
func source6(addrs []model.Addr, dst netip.Addr, dev string) netip.Addr {
	var cands []model.Addr
	for _, a := range addrs {
		if a.Prefix.Addr().Is6() {
			cands = append(cands, a)
		}
	}
	rules := []func(model.Addr) int{
		func(a model.Addr) int { return b2i(a.Prefix.Addr() == dst) },
		func(a model.Addr) int {
			s := scope(a.Prefix.Addr())
			if s >= scope(dst) {
				return -s
			}
			return s - 128
		},
		func(a model.Addr) int { return b2i(a.Adapter == dev) },
		func(a model.Addr) int { return b2i(label(a.Prefix.Addr()) == label(dst)) },
		func(a model.Addr) int { return min(model.CommonPrefixLen(a.Prefix.Addr(), dst), a.Prefix.Bits()) },
	}
	for _, rule := range rules {
		if len(cands) < 2 {
			break
		}
		top := rule(cands[0])
		for _, c := range cands[1:] {
			top = max(top, rule(c))
		}
		kept := cands[:0]
		for _, c := range cands {
			if rule(c) == top {
				kept = append(kept, c)
			}
		}
		cands = kept
	}
	if len(cands) == 0 {
		return netip.Addr{}
	}
	return cands[0].Prefix.Addr()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var siteLocal = netip.MustParsePrefix("fec0::/10")

func scope(a netip.Addr) int {
	switch {
	case a.IsLoopback():
		return 0x1
	case a.IsLinkLocalUnicast():
		return 0x2
	case siteLocal.Contains(a):
		return 0x5
	}
	return 0xe
}

// labels is Linux's default address label table, longest prefix first.
var labels = []struct {
	p netip.Prefix
	l int
}{
	{netip.MustParsePrefix("::1/128"), 0}, {netip.MustParsePrefix("::ffff:0:0/96"), 4},
	{netip.MustParsePrefix("::/96"), 3}, {netip.MustParsePrefix("2001::/32"), 6},
	{netip.MustParsePrefix("2001:10::/28"), 7}, {netip.MustParsePrefix("2002::/16"), 2},
	{netip.MustParsePrefix("3ffe::/16"), 12}, {netip.MustParsePrefix("fec0::/10"), 11},
	{netip.MustParsePrefix("fc00::/7"), 5},
}

func label(a netip.Addr) int {
	for _, x := range labels {
		if x.p.Contains(a) {
			return x.l
		}
	}
	return 1
}

// LookupAll answers the lookups of dsts in order with Lookup, over one
// reading of a stack's routes, of its addresses l and of its user routes
// u: what the simulated stacks' Lookup and LookupAll (sut.BatchLooker)
// share.
func LookupAll(routes func() (model.Table, error), l *Lists, u *UserRoutes, dsts []netip.Addr) ([]model.LookupResult, error) {
	t, err := routes()
	if err != nil {
		return nil, err
	}
	addrs := l.All()
	out := make([]model.LookupResult, len(dsts))
	for i, d := range dsts {
		out[i] = Lookup(t, l, u, addrs, d)
	}
	return out, nil
}
