package corpus

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Minimize shrinks a failing order of ops outside rapid: for a failure found
// by go test -fuzz, by another tool or by hand. fails reports whether an
// order still fails; it must hold for the input. Minimize removes chunks of
// ops (delta debugging), then single ops, then simplifies what is left, one
// change at a time, each made to the order as simplified so far:
//
//   - attributes (model.Attrs: metrics) to none;
//   - optional operands (model.Operand.Optional: a route's via and src)
//     left out, as attributes are;
//   - route destinations to default (0.0.0.0/0, ::/0): one destination
//     at a time, in every op that names it (a route add and its del);
//   - prefix lengths to /24 or /64: all the ops of a family and length at
//     once, then those of one subnet, then one prefix at a time (route
//     destinations excepted);
//   - addresses (of addresses, gateways and sources) to 10.0.0.1,
//     10.0.0.2, … and 2001:db8::1, 2001:db8::2, …: first whole networks
//     moved into 10.0.0.0 (2001:db8::) keeping host parts, so that
//     addresses sharing a subnet still share one; then one address at a
//     time, wherever it is used, keeping each op's length; then
//     renumbered in order of first use. A route destination moves with
//     the addresses in it (10.1.0.0/24 with 10.1.0.0/16), so long as it
//     stays a destination (no host bits);
//   - adapters merged into earlier ones and renamed a0, a1, … in order of
//     first use.
//
// A change is kept only if fails holds for it, it leaves every well-formed
// op well formed (model.Op.Validate), and it makes the order strictly
// simpler: fewer ops; or as many, with fewer attributes set, then fewer
// optional operands, then fewer destinations other than default, then
// fewer adapters, then fewer non-plain lengths, then simpler addresses
// (compared in order of first use), then canonical adapter names. So no
// change undoes an earlier one, and Minimize always ends. It repeats until
// nothing changes, and returns the result with the number of orders it
// tried.
func Minimize(cfg model.Config, ops []model.Op, fails func(model.Config, []model.Op) bool) (model.Config, []model.Op, int) {
	tries := 0
	try := func(c model.Config, o []model.Op) bool {
		tries++
		return fails(c, o)
	}
	for changed := true; changed; {
		changed = false
		if o := ddmin(cfg, ops, try); len(o) < len(ops) {
			ops, changed = o, true
		}
		for _, pass := range []func(model.Config, []model.Op) []edit{zeroAttrs, dropOptional, defaultDsts, defaultSettings, plainLengths, simpleAddrs, mergeAdapters, canonical} {
			// The edits are planned on the order as the pass finds it, and
			// each is applied to the order as it is when its turn comes, so
			// an accepted edit is never undone by a later one.
			for _, e := range pass(cfg, ops) {
				c, o := e(cfg, ops)
				if costOf(c, o).less(costOf(cfg, ops)) && illFormed(o) <= illFormed(ops) && try(c, o) {
					cfg, ops, changed = c, o, true
				}
			}
		}
	}
	return cfg, ops, tries
}

// ddmin removes chunks of ops while the order still fails, halving the
// chunk size down to single ops.
func ddmin(cfg model.Config, ops []model.Op, fails func(model.Config, []model.Op) bool) []model.Op {
	n := 2
	for len(ops) >= 2 {
		size := (len(ops) + n - 1) / n
		reduced := false
		for start := 0; start < len(ops); start += size {
			rest := slices.Concat(ops[:start], ops[min(start+size, len(ops)):])
			if len(rest) > 0 && fails(cfg, rest) {
				ops, n, reduced = rest, max(n-1, 2), true
				break
			}
		}
		if reduced {
			continue
		}
		if size == 1 {
			break
		}
		n = min(2*n, len(ops))
	}
	return ops
}

// cost measures how far an order is from the simplest: Minimize keeps a
// change only if it lowers the cost. Costs compare field by field, in
// order; ranks compares as a sequence, and only between orders with as many
// distinct addresses (compared before it). Each field is a natural number
// or a fixed-length sequence of them, so no endless sequence of changes
// lowers the cost at each step, whatever fails says: Minimize ends.
type cost struct {
	ops      int   // ops in the order
	attrs    int   // attributes set, over all ops (metrics)
	optional int   // optional operands given, over all ops (via, src)
	dsts     int   // route ops whose destination is not default
	settings int   // settings away from the kernel's default (keep_addr_on_down on)
	adapters int   // distinct adapters the ops name
	lengths  int   // address ops whose length is not /24 (IPv4) or /64 (IPv6)
	addrs    int   // distinct addresses
	ranks    []int // the rank of each distinct address, in order of first use
	renamed  int   // 1 if Canonical would change the order, else 0
}

func costOf(cfg model.Config, ops []model.Op) cost {
	c := cost{ops: len(ops)}
	if cfg.KeepAddrOnDown {
		c.settings++
	}
	var ads []string
	for _, op := range ops {
		for _, a := range model.Attrs() {
			if a.Get(op) != 0 {
				c.attrs++
			}
		}
		for _, x := range optionals(op) {
			if getOptional(op, x).IsValid() {
				c.optional++
			}
		}
		if !slices.Contains(ads, op.Adapter) {
			ads = append(ads, op.Adapter)
		}
		switch {
		case routeOp(op):
			if op.Prefix.Bits() != 0 {
				c.dsts++
			}
		case op.Prefix.Bits() != plainBits(op.Prefix.Addr()):
			c.lengths++
		}
	}
	addrs := distinctAddrs(ops)
	for _, a := range addrs {
		c.ranks = append(c.ranks, rank(a))
	}
	c.adapters, c.addrs = len(ads), len(addrs)
	if cc, o := Canonical(cfg, ops); !slices.Equal(o, ops) || !slices.Equal(cc.Adapters, cfg.Adapters) {
		c.renamed = 1
	}
	return c
}

func (c cost) less(d cost) bool {
	if x := slices.Compare([]int{c.ops, c.attrs, c.optional, c.dsts, c.settings, c.adapters, c.lengths, c.addrs}, []int{d.ops, d.attrs, d.optional, d.dsts, d.settings, d.adapters, d.lengths, d.addrs}); x != 0 {
		return x < 0
	}
	if x := slices.Compare(c.ranks, d.ranks); x != 0 {
		return x < 0
	}
	return c.renamed < d.renamed
}

// An edit returns a simplified copy of an order, or the order itself when
// there is nothing for it to change.
type edit func(model.Config, []model.Op) (model.Config, []model.Op)

// mapOps returns ops with f applied to each, copying only if f changes one.
func mapOps(ops []model.Op, f func(model.Op) model.Op) []model.Op {
	var out []model.Op
	for i, op := range ops {
		if n := f(op); n != op {
			if out == nil {
				out = slices.Clone(ops)
			}
			out[i] = n
		}
	}
	if out == nil {
		return ops
	}
	return out
}

// defaultSettings puts keep_addr_on_down back to the kernel's default,
// off, where the failure does not need it on. (The promotion setting
// stays: neither is simpler, and a stack may take only one.)
func defaultSettings(cfg model.Config, _ []model.Op) []edit {
	if !cfg.KeepAddrOnDown {
		return nil
	}
	return []edit{func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
		cfg.KeepAddrOnDown = false
		return cfg, ops
	}}
}

// zeroAttrs tries, for each attribute of the op alphabet (metric,
// noprefixroute, lifetimes, a pair of attributes counting as one),
// removing it from every op at once, then each of its values from all the
// ops that share it (addresses that share a prefix route must keep equal
// metrics), then from one op at a time.
func zeroAttrs(_ model.Config, ops []model.Op) []edit {
	var es []edit
	for _, a := range model.Attrs() {
		if !a.Leads() {
			continue // dropped with the attribute it goes with
		}
		drop := func(op *model.Op) {
			a.Set(op, 0)
			if a.With != nil {
				a.With.Set(op, 0)
			}
		}
		zero := func(keep func(model.Op) bool) edit {
			return func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
				return cfg, mapOps(ops, func(op model.Op) model.Op {
					if !keep(op) {
						drop(&op)
					}
					return op
				})
			}
		}
		es = append(es, zero(func(model.Op) bool { return false }))
		var values []uint32
		for _, op := range ops {
			if v := a.Get(op); v != 0 && !slices.Contains(values, v) {
				values = append(values, v)
				es = append(es, zero(func(op model.Op) bool { return a.Get(op) != v }))
			}
		}
		for i, op := range ops {
			if a.Get(op) != 0 {
				es = append(es, func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
					o := slices.Clone(ops)
					drop(&o[i])
					return cfg, o
				})
			}
		}
	}
	return es
}

// mergeAdapters tries moving every op of a later adapter onto an earlier one.
func mergeAdapters(cfg model.Config, ops []model.Op) []edit {
	var es []edit
	for j, to := range cfg.Adapters {
		for _, from := range cfg.Adapters[j+1:] {
			if !slices.ContainsFunc(ops, func(op model.Op) bool { return op.Adapter == from }) {
				continue
			}
			es = append(es, func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
				return cfg, mapOps(ops, func(op model.Op) model.Op {
					if op.Adapter == from {
						op.Adapter = to
					}
					return op
				})
			})
		}
	}
	return es
}

// canonical renames the adapters a0, a1, … (see Canonical).
func canonical(model.Config, []model.Op) []edit { return []edit{Canonical} }

// plainBits returns the plainest prefix length of a's family: 24 or 64.
func plainBits(a netip.Addr) int {
	if a.Is4() {
		return 24
	}
	return 64
}

// plainLengths tries the family's plainest length (/24, /64) for groups of
// ops that share a length: first all the ops of a family with that length,
// then those of each subnet (same masked prefix), then each prefix alone.
// A group keeps the addresses of a subnet in one subnet, where moving one
// op at a time would split them.
func plainLengths(_ model.Config, ops []model.Op) []edit {
	type group struct {
		is4  bool
		bits int
	}
	var groups []group
	var nets, prefixes []netip.Prefix
	for _, op := range ops {
		p := op.Prefix
		if !p.IsValid() || routeOp(op) || p.Bits() == plainBits(p.Addr()) {
			continue
		}
		if g := (group{p.Addr().Is4(), p.Bits()}); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
		if !slices.Contains(nets, p.Masked()) {
			nets = append(nets, p.Masked())
		}
		if !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	plain := func(in func(netip.Prefix) bool) edit {
		return func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
			return cfg, mapOps(ops, func(op model.Op) model.Op {
				if op.Prefix.IsValid() && !routeOp(op) && in(op.Prefix) {
					op.Prefix = netip.PrefixFrom(op.Prefix.Addr(), plainBits(op.Prefix.Addr()))
				}
				return op
			})
		}
	}
	var es []edit
	for _, g := range groups {
		es = append(es, plain(func(p netip.Prefix) bool { return p.Addr().Is4() == g.is4 && p.Bits() == g.bits }))
	}
	for _, n := range nets {
		es = append(es, plain(func(p netip.Prefix) bool { return p.Masked() == n }))
	}
	for _, q := range prefixes {
		es = append(es, plain(func(p netip.Prefix) bool { return p == q }))
	}
	return es
}

// The simple addresses are those of simpleNet4 and simpleNet6, ranked by
// their host part: 1, 2, … first, then the network's first and last
// address (all zeros, all ones); every other address ranks after them.
var (
	simpleNet4 = netip.MustParsePrefix("10.0.0.0/24")
	simpleNet6 = netip.MustParsePrefix("2001:db8::/112")
)

func simpleNet(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return simpleNet4
	}
	return simpleNet6
}

// graft returns the address with the first bits bits of to and the rest
// of from.
func graft(to netip.Addr, bits int, from netip.Addr) netip.Addr {
	t, f := to.AsSlice(), from.AsSlice()
	for i := range t {
		m := ^byte(0xff >> min(max(bits-8*i, 0), 8)) // the bits of byte i taken from to
		t[i] = t[i]&m | f[i]&^m
	}
	r, _ := netip.AddrFromSlice(t)
	return r
}

// rank orders addresses from the simplest: 10.0.0.1 is 0, 10.0.0.2 is 1, …,
// 10.0.0.254 is 253, 10.0.0.0 is 254, 10.0.0.255 is 255, and every other
// IPv4 address 256; likewise 2001:db8::1 to 2001:db8::ffff and beyond.
func rank(a netip.Addr) int {
	if !a.IsValid() {
		return 0
	}
	n := simpleNet(a)
	top := 1<<(a.BitLen()-n.Bits()) - 1 // 255 or 65535
	if !n.Contains(a) {
		return top + 1
	}
	b := a.AsSlice()
	switch h := (int(b[len(b)-2])<<8 | int(b[len(b)-1])) & top; h {
	case 0:
		return top - 1
	case top:
		return top
	default:
		return h - 1
	}
}

// simple returns the simple address of a's family whose rank is r, for r
// below the rank of the network's first address.
func simple(a netip.Addr, r int) netip.Addr {
	b := simpleNet(a).Addr().AsSlice()
	b[len(b)-2] |= byte((r + 1) >> 8)
	b[len(b)-1] = byte(r + 1)
	s, _ := netip.AddrFromSlice(b)
	return s
}

// simpleTries is how many simple addresses simpleAddrs tries for each
// address.
const simpleTries = 3

// simpleAddrs tries simpler addresses, keeping every op's length. First it
// moves whole networks into the simple one, keeping host parts: for each
// length up to /24 (/64) the ops use, and /24 (/64) itself, every address
// of one such network at once, so that addresses sharing a subnet still
// share one. Then it replaces each address, wherever it is used, by the
// simplest ones no op uses yet. Last it renumbers the simple addresses
// 10.0.0.1, 10.0.0.2, … (2001:db8::1, …) in order of first use.
//
// None of these changes the number of distinct addresses or their order of
// first use, so the edits name addresses by that order: each applies to
// the address as the edits before it left it.
func simpleAddrs(_ model.Config, ops []model.Op) []edit {
	type net struct{ i, bits int } // the i-th address's network of that length
	var nets []net
	var seen []netip.Prefix
	addrs := distinctAddrs(ops)
	for _, op := range ops {
		// An address at its length and the plain one; a gateway or
		// source at the plain one.
		for _, a := range opAddrs(op) {
			lengths := []int{plainBits(a)}
			if a == addrOf(op) {
				lengths = append(lengths, op.Prefix.Bits())
			}
			for _, bits := range lengths {
				if n, err := a.Prefix(bits); err == nil && bits <= plainBits(a) && !slices.Contains(seen, n) {
					seen = append(seen, n)
					nets = append(nets, net{slices.Index(addrs, a), bits})
				}
			}
		}
	}
	// Coarsest first: moving 10.1.0.0/16 moves 10.1.5.0/24 with it.
	slices.SortStableFunc(nets, func(m, n net) int { return m.bits - n.bits })
	var es []edit
	for _, n := range nets {
		es = append(es, func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
			from, _ := distinctAddrs(ops)[n.i].Prefix(n.bits)
			to := simpleNet(from.Addr()).Addr()
			return cfg, renameAddrs(ops, func(a netip.Addr) netip.Addr {
				if from.Contains(a) {
					return graft(to, n.bits, a)
				}
				return a
			})
		})
	}
	for i := range addrs {
		for k := range simpleTries {
			es = append(es, func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
				from := distinctAddrs(ops)[i]
				to, ok := unusedSimple(ops, from, k)
				if !ok {
					return cfg, ops
				}
				return cfg, renameAddrs(ops, func(a netip.Addr) netip.Addr {
					if a == from {
						return to
					}
					return a
				})
			})
		}
	}
	return append(es, renumber)
}

// renumber renames the simple addresses of each family 10.0.0.1, 10.0.0.2,
// … (2001:db8::1, …) in order of first use.
func renumber(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
	to := map[netip.Addr]netip.Addr{}
	var n4, n6 int
	for _, a := range distinctAddrs(ops) {
		if !a.IsValid() || rank(a) >= rank(simpleNet(a).Addr()) {
			continue
		}
		n := &n6
		if a.Is4() {
			n = &n4
		}
		to[a] = simple(a, *n)
		*n++
	}
	return cfg, renameAddrs(ops, func(a netip.Addr) netip.Addr {
		if b, ok := to[a]; ok {
			return b
		}
		return a
	})
}

// renameAddrs returns ops with every address a replaced by f(a), keeping
// each op's length, gateways and sources included, and each route
// destination's address too when it stays a destination (no host bits);
// or ops itself if that would make two addresses one.
func renameAddrs(ops []model.Op, f func(netip.Addr) netip.Addr) []model.Op {
	o := mapOps(ops, func(op model.Op) model.Op {
		if op.Prefix.IsValid() {
			p := netip.PrefixFrom(f(op.Prefix.Addr()), op.Prefix.Bits())
			if !routeOp(op) || p == p.Masked() {
				op.Prefix = p
			}
		}
		for _, x := range optionals(op) {
			if a := getOptional(op, x); a.IsValid() {
				setOptional(&op, x, f(a))
			}
		}
		return op
	})
	if len(distinctAddrs(o)) != len(distinctAddrs(ops)) {
		return ops
	}
	return o
}

// unusedSimple returns the k-th simplest address (from 0) of a's family
// that no op uses and that is simpler than a.
func unusedSimple(ops []model.Op, a netip.Addr, k int) (netip.Addr, bool) {
	if !a.IsValid() {
		return netip.Addr{}, false
	}
	r := min(rank(a), rank(simpleNet(a).Addr())) // the first and last addresses are never candidates
	used := distinctAddrs(ops)
	for i := range r {
		if s := simple(a, i); !slices.Contains(used, s) {
			if k == 0 {
				return s, true
			}
			k--
		}
	}
	return netip.Addr{}, false
}

// distinctAddrs returns the addresses ops use, in order of first use:
// those of their prefixes, gateways and sources, not route destinations.
func distinctAddrs(ops []model.Op) []netip.Addr {
	var addrs []netip.Addr
	for _, op := range ops {
		// An op without an address (down, up) uses none.
		for _, a := range opAddrs(op) {
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	return addrs
}

// opAddrs returns the addresses op uses: its prefix's address (not a
// route's destination), then its gateway and source when given.
func opAddrs(op model.Op) []netip.Addr {
	var as []netip.Addr
	if a := addrOf(op); a.IsValid() {
		as = append(as, a)
	}
	for _, x := range optionals(op) {
		if a := getOptional(op, x); a.IsValid() {
			as = append(as, a)
		}
	}
	return as
}

// addrOf returns the address of op's prefix operand, or the zero Addr
// when it has none (a route op's destination is no address).
func addrOf(op model.Op) netip.Addr {
	if sp := op.Kind.Spec(); (sp == nil || sp.Has(model.PrefixOperand)) && op.Prefix.IsValid() {
		return op.Prefix.Addr()
	}
	return netip.Addr{}
}

// routeOp reports whether op is of a route kind: its prefix is a
// destination (model.OpSpec.Routes).
func routeOp(op model.Op) bool {
	sp := op.Kind.Spec()
	return sp != nil && sp.Routes()
}

// illFormed returns how many of ops model.Op.Validate refuses.
func illFormed(ops []model.Op) int {
	n := 0
	for _, op := range ops {
		if op.Validate() != nil {
			n++
		}
	}
	return n
}

// optionals returns the optional operands op's kind takes, in the
// alphabet's order (model.Operand.Optional: a route's via and src).
func optionals(op model.Op) []model.Operand {
	sp := op.Kind.Spec()
	if sp == nil {
		return nil
	}
	var xs []model.Operand
	for _, x := range sp.Operands {
		if x.Optional() {
			xs = append(xs, x)
		}
	}
	return xs
}

// getOptional returns the address optional operand x gives in op, the
// zero Addr when it is left out; setOptional sets it.
func getOptional(op model.Op, x model.Operand) netip.Addr {
	if x == model.ViaOperand {
		return op.Via
	}
	return op.Src
}

func setOptional(op *model.Op, x model.Operand, a netip.Addr) {
	if x == model.ViaOperand {
		op.Via = a
	} else {
		op.Src = a
	}
}

// dropOptional tries, for each optional operand of the alphabet (a
// route's via, src), leaving it out of every op at once, then each of its
// values out of all the ops that give it (a route add and the del of the
// same route must keep the same gateway), then out of one op at a time.
func dropOptional(_ model.Config, ops []model.Op) []edit {
	var xs []model.Operand
	for _, op := range ops {
		for _, x := range optionals(op) {
			if getOptional(op, x).IsValid() && !slices.Contains(xs, x) {
				xs = append(xs, x)
			}
		}
	}
	var es []edit
	for _, x := range xs {
		drop := func(keep func(model.Op) bool) edit {
			return func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
				return cfg, mapOps(ops, func(op model.Op) model.Op {
					if slices.Contains(optionals(op), x) && !keep(op) {
						setOptional(&op, x, netip.Addr{})
					}
					return op
				})
			}
		}
		es = append(es, drop(func(model.Op) bool { return false }))
		var values []netip.Addr
		for _, op := range ops {
			if !slices.Contains(optionals(op), x) {
				continue
			}
			if v := getOptional(op, x); v.IsValid() && !slices.Contains(values, v) {
				values = append(values, v)
				es = append(es, drop(func(op model.Op) bool { return getOptional(op, x) != v }))
			}
		}
		for i, op := range ops {
			if slices.Contains(optionals(op), x) && getOptional(op, x).IsValid() {
				es = append(es, func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
					o := slices.Clone(ops)
					setOptional(&o[i], x, netip.Addr{})
					return cfg, o
				})
			}
		}
	}
	return es
}

// defaultDsts tries, for each route destination other than default,
// the default route of its family (0.0.0.0/0, ::/0) in every op that
// names it.
func defaultDsts(_ model.Config, ops []model.Op) []edit {
	var dsts []netip.Prefix
	for _, op := range ops {
		if routeOp(op) && op.Prefix.IsValid() && op.Prefix.Bits() != 0 && !slices.Contains(dsts, op.Prefix) {
			dsts = append(dsts, op.Prefix)
		}
	}
	var es []edit
	for _, d := range dsts {
		es = append(es, func(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
			return cfg, mapOps(ops, func(op model.Op) model.Op {
				if routeOp(op) && op.Prefix == d {
					op.Prefix = netip.PrefixFrom(d.Addr(), 0).Masked()
				}
				return op
			})
		})
	}
	return es
}

// SameFailureAs returns a fails function for Minimize: an order fails when
// it makes stack fail as d does (see FailsAs). Harness errors do not count
// as failing.
func SameFailureAs(name string, stack sut.Stack, d *check.Divergence) func(model.Config, []model.Op) bool {
	return func(cfg model.Config, ops []model.Op) bool {
		e, err := check.Replay(name, stack, cfg, ops, nil)
		return err == nil && FailsAs(d, e)
	}
}

// FailsAs reports whether e is a failure of the same kind as d: a
// divergence in the same aspects (result, routes, addresses; lookups
// count only when nothing else differs: check.Aspect.Essential), or, when d
// is a crash or a hang, a crash (hang) on an op of the same kind (add,
// del) as d's last, so that shrinking a crash on a delete does not end on
// another bug that crashes on an add. A nil e never fails as d.
func FailsAs(d, e *check.Divergence) bool {
	if e == nil || e.Aspects().Essential() != d.Aspects().Essential() {
		return false
	}
	if d.Failed == "" || len(d.Ops) == 0 {
		return true
	}
	return len(e.Ops) > 0 && e.Ops[len(e.Ops)-1].Kind == d.Ops[len(d.Ops)-1].Kind
}
