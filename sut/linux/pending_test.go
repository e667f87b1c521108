package linux

import (
	"github.com/routefuzz/routefuzz/model"
)

// pendingExclusion matches the kernel divergences found with change,
// carrier, noprefixroute and lifetimes (docs/lifecycle-semantics.md §8)
// until props/known_linux.go registers them; then it goes.
func pendingExclusion(st *model.State, op model.Op) bool {
	r := pendingMatch(st, op)
	return r != "" && r != pendingOff
}

// pendingOff names a rule of pendingMatch to leave out, to see what it
// covers (a diagnostic).
var pendingOff string

// pendingMatch returns the name of the divergence op runs into, or "".
func pendingMatch(st *model.State, op model.Op) string {
	a := op.Prefix.Addr()
	if op.Kind != model.Add && op.Kind != model.Change && op.Kind != model.Del {
		return ""
	}
	es := st.On(op.Adapter)
	var me *model.Entry
	for i := range es {
		if es[i].Prefix == op.Prefix {
			me = &es[i]
		}
	}
	if a.Is4() {
		// IPv4 change cannot set or clear noprefixroute (inet_rtm_newaddr).
		if op.Kind == model.Change && me != nil && me.NoPrefixRoute != op.NoPrefixRoute {
			return "v4-change-noprefixroute"
		}
		return ""
	}
	m := func(x uint32) uint32 {
		if x == 0 {
			return model.IPv6PrefixMetric
		}
		return x
	}
	var sibs []model.Entry
	for _, e := range es {
		if e.Prefix != op.Prefix && e.Prefix.Masked() == op.Prefix.Masked() {
			sibs = append(sibs, e)
		}
	}
	switch op.Kind {
	case model.Add:
		// D1: a non-permanent address added while down never gets its
		// prefix route.
		if op.ValidLft != 0 && st.IsDown(op.Adapter) && !op.NoPrefixRoute {
			return "D1"
		}
	case model.Del:
		if me == nil || me.NoPrefixRoute {
			return ""
		}
		// ipv6_del_addr cleans up prefix routes of permanent addresses only.
		if me.Dynamic {
			return "del-nonpermanent"
		}
		// D4 (and the prefix-metric family): a noprefixroute sibling, or
		// one with another metric, keeps the route.
		for _, e := range sibs {
			if e.NoPrefixRoute || e.Dynamic || m(e.Metric) != m(me.Metric) {
				return "D4"
			}
		}
	case model.Change:
		if me == nil {
			return ""
		}
		// D2a: changed to non-permanent while down (kept over down).
		if op.ValidLft != 0 && st.IsDown(op.Adapter) {
			return "D2a"
		}
		metricChanges := op.Metric != 0 && op.Metric != me.Metric
		// D2b, D2c: had_prefixroute counts permanent addresses only.
		if me.Dynamic && !me.NoPrefixRoute && metricChanges && !op.NoPrefixRoute {
			return "D2b"
		}
		if me.Dynamic && !me.NoPrefixRoute && op.NoPrefixRoute {
			return "D2c"
		}
		// D3: permanent to lifetimes at the same metric sets the prefix
		// route's expiry in the past (modify_prefix_route); the route
		// goes at the next fib6 GC, which any NETDEV_DOWN in the
		// namespace runs (ndisc_netdev_event: down, carrier off, unplug).
		if !me.Dynamic && !me.NoPrefixRoute && !op.NoPrefixRoute && op.ValidLft != 0 && !metricChanges {
			return "D3"
		}
		for _, e := range sibs {
			// D5: a change of an address with a prefix route takes the
			// first prefix route of the prefix, whoever's it is.
			if !me.Dynamic && !me.NoPrefixRoute && !op.NoPrefixRoute && !e.NoPrefixRoute &&
				(metricChanges || m(e.Metric) != m(me.Metric)) {
				return "D5"
			}
			// D4: noprefixroute on, with a sibling that keeps the route.
			if op.NoPrefixRoute && !me.NoPrefixRoute && (e.NoPrefixRoute || e.Dynamic || m(e.Metric) != m(me.Metric)) {
				return "D4-change"
			}
		}
	}
	return ""
}
