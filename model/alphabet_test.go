package model

import (
	"errors"
	"math/rand/v2"
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
		}
	}
	for _, a := range sp.Attrs {
		if r.IntN(2) == 0 {
			a.Set(&o, r.Uint32())
		}
	}
	return o
}

func TestAlphabetIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for i, sp := range Alphabet {
		if int(sp.Kind) != i+1 || sp.Kind.Spec() != sp {
			t.Errorf("Alphabet[%d] is kind %d; want %d", i, sp.Kind, i+1)
		}
		if sp.Name == "" || strings.ContainsAny(sp.Name, " \t") || seen[sp.Name] {
			t.Errorf("kind %d: bad or repeated verb %q", sp.Kind, sp.Name)
		}
		seen[sp.Name] = true
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
