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
//	route add default via 10.0.0.9 dev a0 metric 100
//	hold 10.0.0.5
//	10.0.0.0/24 dev a0 src 10.0.0.1
//	default via 10.0.0.9 dev a0 proto boot metric 100
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
// 24-bit mask; for a route op it is the destination, host bits zero. Via
// and Src are a route op's gateway and preferred source, the zero Addr
// when not given. On is the state a Carrier op sets. The other fields are the
// attributes of the ops that configure an address (Add, Change): the
// metric (IFA_RT_PRIORITY, MetricAttr; zero means none; a route op's
// metric is the route's), noprefixroute
// (NoPrefixRouteAttr) and the lifetimes in seconds (ValidLftAttr,
// PreferredLftAttr; zero means a permanent address). The zero Op is
// invalid.
type Op struct {
	Kind          OpKind
	Adapter       string
	Prefix        netip.Prefix
	Via           netip.Addr
	Src           netip.Addr
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
		switch x {
		case AdapterOperand:
			b.WriteString(" " + o.Adapter)
		case PrefixOperand:
			b.WriteString(" " + o.Prefix.String())
		case HostOperand:
			b.WriteString(" " + o.Prefix.Addr().String())
		case SwitchOperand:
			b.WriteString(" " + onOff(o.On))
		case DstOperand:
			b.WriteString(" " + dstString(o.Prefix, o.Via, o.Src))
		case ViaOperand:
			if o.Via.IsValid() {
				b.WriteString(" via " + o.Via.String())
			}
		case DevOperand:
			b.WriteString(" dev " + o.Adapter)
		case SrcOperand:
			if o.Src.IsValid() {
				b.WriteString(" src " + o.Src.String())
			}
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
// ADDRESS/LENGTH [metric N]", "del ADAPTER ADDRESS/LENGTH", "route add DST
// [via GATEWAY] dev ADAPTER [src ADDRESS] [metric N]"). Leading and
// trailing space is ignored; tokens are separated by spaces or tabs.
func ParseOp(s string) (Op, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Op{}, &SyntaxError{Input: s, Msg: "empty op"}
	}
	bad := func(format string, args ...any) (Op, error) {
		return Op{}, &SyntaxError{Input: s, Msg: fmt.Sprintf(format, args...)}
	}
	var sp *OpSpec
	for _, c := range Alphabet {
		if n := c.words(); len(f) >= n && strings.Join(f[:n], " ") == c.Name {
			sp = c
			break
		}
	}
	if sp == nil {
		_, err := ParseOpKind(f[0])
		return bad("%s", err)
	}
	o := Op{Kind: sp.Kind}
	rest := f[sp.words():]
	after := "the verb"
	dflt := false
	for _, x := range sp.Operands {
		if k := x.Keyword(); k != "" {
			if len(rest) == 0 || rest[0] != k {
				if x.Optional() {
					continue
				}
				return bad("want %s", sp.operandUsage())
			}
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return bad("want %s", sp.operandUsage())
		}
		w := rest[0]
		rest = rest[1:]
		switch x {
		case AdapterOperand, DevOperand:
			if err := checkAdapterName(w); err != nil {
				return bad("%s", err)
			}
			o.Adapter = w
		case PrefixOperand:
			p, err := parsePrefix(w)
			if err != nil {
				return bad("%s", err)
			}
			o.Prefix = p
		case DstOperand:
			if w == "default" {
				dflt = true
				break
			}
			p, err := parsePrefix(w)
			if err != nil {
				return bad("%s", err)
			}
			if p != p.Masked() {
				return bad("destination %s has host bits set (want %s)", p, p.Masked())
			}
			o.Prefix = p
		case HostOperand:
			a, err := parseAddr(w)
			if err != nil {
				return bad("%s", err)
			}
			o.Prefix = netip.PrefixFrom(a, a.BitLen())
		case ViaOperand, SrcOperand:
			a, err := parseAddr(w)
			if err != nil {
				return bad("bad %s: %s", x.noun(), err)
			}
			if x == ViaOperand {
				o.Via = a
			} else {
				o.Src = a
			}
		case SwitchOperand:
			switch w {
			case "on":
				o.On = true
			case "off":
			default:
				return bad("bad state %q: want on or off", w)
			}
		}
		after = "the " + x.noun()
	}
	if dflt {
		o.Prefix = defaultDst(o.Via, o.Src)
	}
	seen := make([]*Attr, 0, len(sp.Attrs))
	for len(rest) > 0 {
		a := sp.attr(rest[0])
		if a == nil || slices.Contains(seen, a) {
			return bad("unexpected %q after %s", rest[0], after)
		}
		seen = append(seen, a)
		after = "the " + a.Name
		if a.Flag {
			a.Set(&o, 1)
			rest = rest[1:]
			continue
		}
		if len(rest) < 2 {
			return bad("%s needs a value", a.Name)
		}
		v, err := strconv.ParseUint(rest[1], 10, 32)
		if err != nil {
			return bad("bad %s %q: want a number from 0 to 4294967295", a.Name, rest[1])
		}
		a.Set(&o, uint32(v))
		rest = rest[2:]
	}
	return o, nil
}

// defaultDst returns the default route's destination, 0.0.0.0/0, or ::/0
// when the gateway or the source is IPv6.
func defaultDst(via, src netip.Addr) netip.Prefix {
	if via.Is6() || src.Is6() {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// dstString returns a route's destination as the grammar writes it:
// "default" for a default route whose family parsing can tell (IPv4, or
// IPv6 with an IPv6 gateway or source), else the prefix.
func dstString(p netip.Prefix, via, src netip.Addr) string {
	if p.IsValid() && p.Bits() == 0 && p == defaultDst(via, src) {
		return "default"
	}
	return p.String()
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
