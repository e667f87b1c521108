package props

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// lwIP's documented policies (the "lwip" stack: examples/lwip/lwipstack.c
// over Debian's liblwip-dev 2.1.3). None is a bug: each is lwIP's
// behaviour as its documentation or source gives it, triaged in
// docs/lwip.md and recorded in corpus/ as a case marked "diverges: lwip"
// that names its exclusion. Each exclusion skips the ops that lead to its
// difference, so that `check -sut lwip -exclude known` looks past them,
// and a replay of the corpus skips a must-agree case that would show one.
// Source lines are lwIP 2.1.3's (tag STABLE-2_1_3_RELEASE).
func init() {
	lwip := []string{"lwip"}
	for _, e := range []Exclusion{{
		Name: "lwip-ipv4-slash31-broadcast",
		Doc: "lwIP: ip4_addr_isbroadcast takes the address whose host bits are all ones as the subnet's broadcast at " +
			"every length, /31 too: no RFC 3021 (src/core/ipv4/ip4_addr.c:75-81): no /31 add " +
			"(corpus/lwip-ipv4-slash31-broadcast-bad.txtar)",
		Match: func(st *model.State, op model.Op) bool {
			return lwipAdd(st, op) && op.Prefix.Addr().Is4() && op.Prefix.Bits() == 31
		},
	}, {
		Name: "lwip-ipv6-single-netif",
		Doc: "lwIP: ip6_route, \"If single netif configuration, fast return\" (src/core/ipv6/ip6.c:97-104): with one " +
			"netif every IPv6 destination goes out by it: no IPv6 add while fewer than two adapters are plugged, no " +
			"unplug that leaves one (corpus/lwip-ipv6-single-netif-bad.txtar)",
		Match: func(st *model.State, op model.Op) bool {
			n := lwipPlugged(st)
			return (lwipAdd(st, op) && op.Prefix.Addr().Is6() && n < 2) || (op.Kind == model.Unplug && n <= 2)
		},
	}, {
		Name: "lwip-ipv6-implied-64",
		Doc: "lwIP: ip6_route, \"By (lwIP) policy, statically configured addresses do always have an implied local " +
			"/64 subnet\" (src/core/ipv6/ip6.c:190-208): only /64 IPv6 adds (corpus/lwip-ipv6-implied-64-bad.txtar)",
		Match: func(st *model.State, op model.Op) bool {
			return lwipAdd(st, op) && op.Prefix.Addr().Is6() && op.Prefix.Bits() != 64
		},
	}, {
		Name: "lwip-down-netif-skipped",
		Doc: "lwIP: ip4_route and ip6_route skip a netif that is down (netif_is_up, src/core/ipv4/ip4.c:171-172), " +
			"its own addresses too, as there is no local table: no down of an adapter that holds an address, no add " +
			"to one that is down (corpus/lwip-down-address-not-local-bad.txtar)",
		Match: func(st *model.State, op model.Op) bool {
			return (op.Kind == model.Down && len(st.On(op.Adapter)) > 0) || (lwipAdd(st, op) && st.IsDown(op.Adapter))
		},
	}, {
		Name: "lwip-linkdown-netif-skipped",
		Doc: "lwIP: ip4_route and ip6_route skip a netif without link (netif_is_link_up, src/core/ipv4/ip4.c:171-172, " +
			"src/core/ipv6/ip6.c:196-199), where the model keeps its routes, linkdown: no carrier off on an adapter " +
			"that holds an address, no add to one without carrier (corpus/lwip-linkdown-netif-skipped-bad.txtar)",
		Match: func(st *model.State, op model.Op) bool {
			return (op.Kind == model.Carrier && !op.On && len(st.On(op.Adapter)) > 0) || (lwipAdd(st, op) && !st.HasCarrier(op.Adapter))
		},
	}, {
		Name: "lwip-shared-subnet",
		Doc: "lwIP: ip4_route takes the first netif on netif_list whose subnet holds the destination " +
			"(src/core/ipv4/ip4.c:142-184, \"searches the list of network interfaces linearly\"), netif_add puts a " +
			"netif at the head (src/core/netif.c:414-416), and ip4_output_if loops a packet back only to the chosen " +
			"netif's own address (src/core/ipv4/ip4.c:983-991; IPv6 ip6.c:1236-1252): with one subnet on two " +
			"adapters, the address of the one further down the list is sent out by the other. No add of an address " +
			"whose subnet (IPv6: /64) overlaps another adapter's (corpus/lwip-issue13-shared-subnet-readd-bad.txtar)",
		Match: lwipSharedSubnet,
	}} {
		e.Stacks = lwip
		RegisterExclusion(e)
	}
}

// lwipPlugged counts the adapters of st that are plugged.
func lwipPlugged(st *model.State) int {
	n := 0
	for _, a := range st.Config().Adapters {
		if !st.IsUnplugged(a) {
			n++
		}
	}
	return n
}

// lwipAdd reports whether op adds an address to an adapter that is there
// to take it (configured and plugged): an add the model refuses (an
// unknown adapter, an unplugged one) shows no policy.
func lwipAdd(st *model.State, op model.Op) bool {
	return op.Kind == model.Add && slices.Contains(st.Config().Adapters, op.Adapter) && !st.IsUnplugged(op.Adapter)
}

// lwipSharedSubnet matches the add of an address whose subnet (IPv6: its
// /64) overlaps one of another adapter's.
func lwipSharedSubnet(st *model.State, op model.Op) bool {
	if !lwipAdd(st, op) {
		return false
	}
	subnet := func(p netip.Prefix) netip.Prefix {
		if p.Addr().Is6() {
			p = netip.PrefixFrom(p.Addr(), 64)
		}
		return p.Masked()
	}
	p := subnet(op.Prefix)
	for _, a := range st.Config().Adapters {
		if a == op.Adapter {
			continue
		}
		for _, e := range st.On(a) {
			if q := subnet(e.Prefix); q.Addr().Is4() == p.Addr().Is4() && q.Overlaps(p) {
				return true
			}
		}
	}
	return false
}
