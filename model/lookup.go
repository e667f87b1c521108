package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// LookupKind is the type of a route lookup's answer (rtm_type of an
// RTM_GETROUTE reply, or no route at all).
type LookupKind uint8

const (
	// ToUnicast: the packet leaves by an adapter (RTN_UNICAST).
	ToUnicast LookupKind = iota + 1
	// ToLocal: the destination is one of the host's addresses
	// (RTN_LOCAL; the kernel names the device "lo", the model none).
	ToLocal
	// ToBroadcast: the destination is a subnet's broadcast address
	// (RTN_BROADCAST, IPv4 only).
	ToBroadcast
	// Unreachable: no route (the kernel's ENETUNREACH).
	Unreachable
)

// String returns "unicast", "local", "broadcast" or "unreachable".
func (k LookupKind) String() string {
	switch k {
	case ToUnicast:
		return "unicast"
	case ToLocal:
		return "local"
	case ToBroadcast:
		return "broadcast"
	case Unreachable:
		return "unreachable"
	}
	return fmt.Sprintf("LookupKind(%d)", int(k))
}

// A Hop is where a lookup sends a packet: the kind of answer, the adapter
// it leaves by (none for local and unreachable), the gateway (Via, the
// zero Addr for a destination on link) and the source address a socket
// would use (none when no adapter has an address of the family).
type Hop struct {
	Kind LookupKind
	Dev  string
	Via  netip.Addr
	Src  netip.Addr
}

// String returns the hop as a lookup line writes it after the destination:
// "dev a0 src 10.0.0.1", "local src 10.0.0.1", "broadcast dev a0 src
// 10.0.0.255", "via 10.0.0.9 dev a0 src 10.0.0.1", "unreachable".
func (h Hop) String() string {
	var f []string
	if h.Kind != ToUnicast {
		f = append(f, h.Kind.String())
	}
	if h.Via.IsValid() {
		f = append(f, "via", h.Via.String())
	}
	if h.Dev != "" {
		f = append(f, "dev", h.Dev)
	}
	if h.Src.IsValid() {
		f = append(f, "src", h.Src.String())
	}
	return strings.Join(f, " ")
}

func (h Hop) compare(o Hop) int {
	if h.Kind != o.Kind {
		return int(h.Kind) - int(o.Kind)
	}
	if c := strings.Compare(h.Dev, o.Dev); c != 0 {
		return c
	}
	if c := h.Via.Compare(o.Via); c != 0 {
		return c
	}
	return h.Src.Compare(o.Src)
}

// LookupResult is the answer to a route lookup of Dst: Hop, or, when the
// model cannot tell which of several answers the kernel gives, any of Hop
// and Or. A stack answers with one Hop and no Or.
//
// The model gives alternatives where the kernel breaks a tie by something
// the model does not keep: which of two routes of the same destination
// and metric was inserted first (the same subnet on two adapters; an
// address that is also its subnet's broadcast address), and which of
// IPv6 source candidates equal on every rule of RFC 6724 comes first in
// the kernel's lists (adapter creation order, newest address first).
type LookupResult struct {
	Dst netip.Addr
	Hop
	Or []Hop // sorted, without Hop; nil for a single answer
}

// Hops returns every acceptable answer: Hop, then Or.
func (l LookupResult) Hops() []Hop { return append([]Hop{l.Hop}, l.Or...) }

// Accepts reports whether h is one of l's answers.
func (l LookupResult) Accepts(h Hop) bool { return l.Hop == h || slices.Contains(l.Or, h) }

// Agrees reports whether two answers to the same lookup agree: a single
// answer must be one of the other side's; two sets of alternatives must be
// the same.
func (l LookupResult) Agrees(o LookupResult) bool {
	switch {
	case l.Dst != o.Dst:
		return false
	case len(o.Or) == 0:
		return l.Accepts(o.Hop)
	case len(l.Or) == 0:
		return o.Accepts(l.Hop)
	}
	return l.Hop == o.Hop && slices.Equal(l.Or, o.Or)
}

// NewLookupResult returns the answer for dst that accepts any of hops
// (at least one), in canonical order: repetitions dropped, the first in
// Hop order as Hop.
func NewLookupResult(dst netip.Addr, hops ...Hop) LookupResult {
	hs := slices.Clone(hops)
	slices.SortFunc(hs, Hop.compare)
	hs = slices.Compact(hs)
	l := LookupResult{Dst: dst, Hop: hs[0]}
	if len(hs) > 1 {
		l.Or = hs[1:]
	}
	return l
}

// String returns the lookup as one line: the destination, then each
// acceptable answer, joined by "or":
//
//	10.0.0.2 dev a0 src 10.0.0.1
//	10.0.0.1 local src 10.0.0.1
//	10.0.0.255 broadcast dev a0 src 10.0.0.1
//	2001:db8::9 dev a0 src 2001:db8::1 or dev a0 src 2001:db8::2
//	192.0.2.1 unreachable
func (l LookupResult) String() string {
	var b strings.Builder
	b.WriteString(l.Dst.String())
	for i, h := range l.Hops() {
		if i > 0 {
			b.WriteString(" or")
		}
		b.WriteByte(' ')
		b.WriteString(h.String())
	}
	return b.String()
}

// ParseLookup parses one line in the form LookupResult.String prints. An
// answer without "or" parses to a result with no Or.
func ParseLookup(s string) (LookupResult, error) {
	f := strings.Fields(s)
	bad := func(msg string, args ...any) (LookupResult, error) {
		return LookupResult{}, &SyntaxError{Input: s, Msg: fmt.Sprintf(msg, args...)}
	}
	const usage = "want DST [local|broadcast|unreachable] [via GATEWAY] [dev ADAPTER] [src ADDRESS] [or ...]"
	if len(f) < 2 {
		return bad(usage)
	}
	dst, err := parseAddr(f[0])
	if err != nil {
		return bad("bad destination %q", f[0])
	}
	var hops []Hop
	for rest := f[1:]; ; {
		i := slices.Index(rest, "or")
		part := rest
		if i >= 0 {
			part = rest[:i]
		}
		h, err := parseHop(part, dst)
		if err != nil {
			return bad("%s (%s)", err, usage)
		}
		hops = append(hops, h)
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	l := LookupResult{Dst: dst, Hop: hops[0]}
	if len(hops) > 1 {
		l = NewLookupResult(dst, hops...)
		if len(l.Or) != len(hops)-1 {
			return bad("an answer is repeated")
		}
	}
	return l, nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	return a, nil
}

func parseHop(f []string, dst netip.Addr) (Hop, error) {
	h := Hop{Kind: ToUnicast}
	if len(f) > 0 {
		for _, k := range []LookupKind{ToLocal, ToBroadcast, Unreachable} {
			if f[0] == k.String() {
				h.Kind = k
				f = f[1:]
				break
			}
		}
	}
	if h.Kind == Unreachable {
		if len(f) > 0 {
			return h, fmt.Errorf("unexpected %q after unreachable", f[0])
		}
		return h, nil
	}
	seen := map[string]bool{}
	for ; len(f) > 0; f = f[2:] {
		key := f[0]
		if len(f) < 2 {
			return h, fmt.Errorf("%q needs a value", key)
		}
		if seen[key] {
			return h, fmt.Errorf("%q given twice", key)
		}
		seen[key] = true
		switch key {
		case "via", "src":
			a, err := parseAddr(f[1])
			if err != nil {
				return h, err
			}
			if a.Is4() != dst.Is4() {
				return h, fmt.Errorf("%s %s is not of the destination's family", key, a)
			}
			if key == "via" {
				h.Via = a
			} else {
				h.Src = a
			}
		case "dev":
			if err := checkAdapterName(f[1]); err != nil {
				return h, err
			}
			h.Dev = f[1]
		default:
			return h, fmt.Errorf("unexpected %q", key)
		}
	}
	if h.Kind != ToLocal && h.Dev == "" {
		return h, fmt.Errorf("a %s answer needs dev", h.Kind)
	}
	if h.Kind == ToLocal && (h.Dev != "" || h.Via.IsValid()) {
		return h, fmt.Errorf("a local answer has no dev or via")
	}
	return h, nil
}

// MustParseLookup is like ParseLookup but panics on error.
func MustParseLookup(s string) LookupResult {
	l, err := ParseLookup(s)
	if err != nil {
		panic(err)
	}
	return l
}

// EqualLookups reports whether two lists of lookups, of the same probes in
// the same order, agree probe by probe (LookupResult.Agrees).
func EqualLookups(a, b []LookupResult) bool {
	return slices.EqualFunc(a, b, LookupResult.Agrees)
}

// Outside4 and Outside6 are probed in every state: addresses outside
// everything the generator draws (documentation ranges), so that a stack
// that answers for a destination it has no route to is seen.
var (
	Outside4 = netip.MustParseAddr("192.0.2.1")
	Outside6 = netip.MustParseAddr("2001:db8:ffff:ffff::1")
)

// Probable reports whether a lookup of a is compared: a unicast
// destination that needs no output interface. Left out: IPv4 0.0.0.0/8
// (the kernel answers 0.0.0.0 itself as local, by lo), loopback,
// link-local, multicast, 240.0.0.0/4 and the limited broadcast; IPv6 ::,
// ::1, link-local (the kernel needs an oif), multicast and IPv4-mapped
// addresses.
func Probable(a netip.Addr) bool {
	if !a.IsGlobalUnicast() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		return b[0] != 0 && b[0] < 240
	}
	return !a.Is4In6()
}

// Probes returns the destinations whose lookups are compared after every
// step, derived from the state alone, sorted and each once: every
// address on every adapter (kept ones included), a neighbour in each of
// their subnets (the first address after the network's that no adapter
// holds), the first address of every route's destination (the network
// address; an IPv4 subnet's broadcast address), every user route's
// gateway and a neighbour in its destination, Outside4 and Outside6
// (which only default routes reach).
// Only Probable addresses are probed.
func (s *State) Probes() []netip.Addr {
	held := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, dev := range s.cfg.Adapters {
		for _, e := range s.addrs[dev] {
			held[e.p.Addr()] = true
			out = append(out, e.p.Addr())
		}
	}
	for _, dev := range s.cfg.Adapters {
		for _, e := range s.addrs[dev] {
			if n, ok := neighbour(e.p, held); ok {
				out = append(out, n)
			}
		}
	}
	for _, r := range s.Routes() {
		out = append(out, r.Dst.Addr())
	}
	for _, ur := range s.user {
		if ur.via.IsValid() {
			out = append(out, ur.via)
		}
		if n, ok := neighbour(ur.dst, held); ok && ur.dst.Bits() > 0 {
			out = append(out, n)
		}
	}
	out = append(out, Outside4, Outside6)
	out = slices.DeleteFunc(out, func(a netip.Addr) bool { return !Probable(a) })
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// neighbour returns the first address of p's subnet after its network
// address that is not held, trying a few; none for a host prefix.
func neighbour(p netip.Prefix, held map[netip.Addr]bool) (netip.Addr, bool) {
	if p.Bits() == p.Addr().BitLen() {
		return netip.Addr{}, false
	}
	a := p.Masked().Addr()
	for range 4 {
		a = a.Next()
		if !a.IsValid() || !p.Contains(a) {
			break
		}
		if !held[a] && (!a.Is4() || p.Bits() >= 31 || a != broadcast(p)) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// Lookups returns the lookup of every probe (Probes) of the families
// given, in the order of Probes. The lookups are computed once per
// change; callers must not modify them.
func (s *State) Lookups(ipv4, ipv6 bool) []LookupResult {
	if s.looks == nil {
		probes := s.Probes()
		s.looks = make([]LookupResult, len(probes))
		for i, p := range probes {
			s.looks[i] = s.Lookup(p)
		}
	}
	if ipv4 && ipv6 {
		return s.looks
	}
	var out []LookupResult
	for _, l := range s.looks {
		if l.Dst.Is4() && ipv4 || !l.Dst.Is4() && ipv6 {
			out = append(out, l)
		}
	}
	return out
}

// Lookup returns what a correct stack answers to a route lookup of dst
// with no output interface and no source given, as `ip route get DST`
// (RTM_GETROUTE), from the routes of Routes. Verified against Linux 6.18
// (docs/routes-semantics.md §4, docs/lookups.md):
//
//   - The routes of the local table (local, broadcast) are looked up
//     first, then the main table's. The best route is the longest prefix
//     containing dst, then the lowest metric: linkdown routes count; a
//     down adapter's connected and broadcast routes are gone, so only
//     its IPv4 addresses' local routes answer for it.
//   - A local route answers local (the kernel says "dev lo"; the model
//     names no adapter), with the route's src for IPv4 (its group's
//     primary) and dst itself for IPv6; a broadcast route answers
//     broadcast by its adapter with its src; a main-table route answers
//     unicast by its adapter, through its gateway, with its src if it
//     has one; else IPv4 takes the first primary of the route's adapter
//     in the gateway's subnet, or its first primary, or the first of
//     another adapter (State.source4 says which). An IPv4 gateway that
//     was a local address of the route's adapter when the route was
//     added is not used: the answer is on link (userRoute.self).
//   - IPv6 source: RFC 6724 as the kernel implements it
//     (ipv6_get_saddr_eval) over the addresses of every adapter, kept
//     ones of a down adapter included: rule 1 (the destination itself),
//     2 (scope), 5 (the outgoing adapter), 6 (label, the kernel's default
//     policy table), 8 (longest common prefix, at most the candidate's
//     prefix length). Rules 3, 4, 7 and 9 never decide here (no
//     deprecated, home, temporary or optimistic addresses). Candidates
//     equal on every rule are all accepted (LookupResult.Or).
//   - Routes tied on prefix and metric are all accepted (Or).
//   - No route: Unreachable.
func (s *State) Lookup(dst netip.Addr) LookupResult {
	var ties []Route
	bits, metric := -1, uint32(0)
	local := false
	for _, r := range s.Routes() {
		if r.Dst.Addr().Is4() != dst.Is4() || !r.Dst.Contains(dst) {
			continue
		}
		l := r.Kind == Local || r.Kind == Broadcast
		switch {
		case local && !l:
			continue
		case l && !local, r.Dst.Bits() > bits, r.Dst.Bits() == bits && r.Metric < metric:
			ties = ties[:0]
		case r.Dst.Bits() < bits, r.Metric > metric:
			continue
		}
		local = local || l
		bits, metric = r.Dst.Bits(), r.Metric
		ties = append(ties, r)
	}
	if len(ties) == 0 {
		return LookupResult{Dst: dst, Hop: Hop{Kind: Unreachable}}
	}
	var hops []Hop
	for _, r := range ties {
		switch {
		case r.Kind == Local:
			src := r.Src
			if !dst.Is4() {
				src = dst
			}
			hops = append(hops, Hop{Kind: ToLocal, Src: src})
		case r.Kind == Broadcast:
			hops = append(hops, Hop{Kind: ToBroadcast, Dev: r.Dev, Src: r.Src})
		case r.Src.IsValid():
			hops = append(hops, Hop{Kind: ToUnicast, Dev: r.Dev, Via: s.gateway(r), Src: r.Src})
		case dst.Is4():
			hops = append(hops, Hop{Kind: ToUnicast, Dev: r.Dev, Via: s.gateway(r), Src: s.source4(r.Dev, r.Via)})
		default:
			srcs := s.source6(dst, r.Dev)
			if len(srcs) == 0 {
				hops = append(hops, Hop{Kind: ToUnicast, Dev: r.Dev, Via: r.Via})
			}
			for _, src := range srcs {
				hops = append(hops, Hop{Kind: ToUnicast, Dev: r.Dev, Via: r.Via, Src: src})
			}
		}
	}
	return NewLookupResult(dst, hops...)
}

// source6 returns the IPv6 source addresses the kernel may choose for dst
// leaving by dev: those that score best on RFC 6724's rules, as
// ipv6_get_saddr_eval ranks them. None when no adapter has an address.
func (s *State) source6(dst netip.Addr, dev string) []netip.Addr {
	var best []netip.Addr
	var bestScore [5]int
	for _, a := range s.cfg.Adapters {
		for _, e := range s.addrs[a] {
			c := e.p.Addr()
			if c.Is4() {
				continue
			}
			sc := [5]int{
				b2i(c == dst),                            // rule 1: same address
				scoreScope(c, dst),                       // rule 2: appropriate scope
				b2i(a == dev),                            // rule 5: outgoing interface
				b2i(label6(c) == label6(dst)),            // rule 6: matching label
				min(CommonPrefixLen(c, dst), e.p.Bits()), // rule 8: longest match
			}
			switch c := compareScores(sc, bestScore); {
			case best == nil || c > 0:
				best, bestScore = []netip.Addr{e.p.Addr()}, sc
			case c == 0:
				best = append(best, e.p.Addr())
			}
		}
	}
	return best
}

func compareScores(a, b [5]int) int {
	for i := range a {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scope6 returns an IPv6 address's scope as the kernel numbers it
// (__ipv6_addr_src_scope): loopback 1, link-local 2, site-local 5, global
// 14 (unique local addresses included).
func scope6(a netip.Addr) int {
	switch {
	case a.IsLoopback():
		return 1
	case a.IsLinkLocalUnicast():
		return 2
	case netip.MustParsePrefix("fec0::/10").Contains(a):
		return 5
	}
	return 14
}

// scoreScope is rule 2 as ipv6_get_saddr_eval scores it: a candidate of
// the destination's scope or wider is better than a narrower one; among
// the wide enough ones the narrowest wins, among the narrower ones the
// widest.
func scoreScope(c, dst netip.Addr) int {
	sc := scope6(c)
	if sc >= scope6(dst) {
		return -sc
	}
	return sc - 128
}

// labels6 is the kernel's default address label table
// (net/ipv6/addrlabel.c, ip6addrlbl_init_table), longest prefix first.
var labels6 = []struct {
	p     netip.Prefix
	label int
}{
	{netip.MustParsePrefix("::1/128"), 0},
	{netip.MustParsePrefix("::ffff:0:0/96"), 4},
	{netip.MustParsePrefix("::/96"), 3},
	{netip.MustParsePrefix("2001::/32"), 6},
	{netip.MustParsePrefix("2001:10::/28"), 7},
	{netip.MustParsePrefix("2002::/16"), 2},
	{netip.MustParsePrefix("3ffe::/16"), 12},
	{netip.MustParsePrefix("fec0::/10"), 11},
	{netip.MustParsePrefix("fc00::/7"), 5},
	{netip.MustParsePrefix("::/0"), 1},
}

func label6(a netip.Addr) int {
	for _, l := range labels6 {
		if l.p.Contains(a) {
			return l.label
		}
	}
	return 1
}

// CommonPrefixLen returns how many leading bits two addresses of one
// family share: RFC 6724's CommonPrefixLen (rule 8).
func CommonPrefixLen(a, b netip.Addr) int {
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
