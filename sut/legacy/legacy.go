// Package legacy is a simulated stack with the route bookkeeping bug of
// Microsoft KB287032 ("TCP/IP Routes May Be Incorrect If AddIPAddress() Is
// Used on Multihomed Computers", Windows NT 4.0 and 2000).
//
// Its address lists are right; its routes are kept incrementally and are
// not. For each subnet it keeps a FIFO of the adapters that contributed an
// address to it, and a count of contributions per (subnet, adapter); a
// subnet's routes on an adapter live while that adapter's count is
// positive. When a user deletes an address, the stack pops the head of the
// subnet's FIFO instead of the entry of the adapter the address is on. So:
//
//  1. any sequence on a single adapter is right (every entry is that adapter);
//
//  2. any sequence whose deletions follow the order of the adds (each
//     deletes the oldest address present) is right, for any number of
//     adapters: the head is then always the matching entry;
//
//  3. with two adapters in one subnet, deleting out of order leaves a route
//     on the wrong adapter and removes the right one. The shortest such
//     sequence has three operations:
//
//     add a0 10.0.0.1/24
//     add a1 10.0.0.2/24
//     del a1 10.0.0.2/24
//
// Addresses deleted as a side effect (secondaries flushed with their
// primary, IPv6 addresses flushed by down, every address of an unplugged
// adapter) take the correct path; unplug also drops every route the
// stack holds for the adapter, stale ones included. Down
// and up are right: while an adapter is down its subnet routes are not
// shown (IPv4 local routes are; IPv6 addresses kept by keep_addr_on_down
// have no local route until up), and up shows them again as the stack's
// bookkeeping has them, stale entries included. So are carrier (while an
// adapter is up without carrier its subnet routes, stale ones included,
// are shown linkdown), change (it rewrites the routes of the address's own
// subnet and adapter from its addresses, as an add does, without touching
// the FIFO or the counts) and the attributes (noprefixroute, metric,
// lifetimes), which follow the kernel's rules (sut/internal/ifaddr).
//
// User routes (route add, route del) are right too: the same code as the
// fixed stack's (ifaddr.UserRoutes), over legacy's own table. So the bug
// reaches them: a gateway is on link, or a route's destination and metric
// taken, by what legacy's table says, stale route included; and lookups
// go out by the stale route.
package legacy

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/internal/ifaddr"
)

// Stack is the legacy stack. The zero Stack has no adapters; Reset it.
type Stack struct {
	promote bool
	keep    bool                // keep_addr_on_down
	hidden  map[model.Addr]bool // IPv6 addresses kept over down: no local route until up
	addrs   ifaddr.Lists
	fifo    map[netip.Prefix][]string // subnet → contributing adapter per address, oldest first
	count   map[group]int             // contributions the stack believes each adapter makes
	subnet  map[group][]model.Route   // connected and broadcast routes per (subnet, adapter)
	local   map[model.Addr]model.Route
	user    ifaddr.UserRoutes // the routes route add made
}

type group struct {
	key netip.Prefix
	dev string
}

var _ sut.BatchLooker = (*Stack)(nil)

// New returns a stack with no adapters.
func New() *Stack { return &Stack{} }

// Reset forgets every address and route.
func (s *Stack) Reset(cfg model.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.promote = cfg.Promote
	s.keep = cfg.KeepAddrOnDown
	s.hidden = make(map[model.Addr]bool)
	s.addrs.Reset(cfg.Adapters)
	s.fifo = make(map[netip.Prefix][]string)
	s.count = make(map[group]int)
	s.subnet = make(map[group][]model.Route)
	s.local = make(map[model.Addr]model.Route)
	s.user.Reset()
	return nil
}

// Apply performs op.
func (s *Stack) Apply(op model.Op) error {
	if s.fifo == nil {
		_ = s.Reset(model.Config{})
	}
	if err := s.addrs.Check(op); err != nil || ifaddr.Ignored(op) {
		return err
	}
	dev, key := op.Adapter, op.Prefix.Masked()
	switch op.Kind {
	case model.Down:
		s.down(dev)
		return nil
	case model.Up:
		if s.addrs.IsDown(dev) {
			s.addrs.SetDown(dev, false)
			for a := range s.hidden {
				if a.Adapter == dev {
					delete(s.hidden, a)
				}
			}
		}
		return nil
	case model.Unplug:
		s.unplug(dev)
		return nil
	case model.Plug:
		s.addrs.SetUnplugged(dev, false)
		return nil
	case model.Carrier:
		// Right: Routes marks dev's subnet routes linkdown while it is
		// up without carrier, whatever they are.
		s.addrs.SetCarrier(dev, op.On)
		s.user.SetLinkdown(dev, s.addrs.Linkdown(dev))
		return nil
	case model.RouteAdd, model.RouteDel:
		// Right, over the stack's own table.
		return s.user.Do(op, &s.addrs, slices.Values(s.kernel()))
	}
	g := group{key, dev}
	if op.Kind == model.Change {
		// Right: the address's own group is rewritten from its
		// addresses, as an add does, and no contribution changes.
		s.addrs.Change(op)
		s.refresh(g)
		return nil
	}
	if op.Kind == model.Add {
		s.addrs.Add(dev, ifaddr.FromOp(op))
		s.fifo[key] = append(s.fifo[key], dev)
		s.count[g]++
		s.refresh(g)
		return nil
	}
	wasPrimary := op.Prefix.Addr().Is4() && s.isPrimary(dev, op.Prefix)
	s.remove(dev, op.Prefix)
	gone := []netip.Addr{op.Prefix.Addr()}
	// The bug: the contribution taken back is the oldest in the subnet,
	// whichever adapter it came from.
	head := s.fifo[key][0]
	s.fifo[key] = s.fifo[key][1:]
	s.uncount(group{key, head})
	if wasPrimary && !s.promote {
		// The flush path is right: it drops each secondary's own entry.
		for _, sec := range s.addrs.Group(dev, key) {
			s.remove(dev, sec.P)
			// The queue may no longer hold dev once KB287032 has
			// corrupted it (checks that keep running past the bug,
			// such as the relations, get here).
			if i := slices.Index(s.fifo[key], dev); i >= 0 {
				s.fifo[key] = slices.Delete(s.fifo[key], i, i+1)
			}
			s.uncount(g)
			gone = append(gone, sec.P.Addr())
		}
	}
	s.refresh(g)
	s.user.Deleted(&s.addrs, dev, gone)
	return nil
}

// down takes dev down. Its IPv6 addresses are flushed by the correct
// path (each drops its own entry), or, under keep_addr_on_down, the
// permanent ones are kept without local routes. Every user route by dev
// goes.
func (s *Stack) down(dev string) {
	if s.addrs.IsDown(dev) {
		return
	}
	s.addrs.SetDown(dev, true)
	var gone []netip.Addr
	for _, a := range slices.Clone(s.addrs.Of(dev)) {
		if a.P.Addr().Is4() {
			continue
		}
		if a.KeptOverDown(s.keep) {
			s.hidden[model.Addr{Adapter: dev, Prefix: a.P}] = true
			continue
		}
		key := a.Key()
		s.remove(dev, a.P)
		gone = append(gone, a.P.Addr())
		// The bug may already have taken dev's entry (and count) back.
		if i := slices.Index(s.fifo[key], dev); i >= 0 {
			s.fifo[key] = slices.Delete(s.fifo[key], i, i+1)
			s.uncount(group{key, dev})
		}
		s.refresh(group{key, dev})
	}
	s.user.DevGone(&s.addrs, dev, gone)
}

// unplug removes dev. Down flushes (or keeps) its IPv6 addresses; then
// each remaining address drops its own entry by the correct path, as
// down's flush does, and whatever the stack still holds for dev (stale
// routes of KB287032 included) goes with the device.
func (s *Stack) unplug(dev string) {
	s.down(dev)
	var gone []netip.Addr
	for _, a := range slices.Clone(s.addrs.Of(dev)) {
		key := a.Key()
		s.remove(dev, a.P)
		gone = append(gone, a.P.Addr())
		if i := slices.Index(s.fifo[key], dev); i >= 0 {
			s.fifo[key] = slices.Delete(s.fifo[key], i, i+1)
			s.uncount(group{key, dev})
		}
	}
	for g := range s.count {
		if g.dev == dev {
			delete(s.count, g)
		}
	}
	for g := range s.subnet {
		if g.dev == dev {
			delete(s.subnet, g)
		}
	}
	for a := range s.local {
		if a.Adapter == dev {
			delete(s.local, a)
		}
	}
	s.addrs.SetUnplugged(dev, true)
	s.user.DevGone(&s.addrs, dev, gone)
}

func (s *Stack) isPrimary(dev string, p netip.Prefix) bool {
	prim, _ := s.addrs.Primary(dev, p.Masked())
	return prim.P == p
}

func (s *Stack) remove(dev string, p netip.Prefix) {
	s.addrs.Remove(dev, p)
	delete(s.local, model.Addr{Adapter: dev, Prefix: p})
	delete(s.hidden, model.Addr{Adapter: dev, Prefix: p})
}

func (s *Stack) uncount(g group) {
	if s.count[g]--; s.count[g] <= 0 {
		delete(s.count, g)
		delete(s.subnet, g)
	}
}

// refresh rewrites the routes of group g from its adapter's addresses.
// While the stack believes the adapter still contributes to the subnet but
// it holds no address there, the old routes stay: the stale route of
// KB287032.
func (s *Stack) refresh(g group) {
	if s.count[g] == 0 {
		delete(s.subnet, g)
		return
	}
	as := s.addrs.Group(g.dev, g.key)
	if len(as) == 0 {
		return
	}
	var rs []model.Route
	if g.key.Addr().Is4() {
		prim := as[0]
		rs = ifaddr.SubnetRoutes(g.dev, prim, false)
		for _, a := range as {
			s.local[model.Addr{Adapter: g.dev, Prefix: a.P}] = model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: g.dev, Src: prim.P.Addr()}
		}
	} else {
		for _, a := range as {
			s.local[model.Addr{Adapter: g.dev, Prefix: a.P}] = model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: g.dev}
			rs = append(rs, ifaddr.PrefixRoutes6(g.dev, a, false)...)
		}
	}
	s.subnet[g] = rs
}

// Routes returns the routes the stack holds: its kernel routes and the
// user routes.
func (s *Stack) Routes() (model.Table, error) {
	return model.NewTable(append(s.kernel(), s.user.All()...)), nil
}

// kernel returns the kernel routes the stack holds: the subnet routes of
// the adapters that are up, marked linkdown on those without carrier, and
// the local routes.
func (s *Stack) kernel() []model.Route {
	var rs []model.Route
	for g, gr := range s.subnet {
		if s.addrs.IsDown(g.dev) {
			continue
		}
		linkdown := s.addrs.Linkdown(g.dev)
		for _, r := range gr {
			r.Linkdown = linkdown
			rs = append(rs, r)
		}
	}
	for a, r := range s.local {
		if !s.hidden[a] {
			rs = append(rs, r)
		}
	}
	return rs
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
