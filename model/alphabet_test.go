package model

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// randomOp draws an op of kind k with every operand and attribute k takes,
// from the alphabet alone: what the grammar tests need of a new kind.
func randomOp(r *rand.Rand, k OpKind) Op {
	sp := k.Spec()
	o := Op{Kind: k}
	for _, x := range sp.Operands {
		switch x {
		case AdapterOperand:
			o.Adapter = []string{"a0", "eth1", "br-x.2", "A_b-9"}[r.IntN(4)]
		case PrefixOperand:
			o.Prefix = randomPrefix(r)
		case SwitchOperand:
			o.On = r.IntN(2) == 0
		case DstOperand:
			o.Prefix = randomPrefix(r).Masked()
			if r.IntN(8) == 0 {
				o.Prefix = netip.PrefixFrom(o.Prefix.Addr(), 0).Masked()
			}
		case ViaOperand, SrcOperand:
			if r.IntN(2) == 0 {
				continue
			}
			a := randomUnicast(r, o.Prefix.Addr().Is4())
			if x == ViaOperand {
				o.Via = a
			} else {
				o.Src = a
			}
		case DevOperand:
			o.Adapter = []string{"a0", "eth1", "br-x.2", "A_b-9"}[r.IntN(4)]
		case HostOperand:
			a := randomPrefix(r).Addr()
			o.Prefix = netip.PrefixFrom(a, a.BitLen())
		}
	}
	for _, a := range sp.Attrs {
		if !a.Leads() || r.IntN(2) == 0 {
			continue
		}
		switch {
		case a.Flag:
			a.Set(&o, 1)
		case a.With != nil:
			// A pair: both set, the second no larger than the first
			// and neither under MinLifetime (the lifetimes' rule).
			v := MinLifetime + r.Uint32N(forever-MinLifetime)
			a.Set(&o, v)
			a.With.Set(&o, MinLifetime+r.Uint32N(v-MinLifetime+1))
		default:
			a.Set(&o, r.Uint32())
		}
	}
	return o
}

// randomUnicast draws a global unicast address of the family given.
func randomUnicast(r *rand.Rand, ipv4 bool) netip.Addr {
	for {
		a := randomPrefix(r).Addr()
		if a.Is4() == ipv4 && a.IsGlobalUnicast() {
			return a
		}
	}
}

func TestAlphabetIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for i, sp := range Alphabet {
		if int(sp.Kind) != i+1 || sp.Kind.Spec() != sp {
			t.Errorf("Alphabet[%d] is kind %d; want %d", i, sp.Kind, i+1)
		}
		if sp.Name == "" || strings.ContainsAny(sp.Token(), " \t") || seen[sp.Token()] || seen[sp.Name] {
			t.Errorf("kind %d: bad or repeated verb %q", sp.Kind, sp.Name)
		}
		seen[sp.Name], seen[sp.Token()] = true, true
		for _, a := range sp.Attrs {
			if !strings.Contains(usages(), a.Name) || a.Get == nil || a.Set == nil || len(a.Samples) == 0 || a.Samples[0] != 0 {
				t.Errorf("%s: attribute %q is incomplete", sp.Name, a.Name)
			}
		}
		if k, err := ParseOpKind(sp.Name); err != nil || k != sp.Kind {
			t.Errorf("ParseOpKind(%q) = %v, %v", sp.Name, k, err)
		}
	}
	if len(V1Ops()) == 0 {
		t.Error("no kind is sent to a program that declares no ops=")
	}
}

// usages lists the grammar of every kind, for the test above.
func usages() string {
	var ls []string
	for _, sp := range Alphabet {
		ls = append(ls, sp.Usage())
	}
	return strings.Join(ls, "\n")
}

func TestEveryKindRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sp := range Alphabet {
		for range 2000 {
			op := randomOp(r, sp.Kind)
			if err := op.Validate(); err != nil {
				t.Fatalf("%s: drawn op %v is not valid: %v", sp.Name, op, err)
			}
			got, err := ParseOp(op.String())
			if err != nil || got != op {
				t.Fatalf("ParseOp(%q) = %v, %v; want %v", op.String(), got, err, op)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		op  Op
		msg string
	}{
		{Op{Kind: 0, Adapter: "a0", Prefix: MustParseOp("add a0 10.0.0.1/24").Prefix}, "unknown operation kind"},
		{Op{Kind: Add, Adapter: "a0"}, "malformed prefix"},
		{MustParseOp("del a0 10.0.0.1/24").As(Del), ""},
		{func() Op { o := MustParseOp("del a0 10.0.0.1/24"); o.Metric = 5; return o }(), "del takes no metric"},
		{MustParseOp("add a0 10.0.0.1/24 metric 5").As(Del), ""},
		{MustParseOp("add a0 10.0.0.1/24 valid_lft 600"), "valid_lft and preferred_lft go together"},
		{MustParseOp("change a0 10.0.0.1/24 preferred_lft 600"), "valid_lft and preferred_lft go together"},
		{MustParseOp("add a0 10.0.0.1/24 valid_lft 600 preferred_lft 700"), "preferred_lft 700 is longer than valid_lft 600"},
		{MustParseOp("add a0 10.0.0.1/24 valid_lft 299 preferred_lft 299"), "lifetimes under 300 s"},
		{MustParseOp("add a0 10.0.0.1/24 valid_lft 4294967295 preferred_lft 300"), "forever"},
		{MustParseOp("add a0 2001:db8::1/64 valid_lft 300 preferred_lft 300 noprefixroute metric 1"), ""},
		{MustParseOp("carrier a0 on").As(Down), ""},
		{func() Op { o := MustParseOp("down a0"); o.On = true; return o }(), "down takes no on or off"},
		{func() Op { o := MustParseOp("add a0 10.0.0.1/24"); o.NoPrefixRoute = true; return o.As(Carrier) }(), ""},
		{func() Op { o := MustParseOp("carrier a0 on"); o.NoPrefixRoute = true; return o }(), "carrier takes no noprefixroute"},
	} {
		err := tc.op.Validate()
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.op, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: got %v, want invalid: %s", tc.op, err, tc.msg)
		}
	}
}
