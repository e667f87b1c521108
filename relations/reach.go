package relations

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Reachability: while an adapter is up, has carrier and holds an address
// A/len (not a host route: /32, /128), a neighbour in A's subnet (its
// first address that no adapter holds, not a network, broadcast or
// subnet-router address) looks up as unicast, on link, through an up
// adapter holding an address whose prefix contains it, from a source
// address inside such a prefix. KB287032's symptom, checked directly.
//
// It does not apply to an address with noprefixroute (no subnet route
// was asked for), to a subnet whose masked address is unspecified
// (0.0.0.0/8 makes no route), nor to a neighbour that a user route at
// least as specific as A covers (its own rules decide).
var Reachability = &Relation{
	Name: "reachability",
	Doc:  "a neighbour in the subnet of an address on an up adapter with carrier is reached on link through an adapter holding the subnet, from a source in it",
	Applies: func(s sut.Stack, l sut.Limits) bool {
		return check.Lookups.ShownBy(s, l)
	},
	Check: checkReach,
}

func checkReach(c *Context) (*Failure, error) {
	m := c.Run.Model()
	vs, err := c.Main()
	if err != nil {
		return nil, err
	}
	addrs := c.addrsOf(vs, m)
	routes := c.userRoutes(vs, m)
	l := c.Run.Limits()
	var want []model.LookupResult
	var why []string
	for _, a := range addrs {
		p := a.Prefix
		if p.Addr().Is4() && !l.IPv4 || p.Addr().Is6() && !l.IPv6 {
			continue
		}
		if !up(m, a.Adapter) || !m.HasCarrier(a.Adapter) || p.Bits() == p.Addr().BitLen() || p.Masked().Addr().IsUnspecified() || noPrefixRoute(m, a) {
			continue
		}
		n, ok := neighbour(p, addrs)
		if !ok || slices.ContainsFunc(want, func(w model.LookupResult) bool { return w.Dst == n }) {
			continue
		}
		if slices.ContainsFunc(routes, func(r model.Route) bool { return r.Dst.Contains(n) && r.Dst.Bits() >= p.Bits() }) {
			continue
		}
		var hops []model.Hop
		for _, h := range addrs {
			if h.Prefix.Contains(n) && up(m, h.Adapter) {
				for _, s := range addrs {
					if h.Prefix.Contains(s.Prefix.Addr()) {
						hops = append(hops, model.Hop{Kind: model.ToUnicast, Dev: h.Adapter, Src: s.Prefix.Addr()})
					}
				}
			}
		}
		want = append(want, model.NewLookupResult(n, hops...))
		why = append(why, fmt.Sprintf("%s is the neighbour of %s", n, a))
	}
	if len(want) == 0 {
		return nil, nil
	}
	probes := make([]netip.Addr, len(want))
	for i, w := range want {
		probes[i] = w.Dst
	}
	got, err := check.LookupAll(c.Run.Stack(), probes)
	if err != nil {
		return nil, fmt.Errorf("reading the lookups of the neighbours: %w", err)
	}
	// A stack that answers with alternatives (one that reports its
	// profile's or the model's answer, "… or …") reaches a neighbour
	// when every alternative does.
	var bad []string
	for i := range want {
		if !reached(want[i], got[i]) {
			bad = append(bad, why[i])
		}
	}
	if len(bad) == 0 {
		return nil, nil
	}
	obs := make([]check.Observed, len(check.Observables))
	for i, o := range check.Observables {
		obs[i] = check.Observed{Of: o, Off: true}
		if o == check.Observable(check.Lookups) {
			obs[i] = check.Observed{Of: o, Want: want, Got: got}
		}
	}
	side := check.Side{Ops: slices.Clone(c.Run.Ops()), Results: slices.Clone(c.Run.Results())}
	reach, stack := side, side
	reach.Name, stack.Name = "reachable by", c.Run.Name()
	return &Failure{
		Sides:    [2]check.Side{reach, stack},
		Observed: obs,
		Detail:   "unreached: " + strings.Join(bad, "; "),
	}, nil
}

// up reports whether adapter is plugged in and up.
func up(m *model.State, adapter string) bool {
	return !m.IsUnplugged(adapter) && !m.IsDown(adapter)
}

// noPrefixRoute reports whether the ops gave noprefixroute to a or to an
// address of its subnet on its adapter (an IPv4 group whose primary has
// it has no subnet route).
func noPrefixRoute(m *model.State, a model.Addr) bool {
	return slices.ContainsFunc(m.On(a.Adapter), func(e model.Entry) bool {
		return e.NoPrefixRoute && e.Prefix.Masked() == a.Prefix.Masked()
	})
}

// neighbour returns the first address of p's subnet that no adapter
// holds and that is no held prefix's network, broadcast or
// subnet-router address (the model's probe of the same name, over the
// addresses the stack shows).
func neighbour(p netip.Prefix, addrs []model.Addr) (netip.Addr, bool) {
	special := func(a netip.Addr) bool {
		return slices.ContainsFunc(addrs, func(x model.Addr) bool {
			q := x.Prefix
			if x.Prefix.Addr() == a {
				return true
			}
			if q.Bits() >= q.Addr().BitLen()-1 || !q.Contains(a) {
				return false
			}
			return a == q.Masked().Addr() || a.Is4() && a == broadcast(q)
		})
	}
	a := p.Masked().Addr()
	for range 8 {
		a = a.Next()
		if !a.IsValid() || !p.Contains(a) {
			break
		}
		if !special(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// broadcast returns the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// reached reports whether every answer got gives is one that want
// accepts.
func reached(want, got model.LookupResult) bool {
	if want.Dst != got.Dst {
		return false
	}
	for _, h := range got.Hops() {
		if !want.Accepts(h) {
			return false
		}
	}
	return true
}
