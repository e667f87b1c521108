package gvisor

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// The gVisor profile of the model: what gVisor's netstack answers, by the
// rules docs/gvisor.md documents, where they differ from the Linux model.
// Ref keeps the state gVisor keeps (NICs, each with its addresses in the
// order of its primary list, and the user's route table in gVisor's order)
// and answers ops, addresses and lookups from it. It does not reproduce
// gVisor's recorded bugs (props/known_gvisor.go excludes them): a stack
// that shows one differs from its profile.
//
// Each documented difference is a Difference below, named once, with the
// gVisor source that makes it (paths under pkg/ of the pinned module); the
// code that applies it cites its name.

// Difference names one documented difference of gVisor from the model.
type Difference string

const (
	// NoConnectedRoutes: an address brings no route; only AddRoute puts
	// one in the table (tcpip/stack/stack.go:792). In Raw mode nothing
	// else does; the sentry adds the address's subnet by its NIC unless a
	// route of that destination and NIC is there (tcpip.Route.Equal
	// compares those two only: tcpip/tcpip.go:1600), and removes it on
	// del (sentry/socket/netstack/stack.go:653-708), when no other address
	// of the NIC is in that subnet (the sentry removes it even then: a
	// bug, props exclusion gvisor-sentry-subnet-route-loss).
	NoConnectedRoutes Difference = "no-connected-routes"
	// OneLength: a NIC's addresses are keyed by address alone
	// (tcpip/stack/addressable_endpoint_state.go:222): add of an address
	// the NIC holds at another length is exists, and RemoveAddress takes
	// no length, so del at any length removes it.
	OneLength Difference = "one-length"
	// RouteResults: AddRoute checks nothing and returns nothing
	// (tcpip/stack/stack.go:792), so route add is ok whatever the model
	// says (invalid for an unplugged adapter, exists, unreachable,
	// badsrc, netdown) and the route is in the table; identical routes
	// are all kept. route del removes every route of the destination,
	// gateway and NIC (RemoveRoutes, stack.go:815): notfound when none,
	// whether or not the adapter is plugged.
	RouteResults Difference = "route-results"
	// RoutesOutliveState: user routes stay over down and up and over the
	// deletion of the NIC's last address; FindRoute skips a route whose
	// NIC is disabled or has no address of the family
	// (tcpip/stack/stack.go:1637-1642, TODO at nic.go:263). RemoveNIC
	// removes the NIC's routes (stack.go:1069-1078); a route added for a
	// NIC that is absent waits for a NIC of its ID.
	RoutesOutliveState Difference = "routes-outlive-state"
	// RouteOrder: the table is sorted by prefix length, longest first,
	// then by insertion (stack.go:799-810), and the first route that
	// matches, whose NIC is enabled and has a source, answers. No metric.
	RouteOrder Difference = "route-order"
	// StrongHost: a route's source is an address of its own NIC
	// (getAddressEP, stack.go:1380); a route whose NIC has none of the
	// family is skipped (stack.go:1642). The kernel takes one from
	// another adapter.
	StrongHost Difference = "strong-host"
	// LocalSource: a lookup of an address any NIC holds, enabled or not,
	// answers local with that address as its source
	// (findLocalRouteRLocked, stack.go:1487: localAddr = remoteAddr; no
	// check of the NIC's state). The kernel answers an IPv4 secondary
	// with its primary, and nothing local on a down adapter.
	LocalSource Difference = "local-source"
	// SelfBroadcast4: an IPv4 address that is its own subnet's broadcast
	// address gets no local route (stack.go:1449, "if
	// r.IsOutboundBroadcast()"); the table answers it.
	SelfBroadcast4 Difference = "self-broadcast4"
	// Source4: the IPv4 source is the route's SourceHint if the NIC holds
	// it, else the NIC's address with the longest common prefix with the
	// destination over all 32 bits, ties to the earlier in the primary
	// list (tcpip/stack/addressable_endpoint_state.go:471-497). A source
	// that is the destination makes the route loop back: local
	// (route.go:196).
	Source4 Difference = "source4"
	// Source6: the IPv6 source is chosen by RFC 6724 rules 1, 2, 3, 6, 7
	// and 8 (rule 8 over all 128 bits) among the NIC's addresses, with no
	// hints (tcpip/network/ipv6/ipv6.go:2164-2273). The comparator's last
	// tie-break ("return i < j", line 2272) is no stable order, so the
	// profile accepts any of the best.
	Source6 Difference = "source6"
	// Broadcast4: an IPv4 destination is a broadcast when it is the
	// broadcast address of the subnet of the source chosen
	// (tcpip/stack/route.go:570-583), whatever the route.
	Broadcast4 Difference = "broadcast4"
)

// Differences lists every documented difference, in the order of
// docs/gvisor.md.
var Differences = []Difference{NoConnectedRoutes, OneLength, RouteResults, RoutesOutliveState, RouteOrder,
	StrongHost, LocalSource, SelfBroadcast4, Source4, Source6, Broadcast4}

// Ref is the gVisor profile of the model for a stack in one Mode: gVisor's
// state and answers as the documented differences make them.
type Ref struct {
	mode     Mode
	adapters []string
	nics     map[string]*refNIC // the NICs plugged in, by adapter
	routes   []refRoute         // the route table, in gVisor's order
}

type refNIC struct {
	enabled bool
	addrs   []netip.Prefix // the primary list: oldest first
}

type refRoute struct {
	dst      netip.Prefix
	via, src netip.Addr
	dev      string
}

// NewRef returns the profile of a stack in mode m, reset to cfg: one
// enabled NIC per adapter, no addresses, no routes.
func NewRef(m Mode, cfg model.Config) *Ref {
	r := &Ref{mode: m, adapters: slices.Clone(cfg.Adapters), nics: map[string]*refNIC{}}
	for _, a := range cfg.Adapters {
		r.nics[a] = &refNIC{enabled: true}
	}
	return r
}

// Apply performs op and returns its result as gVisor gives it.
func (r *Ref) Apply(op model.Op) model.Result {
	if op.Kind == model.Hold {
		// Holding a route changes nothing gVisor documents; what it
		// does to a later del and re-add is a bug (finding 2).
		return model.OK
	}
	if !slices.Contains(r.adapters, op.Adapter) {
		return model.Invalid
	}
	n := r.nics[op.Adapter]
	switch op.Kind {
	case model.RouteAdd: // RouteResults, RoutesOutliveState
		r.addRoute(refRoute{dst: op.Prefix.Masked(), via: op.Via, src: op.Src, dev: op.Adapter})
		return model.OK
	case model.RouteDel: // RouteResults
		if r.removeRoutes(func(x refRoute) bool { return x.dst == op.Prefix.Masked() && x.via == op.Via && x.dev == op.Adapter }) == 0 {
			return model.NotFound
		}
		return model.OK
	case model.Plug:
		if n != nil {
			return model.Exists
		}
		r.nics[op.Adapter] = &refNIC{enabled: true}
		return model.OK
	}
	if n == nil {
		return model.Invalid
	}
	a := op.Prefix.Addr()
	switch op.Kind {
	case model.Add:
		if a == netip.IPv4Unspecified() {
			// As the kernel: nothing. gVisor adds it, a bug (props
			// exclusion gvisor-unspecified-address).
			return model.OK
		}
		if slices.ContainsFunc(n.addrs, func(p netip.Prefix) bool { return p.Addr() == a }) { // OneLength
			return model.Exists
		}
		n.addrs = append(n.addrs, op.Prefix)
		sub := op.Prefix.Masked()
		if r.mode != Raw && !slices.ContainsFunc(r.routes, func(x refRoute) bool { return x.dst == sub && x.dev == op.Adapter }) {
			r.addRoute(refRoute{dst: sub, dev: op.Adapter}) // NoConnectedRoutes: the sentry's
		}
	case model.Del:
		i := slices.IndexFunc(n.addrs, func(p netip.Prefix) bool { return p.Addr() == a }) // OneLength
		if i < 0 {
			return model.NotFound
		}
		n.addrs = slices.Delete(n.addrs, i, i+1)
		sub := op.Prefix.Masked()
		if r.mode != Raw && !slices.ContainsFunc(n.addrs, func(p netip.Prefix) bool { return p.Masked() == sub }) {
			r.removeRoutes(func(x refRoute) bool { return x.dst == sub && x.dev == op.Adapter }) // NoConnectedRoutes
		}
	case model.Down:
		n.enabled = false // RoutesOutliveState: addresses and routes stay
	case model.Up:
		n.enabled = true
	case model.Unplug:
		delete(r.nics, op.Adapter)
		r.removeRoutes(func(x refRoute) bool { return x.dev == op.Adapter })
	default:
		return model.Invalid
	}
	return model.OK
}

// addRoute inserts x before the first route of a shorter prefix
// (RouteOrder).
func (r *Ref) addRoute(x refRoute) {
	i := slices.IndexFunc(r.routes, func(y refRoute) bool { return y.dst.Bits() < x.dst.Bits() })
	if i < 0 {
		i = len(r.routes)
	}
	r.routes = slices.Insert(r.routes, i, x)
}

func (r *Ref) removeRoutes(match func(refRoute) bool) int {
	n := len(r.routes)
	r.routes = slices.DeleteFunc(r.routes, match)
	return n - len(r.routes)
}

// Addrs returns every address of every NIC, sorted by model.Addr.Compare.
func (r *Ref) Addrs() []model.Addr {
	var out []model.Addr
	for a, n := range r.nics {
		for _, p := range n.addrs {
			out = append(out, model.Addr{Adapter: a, Prefix: p})
		}
	}
	slices.SortFunc(out, model.Addr.Compare)
	return out
}

// Lookup returns the answers gVisor may give to a lookup of dst: one, or
// several when RFC 6724 leaves a tie (Source6).
func (r *Ref) Lookup(dst netip.Addr) []model.Hop {
	local := model.Hop{Kind: model.ToLocal, Src: dst}
	for _, n := range r.nics {
		for _, p := range n.addrs {
			if p.Addr() == dst && !broadcastOf(p, dst) { // LocalSource, SelfBroadcast4
				return []model.Hop{local}
			}
		}
	}
	for _, x := range r.routes { // RouteOrder
		n := r.nics[x.dev]
		if !x.dst.Contains(dst) || n == nil || !n.enabled { // RoutesOutliveState
			continue
		}
		var srcs []netip.Prefix
		if dst.Is4() {
			if src, ok := source4(n.addrs, dst, x.src); ok {
				srcs = []netip.Prefix{src}
			}
		} else {
			srcs = sources6(n.addrs, dst)
		}
		if len(srcs) == 0 {
			continue // StrongHost
		}
		var hops []model.Hop
		for _, src := range srcs {
			h := model.Hop{Kind: model.ToUnicast, Dev: x.dev, Via: x.via, Src: src.Addr()}
			switch {
			case src.Addr() == dst: // Source4: the route loops back
				h = local
			case broadcastOf(src, dst): // Broadcast4
				h = model.Hop{Kind: model.ToBroadcast, Dev: x.dev, Src: src.Addr()}
			}
			hops = append(hops, h)
		}
		return hops
	}
	return []model.Hop{{Kind: model.Unreachable}}
}

// source4 returns the IPv4 source gVisor picks for dst from a NIC's
// addresses es, in the order of its primary list, given the route's
// source hint (the zero Addr for none); ok is false when es holds no IPv4
// address (Source4).
func source4(es []netip.Prefix, dst, hint netip.Addr) (src netip.Prefix, ok bool) {
	best := -1
	for _, p := range es {
		a := p.Addr()
		if !a.Is4() {
			continue
		}
		if hint.IsValid() && a == hint {
			return p, true
		}
		if n := model.CommonPrefixLen(a, dst); n > best {
			src, best = p, n
		}
	}
	return src, best >= 0
}

// sources6 returns the IPv6 sources gVisor may pick for dst from es
// (Source6): RFC 6724 rules 1, 6 and 8, the others being equal for the
// addresses routefuzz draws (one scope, none deprecated or temporary).
func sources6(es []netip.Prefix, dst netip.Addr) []netip.Prefix {
	var best []netip.Prefix
	bestScore := [3]int{-1}
	for _, p := range es {
		a := p.Addr()
		if a.Is4() {
			continue
		}
		sc := [3]int{b2i(a == dst), b2i(label6(a) == label6(dst)), model.CommonPrefixLen(a, dst)}
		switch {
		case sc[0] > bestScore[0] || sc[0] == bestScore[0] && (sc[1] > bestScore[1] || sc[1] == bestScore[1] && sc[2] > bestScore[2]):
			best, bestScore = []netip.Prefix{p}, sc
		case sc == bestScore:
			best = append(best, p)
		}
	}
	return best
}

// broadcastOf reports whether dst is the broadcast address of p's IPv4
// subnet, as tcpip.Subnet.IsBroadcast says (none for /31 and /32).
func broadcastOf(p netip.Prefix, dst netip.Addr) bool {
	if !p.Addr().Is4() || !dst.Is4() || p.Bits() >= 31 || !p.Contains(dst) {
		return false
	}
	b := dst.As4()
	m := p.Masked().Addr().As4()
	for i := range b {
		host := ^byte(0)
		if bits := p.Bits() - 8*i; bits >= 8 {
			host = 0
		} else if bits > 0 {
			host = ^byte(0) >> bits
		}
		if b[i] != m[i]|host {
			return false
		}
	}
	return true
}

// labels6 is gVisor's policy table (ipv6.go, policyTable and getLabel:
// RFC 6724's default less its deprecated entries).
var labels6 = []struct {
	p     netip.Prefix
	label int
}{
	{netip.MustParsePrefix("::1/128"), 0},
	{netip.MustParsePrefix("::ffff:0:0/96"), 4},
	{netip.MustParsePrefix("2001::/32"), 5},
	{netip.MustParsePrefix("2002::/16"), 2},
	{netip.MustParsePrefix("fc00::/7"), 13},
}

// label6 is the label of a in gVisor's policy table.
func label6(a netip.Addr) int {
	for _, l := range labels6 {
		if l.p.Contains(a) {
			return l.label
		}
	}
	return 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
