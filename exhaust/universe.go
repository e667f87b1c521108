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
// the prefixes prefix operands take, the op kinds, and the values of the
// address attributes. Every op of the universe is a kind of Kinds with its
// operands filled from it through model.Alphabet: adapter operands from
// Config.Adapters, prefix operands from Prefixes, switch operands on and
// off, and each leading attribute (model.Attr.Leads) the kind takes either
// absent or one of Values[attr], its With attribute set with it.
type Universe struct {
	Config   model.Config
	Prefixes []netip.Prefix // host bits kept: 10.0.0.1/24
	Kinds    []model.OpKind
	// Values holds, for each leading attribute, the values it takes
	// besides absent (which it always takes).
	Values map[*model.Attr][]AttrValue
}

// AttrValue is a value of a leading attribute and of its With attribute
// (zero when it has none): valid_lft 600 preferred_lft 300 is {600, 300}.
type AttrValue struct{ Value, With uint32 }

// FromCase returns the universe of a corpus case: its configuration, the
// prefixes its ops name, the kinds they are of, and the attribute values
// they set, in order of first use.
func FromCase(c *corpus.Case) Universe { return FromOps(c.Config(), c.Ops) }

// FromOps returns the universe of an order of ops run with cfg: cfg, the
// prefixes the ops name, their kinds, and the attribute values they set,
// in order of first use.
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

// Validate reports what in u is not what it says: a prefix given twice,
// or an attribute value the alphabet's rules refuse (a flag's value other
// than 1; a value its Rule refuses, as valid_lft=10/5 or 300/600; a
// value without its With value). Ops drops the ops such a value makes,
// so a search over u would prove something of a universe smaller than
// the one asked for.
func (u Universe) Validate() error {
	for i, p := range u.Prefixes {
		if slices.Contains(u.Prefixes[:i], p) {
			return fmt.Errorf("prefix %s is given twice", p)
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

// operandChoices returns the ways to fill operand x from u.
func (u Universe) operandChoices(x model.Operand) []func(*model.Op) {
	var set []func(*model.Op)
	switch x {
	case model.AdapterOperand:
		for _, a := range u.Config.Adapters {
			set = append(set, func(o *model.Op) { o.Adapter = a })
		}
	case model.PrefixOperand:
		for _, p := range u.Prefixes {
			set = append(set, func(o *model.Op) { o.Prefix = p })
		}
	case model.SwitchOperand:
		for _, on := range []bool{false, true} {
			set = append(set, func(o *model.Op) { o.On = on })
		}
	}
	return set
}

// String describes u on one line: "adapters=a0,a1 promote=off
// prefixes=10.0.0.1/24,10.0.0.2/24 kinds=add,del metric=100,200".
func (u Universe) String() string {
	var b strings.Builder
	b.WriteString(u.Config.String())
	ps := make([]string, len(u.Prefixes))
	for i, p := range u.Prefixes {
		ps[i] = p.String()
	}
	b.WriteString(" prefixes=" + strings.Join(ps, ","))
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
