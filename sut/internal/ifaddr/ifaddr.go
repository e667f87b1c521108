// Package ifaddr keeps the addresses of a simulated stack's adapters the
// way the kernel keeps its in_ifaddr and inet6_ifaddr lists: per adapter,
// oldest first, with the kernel's rules for duplicates and missing
// addresses, and which IPv4 address became primary when (for source
// selection). It keeps no kernel routes; the stacks that use it do. It
// keeps the user routes (UserRoutes), which both stacks handle alike,
// and answers lookups (Lookup) from a stack's own table.
package ifaddr

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/model"
)

// Addr is one address and its attributes.
type Addr struct {
	P      netip.Prefix
	Metric uint32 // zero: none
	// NoPrefixRoute is the noprefixroute flag: an IPv6 address holds no
	// prefix route, an IPv4 primary no connected route (its broadcast
	// route stays).
	NoPrefixRoute bool
	// Dynamic says the address has lifetimes: it is not permanent, and
	// keep_addr_on_down does not keep it over down.
	Dynamic bool
	// Hidden marks an IPv6 address kept over down (keep_addr_on_down):
	// it has no local route until up.
	Hidden bool
	// Since orders an adapter's IPv4 primaries as the kernel lists them,
	// by when each became primary (added, or promoted): Lists sets it.
	Since uint64
}

// FromOp returns the address an add op creates, with its attributes.
func FromOp(op model.Op) Addr {
	return Addr{P: op.Prefix, Metric: op.Metric, NoPrefixRoute: op.NoPrefixRoute, Dynamic: op.ValidLft != 0}
}

// Changed returns a as a change op leaves it: the metric replaced (an
// absent one meaning none) for IPv4, replaced only when the op gives one
// for IPv6; noprefixroute and lifetimes replaced for both; Hidden kept.
func (a Addr) Changed(op model.Op) Addr {
	if op.Metric != 0 || a.P.Addr().Is4() {
		a.Metric = op.Metric
	}
	a.NoPrefixRoute = op.NoPrefixRoute
	a.Dynamic = op.ValidLft != 0
	return a
}

// KeptOverDown reports whether a stays on its adapter when the adapter
// goes down: IPv4 addresses do; IPv6 ones only under keep_addr_on_down
// (keep), and only when permanent.
func (a Addr) KeptOverDown(keep bool) bool {
	return a.P.Addr().Is4() || keep && !a.Dynamic
}

// Key returns the group key: the masked prefix.
func (a Addr) Key() netip.Prefix { return a.P.Masked() }

// Lists holds the address list of each adapter, which adapters are
// administratively down, which have no carrier and which are unplugged.
type Lists struct {
	names     []string
	order     []string // plugged-in adapters in the order they were made (plug makes one last)
	seq       uint64   // the last Addr.Since given
	m         map[string][]Addr
	down      map[string]bool
	nocarrier map[string]bool
	gone      map[string]bool // unplugged adapters
}

// Reset forgets every address; the adapters are now names.
func (l *Lists) Reset(names []string) {
	l.names = slices.Clone(names)
	l.order = slices.Clone(names)
	l.seq = 0
	l.m = make(map[string][]Addr, len(names))
	l.down = map[string]bool{}
	l.nocarrier = map[string]bool{}
	l.gone = map[string]bool{}
	for _, n := range names {
		l.m[n] = nil
	}
}

// Of returns the addresses of dev, oldest first. The slice is the list's
// own: do not keep it across changes.
func (l *Lists) Of(dev string) []Addr { return l.m[dev] }

// Check returns the error op gives under the kernel's rules, or nil: a
// malformed op (model.Op.Validate) or an unknown adapter is invalid, then
// each kind's own rule.
func (l *Lists) Check(op model.Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	as, ok := l.m[op.Adapter]
	if !ok {
		return &model.OpError{Op: op, Result: model.Invalid, Msg: fmt.Sprintf("no adapter %q (have %s)", op.Adapter, strings.Join(l.names, ", "))}
	}
	if l.gone[op.Adapter] && op.Kind != model.Plug && !Ignored(op) {
		return &model.OpError{Op: op, Result: model.Invalid, Msg: "no such device (unplugged)"}
	}
	p := op.Prefix
	switch op.Kind {
	case model.Add:
		if slices.ContainsFunc(as, func(a Addr) bool { return a.P == p || !p.Addr().Is4() && a.P.Addr() == p.Addr() }) {
			return &model.OpError{Op: op, Result: model.Exists, Msg: "address already assigned"}
		}
	case model.Del, model.Change:
		// Change, like del, is of the exact address and length.
		if !slices.ContainsFunc(as, func(a Addr) bool { return a.P == p }) {
			return &model.OpError{Op: op, Result: model.NotFound, Msg: "address not found"}
		}
	case model.Down, model.Up, model.Carrier:
		// Always succeed: down twice, up twice and carrier on with
		// carrier are no-ops.
	case model.Unplug, model.RouteAdd, model.RouteDel:
		// Route ops: UserRoutes.Check has their own rules.
	case model.Plug:
		if !l.gone[op.Adapter] {
			return &model.OpError{Op: op, Result: model.Exists, Msg: "device exists"}
		}
	default:
		return &model.OpError{Op: op, Result: model.Invalid, Msg: "unknown operation"}
	}
	return nil
}

// Ignored reports whether the kernel accepts op and does nothing: adding
// the IPv4 address 0.0.0.0.
func Ignored(op model.Op) bool {
	return op.Kind == model.Add && op.Prefix.Addr() == netip.IPv4Unspecified()
}

// IsDown reports whether dev is administratively down.
func (l *Lists) IsDown(dev string) bool { return l.down[dev] }

// SetDown records dev as down or up.
func (l *Lists) SetDown(dev string, down bool) {
	if down {
		l.down[dev] = true
	} else {
		delete(l.down, dev)
	}
}

// HasCarrier reports whether dev has carrier.
func (l *Lists) HasCarrier(dev string) bool { return !l.nocarrier[dev] }

// SetCarrier records whether dev has carrier.
func (l *Lists) SetCarrier(dev string, on bool) {
	if on {
		delete(l.nocarrier, dev)
	} else {
		l.nocarrier[dev] = true
	}
}

// Linkdown reports whether dev's non-local routes are marked linkdown:
// it is up without carrier.
func (l *Lists) Linkdown(dev string) bool { return !l.down[dev] && l.nocarrier[dev] }

// IsUnplugged reports whether dev is unplugged.
func (l *Lists) IsUnplugged(dev string) bool { return l.gone[dev] }

// SetUnplugged records dev as unplugged (with no addresses, and up with
// carrier for when it comes back) or plugged (made last: the newest
// adapter).
func (l *Lists) SetUnplugged(dev string, gone bool) {
	l.order = slices.DeleteFunc(l.order, func(a string) bool { return a == dev })
	if gone {
		l.gone[dev] = true
		l.m[dev] = nil
		delete(l.down, dev)
		delete(l.nocarrier, dev)
	} else {
		delete(l.gone, dev)
		l.order = append(l.order, dev)
	}
}

// Set replaces dev's list; as is the caller's no more.
func (l *Lists) Set(dev string, as []Addr) { l.m[dev] = as }

// Add appends a to dev's list, stamping it (Since) as the newest.
func (l *Lists) Add(dev string, a Addr) {
	l.seq++
	a.Since = l.seq
	l.m[dev] = append(l.m[dev], a)
}

// Remove deletes p from dev's list and returns it. When p is an IPv4
// primary, the next address of its group, now its primary (promoted), is
// stamped as the newest primary (Since).
func (l *Lists) Remove(dev string, p netip.Prefix) Addr {
	as := l.m[dev]
	i := slices.IndexFunc(as, func(a Addr) bool { return a.P == p })
	a := as[i]
	as = slices.Delete(as, i, i+1)
	if a.P.Addr().Is4() && !slices.ContainsFunc(as[:i], func(b Addr) bool { return b.Key() == a.Key() }) {
		if j := slices.IndexFunc(as[i:], func(b Addr) bool { return b.Key() == a.Key() }); j >= 0 {
			l.seq++
			as[i+j].Since = l.seq
		}
	}
	l.m[dev] = as
	return a
}

// HasIPv4 reports whether dev has an IPv4 address.
func (l *Lists) HasIPv4(dev string) bool {
	return slices.ContainsFunc(l.m[dev], func(a Addr) bool { return a.P.Addr().Is4() })
}

// Holds reports whether some adapter holds address a (an IPv6 address
// kept over down included).
func (l *Lists) Holds(a netip.Addr) bool {
	for _, as := range l.m {
		if slices.ContainsFunc(as, func(b Addr) bool { return b.P.Addr() == a }) {
			return true
		}
	}
	return false
}

// Source4 returns the IPv4 source of a route by dev through gateway via
// (none: on link) that has no source of its own, as the kernel chooses it
// (inet_select_addr): the first of dev's primaries whose subnet holds the
// gateway, else dev's first primary, else the first primary of the first
// adapter that has one, in the order adapters were made (Plug makes one
// last). Primaries come in the order they became primary (Since). None
// when no adapter has an IPv4 address.
func (l *Lists) Source4(dev string, via netip.Addr) netip.Addr {
	first, ok := l.primary4(dev, via)
	if ok {
		return first
	}
	for _, a := range l.order {
		if first, ok := l.primary4(a, netip.Addr{}); ok {
			return first
		}
	}
	return netip.Addr{}
}

// primary4 returns dev's oldest primary (by Since) whose subnet holds
// via, else its oldest primary; false when dev has no IPv4 address.
func (l *Lists) primary4(dev string, via netip.Addr) (netip.Addr, bool) {
	var first, match Addr
	as := l.m[dev]
	for i, a := range as {
		if !a.P.Addr().Is4() || slices.ContainsFunc(as[:i], func(b Addr) bool { return b.Key() == a.Key() }) {
			continue
		}
		if !first.P.IsValid() || a.Since < first.Since {
			first = a
		}
		if via.IsValid() && a.P.Contains(via) && (!match.P.IsValid() || a.Since < match.Since) {
			match = a
		}
	}
	if match.P.IsValid() {
		return match.P.Addr(), true
	}
	return first.P.Addr(), first.P.IsValid()
}

// Change applies a change op to the address it names on its adapter (which
// Check has found there) and returns the address before and after.
func (l *Lists) Change(op model.Op) (old, now Addr) {
	as := l.m[op.Adapter]
	i := slices.IndexFunc(as, func(a Addr) bool { return a.P == op.Prefix })
	old = as[i]
	as[i] = old.Changed(op)
	return old, as[i]
}

// Primary returns the oldest IPv4 address on dev in group key.
func (l *Lists) Primary(dev string, key netip.Prefix) (Addr, bool) {
	for _, a := range l.m[dev] {
		if a.Key() == key {
			return a, true
		}
	}
	return Addr{}, false
}

// Group returns the addresses on dev in group key, oldest first.
func (l *Lists) Group(dev string, key netip.Prefix) []Addr {
	var g []Addr
	for _, a := range l.m[dev] {
		if a.Key() == key {
			g = append(g, a)
		}
	}
	return g
}

// All returns every address, sorted by model.Addr.Compare.
func (l *Lists) All() []model.Addr {
	var out []model.Addr
	for dev, as := range l.m {
		for _, a := range as {
			out = append(out, model.Addr{Adapter: dev, Prefix: a.P})
		}
	}
	slices.SortFunc(out, model.Addr.Compare)
	return out
}

// Host returns the host route prefix of p's address (/32 or /128).
func Host(p netip.Prefix) netip.Prefix {
	return netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
}

// Broadcast returns the last address of an IPv4 prefix.
func Broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	for i := 3; i >= 0; i-- {
		b[i] |= byte(host >> (8 * (3 - i)))
	}
	return netip.AddrFrom4(b)
}

// SubnetRoutes returns the connected and broadcast routes that an IPv4
// primary prim on dev creates under the kernel's rules (fib_add_ifaddr):
// no connected route when prim has noprefixroute, and every route marked
// linkdown as given.
func SubnetRoutes(dev string, prim Addr, linkdown bool) []model.Route {
	key := prim.Key()
	if key.Addr() == netip.IPv4Unspecified() {
		return nil
	}
	src := prim.P.Addr()
	var rs []model.Route
	if key.Bits() < 32 && !prim.NoPrefixRoute {
		rs = append(rs, model.Route{Kind: model.Connected, Dst: key, Dev: dev, Src: src, Metric: prim.Metric, Linkdown: linkdown})
	}
	if key.Bits() < 31 {
		rs = append(rs, model.Route{Kind: model.Broadcast, Dst: netip.PrefixFrom(Broadcast(key), 32), Dev: dev, Src: src, Linkdown: linkdown})
	}
	return rs
}

// PrefixRoutes6 returns the prefix route an IPv6 address a on dev holds:
// none when it has noprefixroute, else one to its masked prefix with its
// metric (V6Metric), marked linkdown as given.
func PrefixRoutes6(dev string, a Addr, linkdown bool) []model.Route {
	if a.NoPrefixRoute {
		return nil
	}
	return []model.Route{{Kind: model.Connected, Dst: a.Key(), Dev: dev, Metric: V6Metric(a), Linkdown: linkdown}}
}

// V6Metric returns the metric of the prefix route of an IPv6 address.
func V6Metric(a Addr) uint32 {
	if a.Metric == 0 {
		return model.IPv6PrefixMetric
	}
	return a.Metric
}
