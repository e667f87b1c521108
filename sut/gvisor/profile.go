package gvisor

import (
	"net/netip"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// The gVisor profile of the Linux model: the documented ways gVisor's
// answers differ from the model's, each with the source that documents
// it (docs/gvisor.md lists them). A Profiled stack applies the profile to
// the lookups: an answer that differs from the model's only as the
// profile says is reported as the model's, so that a hunt goes past these
// differences and finds the others.

// Difference names one documented difference.
type Difference string

const (
	// LocalSource: a lookup of one of the stack's own addresses answers
	// local with that address as its source; the kernel answers an IPv4
	// secondary with its primary. stack.go, findLocalRouteRLocked: "if
	// localAddr.BitLen() == 0 { localAddr = remoteAddr }".
	LocalSource Difference = "local-source"
	// Source4: the IPv4 source is the route's SourceHint if it is on the
	// NIC, else the NIC's address that shares the longest prefix with the
	// destination, over all 32 bits whatever its prefix length, the
	// earliest in the NIC's primary list among equals (and only the
	// route's NIC's addresses: strong host). The kernel takes the first
	// primary in the gateway's subnet. addressable_endpoint_state.go,
	// acquirePrimaryAddressRLocked ("Source hint takes precedent over
	// prefix matching", MatchingPrefix).
	Source4 Difference = "source4"
	// Source6: the IPv6 source is chosen by RFC 6724 rules 1, 2, 3, 6, 7
	// and 8 among the route's NIC's addresses only, rule 8 over all 128
	// bits; equals are left in sort.Slice's order (ipv6.go,
	// acquireOutgoingPrimaryAddressRLocked; "TODO(b/146021396): Implement
	// rules 4, 5"; "TODO(b/309216156): Support IPv6 hints"). The profile
	// accepts any of the best.
	Source6 Difference = "source6"
	// Broadcast4: an IPv4 destination is a broadcast when it is the
	// broadcast address of the subnet of the source gVisor chose
	// (route.go, isV4Broadcast: localAddressEndpoint.Subnet().IsBroadcast),
	// whatever the route; the kernel answers the broadcast address of any
	// of an adapter's primaries from its local table.
	Broadcast4 Difference = "broadcast4"
	// SelfBroadcast4: an IPv4 address that is its own subnet's broadcast
	// address is never answered local: FindRoute drops the local route
	// it found "if r.IsOutboundBroadcast()" (stack.go,
	// findLocalRouteFromNICRLocked) and looks in its table, where a
	// disabled NIC has none. The kernel answers local.
	SelfBroadcast4 Difference = "self-broadcast4"
	// Tentative6: an IPv6 address added while its NIC is disabled is
	// PermanentTentative (ipv6.go, addAndAcquirePermanentAddressLocked:
	// AddAndAcquireAddress(..., PermanentTentative); DAD, which makes it
	// Permanent, starts only "if e.Enabled()") until EnableNIC, and a
	// tentative address is not assigned (addressable_endpoint_state.go,
	// IsAssigned): no lookup answers local for it. The kernel gives it
	// its local route.
	Tentative6 Difference = "tentative6"
	// DownLocal6: an IPv6 address added while its NIC was enabled stays
	// Permanent when the NIC is disabled, and FindRoute's local route
	// (stack.go, findLocalRouteFromNICRLocked) does not ask whether the
	// NIC is enabled: a lookup of it answers local. The kernel removes
	// its local route on down (keep_addr_on_down keeps the address
	// only). With Tentative6, the answer for an address on a down NIC
	// depends on whether it was added before or after the down.
	DownLocal6 Difference = "down-local6"
)

// gvisorSource4 returns the IPv4 source (with its prefix) gVisor picks for dst from the
// addresses es of the route's NIC (oldest first, the order of its primary
// list when no route was held while one was deleted), given the route's
// source hint (the zero Addr for none). ok is false when es holds no IPv4
// address (gVisor then tries the next route).
func gvisorSource4(es []model.Entry, dst, hint netip.Addr) (src netip.Prefix, ok bool) {
	best := -1
	for _, e := range es {
		a := e.Prefix.Addr()
		if !a.Is4() {
			continue
		}
		if hint.IsValid() && a == hint {
			return e.Prefix, true
		}
		if n := commonBits(a, dst); n > best {
			src, best = e.Prefix, n
		}
	}
	return src, best >= 0
}

// broadcastOf reports whether dst is the broadcast address of p's
// subnet, as tcpip.Subnet.IsBroadcast says (no broadcast for /31, /32).
func broadcastOf(p netip.Prefix, dst netip.Addr) bool {
	if p.Bits() >= 31 || !p.Contains(dst) {
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

// gvisorSources6 returns the IPv6 sources gVisor may pick for dst from
// es (RFC 6724 rules 1 and 8, the others being equal for the addresses
// routefuzz draws: one scope, no deprecated or temporary addresses, and
// one label except where rule 6 is checked below).
func gvisorSources6(es []model.Entry, dst netip.Addr) []netip.Addr {
	var best []netip.Addr
	bestScore := [3]int{-1}
	for _, e := range es {
		a := e.Prefix.Addr()
		if a.Is4() {
			continue
		}
		sc := [3]int{b2i(a == dst), b2i(label6(a) == label6(dst)), commonBits(a, dst)}
		switch {
		case sc[0] > bestScore[0] || sc[0] == bestScore[0] && (sc[1] > bestScore[1] || sc[1] == bestScore[1] && sc[2] > bestScore[2]):
			best, bestScore = []netip.Addr{a}, sc
		case sc == bestScore:
			best = append(best, a)
		}
	}
	return best
}

// label6 is the label of gVisor's policy table (ipv6.go, policyTable and
// getLabel: RFC 6724's default less its deprecated entries).
func label6(a netip.Addr) int {
	for _, l := range []struct {
		p     netip.Prefix
		label int
	}{
		{netip.MustParsePrefix("::1/128"), 0},
		{netip.MustParsePrefix("::ffff:0:0/96"), 4},
		{netip.MustParsePrefix("2001::/32"), 5},
		{netip.MustParsePrefix("2002::/16"), 2},
		{netip.MustParsePrefix("fc00::/7"), 13},
	} {
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

func commonBits(a, b netip.Addr) int {
	x, y := a.AsSlice(), b.AsSlice()
	for i := range x {
		if d := x[i] ^ y[i]; d != 0 {
			n := 0
			for d&0x80 == 0 {
				d <<= 1
				n++
			}
			return 8*i + n
		}
	}
	return 8 * len(x)
}

// Documented reports which documented difference, if any, explains that
// gVisor answered got where the model (state st) answers want.
func Documented(st *model.State, want model.LookupResult, got model.Hop) Difference {
	dst := want.Dst
	if want.Accepts(got) {
		return ""
	}
	if dst.Is4() && want.Kind == model.ToLocal && got.Kind != model.ToLocal && selfBroadcast(st, dst) {
		return SelfBroadcast4
	}
	if !dst.Is4() && onlyDown(st, dst) {
		switch {
		case want.Kind == model.ToLocal && got.Kind != model.ToLocal:
			// Not local: unreachable, or by a route of the table.
			return Tentative6
		case want.Kind != model.ToLocal && got.Kind == model.ToLocal && got.Src == dst:
			return DownLocal6
		}
	}
	for _, w := range want.Hops() {
		switch {
		case w.Kind == model.ToLocal && got.Kind == model.ToLocal && got.Src == dst:
			return LocalSource
		case w.Dev != got.Dev || w.Kind == model.ToLocal || got.Kind == model.ToLocal || got.Kind == model.Unreachable:
			continue
		case dst.Is4():
			src, ok := gvisorSource4(st.On(got.Dev), dst, routeHint(st, dst, got))
			if !ok {
				continue
			}
			exp := model.Hop{Kind: model.ToUnicast, Dev: w.Dev, Via: w.Via, Src: src.Addr()}
			if broadcastOf(src, dst) {
				exp.Kind = model.ToBroadcast
			}
			switch {
			case exp != got:
			case w.Kind == got.Kind:
				return Source4
			default:
				return Broadcast4
			}
		case w.Kind != got.Kind || w.Via != got.Via:
			continue
		default:
			for _, src := range gvisorSources6(st.On(got.Dev), dst) {
				if src == got.Src {
					return Source6
				}
			}
		}
	}
	return ""
}

// routeHint returns the preferred source of the user route of st that
// answers dst by got's adapter and gateway, if it has one.
func routeHint(st *model.State, dst netip.Addr, got model.Hop) netip.Addr {
	var hint netip.Addr
	bits := -1
	for _, r := range st.UserRoutes() {
		if r.Dev == got.Dev && r.Via == got.Via && r.Dst.Contains(dst) && r.Dst.Bits() > bits {
			hint, bits = r.Src, r.Dst.Bits()
		}
	}
	return hint
}

// Profiled is a Stack whose lookups are checked against the model as the
// gVisor profile amends it: it keeps its own model of the ops applied
// and reports an answer that differs only as documented (Documented) as
// the model's. Everything else is the Stack's.
type Profiled struct {
	*Stack
	shadow *model.State
	// Seen counts the answers amended, by difference.
	Seen map[Difference]int
}

// NewProfiled returns a profiled stack in mode m.
func NewProfiled(m Mode) *Profiled { return &Profiled{Stack: New(m), Seen: map[Difference]int{}} }

var _ sut.BatchLooker = (*Profiled)(nil)

// Reset resets the stack and its model.
func (p *Profiled) Reset(cfg model.Config) error {
	st, err := model.New(cfg)
	if err != nil {
		return err
	}
	p.shadow = st
	return p.Stack.Reset(cfg)
}

// Apply applies op to the model and the stack.
func (p *Profiled) Apply(op model.Op) error {
	_ = p.shadow.Apply(op) // the model's result is the harness's to compare
	return p.Stack.Apply(op)
}

// Lookup answers as LookupAll does.
func (p *Profiled) Lookup(dst netip.Addr) (model.LookupResult, error) {
	ls, err := p.LookupAll([]netip.Addr{dst})
	if err != nil {
		return model.LookupResult{}, err
	}
	return ls[0], nil
}

// LookupAll answers as the Stack does, an answer the profile explains
// replaced by the model's.
func (p *Profiled) LookupAll(dsts []netip.Addr) ([]model.LookupResult, error) {
	ls, err := p.Stack.LookupAll(dsts)
	if err != nil {
		return nil, err
	}
	for i, l := range ls {
		want := p.shadow.Lookup(l.Dst)
		if d := Documented(p.shadow, want, l.Hop); d != "" {
			p.Seen[d]++
			ls[i] = want
		}
	}
	return ls, nil
}

// onlyDown reports whether a is on an adapter, and every adapter that
// holds it is down.
func onlyDown(st *model.State, a netip.Addr) bool {
	held := false
	for _, x := range st.Addrs() {
		if x.Prefix.Addr() == a {
			if !st.IsDown(x.Adapter) {
				return false
			}
			held = true
		}
	}
	return held
}

// SentrySubnetRouteLoss reports whether op, on the model st, is a del of
// an address whose subnet another address of its adapter shares: in mode
// Sentry it removes the subnet route the other address still needs
// (pkg/sentry/socket/netstack/stack.go, RemoveInterfaceAddr removes "the
// corresponding local network route if it exists", whoever else holds
// it). A bug: KB287032's symptom in gVisor's own netlink layer.
func SentrySubnetRouteLoss(st *model.State, op model.Op) bool {
	if op.Kind != model.Del || !st.Has(op.Adapter, op.Prefix) {
		return false
	}
	for _, e := range st.On(op.Adapter) {
		if e.Prefix != op.Prefix && e.Prefix.Masked() == op.Prefix.Masked() {
			return true
		}
	}
	return false
}

// OtherLength reports whether op, on the model st, adds or deletes an
// address that its adapter holds at another length. gVisor keys a NIC's
// addresses by address alone (addressable_endpoint_state.go,
// addAndAcquireAddressLocked: a.endpoints[addr.Address], answering
// ErrDuplicateAddress), and RemoveAddress takes no length: one IPv4
// address has one length on a NIC, as IPv6 has on the kernel, and del
// at another length removes it.
func OtherLength(st *model.State, op model.Op) bool {
	if op.Kind != model.Add && op.Kind != model.Del {
		return false
	}
	for _, e := range st.On(op.Adapter) {
		if e.Prefix.Addr() == op.Prefix.Addr() && e.Prefix != op.Prefix {
			return true
		}
	}
	return false
}

// selfBroadcast reports whether an address a is held by the model is
// its own subnet's broadcast address.
func selfBroadcast(st *model.State, a netip.Addr) bool {
	for _, x := range st.Addrs() {
		if x.Prefix.Addr() == a && broadcastOf(x.Prefix, a) {
			return true
		}
	}
	return false
}
