package exhaust

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// A Universe is the small scope the search enumerates: a configuration,
// the prefixes prefix operands take, the destinations, gateways and
// sources of route ops, the op kinds, and the values of the attributes.
// Every op of the universe is a kind of Kinds with its operands filled
// from it through model.Alphabet: adapter and dev operands from
// Config.Adapters, prefix operands from Prefixes, switch operands on and
// off, destination operands from Dsts, the optional gateway and source
// operands absent or one of Gateways and Sources of the destination's
// family, and each leading attribute (model.Attr.Leads) the kind takes
// either absent or one of Values[attr], its With attribute set with it.
type Universe struct {
	Config   model.Config
	Prefixes []netip.Prefix // host bits kept: 10.0.0.1/24
	// Dsts are the route destinations, masked (0.0.0.0/0 is the
	// default route); Gateways and Sources the addresses a route op's
	// via and src take besides absent.
	Dsts     []netip.Prefix
	Gateways []netip.Addr
	Sources  []netip.Addr
	Kinds    []model.OpKind
	// Values holds, for each leading attribute, the values it takes
	// besides absent (which it always takes).
	Values map[*model.Attr][]AttrValue
}

// AttrValue is a value of a leading attribute and of its With attribute
// (zero when it has none): valid_lft 600 preferred_lft 300 is {600, 300}.
type AttrValue struct{ Value, With uint32 }

// FromCase returns the universe of a corpus case: its configuration, the
// prefixes, route destinations, gateways and sources its ops name, the
// kinds they are of, and the attribute values they set, in order of first
// use.
func FromCase(c *corpus.Case) Universe { return FromOps(c.Config(), c.Ops) }

// FromOps returns the universe of an order of ops run with cfg: cfg, the
// prefixes, route destinations, gateways and sources the ops name, their
// kinds, and the attribute values they set, in order of first use.
func FromOps(cfg model.Config, ops []model.Op) Universe {
	u := Universe{Config: cfg, Values: map[*model.Attr][]AttrValue{}}
	for _, op := range ops {
		if !slices.Contains(u.Kinds, op.Kind) {
			u.Kinds = append(u.Kinds, op.Kind)
		}
		sp := op.Kind.Spec()
		if sp == nil {
			continue
		}
		if sp.Has(model.PrefixOperand) && !slices.Contains(u.Prefixes, op.Prefix) {
			u.Prefixes = append(u.Prefixes, op.Prefix)
		}
		if sp.Has(model.DstOperand) && !slices.Contains(u.Dsts, op.Prefix) {
			u.Dsts = append(u.Dsts, op.Prefix)
		}
		if sp.Has(model.ViaOperand) && op.Via.IsValid() && !slices.Contains(u.Gateways, op.Via) {
			u.Gateways = append(u.Gateways, op.Via)
		}
		if sp.Has(model.SrcOperand) && op.Src.IsValid() && !slices.Contains(u.Sources, op.Src) {
			u.Sources = append(u.Sources, op.Src)
		}
		for _, a := range sp.Attrs {
			if !a.Leads() || a.Get(op) == 0 {
				continue
			}
			v := AttrValue{Value: a.Get(op)}
			if a.With != nil {
				v.With = a.With.Get(op)
			}
			if !slices.Contains(u.Values[a], v) {
				u.Values[a] = append(u.Values[a], v)
			}
		}
	}
	return u
}

// Ops returns every op of u that stack limits l take (sut.Limits.Unsupported)
// and that is well formed (model.Op.Validate), each once, in a fixed order:
// by kind as in Kinds, then by operands, then by attribute values. The
// search's sequences are sequences of these ops, compared by their
// positions here.
func (u Universe) Ops(l sut.Limits) []model.Op {
	var out []model.Op
	for _, k := range u.Kinds {
		sp := k.Spec()
		if sp == nil {
			continue
		}
		ops := []model.Op{{Kind: k}}
		for _, x := range sp.Operands {
			ops = expand(ops, u.operandChoices(x))
		}
		for _, a := range sp.Attrs {
			if !a.Leads() {
				continue
			}
			var set []func(*model.Op)
			for _, v := range append([]AttrValue{{}}, u.Values[a]...) {
				set = append(set, func(o *model.Op) {
					a.Set(o, v.Value)
					if a.With != nil {
						a.With.Set(o, v.With)
					}
				})
			}
			ops = expand(ops, set)
		}
		for _, op := range ops {
			if op.Validate() == nil && l.Unsupported(op) == "" && !slices.Contains(out, op) {
				out = append(out, op)
			}
		}
	}
	return out
}

// Validate reports what in u is not what it says: a prefix, destination,
// gateway or source given twice; a destination with host bits; a gateway
// or source that is no unicast address, or of a family no destination
// is; a kind of Kinds that takes an operand u has no value for (add
// without prefixes, route add without destinations); or an attribute
// value the alphabet's rules refuse (a flag's value other than 1; a value
// its Rule refuses, as valid_lft=10/5 or 300/600; a value without its
// With value). Ops drops the ops such a value makes, or has none of such
// a kind, so a search over u would prove something of a universe smaller
// than the one asked for.
func (u Universe) Validate() error {
	for i, p := range u.Prefixes {
		if slices.Contains(u.Prefixes[:i], p) {
			return fmt.Errorf("prefix %s is given twice", p)
		}
	}
	for i, p := range u.Dsts {
		switch {
		case slices.Contains(u.Dsts[:i], p):
			return fmt.Errorf("destination %s is given twice", p)
		case p != p.Masked():
			return fmt.Errorf("destination %s has host bits set (want %s)", p, p.Masked())
		}
	}
	for _, x := range []model.Operand{model.ViaOperand, model.SrcOperand} {
		as, noun := u.Gateways, "gateway"
		if x == model.SrcOperand {
			as, noun = u.Sources, "source"
		}
		for i, a := range as {
			switch {
			case slices.Contains(as[:i], a):
				return fmt.Errorf("%s %s is given twice", noun, a)
			case !a.IsGlobalUnicast() || a.Zone() != "" || a.Is4In6():
				return fmt.Errorf("%s %s is not a unicast address", noun, a)
			case !slices.ContainsFunc(u.Dsts, func(p netip.Prefix) bool { return p.Addr().Is4() == a.Is4() }):
				return fmt.Errorf("%s %s is of a family no destination is", noun, a)
			}
		}
	}
	for _, k := range u.Kinds {
		if x, ok := u.unfilled(k); !ok {
			return fmt.Errorf("%s takes %s, and the universe has none", k, operandNoun(x))
		}
	}
	for _, a := range model.Attrs() {
		for i, v := range u.Values[a] {
			if err := checkValue(a, v); err != nil {
				return err
			}
			if slices.Contains(u.Values[a][:i], v) {
				return fmt.Errorf("%s is given twice", valueString(a, v))
			}
		}
	}
	return nil
}

// checkValue reports whether v is a value attribute a may take, by the
// alphabet's rules, in an op of the first kind that takes a.
func checkValue(a *model.Attr, v AttrValue) error {
	s := valueString(a, v)
	if !a.Leads() {
		return fmt.Errorf("%s: %s goes with another attribute, not alone", s, a.Name)
	}
	if a.Flag && v.Value != 1 {
		return fmt.Errorf("%s: %s is a flag: its one value is 1 (set)", s, a.Name)
	}
	for _, sp := range model.Alphabet {
		if !sp.Takes(a) {
			continue
		}
		op := model.Op{Kind: sp.Kind}
		if sp.TakesAdapter() {
			op.Adapter = "a0"
		}
		if sp.Has(model.PrefixOperand) {
			op.Prefix = netip.MustParsePrefix("10.0.0.1/24")
		}
		a.Set(&op, v.Value)
		if a.With != nil {
			a.With.Set(&op, v.With)
		}
		if err := op.Validate(); err != nil {
			var oe *model.OpError
			if errors.As(err, &oe) {
				return fmt.Errorf("%s: %s", s, oe.Msg)
			}
			return fmt.Errorf("%s: %v", s, err)
		}
		return nil
	}
	return fmt.Errorf("%s: no op kind takes %s", s, a.Name)
}

// valueString writes v as -values does: "metric=100", "valid_lft=600/300".
func valueString(a *model.Attr, v AttrValue) string {
	s := a.Name + "=" + strconv.FormatUint(uint64(v.Value), 10)
	if a.With != nil {
		s += "/" + strconv.FormatUint(uint64(v.With), 10)
	}
	return s
}

// expand returns each op of ops with each of set applied.
func expand(ops []model.Op, set []func(*model.Op)) []model.Op {
	out := make([]model.Op, 0, len(ops)*len(set))
	for _, op := range ops {
		for _, f := range set {
			o := op
			f(&o)
			out = append(out, o)
		}
	}
	return out
}

// operandChoices returns the ways to fill operand x from u. An optional
// operand's first way leaves it out. A gateway or source of another
// family than the destination makes an op that Ops drops (model.Op.Validate).
func (u Universe) operandChoices(x model.Operand) []func(*model.Op) {
	var set []func(*model.Op)
	if x.Optional() {
		set = append(set, func(*model.Op) {})
	}
	switch x {
	case model.AdapterOperand, model.DevOperand:
		for _, a := range u.Config.Adapters {
			set = append(set, func(o *model.Op) { o.Adapter = a })
		}
	case model.PrefixOperand:
		for _, p := range u.Prefixes {
			set = append(set, func(o *model.Op) { o.Prefix = p })
		}
	case model.HostOperand:
		// The universe's addresses, each once.
		seen := map[netip.Addr]bool{}
		for _, p := range u.Prefixes {
			if a := p.Addr(); !seen[a] {
				seen[a] = true
				set = append(set, func(o *model.Op) { o.Prefix = netip.PrefixFrom(a, a.BitLen()) })
			}
		}
	case model.SwitchOperand:
		for _, on := range []bool{false, true} {
			set = append(set, func(o *model.Op) { o.On = on })
		}
	case model.DstOperand:
		for _, p := range u.Dsts {
			set = append(set, func(o *model.Op) { o.Prefix = p })
		}
	case model.ViaOperand:
		for _, a := range u.Gateways {
			set = append(set, func(o *model.Op) { o.Via = a })
		}
	case model.SrcOperand:
		for _, a := range u.Sources {
			set = append(set, func(o *model.Op) { o.Src = a })
		}
	}
	return set
}

// Fills reports whether u has a value for every operand kind k takes that
// may not be left out: whether Ops can have ops of kind k at all.
func (u Universe) Fills(k model.OpKind) bool {
	_, ok := u.unfilled(k)
	return ok
}

// unfilled returns the first operand of k that u has no value for, and
// false, or true when u fills every operand of k.
func (u Universe) unfilled(k model.OpKind) (model.Operand, bool) {
	sp := k.Spec()
	if sp == nil {
		return 0, true
	}
	for _, x := range sp.Operands {
		if !x.Optional() && len(u.operandChoices(x)) == 0 {
			return x, false
		}
	}
	return 0, true
}

// operandNoun names what operand x takes from a universe: "an adapter".
func operandNoun(x model.Operand) string {
	switch x {
	case model.AdapterOperand, model.DevOperand:
		return "an adapter"
	case model.PrefixOperand:
		return "a prefix"
	case model.DstOperand:
		return "a destination"
	}
	return "a value of operand " + strconv.Itoa(int(x))
}

// String describes u on one line: "adapters=a0,a1 promote=off
// prefixes=10.0.0.1/24,10.0.0.2/24 kinds=add,del metric=100,200", with
// dsts=, gateways= and sources= after the prefixes when it has them.
func (u Universe) String() string {
	var b strings.Builder
	b.WriteString(u.Config.String())
	ps := make([]string, len(u.Prefixes))
	for i, p := range u.Prefixes {
		ps[i] = p.String()
	}
	b.WriteString(" prefixes=" + strings.Join(ps, ","))
	if len(u.Dsts) > 0 {
		ds := make([]string, len(u.Dsts))
		for i, p := range u.Dsts {
			ds[i] = p.String()
		}
		b.WriteString(" dsts=" + strings.Join(ds, ","))
	}
	for _, l := range []struct {
		name string
		as   []netip.Addr
	}{{"gateways", u.Gateways}, {"sources", u.Sources}} {
		if len(l.as) == 0 {
			continue
		}
		as := make([]string, len(l.as))
		for i, a := range l.as {
			as[i] = a.String()
		}
		b.WriteString(" " + l.name + "=" + strings.Join(as, ","))
	}
	ks := make([]string, len(u.Kinds))
	for i, k := range u.Kinds {
		ks[i] = k.String()
	}
	b.WriteString(" kinds=" + strings.Join(ks, ","))
	for _, a := range model.Attrs() {
		vs := u.Values[a]
		if len(vs) == 0 {
			continue
		}
		var s []string
		for _, v := range vs {
			t := strconv.FormatUint(uint64(v.Value), 10)
			if a.With != nil {
				t += "/" + strconv.FormatUint(uint64(v.With), 10)
			}
			s = append(s, t)
		}
		name := a.Name
		if a.With != nil {
			name += "/" + a.With.Name
		}
		fmt.Fprintf(&b, " %s=%s", name, strings.Join(s, ","))
	}
	return b.String()
}
