// Package model is the reference semantics of routefuzz: from the addresses
// on each adapter it computes the route table a correct stack must show, and
// the result every operation must give.
//
// The semantics are those of the Linux kernel (net/ipv4/devinet.c,
// net/ipv4/fib_frontend.c, net/ipv6/addrconf.c) as observed on Linux 6.18.
// The package is pure: it performs no I/O and imports only the standard
// library.
//
// Everything has one textual form, shared by reports, corpus files and the
// external-process protocol, and Parse(x.String()) == x for every valid x:
//
//	add a0 10.0.0.1/24
//	add a1 2001:db8::1/64 metric 100
//	del a1 2001:db8::1/64
//	10.0.0.0/24 dev a0 src 10.0.0.1
//	local 10.0.0.1/32 dev a0 src 10.0.0.1
//	broadcast 10.0.0.255/32 dev a0 src 10.0.0.1
//	2001:db8::/64 dev a1 metric 256
package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Op is one operation on a stack: an op kind of Alphabet with the
// operands and attributes its kind takes (see OpSpec); the fields it does
// not take are zero. It is a comparable value.
//
// Prefix keeps its host bits: 10.0.0.1/24 is the address 10.0.0.1 with a
// 24-bit mask. On is the state a Carrier op sets. The other fields are the
// attributes of the ops that configure an address (Add, Change): the
// metric (IFA_RT_PRIORITY, MetricAttr; zero means none), noprefixroute
// (NoPrefixRouteAttr) and the lifetimes in seconds (ValidLftAttr,
// PreferredLftAttr; zero means a permanent address). The zero Op is
// invalid.
type Op struct {
	Kind          OpKind
	Adapter       string
	Prefix        netip.Prefix
	On            bool
	Metric        uint32
	NoPrefixRoute bool
	ValidLft      uint32
	PreferredLft  uint32
}

// String returns the op in the op grammar, e.g. "add a0 10.0.0.1/24 metric 5":
// the verb, the operands its kind takes, then every attribute that is set.
func (o Op) String() string {
	var b strings.Builder
	b.WriteString(o.Kind.String())
	operands := []Operand{AdapterOperand, PrefixOperand}
	if sp := o.Kind.Spec(); sp != nil {
		operands = sp.Operands
	}
	for _, x := range operands {
		b.WriteByte(' ')
		switch x {
		case AdapterOperand:
			b.WriteString(o.Adapter)
		case PrefixOperand:
			b.WriteString(o.Prefix.String())
		case SwitchOperand:
			b.WriteString(onOff(o.On))
		}
	}
	for _, a := range attrs {
		v := a.Get(o)
		switch {
		case v == 0:
		case a.Flag && v == 1:
			b.WriteString(" " + a.Name)
		default:
			b.WriteString(" " + a.Name + " ")
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	}
	return b.String()
}

// GoString returns a Go expression for the op, for rapid's draw log.
func (o Op) GoString() string { return "model.MustParseOp(" + strconv.Quote(o.String()) + ")" }

// ParseOp parses one op line: a verb of Alphabet, the operands its kind
// takes, then any of its attributes, each at most once ("add ADAPTER
// ADDRESS/LENGTH [metric N]", "del ADAPTER ADDRESS/LENGTH"). Leading and
// trailing space is ignored; tokens are separated by spaces or tabs.
func ParseOp(s string) (Op, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Op{}, &SyntaxError{Input: s, Msg: "empty op"}
	}
	k, err := ParseOpKind(f[0])
	if err != nil {
		return Op{}, &SyntaxError{Input: s, Msg: err.Error()}
	}
	sp := k.Spec()
	if len(f) < 1+len(sp.Operands) {
		return Op{}, &SyntaxError{Input: s, Msg: "want " + sp.operandUsage()}
	}
	o := Op{Kind: k}
	after := "the verb"
	for i, x := range sp.Operands {
		w := f[1+i]
		switch x {
		case AdapterOperand:
			if err := checkAdapterName(w); err != nil {
				return Op{}, &SyntaxError{Input: s, Msg: err.Error()}
			}
			o.Adapter = w
		case PrefixOperand:
			p, err := parsePrefix(w)
			if err != nil {
				return Op{}, &SyntaxError{Input: s, Msg: err.Error()}
			}
			o.Prefix = p
		case SwitchOperand:
			switch w {
			case "on":
				o.On = true
			case "off":
			default:
				return Op{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("bad state %q: want on or off", w)}
			}
		}
		after = "the " + x.noun()
	}
	seen := make([]*Attr, 0, len(sp.Attrs))
	for rest := f[1+len(sp.Operands):]; len(rest) > 0; {
		a := sp.attr(rest[0])
		if a == nil || slices.Contains(seen, a) {
			return Op{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("unexpected %q after %s", rest[0], after)}
		}
		seen = append(seen, a)
		after = "the " + a.Name
		if a.Flag {
			a.Set(&o, 1)
			rest = rest[1:]
			continue
		}
		if len(rest) < 2 {
			return Op{}, &SyntaxError{Input: s, Msg: a.Name + " needs a value"}
		}
		v, err := strconv.ParseUint(rest[1], 10, 32)
		if err != nil {
			return Op{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("bad %s %q: want a number from 0 to 4294967295", a.Name, rest[1])}
		}
		a.Set(&o, uint32(v))
		rest = rest[2:]
	}
	return o, nil
}

// MustParseOp is like ParseOp but panics on error. For tests and literals.
func MustParseOp(s string) Op {
	o, err := ParseOp(s)
	if err != nil {
		panic(err)
	}
	return o
}

// parsePrefix parses ADDRESS/LENGTH, keeping host bits, and rejects forms
// the grammar does not print (zones, IPv4-mapped IPv6).
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		return netip.Prefix{}, fmt.Errorf("address %q has no prefix length (want ADDRESS/LENGTH)", s)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: %v", s, err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: IPv4-mapped IPv6 addresses are not supported", s)
	}
	return p, nil
}

// checkAdapterName reports whether name can name an adapter: 1 to 15
// characters (the kernel's IFNAMSIZ less one) from [A-Za-z0-9_.-].
func checkAdapterName(name string) error {
	if name == "" || len(name) > 15 {
		return fmt.Errorf("bad adapter name %q: want 1 to 15 characters", name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return fmt.Errorf("bad adapter name %q: character %q is not one of [A-Za-z0-9_.-]", name, c)
		}
	}
	return nil
}

// SyntaxError is returned by the parsers for input not in the grammar.
type SyntaxError struct {
	Input string // the line as given
	Msg   string // what is wrong with it
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s: %q", e.Msg, e.Input) }

// Addr is one address on one adapter.
type Addr struct {
	Adapter string
	Prefix  netip.Prefix // host bits kept
}

// String returns "ADAPTER PREFIX", e.g. "a0 10.0.0.1/24".
func (a Addr) String() string { return a.Adapter + " " + a.Prefix.String() }

// ParseAddr parses "ADAPTER PREFIX".
func ParseAddr(s string) (Addr, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return Addr{}, &SyntaxError{Input: s, Msg: "want ADAPTER ADDRESS/LENGTH"}
	}
	if err := checkAdapterName(f[0]); err != nil {
		return Addr{}, &SyntaxError{Input: s, Msg: err.Error()}
	}
	p, err := parsePrefix(f[1])
	if err != nil {
		return Addr{}, &SyntaxError{Input: s, Msg: err.Error()}
	}
	return Addr{Adapter: f[0], Prefix: p}, nil
}

// Compare orders addresses by adapter name, then by prefix.
func (a Addr) Compare(b Addr) int {
	if c := strings.Compare(a.Adapter, b.Adapter); c != 0 {
		return c
	}
	return a.Prefix.Compare(b.Prefix)
}

// onOff returns "on" or "off".
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
