package props

import (
	"net/netip"

	"github.com/routefuzz/routefuzz/model"
)

// Known divergences of the Linux kernel (sut/linux) from the model. Each is
// recorded in corpus/ as a case marked "diverges: linux", with the kernel
// source that explains it.
func init() {
	RegisterExclusion(Exclusion{
		Name: "linux-src-is-broadcast",
		Doc: "IPv4: an address that is already the destination of a broadcast route gets a local route but no subnet routes, " +
			"because fib_valid_prefsrc finds the older broadcast route first (corpus/linux-src-is-broadcast-bad.txtar)",
		Match: srcIsBroadcast,
	})
	RegisterExclusion(Exclusion{
		Name: "linux-ipv6-prefix-metric",
		Doc: "IPv6: deleting an address keeps every prefix route of its prefix while another address shares the prefix, " +
			"whatever their metrics, so a route no address needs is left behind (corpus/linux-ipv6-prefix-metric-bad.txtar)",
		Match: v6PrefixMetric,
	})
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
		return isBroadcast(a)
	}
	if !st.Config().Promote {
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

// v6PrefixMetric matches deleting an IPv6 address whose prefix another
// address on the adapter shares, none of them with its metric: the model
// removes the deleted address's prefix route, the kernel keeps it.
func v6PrefixMetric(st *model.State, op model.Op) bool {
	if op.Kind != model.Del || op.Prefix.Addr().Is4() {
		return false
	}
	es := st.On(op.Adapter)
	var mine uint32
	found := false
	for _, e := range es {
		if e.Prefix == op.Prefix {
			mine, found = v6Metric(e.Metric), true
		}
	}
	if !found {
		return false
	}
	shared := false
	for _, e := range es {
		if e.Prefix == op.Prefix || e.Prefix.Masked() != op.Prefix.Masked() {
			continue
		}
		if v6Metric(e.Metric) == mine {
			return false
		}
		shared = true
	}
	return shared
}

func v6Metric(m uint32) uint32 {
	if m == 0 {
		return model.IPv6PrefixMetric
	}
	return m
}
