// Package props holds the rapid state machine that drives random
// multi-adapter add/delete sequences through the model and a stack side by
// side, compares them after every op, and lets rapid shrink a divergence
// to a minimal failing order. It is the only package that knows rapid.
package props

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"pgregory.net/rapid"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/internal/pools"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stats"
	"github.com/routefuzz/routefuzz/sut"
)

// Config describes one kind of run.
type Config struct {
	// Name names the stack in reports.
	Name string
	// Adapters is how many adapters (a0, a1, …) each check uses; 3 if 0.
	Adapters int
	// Promote is the IPv4 promote_secondaries setting.
	Promote bool
	// KeepAddrOnDown is the IPv6 keep_addr_on_down setting.
	KeepAddrOnDown bool
	// IPv4 and IPv6 choose the families drawn; both if neither is set.
	IPv4, IPv6 bool
	// Attrs draws op attributes (metric, of addresses and routes;
	// noprefixroute, lifetimes:
	// model.Attrs) on some adds and changes: those the stack takes, once
	// Restrict has seen it.
	Attrs bool
	stack sut.Limits // the stack's limits as Restrict found them (its attributes, Exceeds); zero until then
	// Ops lists the op kinds drawn; every kind of model.Alphabet if empty.
	Ops []model.OpKind
	// Exclude, if not nil, turns ops it returns true for into no-ops before
	// they are applied, to hunt past a known divergence. It sees the model
	// as it is before op.
	Exclude func(st *model.State, op model.Op) bool
	// OnDivergence, if not nil, is called with every divergence found,
	// before the check fails: first the original, then each shorter one
	// that rapid's shrinking finds.
	OnDivergence func(*check.Divergence)
	// Accept, if not nil, is asked about every divergence after
	// OnDivergence, before the check fails: one it rejects ends the check
	// as if it had passed, and the search goes on. Hunt accepts only
	// divergences that reproduce.
	Accept func(*check.Divergence) bool
	// OnHarnessError, if not nil, is called when the stack fails for a
	// reason outside its semantics, before the check fails.
	OnHarnessError func(error)
	// Stats, if not nil, accumulates step and retry counts.
	Stats *check.Stats
	// Progress, if not nil, is kept up to date by Hunt after every
	// check, for another goroutine to read while the hunt runs.
	Progress *Progress
	// Generated, if not nil, counts what each check generates, from the
	// model (stats.Collector): a sequence per check, every op applied,
	// and the ops Exclude skipped. Hunt makes one if it is nil.
	Generated *stats.Collector
}

// Progress is a hunt's running count, safe to read from another goroutine
// (a signal handler printing the summary) while the hunt runs.
type Progress struct {
	Checks, Steps, Divergences atomic.Int64
}

func (c Config) adapters() []string {
	n := c.Adapters
	if n <= 0 {
		n = 3
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("a%d", i)
	}
	return names
}

// Restrict narrows c to what stack supports: its families, op kinds,
// attributes and promotion setting. It returns an error when c
// asks for a promotion setting the stack does not have.
func (c Config) Restrict(stack sut.Stack) (Config, error) {
	l := sut.LimitsOf(stack)
	if !c.IPv4 && !c.IPv6 {
		c.IPv4, c.IPv6 = true, true
	}
	c.IPv4 = c.IPv4 && l.IPv4
	c.IPv6 = c.IPv6 && l.IPv6
	c.Attrs = c.Attrs && len(l.Attrs) > 0
	c.stack = l
	var ops []model.OpKind
	for _, sp := range c.kinds() {
		if l.TakesKind(sp.Kind) {
			ops = append(ops, sp.Kind)
		}
	}
	c.Ops = ops
	if !c.IPv4 && !c.IPv6 {
		return c, fmt.Errorf("%s supports none of the families asked for", c.Name)
	}
	if len(c.Ops) == 0 {
		return c, fmt.Errorf("%s supports none of the op kinds asked for", c.Name)
	}
	if len(l.Promote) > 0 && !slices.Contains(l.Promote, c.Promote) {
		return c, fmt.Errorf("%s supports only promote %s, not promote %s", c.Name, onOff(l.Promote[0]), onOff(c.Promote))
	}
	if len(l.KeepAddrOnDown) > 0 && !slices.Contains(l.KeepAddrOnDown, c.KeepAddrOnDown) {
		return c, fmt.Errorf("%s supports only keep_addr_on_down %s, not keep_addr_on_down %s", c.Name, onOff(l.KeepAddrOnDown[0]), onOff(c.KeepAddrOnDown))
	}
	return c, nil
}

// kinds returns the definitions of the op kinds c draws, in alphabet order.
func (c Config) kinds() []*model.OpSpec {
	var sps []*model.OpSpec
	for _, sp := range model.Alphabet {
		if len(c.Ops) == 0 || slices.Contains(c.Ops, sp.Kind) {
			sps = append(sps, sp)
		}
	}
	return sps
}

// limits returns what c draws as a stack's limits, which say which
// attributes it draws.
func (c Config) limits() sut.Limits {
	l := sut.Limits{IPv4: c.IPv4, IPv6: c.IPv6, Ops: c.Ops}
	switch {
	case !c.Attrs:
	case c.stack.Attrs != nil:
		l.Attrs = c.stack.Attrs
	default:
		l.Attrs = model.Capabilities()
	}
	return l
}

// Property returns the rapid property that checks stack against the model.
// Each check resets the stack, so one stack serves every check. The
// property never calls t.Skip: ops that do not apply are no-ops, so it is
// safe under go test -fuzz (rapid issue #57).
func Property(stack sut.Stack, c Config) func(*rapid.T) {
	cfg := model.Config{Adapters: c.adapters(), Promote: c.Promote, KeepAddrOnDown: c.KeepAddrOnDown}
	g := newGen(c, cfg.Adapters)
	if c.Stats == nil {
		c.Stats = new(check.Stats)
	}
	return func(t *rapid.T) {
		if gen := c.Generated; gen != nil {
			gen.Begin()
			defer gen.End()
		}
		run, d, err := check.Start(c.Name, stack, cfg, c.Stats)
		m := &machine{c: c, run: run, g: g}
		m.fail(t, d, err)
		t.Repeat(g.actions(m, run))
	}
}

// actions returns the state machine's alphabet for rapid's Repeat: an
// action per op kind, named by its verb (kinds that share a
// model.OpSpec.Draw share one action, named by it), and "odd". A kind whose ops are
// about something that is there (model.OpSpec.Present: del, change on an
// address, route del on a user's route) mostly takes one that is; "odd"
// draws one of those kinds fresh, on something that may or may not be
// there, or an op of any kind on an adapter that does not exist.
func (g *gen) actions(m *machine, run *check.Run) map[string]func(*rapid.T) {
	as := map[string]func(*rapid.T){}
	var present []*model.OpSpec
	for _, sp := range g.kinds {
		if sp.Present {
			present = append(present, sp)
		}
		if sp.Draw != "" {
			continue // g.shared's
		}
		as[sp.Name] = func(t *rapid.T) { g.draw(t, m, sp, run) }
	}
	for name, a := range g.shared {
		pool, pick := a.pool, a.pick
		as[name] = func(t *rapid.T) {
			sp := pool[0]
			if pick != nil {
				sp = pool[pick.Draw(t, name)]
			}
			g.draw(t, m, sp, run)
		}
	}
	as["odd"] = func(t *rapid.T) {
		if g.oddity.Draw(t, "oddity") < 2 {
			if len(present) > 0 {
				m.step(t, g.fresh(t, g.oneOf(t, present)))
			}
		} else {
			m.step(t, g.invalid(t))
		}
	}
	return as
}

// draw draws an op of kind sp and steps m with it: a fresh one, or for a
// model.OpSpec.Present kind one on something present (none when nothing is).
func (g *gen) draw(t *rapid.T, m *machine, sp *model.OpSpec, run *check.Run) {
	if !sp.Present {
		op := g.fresh(t, sp)
		if op.Via.IsValid() || op.Src.IsValid() {
			op = g.anchor(t, op, run.Model())
		}
		m.step(t, op)
		return
	}
	if op, ok := g.present(t, sp, run.Model()); ok {
		m.step(t, op)
	}
}

type machine struct {
	c    Config
	run  *check.Run
	g    *gen
	done bool // a divergence was rejected: the check ends as passed
}

func (m *machine) step(t *rapid.T, op model.Op) {
	gen := m.c.Generated
	if m.done {
		return
	}
	if m.c.stack.Exceeds(m.run.Model(), op) != "" {
		return // more addresses on an adapter than the stack holds: not drawn
	}
	if m.c.Exclude != nil && m.c.Exclude(m.run.Model(), op) {
		if gen != nil {
			gen.Excluded(op)
		}
		return
	}
	t.Logf("op %d: %s", len(m.run.Ops())+1, op)
	if gen != nil {
		gen.Before(m.run.Model(), op)
	}
	d, err := m.run.Step(op)
	if gen != nil && err == nil {
		gen.After(m.run.Model(), m.run.ModelResult())
	}
	m.fail(t, d, err)
}

func (m *machine) fail(t *rapid.T, d *check.Divergence, err error) {
	if err != nil {
		if m.c.OnHarnessError != nil {
			m.c.OnHarnessError(err)
		}
		t.Fatalf("harness error (not a divergence): %v", err)
	}
	if d != nil {
		if m.c.OnDivergence != nil {
			m.c.OnDivergence(d)
		}
		if m.c.Accept != nil && !m.c.Accept(d) {
			m.done = true
			return
		}
		t.Fatalf("%s", d.Report())
	}
}

// gen draws ops biased toward collisions: a few subnets shared by every
// adapter, the same address at several lengths and on several adapters,
// the network address itself. Every pool lists its simplest value first,
// so rapid shrinks toward it. Its generators are built once, in newGen,
// not on each draw: the draws are on the hot path.
type gen struct {
	c          Config
	adapters   []string
	kinds      []*model.OpSpec // the kinds drawn, in alphabet order
	family     *rapid.Generator[bool]
	on         *rapid.Generator[bool] // the state of a switch (carrier): off first, as the fault
	v4         *rapid.Generator[netip.Prefix]
	v6         *rapid.Generator[netip.Prefix]
	dst4, dst6 *rapid.Generator[netip.Prefix]        // route destinations
	gw4, gw6   *rapid.Generator[netip.Addr]          // route gateways
	third      *rapid.Generator[int]                 // 2 in one draw of three: a route's src
	attrs      map[*model.Attr]*rapid.Generator[int] // the attributes drawn: an index into their Samples
	adapterGen *rapid.Generator[string]
	yes        *rapid.Generator[bool]  // oneOf's yes or no
	oddity     *rapid.Generator[int]   // the "odd" action's choice: two in three a kind on a drawn address
	shared     map[string]sharedAction // by model.OpSpec.Draw
}

// sharedAction is an action several kinds share (model.OpSpec.Draw): its
// pool holds each kind as many times as its Share (0 counts as 1), so
// each is drawn in proportion to it, shrinking toward the first; pick
// draws an index into the pool, nil when it has one entry.
type sharedAction struct {
	pool []*model.OpSpec
	pick *rapid.Generator[int]
}

func newGen(c Config, adapters []string) *gen {
	g := &gen{c: c, adapters: adapters, kinds: c.kinds(), attrs: map[*model.Attr]*rapid.Generator[int]{}}
	family := rapid.IntRange(0, 2)
	g.family = rapid.Custom(func(t *rapid.T) bool {
		return family.Draw(t, "family") < 2 // two in three IPv4
	})
	g.on = rapid.Bool()
	v4Net, v4Host, v4Len := rapid.SampledFrom(pools.V4Nets), rapid.SampledFrom(pools.V4Hosts), rapid.SampledFrom(pools.V4Lengths)
	g.v4 = rapid.Custom(func(t *rapid.T) netip.Prefix {
		b := v4Net.Draw(t, "net").As4()
		b[3] = v4Host.Draw(t, "host")
		return netip.PrefixFrom(netip.AddrFrom4(b), v4Len.Draw(t, "len"))
	})
	v6Net, v6Host, v6Len := rapid.SampledFrom(pools.V6Nets), rapid.SampledFrom(pools.V6Hosts), rapid.SampledFrom(pools.V6Lengths)
	g.v6 = rapid.Custom(func(t *rapid.T) netip.Prefix {
		b := v6Net.Draw(t, "net").As16()
		b[15] = v6Host.Draw(t, "host")
		return netip.PrefixFrom(netip.AddrFrom16(b), v6Len.Draw(t, "len"))
	})
	g.dst4, g.dst6 = rapid.SampledFrom(pools.V4RouteDsts), rapid.SampledFrom(pools.V6RouteDsts)
	gw4Net, gw6Net, gwHost := rapid.SampledFrom(pools.V4GatewayNets), rapid.SampledFrom(pools.V6GatewayNets), rapid.SampledFrom(pools.GatewayHosts)
	g.gw4 = rapid.Custom(func(t *rapid.T) netip.Addr {
		b := gw4Net.Draw(t, "net").As4()
		b[3] = gwHost.Draw(t, "host")
		return netip.AddrFrom4(b)
	})
	g.gw6 = rapid.Custom(func(t *rapid.T) netip.Addr {
		b := gw6Net.Draw(t, "net").As16()
		b[15] = gwHost.Draw(t, "host")
		return netip.AddrFrom16(b)
	})
	g.third = rapid.IntRange(0, 2)
	if len(adapters) > 0 {
		g.adapterGen = rapid.SampledFrom(adapters)
	}
	g.yes = rapid.Bool()
	g.oddity = rapid.IntRange(0, 2)
	g.shared = map[string]sharedAction{}
	for _, sp := range g.kinds {
		if sp.Draw == "" {
			continue
		}
		a := g.shared[sp.Draw]
		for range max(sp.Share, 1) {
			a.pool = append(a.pool, sp)
		}
		g.shared[sp.Draw] = a
	}
	for name, a := range g.shared {
		if len(a.pool) > 1 {
			a.pick = rapid.IntRange(0, len(a.pool)-1)
			g.shared[name] = a
		}
	}
	for _, a := range model.Attrs() {
		if a.Leads() && c.limits().Takes(a) {
			g.attrs[a] = rapid.IntRange(0, len(a.Samples)-1)
		}
	}
	return g
}

// ipv4 draws the family of an op: true for IPv4.
func (g *gen) ipv4(t *rapid.T) bool {
	return !g.c.IPv6 || g.c.IPv4 && g.family.Draw(t, "ipv4")
}

func (g *gen) prefix(t *rapid.T) netip.Prefix {
	return g.addrPrefix(t, g.ipv4(t))
}

// addrPrefix draws an address of the address pools, of family v4 or IPv6.
func (g *gen) addrPrefix(t *rapid.T, v4 bool) netip.Prefix {
	if v4 {
		return g.v4.Draw(t, "v4")
	}
	return g.v6.Draw(t, "v6")
}

func (g *gen) adapter(t *rapid.T) string {
	return g.adapterGen.Draw(t, "adapter")
}

// fresh draws an op of kind sp: each operand, then each attribute it
// takes that c draws. A route's operands are of one family, drawn once:
// a destination of the route pools; a gateway half the time, in a subnet
// of the address pools (on link only while an address of it is on the
// adapter) or in a destination's (on link only through a user's route);
// a source a third of the time, an address of the address pools (local
// only while some adapter holds it). Each optional operand shrinks
// toward absent.
func (g *gen) fresh(t *rapid.T, sp *model.OpSpec) model.Op {
	op := model.Op{Kind: sp.Kind}
	fam := 0 // the family of a route's operands once drawn: 4 or 6
	family := func() bool {
		if fam == 0 {
			fam = 6
			if g.ipv4(t) {
				fam = 4
			}
		}
		return fam == 4
	}
	for _, x := range sp.Operands {
		switch x {
		case model.AdapterOperand, model.DevOperand:
			op.Adapter = g.adapter(t)
		case model.PrefixOperand:
			op.Prefix = g.prefix(t)
		case model.HostOperand:
			// An address of the pools: one an adapter holds, or a
			// neighbour of one, as often as the pools make them.
			a := g.prefix(t).Addr()
			op.Prefix = netip.PrefixFrom(a, a.BitLen())
		case model.SwitchOperand:
			op.On = g.on.Draw(t, "on")
		case model.DstOperand:
			if family() {
				op.Prefix = g.dst4.Draw(t, "dst4")
			} else {
				op.Prefix = g.dst6.Draw(t, "dst6")
			}
		case model.ViaOperand:
			if !g.yes.Draw(t, "via") {
				break
			}
			if family() {
				op.Via = g.gw4.Draw(t, "via4")
			} else {
				op.Via = g.gw6.Draw(t, "via6")
			}
		case model.SrcOperand:
			if g.third.Draw(t, "src") < 2 {
				break
			}
			if a := g.addrPrefix(t, family()).Addr(); a.IsGlobalUnicast() {
				op.Src = a // not the pools' 0.0.0.0, which no op may name
			}
		}
	}
	return g.attributes(t, sp, op)
}

// attributes draws each attribute sp takes that g draws; a pair
// (model.Attr.With) is drawn as one, its values the same sample's.
func (g *gen) attributes(t *rapid.T, sp *model.OpSpec, op model.Op) model.Op {
	for _, a := range sp.Attrs {
		if d, ok := g.attrs[a]; ok {
			i := d.Draw(t, a.Name)
			a.Set(&op, a.Samples[i])
			if a.With != nil {
				a.With.Set(&op, a.With.Samples[i])
			}
		}
	}
	return op
}

// anchor moves, two times in three, a fresh route op's gateway and src
// onto the addresses present, so that they collide: the src becomes the first
// address present at or after it in its family (wrapping), one some
// adapter holds; the gateway, the address at its host byte in the
// subnet of the first address present at or after it, the route's
// adapter that address's, so that the gateway is on link until that
// address goes. Chosen by value, like present's choice. Without an
// address of the family, the op is left as drawn.
func (g *gen) anchor(t *rapid.T, op model.Op, st *model.State) model.Op {
	if g.third.Draw(t, "anchor") == 2 {
		return op
	}
	as := st.Addrs()
	if op.Src.IsValid() {
		if a, ok := near(as, op.Src); ok {
			op.Src = a.Prefix.Addr()
		}
	}
	if via := op.Via; via.IsValid() {
		if a, ok := near(as, via); ok {
			b, n := a.Prefix.Masked().Addr().AsSlice(), via.AsSlice()
			b[len(b)-1] = n[len(n)-1]
			if gw, _ := netip.AddrFromSlice(b); a.Prefix.Contains(gw) && gw.IsGlobalUnicast() {
				op.Via, op.Adapter = gw, a.Adapter
			}
		}
	}
	return op
}

// near returns the address of as whose address comes first at or after
// x in x's family, wrapping to the family's first; false when as holds
// none of that family.
func near(as []model.Addr, x netip.Addr) (model.Addr, bool) {
	var best, first model.Addr
	for _, a := range as {
		v := a.Prefix.Addr()
		if v.Is4() != x.Is4() {
			continue
		}
		if !first.Prefix.IsValid() || v.Less(first.Prefix.Addr()) {
			first = a
		}
		if v.Compare(x) >= 0 && (!best.Prefix.IsValid() || v.Less(best.Prefix.Addr())) {
			best = a
		}
	}
	if best.Prefix.IsValid() {
		return best, true
	}
	return first, first.Prefix.IsValid()
}

// present draws an op of kind sp on something present, chosen by value:
// the first present thing at or after a drawn one, in their order. Its
// things are addresses (model.State.Addrs), or user routes for a route
// kind (model.OpSpec.Routes: model.State.UserRoutes, named as
// model.DelOf names them). Choosing by value rather than by index keeps
// the choice stable while rapid removes earlier ops. It returns false
// when nothing is present.
func (g *gen) present(t *rapid.T, sp *model.OpSpec, st *model.State) (model.Op, bool) {
	if sp.Routes() {
		return g.presentRoute(t, sp, st)
	}
	want := model.Addr{Adapter: g.adapter(t), Prefix: g.prefix(t)}
	present := st.Addrs()
	if len(present) == 0 {
		return model.Op{}, false
	}
	i, _ := slices.BinarySearchFunc(present, want, model.Addr.Compare)
	a := present[i%len(present)]
	return g.attributes(t, sp, model.Op{Kind: sp.Kind, Adapter: a.Adapter, Prefix: a.Prefix}), true
}

// presentRoute is present for a route kind: the drawn thing is a fresh
// op of kind sp, the op taken the one of kind sp that names the first
// user route at or after it (destination, adapter, gateway and metric:
// what a route del names, so that the choice does not depend on a
// route's source or carrier).
func (g *gen) presentRoute(t *rapid.T, sp *model.OpSpec, st *model.State) (model.Op, bool) {
	want := g.fresh(t, sp)
	users := st.UserRoutes()
	if len(users) == 0 {
		return model.Op{}, false
	}
	ops := make([]model.Op, len(users))
	for i, r := range users {
		ops[i] = model.DelOf(r).As(sp.Kind)
	}
	slices.SortFunc(ops, compareRouteOps)
	want.Metric = want.RouteMetric()
	i, _ := slices.BinarySearchFunc(ops, want, compareRouteOps)
	return ops[i%len(ops)], true
}

// compareRouteOps orders route ops by what names a user route: family,
// destination, adapter, gateway, metric.
func compareRouteOps(a, b model.Op) int {
	if a4, b4 := a.Prefix.Addr().Is4(), b.Prefix.Addr().Is4(); a4 != b4 {
		if a4 {
			return -1
		}
		return 1
	}
	if c := a.Prefix.Compare(b.Prefix); c != 0 {
		return c
	}
	if c := strings.Compare(a.Adapter, b.Adapter); c != 0 {
		return c
	}
	if c := a.Via.Compare(b.Via); c != 0 {
		return c
	}
	return cmp.Compare(a.Metric, b.Metric)
}

// oneOf draws one of sps, shrinking toward the first: a yes or no for
// each after the first, the last yes winning.
func (g *gen) oneOf(t *rapid.T, sps []*model.OpSpec) *model.OpSpec {
	sp := sps[0]
	for _, o := range sps[1:] {
		if g.yes.Draw(t, o.Name) {
			sp = o
		}
	}
	return sp
}

// invalid returns an op of a drawn kind on an adapter that does not
// exist. Its operands are drawn as the first kind's and the op is made
// one of the drawn kind (model.Op.As), so that which kind is drawn does
// not change how the rest is read; a kind that needs an address or a
// destination the first kind's op lacks is drawn afresh.
func (g *gen) invalid(t *rapid.T) model.Op {
	op := g.fresh(t, g.kinds[0])
	sp := g.oneOf(t, g.kinds)
	if (sp.Has(model.PrefixOperand) || sp.Has(model.DstOperand)) && !op.Prefix.IsValid() {
		op = g.fresh(t, sp)
	}
	op = op.As(sp.Kind)
	if sp.TakesAdapter() {
		op.Adapter = fmt.Sprintf("x%d", len(g.adapters))
	}
	return op
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
