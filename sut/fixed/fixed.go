// Package fixed is a correct incremental stack: the behaviour KB287032's
// fix restored. Like a kernel, it adds and removes routes per event, with a
// reference count per route and explicit primary tracking; it never
// recomputes its table from its addresses. Its agreement with the model
// is therefore evidence, not a tautology.
package fixed

import (
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/internal/ifaddr"
)

// Stack is the corrected stack. The zero Stack has no adapters; Reset it.
type Stack struct {
	promote bool
	keep    bool // keep_addr_on_down
	addrs   ifaddr.Lists
	routes  map[model.Route]int // route → how many addresses hold it
}

// New returns a stack with no adapters.
func New() *Stack { return &Stack{} }

// Reset forgets every address and route.
func (s *Stack) Reset(cfg model.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.promote = cfg.Promote
	s.keep = cfg.KeepAddrOnDown
	s.addrs.Reset(cfg.Adapters)
	s.routes = make(map[model.Route]int)
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
		return nil
	case model.Up:
		s.up(dev)
		return nil
	case model.Unplug:
		s.unplug(dev)
		return nil
	case model.Plug:
		s.addrs.SetUnplugged(dev, false)
		return nil
	}
	isDown := s.addrs.IsDown(dev)
	if op.Kind == model.Add {
		a := ifaddr.Addr{P: op.Prefix, Metric: op.Metric}
		if !a.P.Addr().Is4() {
			s.ref(model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev})
			if !isDown {
				s.ref(prefix6(dev, a))
			}
		} else if prim, ok := s.addrs.Primary(dev, a.Key()); ok {
			s.ref(local4(dev, a, prim))
		} else {
			s.addPrimary(dev, a)
		}
		s.addrs.Add(dev, a)
		return nil
	}
	if !op.Prefix.Addr().Is4() {
		a := s.addrs.Remove(dev, op.Prefix)
		if !a.Hidden {
			s.unref(model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev})
		}
		if !isDown {
			s.unref(prefix6(dev, a))
		}
		return nil
	}
	prim, _ := s.addrs.Primary(dev, op.Prefix.Masked())
	a := s.addrs.Remove(dev, op.Prefix)
	if prim.P != a.P {
		s.unref(local4(dev, a, prim))
		return nil
	}
	s.delPrimary(dev, a)
	secs := s.addrs.Group(dev, a.Key())
	for _, sec := range secs {
		s.unref(local4(dev, sec, a))
	}
	if !s.promote {
		for _, sec := range secs {
			s.addrs.Remove(dev, sec.P)
		}
		return nil
	}
	if len(secs) > 0 {
		s.addPrimary(dev, secs[0])
		for _, sec := range secs[1:] {
			s.ref(local4(dev, sec, secs[0]))
		}
	}
	return nil
}

func local4(dev string, a, prim ifaddr.Addr) model.Route {
	return model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev, Src: prim.P.Addr()}
}

func prefix6(dev string, a ifaddr.Addr) model.Route {
	return model.Route{Kind: model.Connected, Dst: a.Key(), Dev: dev, Metric: ifaddr.V6Metric(a)}
}

// addPrimary adds a primary's local route, and its subnet routes unless
// its adapter is down.
func (s *Stack) addPrimary(dev string, a ifaddr.Addr) {
	s.ref(local4(dev, a, a))
	if !s.addrs.IsDown(dev) {
		for _, r := range ifaddr.SubnetRoutes(dev, a) {
			s.ref(r)
		}
	}
}

func (s *Stack) delPrimary(dev string, a ifaddr.Addr) {
	s.unref(local4(dev, a, a))
	if !s.addrs.IsDown(dev) {
		for _, r := range ifaddr.SubnetRoutes(dev, a) {
			s.unref(r)
		}
	}
}

// down takes dev down: the subnet routes of its IPv4 primaries go (their
// local routes stay); its IPv6 addresses go with their routes, except
// that keep_addr_on_down keeps the addresses, without routes.
func (s *Stack) down(dev string) {
	if s.addrs.IsDown(dev) {
		return
	}
	var kept []ifaddr.Addr
	for i, a := range s.addrs.Of(dev) {
		if a.P.Addr().Is4() {
			if s.primaryAt(dev, i) {
				for _, r := range ifaddr.SubnetRoutes(dev, a) {
					s.unref(r)
				}
			}
			kept = append(kept, a)
			continue
		}
		if !a.Hidden {
			s.unref(model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev})
		}
		s.unref(prefix6(dev, a))
		if s.keep {
			a.Hidden = true
			kept = append(kept, a)
		}
	}
	s.addrs.Set(dev, kept)
	s.addrs.SetDown(dev, true)
}

// up brings dev up: the subnet routes of its IPv4 primaries, and the
// prefix routes of its IPv6 addresses and the local routes of those kept
// over down, come back.
func (s *Stack) up(dev string) {
	if !s.addrs.IsDown(dev) {
		return
	}
	s.addrs.SetDown(dev, false)
	as := s.addrs.Of(dev)
	for i, a := range as {
		if a.P.Addr().Is4() {
			if s.primaryAt(dev, i) {
				for _, r := range ifaddr.SubnetRoutes(dev, a) {
					s.ref(r)
				}
			}
			continue
		}
		if a.Hidden {
			as[i].Hidden = false
			s.ref(model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev})
		}
		s.ref(prefix6(dev, a))
	}
}

// unplug removes dev: down takes its subnet routes and IPv6 routes, then
// the local routes that are left go (those of its IPv4 addresses, and of
// IPv6 addresses added while it was down), and with them every address.
func (s *Stack) unplug(dev string) {
	s.down(dev)
	as := s.addrs.Of(dev)
	for i, a := range as {
		if !a.P.Addr().Is4() {
			// Added while down (down of a down adapter does nothing),
			// it has its local route; kept over down, it has none.
			if !a.Hidden {
				s.unref(model.Route{Kind: model.Local, Dst: ifaddr.Host(a.P), Dev: dev})
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
	s.addrs.SetUnplugged(dev, true)
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

func (s *Stack) unref(r model.Route) {
	if s.routes[r]--; s.routes[r] <= 0 {
		delete(s.routes, r)
	}
}

// Routes returns the routes that have at least one holder.
func (s *Stack) Routes() (model.Table, error) {
	rs := make([]model.Route, 0, len(s.routes))
	for r := range s.routes {
		rs = append(rs, r)
	}
	return model.NewTable(rs), nil
}

// Addrs returns every address.
func (s *Stack) Addrs() ([]model.Addr, error) { return s.addrs.All(), nil }

// Close does nothing.
func (s *Stack) Close() error { return nil }
