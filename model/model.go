package model

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// IPv6PrefixMetric is the metric of an IPv6 prefix route whose address has
// no metric of its own (the kernel's IP6_RT_PRIO_ADDRCONF).
const IPv6PrefixMetric = 256

// Config is what a stack starts from: its adapters, with no addresses, and
// its IPv4 secondary-promotion setting.
type Config struct {
	// Adapters names the adapters, in order. Names are unique and follow
	// the op grammar (1 to 15 characters from [A-Za-z0-9_.-]).
	Adapters []string
	// Promote is net.ipv4.conf.all.promote_secondaries. When false (the
	// kernel's default), deleting an IPv4 primary also deletes its
	// secondaries; when true, the oldest secondary becomes primary.
	Promote bool
	// KeepAddrOnDown is net.ipv6.conf.all.keep_addr_on_down. When false
	// (the kernel's default), taking an adapter down deletes its IPv6
	// addresses; when true, it keeps its permanent ones (those without
	// lifetimes).
	KeepAddrOnDown bool
}

// Validate reports whether c can configure a stack.
func (c Config) Validate() error {
	for i, a := range c.Adapters {
		if err := checkAdapterName(a); err != nil {
			return err
		}
		if slices.Contains(c.Adapters[:i], a) {
			return fmt.Errorf("adapter %q is named twice", a)
		}
	}
	return nil
}

// String returns e.g. "adapters=a0,a1,a2 promote=off".
func (c Config) String() string {
	p := "off"
	if c.Promote {
		p = "on"
	}
	k := ""
	if c.KeepAddrOnDown {
		k = " keep_addr_on_down=on"
	}
	return "adapters=" + strings.Join(c.Adapters, ",") + " promote=" + p + k
}

// State is the reference model: the addresses on each adapter, in the
// order the kernel keeps them. Its route table is computed from those
// addresses alone, never kept incrementally, so it is a specification
// rather than an implementation.
//
// An adapter is up (administratively) and has carrier unless down and
// nocarrier say otherwise.
//
// The zero State has no adapters; use New.
type State struct {
	cfg       Config
	addrs     map[string][]entry // adapter → addresses, oldest first
	down      map[string]bool    // adapters that are administratively down
	nocarrier map[string]bool    // adapters without carrier
	absent    map[string]bool    // adapters that are unplugged
	order     []string           // plugged-in adapters in the order they were made
	user      []userRoute        // routes route add made, oldest first
	seq       uint64             // the last entry.since given
	held      []netip.Addr       // the sources of the routes hold ops took
	routes    Table              // Routes' result, nil until computed after a change
	sorted    []Addr             // Addrs' result, nil until computed after a change
	looks     []LookupResult     // the lookups of every probe, nil until computed after a change
}

type entry struct {
	p        netip.Prefix
	metric   uint32
	noprefix bool // noprefixroute
	dynamic  bool // has lifetimes: not permanent
	// hidden: an IPv6 address kept over down (keep_addr_on_down) has no
	// local route until up; one added while down has its local route.
	hidden bool
	// since orders IPv4 primaries as the kernel lists them: by when
	// each was added or promoted.
	since uint64
}

// New returns the model of a stack configured by cfg, with no addresses.
func New(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &State{cfg: cfg, addrs: make(map[string][]entry, len(cfg.Adapters)), down: map[string]bool{}, nocarrier: map[string]bool{}, absent: map[string]bool{}}
	s.cfg.Adapters = slices.Clone(cfg.Adapters)
	s.order = slices.Clone(cfg.Adapters)
	for _, a := range cfg.Adapters {
		s.addrs[a] = nil
	}
	return s, nil
}

// Config returns the configuration s was made with.
func (s *State) Config() Config { return s.cfg }

// Clone returns an independent copy of s.
func (s *State) Clone() *State {
	c := &State{cfg: s.cfg, addrs: make(map[string][]entry, len(s.addrs)), down: maps.Clone(s.down), nocarrier: maps.Clone(s.nocarrier), absent: maps.Clone(s.absent),
		order: slices.Clone(s.order), user: slices.Clone(s.user), seq: s.seq, held: slices.Clone(s.held)}
	for a, es := range s.addrs {
		c.addrs[a] = slices.Clone(es)
	}
	return c
}

// Len returns the number of addresses on all adapters.
func (s *State) Len() int {
	n := 0
	for _, es := range s.addrs {
		n += len(es)
	}
	return n
}

// Entry is one address on an adapter with its attributes: its metric
// (zero: none), whether it has noprefixroute, and whether it has
// lifetimes (Dynamic: it is not permanent).
type Entry struct {
	Prefix        netip.Prefix
	Metric        uint32
	NoPrefixRoute bool
	Dynamic       bool
}

// On returns the addresses on adapter, oldest first, with their
// attributes: the order that decides which IPv4 address of a group is
// primary and which secondary is promoted. The slice is a copy.
func (s *State) On(adapter string) []Entry {
	es := s.addrs[adapter]
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{e.p, e.metric, e.noprefix, e.dynamic}
	}
	return out
}

// HeldSources returns every address that was on an adapter when a hold
// op took a route, since New, each once: the addresses a held route may
// use as its source, whichever the stack chose, and so may still refer to
// after they are deleted (gVisor keeps them alive). The slice is shared:
// do not modify it.
func (s *State) HeldSources() []netip.Addr { return s.held }

// IsDown reports whether adapter is administratively down.
func (s *State) IsDown(adapter string) bool { return s.down[adapter] }

// HasCarrier reports whether adapter has carrier.
func (s *State) HasCarrier(adapter string) bool { return !s.nocarrier[adapter] }

// IsUnplugged reports whether adapter is unplugged.
func (s *State) IsUnplugged(adapter string) bool { return s.absent[adapter] }

// Has reports whether the exact prefix (address and length) is on adapter.
func (s *State) Has(adapter string, p netip.Prefix) bool {
	return slices.ContainsFunc(s.addrs[adapter], func(e entry) bool { return e.p == p })
}

// Check returns the error op would give, without applying it: nil, or an
// *OpError wrapping ErrExists, ErrNotFound or ErrInvalid.
func (s *State) Check(op Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	if !op.Kind.Spec().TakesAdapter() {
		return nil // hold: any address, held or not, is ok
	}
	es, ok := s.addrs[op.Adapter]
	if !ok {
		return opErr(op, Invalid, "unknown adapter %q (have %s)", op.Adapter, strings.Join(s.cfg.Adapters, ", "))
	}
	p := op.Prefix
	if s.absent[op.Adapter] && op.Kind != Plug && !(op.Kind == Add && p.Addr() == unspecified4) {
		// The kernel answers ENODEV, as for a name it never had; but
		// it accepts adding 0.0.0.0, which it ignores, before it looks
		// for the device (seen on Linux 6.18).
		return opErr(op, Invalid, "%s is unplugged", op.Adapter)
	}
	switch op.Kind {
	case Add:
		// IPv4: the same address at another length is another primary.
		// IPv6: one address is on an adapter at one length only.
		if slices.ContainsFunc(es, func(e entry) bool {
			return e.p == p || !p.Addr().Is4() && e.p.Addr() == p.Addr()
		}) {
			return opErr(op, Exists, "%s is already on %s", p.Addr(), op.Adapter)
		}
	case Del, Change:
		// Change, like del, is of the exact address and length. (The
		// kernel creates an address that is missing, and changes an
		// IPv6 address given at another length; a stack must not.)
		if !slices.ContainsFunc(es, func(e entry) bool { return e.p == p }) {
			return opErr(op, NotFound, "%s is not on %s", p, op.Adapter)
		}
	case Down, Up, Carrier:
		// Idempotent: down of a down adapter, up of an up one, carrier
		// on with carrier, succeed.
	case Unplug:
	case Plug:
		if !s.absent[op.Adapter] {
			// The kernel answers EEXIST: the device's name is taken.
			return opErr(op, Exists, "%s is plugged in", op.Adapter)
		}
	case RouteAdd, RouteDel:
		return s.checkRoute(op)
	case Hold:
	default:
		return opErr(op, Invalid, "the model has no semantics for %s", op.Kind)
	}
	return nil
}

// Apply performs op and returns its result: nil, or an *OpError wrapping
// ErrExists, ErrNotFound or ErrInvalid. A failed op changes nothing.
func (s *State) Apply(op Op) error {
	if err := s.Check(op); err != nil {
		return err
	}
	if op.Kind == Hold {
		// Nothing a correct stack shows changes; the addresses the
		// held route may use as its source are remembered
		// (HeldSources).
		for _, es := range s.addrs {
			for _, e := range es {
				if a := e.p.Addr(); !slices.Contains(s.held, a) {
					s.held = append(s.held, a)
				}
			}
		}
		return nil
	}
	// Whether a route add's IPv4 gateway is the adapter's own address,
	// from the table Check read, before the op changes it.
	self := op.Kind == RouteAdd && op.Via.Is4() && s.onLink(op.Adapter, op.Via) == linkSelf
	s.routes, s.sorted, s.looks = nil, nil, nil
	es := s.addrs[op.Adapter]
	switch op.Kind {
	case Add:
		if op.Prefix.Addr() == unspecified4 {
			// The kernel accepts 0.0.0.0 and keeps nothing
			// (__inet_insert_ifa: "if (!ifa->ifa_local) return 0").
			return nil
		}
		s.seq++
		s.addrs[op.Adapter] = append(es, entry{p: op.Prefix, metric: op.Metric, noprefix: op.NoPrefixRoute, dynamic: op.ValidLft != 0, since: s.seq})
	case Del:
		s.del(op.Adapter, op.Prefix)
	case Change:
		i := slices.IndexFunc(es, func(e entry) bool { return e.p == op.Prefix })
		out := slices.Clone(es)
		e := &out[i]
		// The metric is replaced, an absent one meaning none, except
		// that IPv6 keeps the old metric when the change gives none
		// (inet6_addr_modify: "if (cfg->rt_priority && ...)"; IPv4's
		// inet_rtm_newaddr sets it whatever it is).
		if op.Metric != 0 || e.p.Addr().Is4() {
			e.metric = op.Metric
		}
		// Flags and lifetimes are replaced, as ip-address(8) says:
		// "changing an address to add this flag will remove the
		// automatically added prefix route, changing it to remove this
		// flag will create the prefix route automatically".
		e.noprefix = op.NoPrefixRoute
		e.dynamic = op.ValidLft != 0
		s.addrs[op.Adapter] = out
	case Carrier:
		if op.On {
			delete(s.nocarrier, op.Adapter)
		} else {
			s.nocarrier[op.Adapter] = true
		}
	case Down:
		if s.down[op.Adapter] {
			return nil
		}
		s.down[op.Adapter] = true
		// IPv4 addresses stay (with their local routes). IPv6 addresses
		// go, unless keep_addr_on_down keeps the permanent ones, which
		// lose their local routes until up (addrconf_ifdown).
		out := es[:0:0]
		var gone []netip.Addr
		for _, e := range es {
			if !e.p.Addr().Is4() {
				if !s.cfg.KeepAddrOnDown || e.dynamic {
					gone = append(gone, e.p.Addr())
					continue
				}
				e.hidden = true
			}
			out = append(out, e)
		}
		s.addrs[op.Adapter] = out
		// Every user's route by it goes, and does not come back at up.
		s.dropVia(op.Adapter, true, true)
		s.forget(gone)
	case Up:
		if !s.down[op.Adapter] {
			return nil
		}
		delete(s.down, op.Adapter)
		out := slices.Clone(es)
		for i := range out {
			out[i].hidden = false
		}
		s.addrs[op.Adapter] = out
	case Unplug:
		// Every address and route goes, whatever keep_addr_on_down
		// says (the device is unregistered), and so do the user routes
		// whose source was one of its addresses (forget).
		s.addrs[op.Adapter] = nil
		delete(s.down, op.Adapter)
		delete(s.nocarrier, op.Adapter)
		s.absent[op.Adapter] = true
		s.order = slices.DeleteFunc(s.order, func(a string) bool { return a == op.Adapter })
		s.dropVia(op.Adapter, true, true)
		s.forget(addrsOf(es, func(entry) bool { return true }))
	case Plug:
		// Back up, with carrier and no addresses; made last.
		delete(s.absent, op.Adapter)
		s.order = append(s.order, op.Adapter)
	case RouteAdd, RouteDel:
		s.applyRoute(op, self)
	}
	return nil
}

// del deletes address p from adapter dev, with what goes with it: its
// secondaries when it is an IPv4 primary and promotion is off (else the
// oldest secondary is promoted), every IPv4 user's route by dev when it
// was dev's last IPv4 address (fib_disable_ip), and the user routes
// whose source it was (forget).
func (s *State) del(dev string, p netip.Prefix) {
	es := s.addrs[dev]
	i := slices.IndexFunc(es, func(e entry) bool { return e.p == p })
	key := p.Masked()
	v4 := p.Addr().Is4()
	var gone []netip.Addr
	switch {
	case v4 && isPrimary(es, i) && !s.cfg.Promote:
		gone = addrsOf(es, func(e entry) bool { return e.p.Masked() == key })
		es = slices.DeleteFunc(slices.Clone(es), func(e entry) bool { return e.p.Masked() == key })
	case v4 && isPrimary(es, i):
		gone = []netip.Addr{p.Addr()}
		es = slices.Delete(slices.Clone(es), i, i+1)
		if j := slices.IndexFunc(es, func(e entry) bool { return e.p.Masked() == key }); j >= 0 {
			s.seq++
			es[j].since = s.seq // promoted: listed after the other primaries
		}
	default:
		gone = []netip.Addr{p.Addr()}
		es = slices.Delete(slices.Clone(es), i, i+1)
	}
	s.addrs[dev] = es
	if v4 && !slices.ContainsFunc(es, func(e entry) bool { return e.p.Addr().Is4() }) {
		s.dropVia(dev, true, false)
	}
	s.forget(gone)
}

// addrsOf returns the addresses of the entries keep accepts.
func addrsOf(es []entry, keep func(entry) bool) []netip.Addr {
	var out []netip.Addr
	for _, e := range es {
		if keep(e) {
			out = append(out, e.p.Addr())
		}
	}
	return out
}

var unspecified4 = netip.IPv4Unspecified()

// isPrimary reports whether es[i] is the oldest IPv4 address of its group.
func isPrimary(es []entry, i int) bool {
	key := es[i].p.Masked()
	return !slices.ContainsFunc(es[:i], func(e entry) bool { return e.p.Masked() == key })
}

// Addrs returns every address on every adapter, sorted by Addr.Compare.
// The list is computed once per change; callers must not modify it.
func (s *State) Addrs() []Addr {
	if s.sorted == nil {
		s.sorted = s.computeAddrs()
	}
	return s.sorted
}

func (s *State) computeAddrs() []Addr {
	out := make([]Addr, 0, s.Len())
	for a, es := range s.addrs {
		for _, e := range es {
			out = append(out, Addr{Adapter: a, Prefix: e.p})
		}
	}
	slices.SortFunc(out, Addr.Compare)
	return out
}

// Routes returns the route table a correct stack shows for the current
// addresses. The table is computed once per change; callers must not
// modify it.
//
// IPv4: on one adapter, addresses with the same masked prefix and length
// form a group whose oldest address is the primary. Each group has one
// connected route (src the primary, metric the primary's) unless it is a
// /32, its masked prefix is 0.0.0.0 or its primary has noprefixroute;
// groups shorter than /31 whose masked prefix is not 0.0.0.0 also have a
// broadcast route. Adding 0.0.0.0 itself succeeds and keeps nothing. Every
// address has a local route whose src is its group's primary.
//
// IPv6: each address has a local route (metric 0, no src); each distinct
// (masked prefix, metric) among an adapter's addresses without
// noprefixroute has a connected route, the metric being the address's or
// IPv6PrefixMetric when it has none. Lifetimes change no route (the
// kernel's expiry of a prefix route is not compared).
//
// An adapter that is administratively down has only local routes: its
// IPv4 addresses' (src as above), and those of its IPv6 addresses added
// while it was down (a kept address gets its local route back at up).
// Up recomputes everything from the addresses as they are then. On an
// adapter that is up without carrier, every route but the local ones is
// marked Linkdown.
func (s *State) Routes() Table {
	if s.routes == nil {
		s.routes = s.computeRoutes()
	}
	return s.routes
}

func (s *State) computeRoutes() Table {
	routes := make([]Route, 0, 3*s.Len())
	prims := make(map[netip.Prefix]entry)
	for _, dev := range s.cfg.Adapters {
		clear(prims)
		down, linkdown := s.down[dev], s.nocarrier[dev]
		for _, e := range s.addrs[dev] {
			a, key := e.p.Addr(), e.p.Masked()
			if !a.Is4() {
				if !e.hidden {
					routes = append(routes, Route{Kind: Local, Dst: netip.PrefixFrom(a, 128), Dev: dev})
				}
				if down || e.noprefix {
					continue
				}
				m := e.metric
				if m == 0 {
					m = IPv6PrefixMetric
				}
				routes = append(routes, Route{Kind: Connected, Dst: key, Dev: dev, Metric: m, Linkdown: linkdown})
				continue
			}
			prim, ok := prims[key]
			if !ok {
				prim = e
				prims[key] = e
			}
			src := prim.p.Addr()
			routes = append(routes, Route{Kind: Local, Dst: netip.PrefixFrom(a, 32), Dev: dev, Src: src})
			if down || prim != e || key.Addr() == unspecified4 {
				// Secondaries add no subnet routes, nor do groups whose
				// masked prefix is 0.0.0.0 (ipv4_is_zeronet(prefix) in
				// fib_add_ifaddr; since Linux 5.3 it is only 0.0.0.0 itself).
				continue
			}
			if key.Bits() < 32 && !prim.noprefix {
				routes = append(routes, Route{Kind: Connected, Dst: key, Dev: dev, Src: src, Metric: prim.metric, Linkdown: linkdown})
			}
			if key.Bits() < 31 {
				routes = append(routes, Route{Kind: Broadcast, Dst: netip.PrefixFrom(broadcast(key), 32), Dev: dev, Src: src, Linkdown: linkdown})
			}
		}
	}
	for _, ur := range s.user {
		routes = append(routes, s.route(ur))
	}
	return NewTable(routes)
}

// broadcast returns the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	for i := 3; i >= 0; i-- {
		b[i] |= byte(host >> (8 * (3 - i)))
	}
	return netip.AddrFrom4(b)
}
