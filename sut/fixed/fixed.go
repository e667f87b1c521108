// Package fixed is a correct incremental stack: the behaviour KB287032's
// fix restored. Like a kernel, it adds and removes routes per event, with a
// reference count per route and explicit primary tracking; it never
// recomputes its table from its addresses. User routes (route add) are
// kept apart, in the order they were added, and each event changes only
// those it touches (ifaddr.UserRoutes). Its agreement with the model is
// therefore evidence, not a tautology.
package fixed

import (
	"maps"
	"net/netip"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/internal/ifaddr"
)

// Stack is the corrected stack. The zero Stack has no adapters; Reset it.
type Stack struct {
	promote bool
	keep    bool // keep_addr_on_down
	addrs   ifaddr.Lists
	// routes maps each kernel route to how many addresses hold it. A
	// route's identity includes Linkdown: carrier re-keys an adapter's
	// routes.
	routes map[model.Route]int
	user   ifaddr.UserRoutes // the routes route add made
}

// New returns a stack with no adapters.
func New() *Stack { return &Stack{} }

var _ sut.BatchLooker = (*Stack)(nil)

// Reset forgets every address and route.
func (s *Stack) Reset(cfg model.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.promote = cfg.Promote
	s.keep = cfg.KeepAddrOnDown
	s.addrs.Reset(cfg.Adapters)
	s.routes = make(map[model.Route]int)
	s.user.Reset()
	return nil
}

// Apply performs op, adjusting routes for this event only.
func (s *Stack) Apply(op model.Op) error {
	if s.routes == nil {
		s.routes = make(map[model.Route]int)
	}
	if err := s.addrs.Check(op); err != nil || ifaddr.Ignored(op) {
		return err
	}
	dev := op.Adapter
	switch op.Kind {
	case model.Down:
		s.down(dev)
	case model.Up:
		s.up(dev)
	case model.Unplug:
		s.unplug(dev)
	case model.Plug:
		s.addrs.SetUnplugged(dev, false)
	case model.Carrier:
		s.carrier(dev, op.On)
	case model.Change:
		s.change(op)
	case model.Add:
		s.add(dev, ifaddr.FromOp(op))
	case model.Del:
		s.user.Deleted(&s.addrs, dev, s.del(dev, op.Prefix))
	case model.RouteAdd, model.RouteDel:
		return s.user.Do(op, &s.addrs, maps.Keys(s.routes))
	}
	return nil
}

// add adds a's routes: an IPv6 address its local route, and its prefix
// route while dev is up; an IPv4 secondary its local route; a new IPv4
// primary its local and subnet routes.
func (s *Stack) add(dev string, a ifaddr.Addr) {
	if !a.P.Addr().Is4() {
		s.ref(local6(dev, a))
		s.refAll(s.prefix6(dev, a))
	} else if prim, ok := s.addrs.Primary(dev, a.Key()); ok {
		s.ref(local4(dev, a, prim))
	} else {
		s.addPrimary(dev, a)
	}
	s.addrs.Add(dev, a)
}

// del removes the address p and the routes it holds. Deleting an IPv4
// primary takes its secondaries with it, or, with promotion, hands the
// group's subnet routes to the oldest secondary, with that secondary's
// own noprefixroute flag and metric, and re-keys the other secondaries'
// local routes to the new primary's source. It returns the addresses
// that went, p first.
func (s *Stack) del(dev string, p netip.Prefix) []netip.Addr {
	gone := []netip.Addr{p.Addr()}
	if !p.Addr().Is4() {
		a := s.addrs.Remove(dev, p)
		if !a.Hidden {
			s.unref(local6(dev, a))
		}
		s.unrefAll(s.prefix6(dev, a))
		return gone
	}
	prim, _ := s.addrs.Primary(dev, p.Masked())
	a := s.addrs.Remove(dev, p)
	if prim.P != a.P {
		s.unref(local4(dev, a, prim))
		return gone
	}
	s.delPrimary(dev, a)
	secs := s.addrs.Group(dev, a.Key())
	for _, sec := range secs {
		s.unref(local4(dev, sec, a))
	}
	if !s.promote {
		for _, sec := range secs {
			s.addrs.Remove(dev, sec.P)
			gone = append(gone, sec.P.Addr())
		}
		return gone
	}
	if len(secs) > 0 {
		s.addPrimary(dev, secs[0])
		for _, sec := range secs[1:] {
			s.ref(local4(dev, sec, secs[0]))
		}
	}
	return gone
}

// change replaces the attributes of the address op names, and adjusts
// only the routes that address holds: an IPv6 address's prefix route, an
// IPv4 primary's subnet routes (a secondary holds none that depend on
// its attributes: its metric and flag matter once it is promoted). Local
// routes do not depend on attributes.
func (s *Stack) change(op model.Op) {
	dev := op.Adapter
	prim, _ := s.addrs.Primary(dev, op.Prefix.Masked())
	old, now := s.addrs.Change(op)
	switch {
	case !op.Prefix.Addr().Is4():
		s.unrefAll(s.prefix6(dev, old))
		s.refAll(s.prefix6(dev, now))
	case prim.P == op.Prefix:
		s.unrefAll(s.subnet4(dev, old))
		s.refAll(s.subnet4(dev, now))
	}
}

// carrier records dev's carrier. When that changes whether dev's routes
// are linkdown (dev is up), every non-local route of dev is re-keyed to
// its other form, keeping its reference count; a down adapter holds no
// such route, and up adds them in the form its carrier then says.
func (s *Stack) carrier(dev string, on bool) {
	was := s.addrs.Linkdown(dev)
	s.addrs.SetCarrier(dev, on)
	now := s.addrs.Linkdown(dev)
	if was == now {
		return
	}
	moved := make(map[model.Route]int)
	for r, n := range s.routes {
		if r.Dev == dev && r.Kind != model.Local && r.Linkdown == was {
			delete(s.routes, r)
			r.Linkdown = now
			moved[r] = n
		}
	}
	for r, n := range moved {
		s.routes[r] += n
	}
	s.user.SetLinkdown(dev, now)
}

func local4(dev string, a, prim ifaddr.Addr) model.Route {
	return model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev, Src: prim.P.Addr()}
}

func local6(dev string, a ifaddr.Addr) model.Route {
	return model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev}
}

// subnet4 returns the subnet routes an IPv4 primary a holds on dev as it
// is now: none while dev is down, linkdown while it has no carrier.
func (s *Stack) subnet4(dev string, a ifaddr.Addr) []model.Route {
	if s.addrs.IsDown(dev) {
		return nil
	}
	return ifaddr.SubnetRoutes(dev, a, s.addrs.Linkdown(dev))
}

// prefix6 returns the prefix route an IPv6 address a holds on dev as it
// is now: none while dev is down, linkdown while it has no carrier.
func (s *Stack) prefix6(dev string, a ifaddr.Addr) []model.Route {
	if s.addrs.IsDown(dev) {
		return nil
	}
	return ifaddr.PrefixRoutes6(dev, a, s.addrs.Linkdown(dev))
}

// addPrimary adds a primary's local route, and its subnet routes unless
// its adapter is down.
func (s *Stack) addPrimary(dev string, a ifaddr.Addr) {
	s.ref(local4(dev, a, a))
	s.refAll(s.subnet4(dev, a))
}

func (s *Stack) delPrimary(dev string, a ifaddr.Addr) {
	s.unref(local4(dev, a, a))
	s.unrefAll(s.subnet4(dev, a))
}

// down takes dev down: the subnet routes of its IPv4 primaries go (their
// local routes stay); its IPv6 addresses go with their routes, except
// that keep_addr_on_down keeps the permanent ones, without routes; every
// user route by dev goes.
func (s *Stack) down(dev string) {
	if s.addrs.IsDown(dev) {
		return
	}
	var kept []ifaddr.Addr
	var gone []netip.Addr
	for i, a := range s.addrs.Of(dev) {
		if a.P.Addr().Is4() {
			if s.primaryAt(dev, i) {
				s.unrefAll(s.subnet4(dev, a))
			}
			kept = append(kept, a)
			continue
		}
		if !a.Hidden {
			s.unref(local6(dev, a))
		}
		s.unrefAll(s.prefix6(dev, a))
		if a.KeptOverDown(s.keep) {
			a.Hidden = true
			kept = append(kept, a)
		} else {
			gone = append(gone, a.P.Addr())
		}
	}
	s.addrs.Set(dev, kept)
	s.addrs.SetDown(dev, true)
	s.user.DevGone(&s.addrs, dev, gone)
}

// up brings dev up: the subnet routes of its IPv4 primaries, and the
// prefix routes of its IPv6 addresses and the local routes of those kept
// over down, come back, linkdown if dev has no carrier.
func (s *Stack) up(dev string) {
	if !s.addrs.IsDown(dev) {
		return
	}
	s.addrs.SetDown(dev, false)
	as := s.addrs.Of(dev)
	for i, a := range as {
		if a.P.Addr().Is4() {
			if s.primaryAt(dev, i) {
				s.refAll(s.subnet4(dev, a))
			}
			continue
		}
		if a.Hidden {
			as[i].Hidden = false
			s.ref(local6(dev, a))
		}
		s.refAll(s.prefix6(dev, a))
	}
}

// unplug removes dev: down takes its subnet routes and IPv6 routes, then
// the local routes that are left go (those of its IPv4 addresses, and of
// IPv6 addresses added while it was down), and with them every address,
// and the user routes whose source they were.
func (s *Stack) unplug(dev string) {
	s.down(dev)
	as := s.addrs.Of(dev)
	for i, a := range as {
		if !a.P.Addr().Is4() {
			// Added while down (down of a down adapter does nothing),
			// it has its local route; kept over down, it has none.
			if !a.Hidden {
				s.unref(local6(dev, a))
			}
			continue
		}
		prim := a
		for _, b := range as[:i] {
			if b.Key() == a.Key() {
				prim = b
				break
			}
		}
		s.unref(local4(dev, a, prim))
	}
	gone := make([]netip.Addr, len(as))
	for i, a := range as {
		gone[i] = a.P.Addr()
	}
	s.addrs.SetUnplugged(dev, true)
	s.user.DevGone(&s.addrs, dev, gone)
}

// primaryAt reports whether the i-th address of dev is the oldest of its
// group.
func (s *Stack) primaryAt(dev string, i int) bool {
	as := s.addrs.Of(dev)
	for _, b := range as[:i] {
		if b.Key() == as[i].Key() {
			return false
		}
	}
	return true
}

func (s *Stack) ref(r model.Route) { s.routes[r]++ }

func (s *Stack) refAll(rs []model.Route) {
	for _, r := range rs {
		s.ref(r)
	}
}

func (s *Stack) unrefAll(rs []model.Route) {
	for _, r := range rs {
		s.unref(r)
	}
}

func (s *Stack) unref(r model.Route) {
	if s.routes[r]--; s.routes[r] <= 0 {
		delete(s.routes, r)
	}
}

// Routes returns the kernel routes that have at least one holder, and
// the user routes.
func (s *Stack) Routes() (model.Table, error) {
	rs := make([]model.Route, 0, len(s.routes)+len(s.user.All()))
	for r := range s.routes {
		rs = append(rs, r)
	}
	rs = append(rs, s.user.All()...)
	return model.NewTable(rs), nil
}

// Addrs returns every address.
func (s *Stack) Addrs() ([]model.Addr, error) { return s.addrs.All(), nil }

// Lookup answers a route lookup of dst from the stack's own routes and
// addresses (ifaddr.Lookup).
func (s *Stack) Lookup(dst netip.Addr) (model.LookupResult, error) {
	ls, err := s.LookupAll([]netip.Addr{dst})
	if err != nil {
		return model.LookupResult{}, err
	}
	return ls[0], nil
}

// LookupAll answers the lookups of dsts in order, reading the table once.
func (s *Stack) LookupAll(dsts []netip.Addr) ([]model.LookupResult, error) {
	return ifaddr.LookupAll(s.Routes, &s.addrs, &s.user, dsts)
}

// Close does nothing.
func (s *Stack) Close() error { return nil }
