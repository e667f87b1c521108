package relations

import (
	"errors"
	"fmt"
	"slices"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// HistoryIndependence: the same final configuration reached by another
// order gives the same addresses and lookups, but for what the stack
// declares order-dependent (Freedom). The other order is built from the
// final state the stack shows: on a fresh reset, the adapters unplugged at
// the end unplugged first; then each address it holds re-added (with the
// changes that followed its last add), each user route it shows re-added,
// and the down or carrier off that began the period each adapter ends
// down or without carrier in, all in the order the run last applied them
// (so a route's gateway is resolved against the same addresses: one that
// became a local address after its route was added is order-dependent by
// design). Route tables are not compared: which address is primary, and so
// a route's src, is order-dependent by design. It does not apply when that
// order is the run's own, or when one of its ops fails or is excluded.
var HistoryIndependence = &Relation{
	Name: "history",
	Doc:  "another order that reaches the same final configuration gives the same addresses and lookups (modulo what is declared order-dependent)",
	Applies: func(s sut.Stack, l sut.Limits) bool {
		return l.TakesKind(model.Add) && (check.Addrs.ShownBy(s, l) || check.Lookups.ShownBy(s, l))
	},
	Check: checkHistory,
}

// Undo: on top of a run, adding an address another adapter holds and
// deleting it again, taking an adapter down and up (when it keeps its
// addresses: no IPv6 address unless keep_addr_on_down is on and none has
// lifetimes, no user route through it), or taking carrier away and back,
// returns every observable to what it was. The run is the rebuilt order
// of HistoryIndependence when that one ran whole, else the run's own ops
// replayed.
var Undo = &Relation{
	Name: "undo",
	Doc:  "adding an address and deleting it, a link going down and up, or carrier lost and back, returns every observable to what it was",
	Applies: func(s sut.Stack, l sut.Limits) bool {
		return l.TakesKind(model.Add) && l.TakesKind(model.Del) ||
			l.TakesKind(model.Down) && l.TakesKind(model.Up) || l.TakesKind(model.Carrier)
	},
	Check: checkUndo,
}

// rebuild returns the other order of HistoryIndependence, or false when
// the final state holds something no successful op of the run made.
func (c *Context) rebuild() ([]model.Op, bool, error) {
	m := c.Run.Model()
	vs, err := c.Main()
	if err != nil {
		return nil, false, err
	}
	ops, res := c.Run.Ops(), c.Run.Results()
	if len(ops) != len(res) {
		return nil, false, nil
	}
	var picked []int
	last := func(match func(op model.Op) bool) int {
		for i := len(ops) - 1; i >= 0; i-- {
			if res[i] == model.OK && match(ops[i]) {
				return i
			}
		}
		return -1
	}
	// since returns the first successful op after j that matches.
	since := func(j int, match func(op model.Op) bool) int {
		for i := j + 1; i < len(ops); i++ {
			if res[i] == model.OK && match(ops[i]) {
				return i
			}
		}
		return -1
	}
	for _, a := range c.addrsOf(vs, m) {
		i := last(func(op model.Op) bool {
			return op.Kind == model.Add && op.Adapter == a.Adapter && op.Prefix == a.Prefix
		})
		if i < 0 {
			return nil, false, nil
		}
		picked = append(picked, i)
		for j := i + 1; j < len(ops); j++ {
			if op := ops[j]; res[j] == model.OK && op.Kind == model.Change && op.Adapter == a.Adapter && op.Prefix.Addr() == a.Prefix.Addr() {
				picked = append(picked, j)
			}
		}
	}
	var routes []int
	for _, r := range c.userRoutes(vs, m) {
		i := last(func(op model.Op) bool {
			return op.Kind == model.RouteAdd && op.Adapter == r.Dev && op.Prefix == r.Dst && op.Via == r.Via && op.RouteMetric() == r.Metric
		})
		if i < 0 {
			return nil, false, nil
		}
		routes = append(routes, i)
	}
	slices.Sort(routes)
	// An adapter that ends down, or without carrier, went so at the first
	// such op since it was last up (or had carrier): addresses added
	// before it kept over it, those added after were added to a down
	// adapter.
	adapters := m.Config().Adapters
	for _, d := range adapters {
		if m.IsUnplugged(d) {
			continue
		}
		if m.IsDown(d) {
			i := since(last(func(op model.Op) bool { return op.Adapter == d && (op.Kind == model.Up || op.Kind == model.Plug) }),
				func(op model.Op) bool { return op.Kind == model.Down && op.Adapter == d })
			if i < 0 {
				return nil, false, nil
			}
			picked = append(picked, i)
		}
		if !m.HasCarrier(d) {
			i := since(last(func(op model.Op) bool {
				return op.Adapter == d && (op.Kind == model.Carrier && op.On || op.Kind == model.Plug)
			}),
				func(op model.Op) bool { return op.Kind == model.Carrier && op.Adapter == d && !op.On })
			if i < 0 {
				return nil, false, nil
			}
			picked = append(picked, i)
		}
	}
	picked = append(picked, routes...)
	slices.Sort(picked)
	var out []model.Op
	for _, d := range adapters {
		if m.IsUnplugged(d) {
			out = append(out, model.Op{Kind: model.Unplug, Adapter: d})
		}
	}
	for _, i := range slices.Compact(picked) {
		out = append(out, ops[i])
	}
	return out, true, nil
}

// base runs the rebuilt order on a fresh reset of the second stack,
// once per judgement, and returns it, or nil when it cannot run whole.
func (c *Context) base() (*session, error) {
	if c.built {
		return c.rebuilt, nil
	}
	c.built = true
	ops, ok, err := c.rebuild()
	if err != nil || !ok {
		return nil, err
	}
	s, err := c.replay("rebuilt", ops)
	if err != nil || s == nil {
		return nil, err
	}
	c.rebuilt = s
	return s, nil
}

// replay runs ops on a fresh reset of the second stack, or returns nil
// when one is excluded or does not succeed.
func (c *Context) replay(name string, ops []model.Op) (*session, error) {
	s, err := c.fresh(name)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		res, err := s.apply(op)
		if errors.Is(err, errSkip) || err == nil && res != model.OK {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func checkHistory(c *Context) (*Failure, error) {
	s, err := c.base()
	if err != nil || s == nil || slices.Equal(s.side.Ops, c.Run.Ops()) {
		return nil, err
	}
	a, err := c.Main()
	if err != nil {
		return nil, err
	}
	m := c.Run.Model()
	b, err := c.read(s.stack, m)
	if err != nil {
		return nil, fmt.Errorf("rebuilt order: %w", err)
	}
	obs := c.observed(a, b, []string{check.Addrs.Name, check.Lookups.Name}, c.addrsOf(a, m), c.addrsOf(b, s.model))
	if !differs(obs) {
		return nil, nil
	}
	return &Failure{
		Sides:    [2]check.Side{{Name: "as run", Ops: slices.Clone(c.Run.Ops()), Results: slices.Clone(c.Run.Results())}, s.side},
		Observed: obs,
		Detail:   "rebuilt: the addresses and user routes the run ends with, re-added in the order they were last added on a fresh reset",
	}, nil
}

func checkUndo(c *Context) (*Failure, error) {
	s, err := c.base()
	if err != nil {
		return nil, err
	}
	if s == nil || !c.fresh2(s) {
		// The run's own ops, replayed.
		if s, err = c.replay("as run", c.Run.Ops()); err != nil || s == nil {
			return nil, err
		}
	}
	c.rebuilt = nil // undo changes it
	before := s.model.Clone()
	r, err := c.read(s.stack, before)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.side.Name, err)
	}
	start := check.Side{Name: "before", Ops: slices.Clone(s.side.Ops), Results: slices.Clone(s.side.Results)}
	for _, pair := range c.undoPairs(s, r) {
		if s.excluded(pair[0]) {
			continue
		}
		m := s.model.Clone()
		m.Apply(pair[0])
		if c.o.Exclude != nil && c.o.Exclude(m, pair[1]) {
			continue
		}
		res, err := s.apply(pair[0])
		if err != nil {
			return nil, err
		}
		if res != model.OK {
			return nil, nil // refused: what it left is another matter
		}
		res2, err := s.apply(pair[1])
		if err != nil {
			return nil, err
		}
		u, err := c.read(s.stack, before)
		if err != nil {
			return nil, fmt.Errorf("undone: %w", err)
		}
		obs := c.observed(r, u, nil, c.addrsOf(r, before), c.addrsOf(u, s.model))
		if !differs(obs) && res2 == model.OK {
			continue
		}
		undone := s.side
		undone.Name = "undone"
		detail := fmt.Sprintf("%s then %s did not return every observable to what it was", pair[0], pair[1])
		if res2 != model.OK {
			detail = fmt.Sprintf("%s was %s right after %s", pair[1], res2, pair[0])
		}
		return &Failure{Sides: [2]check.Side{start, undone}, Observed: obs, Detail: detail}, nil
	}
	return nil, nil
}

// fresh2 reports whether the rebuilt run s is still as it was built (no
// undo pair has run on it).
func (c *Context) fresh2(s *session) bool { return c.rebuilt == s }

// undoPairs returns the undo pairs to try on s, whose stack shows r:
// adding on another adapter an address one holds (the multihomed case
// of KB287032), down and up, carrier off and on; at most MaxUndo, taken
// in turn from each kind.
func (c *Context) undoPairs(s *session, r []any) [][2]model.Op {
	m, l := s.model, c.Run.Limits()
	addrs := c.addrsOf(r, m)
	routes := m.UserRoutes()
	adapters := m.Config().Adapters
	via := func(d string, v4 bool) bool {
		return slices.ContainsFunc(routes, func(rt model.Route) bool { return rt.Dev == d && (rt.Dst.Addr().Is4() == v4) })
	}
	family := func(v4 bool) bool { return v4 && l.IPv4 || !v4 && l.IPv6 }
	var adds, downs, carriers [][2]model.Op
	if l.TakesKind(model.Add) && l.TakesKind(model.Del) {
		for _, a := range addrs {
			v4 := a.Prefix.Addr().Is4()
			for _, d := range adapters {
				if d == a.Adapter || m.IsUnplugged(d) || !family(v4) ||
					slices.ContainsFunc(addrs, func(x model.Addr) bool { return x.Adapter == d && x.Prefix.Addr() == a.Prefix.Addr() }) {
					continue
				}
				// Deleting an adapter's last IPv4 address flushes its
				// IPv4 user routes.
				if v4 && via(d, true) && !slices.ContainsFunc(addrs, func(x model.Addr) bool { return x.Adapter == d && x.Prefix.Addr().Is4() }) {
					continue
				}
				adds = append(adds, [2]model.Op{{Kind: model.Add, Adapter: d, Prefix: a.Prefix}, {Kind: model.Del, Adapter: d, Prefix: a.Prefix}})
			}
		}
	}
	for _, d := range adapters {
		if m.IsUnplugged(d) {
			continue
		}
		if l.TakesKind(model.Carrier) && m.HasCarrier(d) {
			carriers = append(carriers, [2]model.Op{{Kind: model.Carrier, Adapter: d, On: false}, {Kind: model.Carrier, Adapter: d, On: true}})
		}
		if !l.TakesKind(model.Down) || !l.TakesKind(model.Up) || m.IsDown(d) || !m.HasCarrier(d) || via(d, true) || via(d, false) {
			continue
		}
		keeps := !slices.ContainsFunc(m.On(d), func(e model.Entry) bool {
			return e.Prefix.Addr().Is6() && (!m.Config().KeepAddrOnDown || e.Dynamic)
		})
		if keeps {
			downs = append(downs, [2]model.Op{{Kind: model.Down, Adapter: d}, {Kind: model.Up, Adapter: d}})
		}
	}
	most := c.o.MaxUndo
	if most <= 0 {
		most = DefaultMaxUndo
	}
	var out [][2]model.Op
	for i := 0; len(out) < most; i++ {
		took := false
		for _, k := range [][][2]model.Op{adds, downs, carriers} {
			if i < len(k) && len(out) < most {
				out = append(out, k[i])
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}
